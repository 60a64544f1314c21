# readmission model v0 -- vitals at discharge + outcome file from the registry
# the two exports come out of the same query so line i of one belongs to line i of the other
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

WARDS = ["cardio", "geriatrics", "internal", "surgery"]   # the four wards in the pilot

ward_col, num_rows, target = [], [], []
mismatch = 0
with open("data/vitals.csv") as fv, open("data/outcomes.csv") as fo:
    fv.readline()
    fo.readline()
    for vline, oline in zip(fv, fo):
        v = vline.strip().split(",")
        o = oline.strip().split(",")
        if v[0] != o[0]:
            mismatch += 1
            continue
        if o[1] == "":
            continue
        ward = v[1].strip().lower()
        if ward not in WARDS:
            continue
        if v[3] == "":
            continue
        ward_col.append(ward)
        num_rows.append([float(v[2]), float(v[3]), float(v[4]), float(v[5])])
        target.append(int(o[1]))

print("id mismatches between the files:", mismatch)
print("patients:", len(target))

W = np.zeros((len(ward_col), len(WARDS)))
for i, w in enumerate(ward_col):
    W[i, WARDS.index(w)] = 1

num = np.array(num_rows)
mu = num.mean(axis=0)
sd = num.std(axis=0)
num = (num - mu) / sd

X = np.hstack([num, W])
y = np.array(target)

os.makedirs("out", exist_ok=True)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

lr = LogisticRegression(C=0.5, max_iter=500)
lr.fit(X, y)
print("coef", np.round(lr.coef_, 2))
print("acc", lr.score(X, y))
