import csv
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

VEHICLE_CLASSES = ["compact", "sedan", "suv", "van"]
CLAIM_TYPES = ("collision", "theft", "glass")

policies = {}
with open("data/policies.csv", newline="") as f:
    for rec in csv.DictReader(f):
        policies[rec["policy_no"]] = rec

claims = []
with open("data/claims.csv") as f:
    for n, line in enumerate(f):
        if n == 0:
            continue
        claim_id, policy_no, claim_type, amount, fraud_flag = line.rstrip("\n").split("|")
        claim_type = claim_type.lower()
        if claim_type not in CLAIM_TYPES:
            continue
        if policy_no in policies:
            pol = policies[policy_no]
            claims.append({
                "claim_id": claim_id,
                "policy_no": policy_no,
                "claim_type": claim_type,
                "vehicle_class": pol["vehicle_class"].lower(),
                "driver_age": int(pol["driver_age"]),
                "amount": float(amount),
                "fraud": int(fraud_flag),
            })

print(f"{len(claims)} claims of type {CLAIM_TYPES}")

with open("out/prepared.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(claims[0].keys()))
    w.writeheader()
    w.writerows(claims)

class_idx = {c: i for i, c in enumerate(VEHICLE_CLASSES)}
vehicle = np.zeros((len(claims), len(VEHICLE_CLASSES)))
for i, c in enumerate(claims):
    vehicle[i, class_idx[c["vehicle_class"]]] = 1

amount = np.array([c["amount"] for c in claims])
amount_z = (amount - np.mean(amount)) / np.std(amount)
driver_age = np.array([c["driver_age"] for c in claims], dtype=float)

X = np.column_stack([vehicle, amount_z, driver_age])
y = np.array([c["fraud"] for c in claims])
np.save("out/X.npy", X)
np.save("out/y.npy", y)

model = LogisticRegression(C=0.5, max_iter=500)
model.fit(X, y)
