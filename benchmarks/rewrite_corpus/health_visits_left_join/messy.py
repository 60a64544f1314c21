"""Readmission features per outpatient visit (ward analytics, Q3)."""
import csv
import os

import numpy as np

os.makedirs("out", exist_ok=True)
DEPARTMENTS = ["cardiology", "oncology", "orthopedics", "emergency"]
UNKNOWN_PATIENT = {"birth_year": 1970, "sex": "U", "region": "unknown"}

patients = {}
with open("data/patients.csv") as f:
    r = csv.reader(f)
    header = next(r)
    for pid, birth_year, sex, region in r:
        patients[pid] = {"birth_year": int(birth_year), "sex": sex, "region": region}

visits = []
with open("data/visits.csv") as f:
    for i, row in enumerate(csv.reader(f)):
        if i == 0:
            continue
        visit_id, pid, visit_date, department, duration, readmitted = row
        department = department.lower()
        if department not in DEPARTMENTS:
            continue
        if duration == "":
            continue
        p = patients.get(pid, UNKNOWN_PATIENT)  # referrals have no record, keep them
        age = 2023 - p["birth_year"]
        visits.append((visit_id, pid, department, int(duration), age, p["sex"], p["region"], int(readmitted)))

print("visits:", len(visits), " unknown patients:", sum(1 for v in visits if v[6] == "unknown"))

with open("out/prepared.csv", "w") as out:
    out.write("visit_id,patient_id,department,duration_min,age,sex,region,readmitted\n")
    for v in visits:
        out.write(",".join(str(x) for x in v) + "\n")

# department one-hot (fixed list from the ward spec)
dept_cols = []
for v in visits:
    dept_cols.append([1.0 if v[2] == d else 0.0 for d in DEPARTMENTS])
dept_cols = np.array(dept_cols)

regions = sorted(set(v[6] for v in visits))
ridx = {r: j for j, r in enumerate(regions)}
region_cols = np.zeros((len(visits), len(regions)))
for i, v in enumerate(visits):
    region_cols[i, ridx[v[6]]] = 1.0

duration = np.array([v[3] for v in visits], dtype=float)
duration = (duration - duration.mean()) / duration.std()
age = np.array([v[4] for v in visits], dtype=float)

X = np.hstack([dept_cols, region_cols, duration[:, None], age[:, None]])
y = np.array([v[7] for v in visits])
np.save("out/X.npy", X)
np.save("out/y.npy", y)
