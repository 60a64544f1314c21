import csv
import os

import numpy as np

os.makedirs("out", exist_ok=True)

depots = []
with open("data/depots.csv") as f:
    reader = csv.reader(f)
    next(reader)
    for depot, city in reader:
        depots.append((depot, city))

rows = []
with open("data/trips.csv") as f:
    reader = csv.reader(f)
    next(reader)
    for trip, depot, km in reader:
        for d, city in depots:
            if d == depot:
                rows.append((trip, city, int(km)))

with open("out/prepared.csv", "w") as f:
    f.write("trip,city,km\n")
    for trip, city, km in rows:
        f.write(f"{trip},{city},{km}\n")

cities = list(dict.fromkeys(r[1] for r in rows))
index = {c: i for i, c in enumerate(cities)}
onehot = np.zeros((len(rows), len(cities)))
for i, r in enumerate(rows):
    onehot[i, index[r[1]]] = 1.0
km = np.array([r[2] for r in rows], dtype=float)
X = np.hstack([km.reshape(-1, 1), onehot])
np.save("out/X.npy", X)
