"""Telco customer churn (IBM sample layout). Usage: python make_data.py DIR ROWS (ROWS customers, plus a few
duplicated export rows)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(7043)
    os.makedirs(folder, exist_ok=True)
    ids = [f"{rng.integers(1000, 9999)}-{''.join(rng.choice(list('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), 5))}"
           for _ in range(rows)]
    tenure = rng.integers(0, 73, rows)
    tenure[rng.random(rows) < 0.03] = 0
    contract = rng.choice(["Month-to-month", "One year", "Two year"], rows, p=[.55, .21, .24])
    internet = rng.choice(["DSL", "Fiber optic", "No"], rows, p=[.34, .44, .22])
    phone = rng.choice(["Yes", "No"], rows, p=[.9, .1])

    def service(p_yes):
        v = np.where(rng.random(rows) < p_yes, "Yes", "No").astype(object)
        v[internet == "No"] = "No internet service"
        return v

    multiple = np.where(rng.random(rows) < .45, "Yes", "No").astype(object)
    multiple[phone == "No"] = "No phone service"
    monthly = (20 + 25 * (internet == "DSL") + 50 * (internet == "Fiber optic") + 5 * (phone == "Yes")
               + rng.normal(0, 8, rows)).clip(18.25, 118.75).round(2)
    total = (monthly * tenure * rng.uniform(0.95, 1.05, rows)).round(2).astype(object)
    total[tenure == 0] = " "
    p = (0.08 + 0.3 * (contract == "Month-to-month") + 0.12 * (internet == "Fiber optic")
         - 0.004 * tenure).clip(0.03, 0.9)
    churn = np.where(rng.random(rows) < p, "Yes", "No")
    df = pd.DataFrame({
        "customerID": ids,
        "gender": rng.choice(["Male", "Female"], rows),
        "SeniorCitizen": (rng.random(rows) < 0.16).astype(int),
        "Partner": rng.choice(["Yes", "No"], rows),
        "Dependents": rng.choice(["Yes", "No"], rows, p=[.3, .7]),
        "tenure": tenure,
        "PhoneService": phone,
        "MultipleLines": multiple,
        "InternetService": internet,
        "OnlineSecurity": service(.3),
        "OnlineBackup": service(.35),
        "TechSupport": service(.3),
        "StreamingTV": service(.4),
        "Contract": contract,
        "PaperlessBilling": rng.choice(["Yes", "No"], rows, p=[.6, .4]),
        "PaymentMethod": rng.choice(["Electronic check", "Mailed check", "Bank transfer (automatic)",
                                     "Credit card (automatic)"], rows),
        "MonthlyCharges": monthly,
        "TotalCharges": total,
        "Churn": churn,
    })
    dup = df.sample(n=max(2, rows // 40), random_state=3)
    df = pd.concat([df, dup]).sample(frac=1, random_state=4)
    df.to_csv(os.path.join(folder, "WA_Fn-UseC_-Telco-Customer-Churn.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
