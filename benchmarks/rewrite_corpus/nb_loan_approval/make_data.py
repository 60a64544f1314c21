"""Home-loan applications (Analytics Vidhya "Loan Prediction" train layout).
Usage: python make_data.py DIR ROWS (ROWS applications)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(614)
    os.makedirs(folder, exist_ok=True)

    def holes(values, share):
        values = np.array(values, dtype=object)
        values[rng.random(rows) < share] = None
        return values

    income = rng.lognormal(8.3, 0.6, rows).round(0)
    income[rng.choice(rows, max(1, rows // 100), replace=False)] *= 12     # a few very rich applicants
    co_income = np.where(rng.random(rows) < 0.55, rng.lognormal(7.4, 0.7, rows), 0).round(0)
    amount = ((income + co_income) * rng.uniform(0.02, 0.05, rows)).clip(9, 700).round(0)
    credit = rng.choice([1.0, 0.0], rows, p=[.84, .16])
    area = rng.choice(["Semiurban", "Urban", "Rural"], rows, p=[.38, .33, .29])
    p = (0.12 + 0.68 * (credit == 1) + 0.05 * (area == "Semiurban")).clip(0.05, 0.95)
    status = np.where(rng.random(rows) < p, "Y", "N")
    credit = credit.astype(object)
    credit[rng.random(rows) < 0.08] = None
    pd.DataFrame({
        "Loan_ID": [f"LP{1002 + 3 * i:06d}" for i in range(rows)],
        "Gender": holes(rng.choice(["Male", "Female"], rows, p=[.81, .19]), 0.02),
        "Married": holes(rng.choice(["Yes", "No"], rows, p=[.65, .35]), 0.005),
        "Dependents": holes(rng.choice(["0", "1", "2", "3+"], rows, p=[.57, .17, .17, .09]), 0.025),
        "Education": rng.choice(["Graduate", "Not Graduate"], rows, p=[.78, .22]),
        "Self_Employed": holes(rng.choice(["No", "Yes"], rows, p=[.86, .14]), 0.05),
        "ApplicantIncome": income.astype(int),
        "CoapplicantIncome": co_income,
        "LoanAmount": holes(amount, 0.035),
        "Loan_Amount_Term": holes(rng.choice([360.0, 180.0, 480.0, 300.0, 84.0], rows, p=[.85, .07, .03, .03, .02]),
                                  0.02),
        "Credit_History": credit,
        "Property_Area": area,
        "Loan_Status": status,
    }).to_csv(os.path.join(folder, "train_u6lujuX_CVtuZ9i.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
