"""Orders of known customers above 10 EUR, with the customer's country, to predict premium."""
import csv
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

MIN_AMOUNT = 10  # smaller orders are test transactions


def clean_category(text):
    # categories come with stray spaces and mixed case
    return text.strip().lower()


customers = {}
with open("data/customers.csv") as f:
    for row in csv.DictReader(f):
        customers[row["customer_id"]] = row

rows = []
for line in open("data/orders.csv"):
    if line.startswith("order_id"):
        continue
    order_id, customer_id, amount, category = line.rstrip("\n").split(",")
    amount = float(amount)
    if amount <= MIN_AMOUNT:
        continue
    customer = customers.get(customer_id)
    if customer is None:  # orders of deleted customers
        continue
    rows.append({
        "order_id": int(order_id),
        "customer_id": int(customer_id),
        "amount": amount,
        "category": clean_category(category),
        "country": customer["country"],
        "premium": int(customer["premium"]),
    })

print(len(rows), "orders")

os.makedirs("out", exist_ok=True)
with open("out/prepared.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

countries = sorted({r["country"] for r in rows})
X = np.array([[r["amount"]] + [1.0 if r["country"] == c else 0.0 for c in countries] for r in rows])
y = np.array([r["premium"] for r in rows])
np.save("out/X.npy", X)
np.save("out/y.npy", y)

model = LogisticRegression(C=0.5)
model.fit(X, y)
print("train accuracy", model.score(X, y))
