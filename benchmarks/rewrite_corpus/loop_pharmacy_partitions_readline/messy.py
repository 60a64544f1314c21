#!/usr/bin/env python
# merge the regional pharmacy exports -> insurance-claim dataset
import os
from collections import Counter, defaultdict
from datetime import datetime

import numpy as np

DATA_DIR = "data"
REGIONS = ["north", "south", "east"]


def parse_record(line, region):
    parts = line.rstrip("\n").split(",")
    if len(parts) != 6:
        return None
    receipt, day, code, qty, price, insured = parts
    try:
        day = datetime.strptime(day, "%Y%m%d")
        qty = int(qty)
        price = float(price)
    except ValueError:
        return None
    return {"receipt": receipt, "date": day, "code": code.strip().upper(), "qty": qty, "price": price,
            "insured": insured.strip().upper() == "Y", "region": region}


catalogue = {}
with open(os.path.join(DATA_DIR, "drugs.csv")) as f:
    f.readline()
    while True:
        line = f.readline()
        if not line:
            break
        code, name, category, rx_only = line.strip().split(",")
        catalogue[code] = (category, rx_only == "Y")

sales = []
skipped = 0
for region in REGIONS:
    path = os.path.join(DATA_DIR, "sales_%s.csv" % region)
    fh = open(path)
    fh.readline()  # header
    while True:
        line = fh.readline()
        if not line:
            break
        rec = parse_record(line, region)
        if rec is None:
            skipped += 1
            continue
        if rec["date"].month == 12:    # december = stock-take corrections, ignore
            continue
        if rec["qty"] <= 0:
            continue
        if rec["code"] not in catalogue:
            continue
        sales.append(rec)
    fh.close()
print("parsed", len(sales), "sales lines,", skipped, "broken")

qty_by_drug = defaultdict(list)
cat_by_region = defaultdict(Counter)
for s in sales:
    qty_by_drug[s["code"]].append(s["qty"])
    cat_by_region[s["region"]][catalogue[s["code"]][0]] += 1

avg_qty = {}
for code, qs in qty_by_drug.items():
    avg_qty[code] = sum(qs) / len(qs)

for s in sales:
    category, rx = catalogue[s["code"]]
    s["category"] = category
    s["rx"] = 1 if rx else 0
    s["avg_qty_drug"] = avg_qty[s["code"]]
    s["cat_share_region"] = cat_by_region[s["region"]][category] / sum(cat_by_region[s["region"]].values())
    s["amount"] = s["qty"] * s["price"]

os.makedirs("out", exist_ok=True)
with open("out/prepared.csv", "w") as out:
    out.write("receipt_no,region,sale_date,drug_code,category,rx_only,qty,unit_price,amount,avg_qty_drug,"
              "cat_share_region,insured\n")
    for s in sales:
        out.write(f"{s['receipt']},{s['region']},{s['date']:%Y-%m-%d},{s['code']},{s['category']},{s['rx']},"
                  f"{s['qty']},{s['price']},{s['amount']:.2f},{s['avg_qty_drug']:.4f},{s['cat_share_region']:.4f},"
                  f"{int(s['insured'])}\n")

price = np.array([s["price"] for s in sales])
amount = np.array([s["amount"] for s in sales])
price_z = (price - price.mean()) / price.std()
amount_z = (amount - amount.mean()) / amount.std()
region_oh = np.zeros((len(sales), len(REGIONS)))
for i, s in enumerate(sales):
    region_oh[i, REGIONS.index(s["region"])] = 1

X = np.column_stack([price_z, amount_z, [s["rx"] for s in sales], [s["avg_qty_drug"] for s in sales],
                     [s["cat_share_region"] for s in sales], region_oh])
y = np.array([1 if s["insured"] else 0 for s in sales])
np.save("out/X.npy", X)
np.save("out/y.npy", y)
print("X", X.shape, "claims", y.sum())
