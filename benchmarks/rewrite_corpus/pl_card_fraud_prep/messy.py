"""Build the fraud feature table (one row per card transaction) for the modelling team.

DATA_DIR can be set in the environment (the airflow task points it at the daily drop).
"""
import os

import numpy as np
import pandas as pd

os.environ.setdefault("DATA_DIR", "data")
DATA_DIR = os.environ["DATA_DIR"]
OUT = os.path.join("out", "prepared.csv")


def read_inputs():
    tx = pd.read_csv(os.path.join(DATA_DIR, "transactions.csv"), dtype={"chargeback": str})
    cards = pd.read_csv(os.path.join(DATA_DIR, "cards.csv"))
    merchants = pd.read_csv(os.path.join(DATA_DIR, "merchants.csv"))
    return tx, cards, merchants


def clean_transactions(tx):
    tx = tx.drop_duplicates(subset=["transaction_id"])
    tx["status"] = tx["status"].str.lower()
    tx = tx[tx["status"] != "reversed"]
    tx["amount"] = pd.to_numeric(tx["amount"].str.replace("$", "", regex=False).str.replace(",", "", regex=False))
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    tx["is_fraud"] = tx["chargeback"].fillna("N").map({"Y": 1, "N": 0})
    return tx


def clean_cards(cards):
    cards["card_type"] = cards["card_type"].str.strip().str.lower()
    return cards[["card_id", "customer_id", "card_type", "credit_limit"]]


def card_profile(tx):
    profile = tx.groupby("card_id").agg(
        card_mean_amount=("amount", "mean"),
        card_max_amount=("amount", "max"),
        card_n_tx=("transaction_id", "count"),
    ).reset_index()
    return profile


def build_table(tx, cards, merchants):
    df = tx.merge(cards, on="card_id")   # transactions on cards we don't know are out of scope
    df = df.merge(merchants[["merchant_id", "category", "country"]], on="merchant_id", how="left")
    df["category"] = df["category"].fillna("unknown")
    df["country"] = df["country"].fillna("??")
    df = df.merge(card_profile(df), on="card_id")
    df["amount_vs_card_mean"] = df["amount"] / df["card_mean_amount"]
    df["amount_vs_limit"] = df["amount"] / df["credit_limit"]
    df["tx_same_day"] = df.groupby(["card_id", df["timestamp"].dt.date])["transaction_id"].transform("count")
    df["hour"] = df["timestamp"].dt.hour
    df["part_of_day"] = np.select([df["hour"] < 6, df["hour"] < 12, df["hour"] < 18],
                                  ["night", "morning", "afternoon"], default="evening")
    df["is_foreign"] = (df["country"] != "US").astype(int)
    return df


def main():
    tx, cards, merchants = read_inputs()
    print("raw:", len(tx), "transactions,", len(cards), "cards,", len(merchants), "merchants")
    table = build_table(clean_transactions(tx), clean_cards(cards), merchants)
    cols = ["transaction_id", "card_id", "customer_id", "card_type", "category", "entry_mode", "status",
            "amount", "credit_limit", "card_mean_amount", "card_max_amount", "card_n_tx", "amount_vs_card_mean",
            "amount_vs_limit", "tx_same_day", "hour", "part_of_day", "is_foreign", "is_fraud"]
    table = table[cols].sort_values("transaction_id")
    print("fraud rate: %.3f" % table["is_fraud"].mean())
    os.makedirs("out", exist_ok=True)
    table.to_csv(OUT, index=False)


if __name__ == "__main__":
    main()
