"""The right rewrite of orders/messy.py (a scripted LLM answer in the tests)."""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import lester as lt

MIN_AMOUNT = 10  # smaller orders are test transactions


def clean_category(text):
    # categories come with stray spaces and mixed case
    return text.strip().lower()


def dataprep(customers="data/customers.csv", orders="data/orders.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    orders = lt.read_csv(orders, key="order_id")
    big = orders.filter(f"amount > {MIN_AMOUNT}")
    joined = lt.join(big, customers, on="customer_id")
    joined = joined.project("category", ["category"], clean_category)
    return joined[["order_id", "customer_id", "amount", "category", "country", "premium"]]


def encode_features():
    return ColumnTransformer([
        ("amount", "passthrough", ["amount"]),
        ("country", OneHotEncoder(sparse_output=False), ["country"]),
    ])


def extract_label(prepared):
    return prepared["premium"].to_numpy()


def make_model():
    return LogisticRegression(C=0.5)
