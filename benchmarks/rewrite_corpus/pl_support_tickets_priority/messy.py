"""Ticket priority classifier (suggests low / medium / high to the agent).

Usage: python messy.py [DATA_DIR]
"""
import logging
import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, Normalizer, OneHotEncoder, StandardScaler, label_binarize

warnings.simplefilter("ignore", UserWarning)
logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
log = logging.getLogger("tickets")


def load_data(data_dir):
    tickets = pd.read_csv(os.path.join(data_dir, "tickets.csv"))
    accounts = pd.read_csv(os.path.join(data_dir, "accounts.csv"))
    return tickets, accounts


def clean(tickets):
    tickets = tickets.dropna(subset=["body"]).copy()
    tickets["account_id"] = tickets["account_id"].str.strip().str.upper()
    tickets["language"] = tickets["language"].str.lower()
    tickets["priority"] = tickets["priority"].str.lower()
    tickets = tickets[tickets["language"].isin(["en"])]
    tickets = tickets[tickets["category"] != "spam"]
    return tickets


def build_features(tickets, accounts):
    df = tickets.merge(accounts[["account_id", "tier", "seats"]], on="account_id", how="inner")
    df["text"] = df["subject"].str.lower() + " " + df["body"].str.lower()
    df["n_words"] = df["body"].str.split().str.len()
    df["n_exclamations"] = df["body"].str.count("!")
    return df


def build_model():
    features = ColumnTransformer([
        ("text", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), "text"),
        ("meta", OneHotEncoder(handle_unknown="ignore"), ["tier", "channel", "category"]),
        ("counts", StandardScaler(), ["n_words", "n_exclamations", "seats"]),
    ])
    return Pipeline([
        ("features", features),
        ("norm", Normalizer()),
        ("clf", SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=50, tol=None, random_state=0)),
    ])


def train(X, y):
    model = build_model()
    model.fit(X, y)
    return model


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "data"
    tickets, accounts = load_data(data_dir)
    df = build_features(clean(tickets), accounts)
    log.info("%d tickets after cleaning and the account join", len(df))

    encoder = LabelEncoder()
    y = encoder.fit_transform(df["priority"])
    X = df[["text", "tier", "channel", "category", "n_words", "n_exclamations", "seats"]]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=7)
    model = train(X_train, y_train)

    pred = model.predict(X_test)
    log.info("macro F1: %.3f", f1_score(y_test, pred, average="macro"))
    y_bin = label_binarize(y_test, classes=np.arange(len(encoder.classes_)))
    log.info("ovr AUC: %.3f", roc_auc_score(y_bin, model.predict_proba(X_test), average="macro"))


if __name__ == "__main__":
    main()
