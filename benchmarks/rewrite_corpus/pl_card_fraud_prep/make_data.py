"""Card transactions, the card register and the merchant list (fraud feature table).

Usage: python make_data.py DIR ROWS   (ROWS transactions, ~ROWS/8 cards, ~ROWS/15 merchants)
"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(4111)
    os.makedirs(folder, exist_ok=True)
    n_cards = max(8, rows // 8)
    n_merchants = max(6, rows // 15)
    card_ids = [f"C{i:06d}" for i in range(n_cards)]
    merchant_ids = [f"M{i:05d}" for i in range(n_merchants)]

    pd.DataFrame({
        "card_id": card_ids,
        "customer_id": [f"CU{i // 2:06d}" for i in range(n_cards)],
        "card_type": rng.choice(["Debit", "credit", "CREDIT", "debit ", "prepaid"], n_cards),
        "credit_limit": rng.choice([500, 1000, 2500, 5000, 10000], n_cards),
        "issued": (pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 2500, n_cards), unit="D"))
        .strftime("%Y-%m-%d"),
    }).iloc[: max(6, int(n_cards * 0.95))].to_csv(os.path.join(folder, "cards.csv"), index=False)

    known = merchant_ids[: max(5, int(n_merchants * 0.9))]
    pd.DataFrame({
        "merchant_id": known,
        "merchant_name": [f"Shop {i}" for i in range(len(known))],
        "category": rng.choice(["grocery", "fuel", "online", "travel", "electronics", "restaurant"], len(known)),
        "country": rng.choice(["US", "US", "US", "US", "CA", "MX", "GB", "NG"], len(known)),
    }).to_csv(os.path.join(folder, "merchants.csv"), index=False)

    ts = pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 30 * 86400, rows), unit="s")
    amount = np.round(rng.lognormal(3.3, 1.0, rows), 2)
    fraud = rng.random(rows) < 0.12
    amount = np.where(fraud, np.round(amount * rng.uniform(2, 6, rows), 2), amount)
    amount_str = [f"${a:,.2f}" if rng.random() < 0.3 else f"{a:.2f}" for a in amount]
    chargeback = np.where(fraud, "Y", "N").astype(object)
    chargeback[(~fraud) & (rng.random(rows) < 0.3)] = ""  # blank means no dispute
    status = rng.choice(["approved", "approved", "approved", "declined", "reversed", "Approved"], rows)
    card_pick = rng.integers(0, n_cards, rows)
    df = pd.DataFrame({
        "transaction_id": [f"T{i:08d}" for i in range(rows)],
        "card_id": [card_ids[c] for c in card_pick],
        "merchant_id": rng.choice(merchant_ids, rows),
        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S"),
        "amount": amount_str,
        "entry_mode": rng.choice(["chip", "swipe", "contactless", "online"], rows),
        "status": status,
        "chargeback": chargeback,
    })
    df = pd.concat([df, df.sample(frac=0.04, random_state=9)]).sort_values("timestamp", kind="stable")
    df.to_csv(os.path.join(folder, "transactions.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
