"""Loan applications from the branch system, and the branch master list.

Usage: python make_data.py DIR ROWS   (ROWS applications, ~ROWS/20 branches)
"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(555)
    os.makedirs(folder, exist_ok=True)
    n_branches = max(5, rows // 20)
    branch_codes = [f"BR{i:03d}" for i in range(n_branches)]
    known = branch_codes[: max(4, int(n_branches * 0.85))]  # newer branches are not in the master list yet
    pd.DataFrame({
        "branch_code": known,
        "branch_name": [f"Branch {i}" for i in range(len(known))],
        "region": rng.choice(["North", "South", "East", "West"], len(known)),
        "opened": rng.integers(1985, 2020, len(known)),
    }).to_csv(os.path.join(folder, "branches.csv"), index=False)

    n = rows
    submitted = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 540, n), unit="D")
    income = rng.lognormal(10.7, 0.45, n).round(-2)
    amount = (rng.integers(2, 80, n) * 500).astype(float)
    age = rng.integers(16, 78, n).astype(float)
    employment = rng.choice(["employed", "self-employed", "unemployed", "retired", "student"], n,
                            p=[0.6, 0.15, 0.08, 0.1, 0.07]).astype(object)
    df = pd.DataFrame({
        "application_id": np.arange(n) + 50000,
        "branch_code": rng.choice(branch_codes, n),
        "submitted": submitted.strftime("%Y-%m-%d"),
        "applicant_age": age,
        "employment": employment,
        "annual_income": income,
        "loan_amount": amount,
        "term_months": rng.choice([12, 24, 36, 48, 60], n),
        "status": rng.choice(["approved", "rejected", "withdrawn", "pending"], n, p=[0.5, 0.3, 0.1, 0.1]),
    })
    # system quirks
    df.loc[rng.random(n) < 0.08, "employment"] = df["employment"].str.upper()
    df.loc[rng.random(n) < 0.05, "employment"] = np.nan
    df.loc[rng.random(n) < 0.04, "annual_income"] = np.nan
    df.loc[rng.random(n) < 0.03, "annual_income"] = -1  # "unknown" in the old form
    df.loc[rng.random(n) < 0.05, "status"] = df["status"].str.title() + " "
    resubmitted = df.sample(frac=0.06, random_state=3).copy()
    resubmitted["loan_amount"] = resubmitted["loan_amount"] + 500
    df = pd.concat([df, resubmitted]).sort_values("application_id", kind="stable")
    df.to_csv(os.path.join(folder, "applications.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
