"""Credit card clients (UCI Taiwan default layout) and their credit-bureau records.
Usage: python make_data.py DIR ROWS (ROWS clients, about 2 bureau records each)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(30000)
    os.makedirs(folder, exist_ok=True)
    ids = np.arange(1, rows + 1)
    limit = (rng.lognormal(11.8, 0.7, rows) // 10000 * 10000).clip(10000, 1000000)
    pay = {f"PAY_{k}": rng.choice([-2, -1, 0, 1, 2, 3], rows, p=[.12, .2, .5, .1, .06, .02]) for k in (0, 2, 3)}
    bill1 = (limit * rng.uniform(0, 0.9, rows)).round(0)
    bill2 = (bill1 * rng.uniform(0.8, 1.1, rows)).round(0)
    age = rng.integers(21, 75, rows).astype(float)
    age[rng.random(rows) < 0.03] = np.nan
    risk = 0.1 + 0.12 * (pay["PAY_0"] >= 1) + 0.15 * (pay["PAY_0"] >= 2) - 0.05 * (limit > 200000)
    default = (rng.random(rows) < risk.clip(0.04, 0.9)).astype(int)
    pd.DataFrame({
        "ID": ids,
        "LIMIT_BAL": limit,
        "SEX": rng.choice([1, 2], rows, p=[.4, .6]),
        "EDUCATION": rng.choice([0, 1, 2, 3, 4, 5, 6], rows, p=[.005, .35, .46, .16, .005, .01, .01]),
        "MARRIAGE": rng.choice([0, 1, 2, 3], rows, p=[.01, .45, .53, .01]),
        "AGE": age,
        **pay,
        "BILL_AMT1": bill1,
        "BILL_AMT2": bill2,
        "PAY_AMT1": (bill2 * rng.uniform(0, 0.3, rows)).round(0),
        "PAY_AMT2": (bill2 * rng.uniform(0, 0.3, rows)).round(0),
        "default.payment.next.month": default,
    }).to_csv(os.path.join(folder, "credit_card_clients.csv"), index=False)

    n = rows * 2
    client = rng.choice(np.concatenate([ids, ids[: rows // 3]]), n)   # some clients have no record at all
    client = client[rng.random(n) < 0.85]
    m = len(client)
    overdue = np.where(rng.random(m) < 0.85, 0, rng.integers(1, 400, m))
    pd.DataFrame({
        "ID": client,
        "credit_type": rng.choice(["Consumer credit", "Credit card", "Car loan", "Mortgage"], m, p=[.5, .3, .12, .08]),
        "credit_active": rng.choice(["Active", "Closed", "closed", "Sold"], m, p=[.4, .45, .1, .05]),
        "amt_credit_sum": rng.lognormal(11, 1, m).round(0),
        "credit_day_overdue": overdue,
    }).to_csv(os.path.join(folder, "bureau.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
