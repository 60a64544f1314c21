# visits of known members only: dict.get + `is None` guard, categories indexed with dict(zip(...))
import os

import numpy as np

os.makedirs("out", exist_ok=True)

members = {}
for line in open("data/members.csv").readlines()[1:]:
    mid, plan, age = line.strip().split(",")
    members[mid] = (plan.strip(), int(age))

rows = []
for line in open("data/visits.csv").readlines()[1:]:
    vid, mid, club = line.strip().split(",")
    m = members.get(mid)
    if m is None:
        print("unknown member", mid)
        continue
    plan, age = m
    rows.append((vid, club, plan, age))

with open("out/prepared.csv", "w") as f:
    f.write("visit,club,plan,age\n")
    for vid, club, plan, age in rows:
        f.write(f"{vid},{club},{plan},{age}\n")

plans = sorted(set(r[2] for r in rows))
pi = dict(zip(plans, range(len(plans))))
P = np.zeros((len(rows), len(plans)))
for i, r in enumerate(rows):
    P[i, pi[r[2]]] = 1
np.save("out/X.npy", np.hstack([P, np.array([r[3] for r in rows]).reshape(-1, 1)]))
