# order lines priced from a product list scanned for every order (nested loop), label with np.where
import csv
import os

import numpy as np

os.makedirs("out", exist_ok=True)

products = list(csv.DictReader(open("data/products.csv")))

rows = []
reader = csv.reader(open("data/lines.csv"))
next(reader)
for line_id, sku, qty in reader:
    if qty == "":
        continue
    for p in products:
        if p["sku"] == sku.strip().upper():
            rows.append((line_id, p["sku"], p["shelf"], int(qty), int(qty) * float(p["price"])))

with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["line_id", "sku", "shelf", "qty", "total"])
    w.writerows(rows)

total = np.array([r[4] for r in rows])
X = np.column_stack([(total - total.min()) / (total.max() - total.min()), np.array([r[3] for r in rows])])
y = np.where(np.array([r[4] for r in rows]) > 50, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)
