#!/usr/bin/env python
"""Train the income classifier (adult census data).

    python messy.py [--data-dir data] [--test-size 0.25] [--seed 17]
"""
import argparse
import logging
import os

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
logger = logging.getLogger("adult")

CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "sex"]
NUMERIC = ["age", "hours-per-week", "capital-gain", "capital-loss"]
TARGET = "income-per-year"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--train-file", default="adult_train.csv")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--max-depth", type=int, default=6)
    args, _unknown = parser.parse_known_args()  # jupyter / ipykernel passes its own flags
    return args


def load_data(path):
    logger.info("reading %s", path)
    return pd.read_csv(path, na_values="?", skipinitialspace=True)


def clean(df):
    n = len(df)
    df = df.drop_duplicates()
    df = df.dropna(subset=["workclass", "occupation"])
    df = df[(df["age"] >= 18) & (df["hours-per-week"] > 0)]
    df = df.copy()
    df[TARGET] = df[TARGET].str.strip().str.rstrip(".")
    logger.info("clean: %d -> %d rows", n, len(df))
    return df


def build_features():
    categorical = Pipeline([
        ("impute", SimpleImputer(strategy="most_frequent")),
        ("onehot", OneHotEncoder(handle_unknown="ignore")),
    ])
    return ColumnTransformer(transformers=[
        ("categorical", categorical, CATEGORICAL),
        ("numeric", StandardScaler(), NUMERIC),
    ])


def train(X, y, max_depth, seed):
    model = Pipeline([
        ("features", build_features()),
        ("classifier", DecisionTreeClassifier(max_depth=max_depth, random_state=seed)),
    ])
    model.fit(X, y)
    return model


def main():
    args = parse_args()
    df = clean(load_data(os.path.join(args.data_dir, args.train_file)))
    encoder = LabelEncoder()
    y = encoder.fit_transform(df[TARGET])
    logger.info("classes: %s", list(encoder.classes_))
    X = df[CATEGORICAL + NUMERIC]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size, random_state=args.seed)
    model = train(X_train, y_train, args.max_depth, args.seed)
    logger.info("test accuracy: %.3f", model.score(X_test, y_test))


if __name__ == "__main__":
    main()
