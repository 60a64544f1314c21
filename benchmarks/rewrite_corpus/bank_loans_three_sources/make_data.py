"""Loan applications, past loans and the credit bureau extract.

Usage: python make_data.py DIR ROWS (ROWS applications)
"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(4242)
    os.makedirs(folder, exist_ok=True)
    n_applicants = max(10, int(rows * 0.8))
    applicant = rng.integers(0, n_applicants, rows)
    dates = pd.Timestamp("2021-06-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D")
    # the old front end wrote ISO dates, the new one ISO timestamps
    stamp = np.where(rng.random(rows) < 0.5, dates.strftime("%Y-%m-%d"), dates.strftime("%Y-%m-%d %H:%M:%S"))
    income = rng.lognormal(10.6, 0.5, rows).round(0).astype(object)
    income[rng.random(rows) < 0.03] = ""
    pd.DataFrame({
        "application_id": np.arange(rows) + 1,
        "applicant_id": [f"A{a:06d}" for a in applicant],
        "applied_on": stamp,
        "purpose": rng.choice(["car", "home improvement", "education", "debt consolidation", "Car"], rows),
        "amount": rng.integers(1, 60, rows) * 1000,
        "annual_income": income,
        "approved": rng.choice([0, 1], rows, p=[0.4, 0.6]),
    }).to_csv(os.path.join(folder, "applications.csv"), index=False)
    n_hist = rows
    pd.DataFrame({
        "loan_id": np.arange(n_hist) + 1,
        "applicant_id": [f"A{a:06d}" for a in rng.integers(0, n_applicants, n_hist)],
        "principal": rng.integers(1, 40, n_hist) * 500,
        "defaulted": (rng.random(n_hist) < 0.12).astype(int),
    }).to_csv(os.path.join(folder, "loan_history.csv"), index=False)
    scored = rng.random(n_applicants) < 0.85   # the bureau does not know everyone
    pd.DataFrame({
        "applicant_id": [f"A{a:06d}" for a in range(n_applicants)],
        "score": rng.integers(300, 850, n_applicants),
    })[scored].to_csv(os.path.join(folder, "bureau_scores.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
