import csv
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

products = {}
with open("data/products.csv", newline="") as f:
    r = csv.reader(f)
    next(r)
    for sku, name, category, unit_price in r:
        products[sku] = (category, float(unit_price))

tiers = {}
with open("data/customers.csv", newline="") as f:
    r = csv.reader(f)
    next(r)
    for card_no, tier, joined in r:
        tiers[card_no] = tier

lines = []
with open("data/order_lines.csv", newline="") as f:
    r = csv.reader(f)
    next(r)
    for line_id, card_no, sku, quantity in r:
        if card_no == "" or int(quantity) <= 0:
            continue
        if sku not in products:
            continue
        category, price = products[sku]
        if category == "gift card":
            continue
        lines.append({"line_id": line_id, "card_no": card_no, "sku": sku, "category": category,
                      "quantity": int(quantity), "value": int(quantity) * price})

# basket stats per customer
spend = {}
n_lines = {}
for l in lines:
    spend[l["card_no"]] = spend.get(l["card_no"], 0) + l["value"]
    n_lines[l["card_no"]] = n_lines.get(l["card_no"], 0) + 1

prepared = []
for l in lines:
    c = l["card_no"]
    if c in tiers:
        prepared.append([l["line_id"], c, tiers[c], l["category"], l["quantity"], l["value"], spend[c], n_lines[c]])

with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["line_id", "card_no", "tier", "category", "quantity", "value", "customer_spend", "customer_lines"])
    for p in prepared:
        w.writerow(p)

cats = sorted({p[3] for p in prepared})
cat_ix = {c: j for j, c in enumerate(cats)}
C = np.zeros((len(prepared), len(cats)))
for i, p in enumerate(prepared):
    C[i, cat_ix[p[3]]] = 1.0

value = np.array([p[5] for p in prepared])
total = np.array([p[6] for p in prepared])
count = np.array([p[7] for p in prepared], dtype=float)
X = np.hstack([
    C,
    ((value - value.min()) / (value.max() - value.min()))[:, np.newaxis],
    ((total - total.mean()) / total.std())[:, np.newaxis],
    count[:, np.newaxis],
])
y = []
for p in prepared:
    y.append(1 if p[2] == "gold" else 0)
y = np.array(y)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

model = LogisticRegression(max_iter=2000)
model.fit(X, y)
print("gold guess acc:", model.score(X, y))
