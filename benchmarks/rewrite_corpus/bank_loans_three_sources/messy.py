"""Credit decision model, 2022+ applications. (ported from R by J., please don't touch the score default)"""
import csv
import os

import numpy as np
from dateutil import parser
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

PURPOSES = ["car", "debt consolidation", "education", "home improvement"]
DEFAULT_SCORE = 600

# history: number of earlier loans and defaults per applicant
n_loans = {}
n_defaults = {}
with open("data/loan_history.csv") as f:
    for rec in csv.DictReader(f):
        a = rec["applicant_id"]
        n_loans[a] = n_loans.get(a, 0) + 1
        n_defaults[a] = n_defaults.get(a, 0) + int(rec["defaulted"])

scores = {}
with open("data/bureau_scores.csv") as f:
    for rec in csv.DictReader(f):
        scores[rec["applicant_id"]] = int(rec["score"])

apps = []
with open("data/applications.csv") as f:
    for rec in csv.DictReader(f):
        applied = parser.parse(rec["applied_on"])
        if applied.year < 2022:
            continue
        if rec["annual_income"] == "":
            continue
        a = rec["applicant_id"]
        apps.append({
            "application_id": int(rec["application_id"]),
            "applicant_id": a,
            "purpose": rec["purpose"].lower(),
            "amount": float(rec["amount"]),
            "income": float(rec["annual_income"]),
            "loan_to_income": float(rec["amount"]) / float(rec["annual_income"]),
            "score": scores.get(a, DEFAULT_SCORE),
            "prev_loans": n_loans.get(a, 0),
            "prev_defaults": n_defaults.get(a, 0),
            "approved": int(rec["approved"]),
        })

print("applications since 2022:", len(apps))
with open("out/prepared.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["application_id", "applicant_id", "purpose", "amount", "income",
                                      "loan_to_income", "score", "prev_loans", "prev_defaults", "approved"])
    w.writeheader()
    for a in apps:
        w.writerow(a)

purpose = np.zeros((len(apps), len(PURPOSES)))
for i, a in enumerate(apps):
    purpose[i, PURPOSES.index(a["purpose"])] = 1

income = np.array([a["income"] for a in apps])
score = np.array([a["score"] for a in apps], dtype=float)
lti = np.array([a["loan_to_income"] for a in apps])
X = np.concatenate([
    purpose,
    ((income - income.min()) / (income.max() - income.min())).reshape(-1, 1),
    ((score - score.mean()) / score.std()).reshape(-1, 1),
    lti.reshape(-1, 1),
    np.array([[a["prev_loans"], a["prev_defaults"]] for a in apps], dtype=float),
], axis=1)
y = np.array([a["approved"] for a in apps])
np.save("out/X.npy", X)
np.save("out/y.npy", y)

model = LogisticRegression(C=1.0, max_iter=1000)
model.fit(X, y)
