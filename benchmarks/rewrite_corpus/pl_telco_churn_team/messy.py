"""Churn model v2 -- customers + 6 months of usage.

Run from the project folder:  python messy.py [DATA_DIR]
The fitted pipeline is saved to models/model.pkl for the scoring job.
"""
import logging
import os
import sys

import joblib
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

log = logging.getLogger(__name__)

DATA_DIR = "data"
MODEL_DIR = "models"
CATEGORICAL = ["contract", "payment_method", "internet_service", "gender"]
NUMERIC = ["tenure", "monthly_charges", "total_charges", "senior_citizen",
           "avg_minutes", "avg_data_gb", "support_calls", "months_active"]


def load_data(path):
    log.info("loading %s", path)
    return pd.read_csv(path)


def clean(customers):
    customers = customers.copy()
    customers["customer_id"] = customers["customer_id"].str.strip().str.upper()
    customers["contract"] = customers["contract"].str.strip().str.title()
    # same customer exported twice: keep the latest record
    customers = customers.sort_values("updated_at").drop_duplicates("customer_id", keep="last")
    customers["total_charges"] = pd.to_numeric(customers["total_charges"], errors="coerce")
    customers["churn"] = customers["churn"].map({"Yes": 1, "No": 0})
    return customers


def build_features(customers, usage):
    per_customer = usage.groupby("customer_id").agg(
        avg_minutes=("minutes", "mean"),
        avg_data_gb=("data_gb", "mean"),
        support_calls=("support_calls", "sum"),
        months_active=("month", "nunique"),
    ).reset_index()
    df = customers.merge(per_customer, on="customer_id", how="left")
    df[["avg_minutes", "avg_data_gb", "support_calls", "months_active"]] = \
        df[["avg_minutes", "avg_data_gb", "support_calls", "months_active"]].fillna(0)
    log.info("%d customers, %d with usage", len(df), (df["months_active"] > 0).sum())
    return df


def train(X, y):
    preprocess = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
    )
    model = make_pipeline(preprocess, RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0))
    model.fit(X, y)
    return model


def main():
    logging.basicConfig(level=logging.INFO)
    data_dir = sys.argv[1] if len(sys.argv) > 1 else DATA_DIR
    customers = clean(load_data(os.path.join(data_dir, "customers.csv")))
    usage = load_data(os.path.join(data_dir, "usage_monthly.csv"))
    df = build_features(customers, usage)

    X = df[CATEGORICAL + NUMERIC]
    y = df["churn"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=123)
    model = train(X_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    print(f"test AUC: {auc:.3f}")

    os.makedirs(MODEL_DIR, exist_ok=True)
    joblib.dump(model, os.path.join(MODEL_DIR, "model.pkl"))


if __name__ == "__main__":
    main()
