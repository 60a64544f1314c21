"""Review sentiment baseline: tf-idf of the review text + product category + a few counts."""
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, LabelEncoder, OneHotEncoder, StandardScaler

DATA = Path(__file__).resolve().parent / "data"

reviews = pd.read_csv(DATA / "reviews.csv")
products = pd.read_csv(DATA / "products.csv")
print(reviews.shape, products.shape)

reviews = reviews.dropna(subset=["review_text"])
reviews["review_text"] = reviews["review_text"].str.strip().str.lower()
reviews = reviews[reviews["stars"] != 3]          # neutral reviews are ambiguous, leave them out
reviews = reviews[reviews["verified_purchase"] == "Y"]

df = reviews.merge(products[["product_id", "category", "price"]], on="product_id")
df["sentiment"] = np.where(df["stars"] >= 4, "positive", "negative")

le = LabelEncoder()
y = le.fit_transform(df["sentiment"])
print(dict(zip(le.classes_, np.bincount(y))))


def text_length(frame):
    return frame["review_text"].str.len().to_frame()


preprocessor = ColumnTransformer([
    ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=2), "review_text"),
    ("length", Pipeline([("len", FunctionTransformer(text_length)), ("scale", StandardScaler())]),
     ["review_text"]),
    ("category", OneHotEncoder(handle_unknown="ignore"), ["category"]),
    ("numeric", StandardScaler(), ["price", "helpful_votes"]),
])
clf = Pipeline([("preprocessor", preprocessor), ("classifier", LogisticRegression(C=2.0, max_iter=1000))])

X_train, X_test, y_train, y_test = train_test_split(df, y, test_size=0.25, random_state=11)
clf.fit(X_train, y_train)
print(classification_report(y_test, clf.predict(X_test), target_names=le.classes_, zero_division=0))
