import os
from datetime import datetime

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)

# reference ranges
ranges = {}
for line in open("data/tests.csv").read().strip().split("\n")[1:]:
    code, name, low, high = line.split(",")
    ranges[code] = (float(low), float(high))

patients = {}
for line in open("data/patients.csv").read().strip().split("\n")[1:]:
    mrn, sex, birth_year, ward = line.split(",")
    patients[mrn] = {"sex": sex, "age": 2023 - int(birth_year), "ward": ward}

results = []
for site in ["a", "b", "c"]:
    with open(f"data/labs_site_{site}.csv") as f:
        header = f.readline()
        for line in f:
            sample_id, mrn, test_code, value, taken_on = line.strip().split(",")
            if value == "":
                continue
            taken = datetime.strptime(taken_on, "%d.%m.%Y")
            if taken.month > 6:       # first half-year only, the second is still being validated
                continue
            results.append({"site": site.upper(), "sample_id": sample_id, "mrn": mrn,
                            "test_code": test_code.upper(), "value": float(value)})
print("H1 results:", len(results))

# flag out-of-range values and count them per patient
abnormal_count = {}
for r in results:
    low, high = ranges[r["test_code"]]
    r["abnormal"] = int(r["value"] < low or r["value"] > high)
    abnormal_count[r["mrn"]] = abnormal_count.get(r["mrn"], 0) + r["abnormal"]

records = []
for r in results:
    if r["mrn"] not in patients:
        continue
    p = patients[r["mrn"]]
    low, high = ranges[r["test_code"]]
    records.append({**r, "sex": p["sex"], "age": p["age"], "ward": p["ward"],
                    "rel_value": (r["value"] - low) / (high - low),
                    "patient_abnormal": abnormal_count[r["mrn"]]})

df = pd.DataFrame(records)
df.to_csv("out/prepared.csv", index=False)

tests = sorted(df["test_code"].unique())
T = np.zeros((len(df), len(tests)))
for i, t in enumerate(df["test_code"]):
    T[i, tests.index(t)] = 1
sites = sorted(df["site"].unique())
S = np.zeros((len(df), len(sites)))
for i, s in enumerate(df["site"]):
    S[i, sites.index(s)] = 1

rel = df["rel_value"].to_numpy()
age = df["age"].to_numpy(dtype=float)
X = np.hstack([T, S, ((rel - rel.mean()) / rel.std())[:, None], ((age - age.mean()) / age.std())[:, None]])
y = np.where(df["patient_abnormal"].to_numpy() >= 2, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)
