import json
import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

subs = pd.read_csv("data/subscribers.csv", dtype={"msisdn": str})
usage = pd.read_csv("data/usage.csv", dtype={"msisdn": str})

# billing writes +49..., the network exports 0...
subs["msisdn"] = subs["msisdn"].apply(lambda n: "0" + n[3:] if n.startswith("+49") else n)
subs["plan"] = subs["plan"].str.strip().str.lower()
subs = subs[subs["plan"] != "prepaid"]

usage["minutes"] = pd.to_numeric(usage["minutes"], errors="coerce")
usage = usage.dropna(subset=["minutes"])

df = pd.merge(subs, usage, on="msisdn", how="left")
df["minutes"] = df["minutes"].fillna(0)
df["sms"] = df["sms"].fillna(0)
df["data_mb"] = df["data_mb"].fillna(0)
df["data_gb"] = df.apply(lambda r: r["data_mb"] / 1024, axis=1)
df = df.drop(columns=["data_mb"])
print(df.describe())
df.to_csv("out/prepared.csv", index=False)

plans = sorted(df["plan"].unique())
plan_pos = {p: i for i, p in enumerate(plans)}
P = np.zeros((len(df), len(plans)))
for i, p in enumerate(df["plan"]):
    P[i, plan_pos[p]] = 1

minutes = df["minutes"].values
gb = df["data_gb"].values
X = np.concatenate([
    P,
    ((minutes - minutes.mean()) / minutes.std())[:, None],
    ((gb - gb.min()) / (gb.max() - gb.min()))[:, None],
    df[["sms"]].values.astype(float),
], axis=1)
y = np.where(df["churned"] == "yes", 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

LogisticRegression(max_iter=1000).fit(X, y)


def export_for_bi(frame, path):
    # used to feed the old BI dashboard
    with open(path, "w") as fh:
        json.dump(frame.to_dict(orient="records"), fh)
