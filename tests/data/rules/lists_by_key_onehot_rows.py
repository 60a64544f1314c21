# a dict of column lists filled under a compound condition, one-hot rows built per record
import os

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)
KINDS = ["flat", "house", "studio"]

owners = {}
with open("data/owners.tsv") as f:
    lines = f.read().splitlines()
lines.pop(0)
for l in lines:
    oid, city = l.split("\t")
    owners[oid] = city.strip()

cols = {"unit": [], "kind": [], "city": [], "rooms": []}
onehot = []
with open("data/units.tsv") as f:
    rows = f.read().splitlines()
for l in rows[1:]:
    unit, oid, kind, rooms = l.split("\t")
    kind = kind.lower()
    rooms = int(rooms)
    if rooms > 1 and kind != "garage" and oid in owners:
        cols["unit"].append(unit)
        cols["kind"].append(kind)
        cols["city"].append(owners[oid])
        cols["rooms"].append(rooms)
        onehot.append([1.0 if kind == k else 0.0 for k in KINDS])

df = pd.DataFrame(cols)
df.to_csv("out/prepared.csv", index=False)

cities = sorted(set(cols["city"]))
ci = {c: i for i, c in enumerate(cities)}
C = np.zeros((len(df), len(cities)))
for i, c in enumerate(cols["city"]):
    C[i][ci[c]] = 1.0
X = np.hstack([np.array(onehot), C, np.array(cols["rooms"], dtype=float).reshape(-1, 1)])
np.save("out/X.npy", X)
