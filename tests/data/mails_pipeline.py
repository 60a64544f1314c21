"""A realistic two-source pipeline, as a rewrite would produce it (used by the tests)."""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import lester as lt

GOOD_WORDS = ("thanks", "great", "love")


def sentiment(text):
    return sum(word in text for word in GOOD_WORDS)


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    mails = lt.read_csv(mails, key="mail_id", parse_dates=["mail_date"])
    recent = mails.filter("year(mail_date) >= 2022")
    joined = lt.join(recent, customers, left_on="email", right_on="customer_email")
    joined = joined.project("sentiment", ["mail_text"], sentiment)
    joined = joined.project("text_length", "length(mail_text)")
    return joined[["customer_id", "country", "sentiment", "text_length", "is_premium"]]


def encode_features(scale=True):
    numeric = StandardScaler() if scale else "passthrough"
    return ColumnTransformer([
        ("country", OneHotEncoder(handle_unknown="ignore"), ["country"]),
        ("numbers", numeric, ["sentiment", "text_length"]),
    ])


def extract_label(prepared):
    return prepared["is_premium"].astype(int).to_numpy()


def make_model(C=1.0):
    return LogisticRegression(C=C)
