"""Telecom CRM customers and their monthly usage records (churn project).

Usage: python make_data.py DIR ROWS   (about ROWS customer rows, six usage months each)
"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(31337)
    os.makedirs(folder, exist_ok=True)
    n = rows
    ids = np.array([f"CUST-{i:05d}" for i in range(n)])
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    tenure = rng.integers(0, 72, n)
    monthly = np.round(rng.uniform(18, 118, n), 2)
    total = np.round(monthly * np.maximum(tenure, 0) * rng.uniform(0.9, 1.05, n), 2).astype(object)
    total[tenure == 0] = " "  # new customers: the billing system writes a blank
    p_churn = 0.08 + 0.35 * (contract == "Month-to-month") + 0.2 * (tenure < 12) + 0.1 * (monthly > 80)
    churn = np.where(rng.random(n) < p_churn, "Yes", "No")
    df = pd.DataFrame({
        "customer_id": ids,
        "gender": rng.choice(["Female", "Male"], n),
        "senior_citizen": rng.choice([0, 1], n, p=[0.84, 0.16]),
        "tenure": tenure,
        "contract": contract,
        "payment_method": rng.choice(["Electronic check", "Mailed check", "Bank transfer (automatic)",
                                      "Credit card (automatic)"], n),
        "internet_service": rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.35, 0.45, 0.2]),
        "monthly_charges": monthly,
        "total_charges": total,
        "churn": churn,
        "updated_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
    })
    # CRM quirks: ids typed by hand, inconsistent contract spelling, re-exported rows
    messy = rng.random(n) < 0.1
    df.loc[messy, "customer_id"] = [" " + s.lower() + " " for s in df.loc[messy, "customer_id"]]
    lower = rng.random(n) < 0.1
    df.loc[lower, "contract"] = df.loc[lower, "contract"].str.upper()
    dup = df.sample(frac=0.05, random_state=1).copy()
    dup["updated_at"] = dup["updated_at"] - pd.Timedelta(days=60)
    dup["monthly_charges"] = np.round(dup["monthly_charges"] * 0.9, 2)
    df = pd.concat([df, dup]).sample(frac=1.0, random_state=2)
    df["updated_at"] = df["updated_at"].dt.strftime("%Y-%m-%d")
    df.to_csv(os.path.join(folder, "customers.csv"), index=False)

    # usage: six months for most customers, a few customers never used the service, a few unknown ids
    users = ids[rng.random(n) < 0.93]
    usage_ids = np.repeat(users, 6)
    months = np.tile(pd.period_range("2023-07", periods=6, freq="M").astype(str), len(users))
    m = len(usage_ids)
    unknown = np.array([f"CUST-9{i:04d}" for i in range(max(3, n // 20))])
    usage = pd.DataFrame({
        "customer_id": np.concatenate([usage_ids, unknown]),
        "month": np.concatenate([months, np.full(len(unknown), "2023-12")]),
        "minutes": np.round(rng.gamma(2.0, 150.0, m + len(unknown)), 1),
        "data_gb": np.round(rng.gamma(1.5, 4.0, m + len(unknown)), 2),
        "support_calls": rng.poisson(0.4, m + len(unknown)),
    })
    usage.loc[rng.random(len(usage)) < 0.03, "data_gb"] = np.nan
    usage.to_csv(os.path.join(folder, "usage_monthly.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
