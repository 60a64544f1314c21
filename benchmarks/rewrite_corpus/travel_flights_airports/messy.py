import csv
import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

airports = {}
for line in open("data/airports.csv"):
    if line.startswith("iata"):
        continue
    iata, name, country, hub = line.strip().split(",")
    airports[iata] = {"country": country, "hub": int(hub)}

legs = []
for fl in csv.DictReader(open("data/flights.csv")):
    if fl["delay_min"] == "":
        continue  # cancelled
    if fl["origin"] not in airports or fl["dest"] not in airports:
        continue
    orig = airports[fl["origin"]]
    dest = airports[fl["dest"]]
    legs.append({
        "flight_no": fl["flight_no"],
        "airline": fl["airline"],
        "origin": fl["origin"],
        "dest": fl["dest"],
        "international": int(orig["country"] != dest["country"]),
        "hub_origin": orig["hub"],
        "distance_km": int(fl["distance_km"]),
        "delay_min": int(fl["delay_min"]),
    })

df = pd.DataFrame(legs)
df.to_csv("out/prepared.csv", index=False)
print(df.groupby("airline").delay_min.mean())

airlines = sorted(df["airline"].unique())
a_idx = {a: i for i, a in enumerate(airlines)}
A = np.zeros((len(legs), len(airlines)))
for i, leg in enumerate(legs):
    A[i, a_idx[leg["airline"]]] = 1

dist = df["distance_km"].to_numpy(dtype=float)
X = np.hstack([A, ((dist - dist.mean()) / dist.std()).reshape(-1, 1),
               df[["international", "hub_origin"]].to_numpy(dtype=float)])

y = np.zeros(len(legs), dtype=int)
for i, leg in enumerate(legs):
    if leg["delay_min"] > 15:
        y[i] = 1
np.save("out/X.npy", X)
np.save("out/y.npy", y)

m = LogisticRegression(max_iter=1000)
m.fit(X, y)
print("delayed share", y.mean())
