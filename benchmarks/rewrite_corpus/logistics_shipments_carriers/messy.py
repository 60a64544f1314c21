import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

ship = pd.read_csv("data/shipments.csv")
carriers = pd.read_csv("data/carriers.csv")
carriers["carrier_code"] = carriers["carrier_code"].str.strip()
ship["carrier"] = ship["carrier"].str.upper()

mask = (ship["weight_kg"] > 0) & (ship["status"] == "delivered")
ship = ship[mask]
df = ship.merge(carriers, left_on="carrier", right_on="carrier_code")
df = df.drop(columns=["carrier_code"])
print(df.groupby("carrier_name")["actual_days"].mean())
df.to_csv("out/prepared.csv", index=False)

modes = list(dict.fromkeys(df["mode"]))      # keep the order they show up in
mode_index = {m: k for k, m in enumerate(modes)}
M = np.zeros((len(df), len(modes)))
for i, m in enumerate(df["mode"].values):
    M[i, mode_index[m]] = 1.0

w = df["weight_kg"]
weight_z = ((w - w.mean()) / w.std()).to_numpy()
d = df["distance_km"].to_numpy().astype(float)
dist_01 = (d - d.min()) / (d.max() - d.min())

X = np.hstack([M, weight_z.reshape(-1, 1), dist_01.reshape(-1, 1), df[["on_time_rate"]].to_numpy()])
y = np.where(df["actual_days"] > df["promised_days"], 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

lr = LogisticRegression(max_iter=1000).fit(X, y)
print("late share", y.mean(), "fit", lr.score(X, y))
