"""Hospital admissions, the patient register and per-admission diagnosis codes (30-day readmissions).

Usage: python make_data.py DIR ROWS   (about ROWS admissions, ROWS/3 patients, ~2.5 diagnoses per admission)
"""
import os
import sys

import numpy as np
import pandas as pd

CODES = ["I10", "E11", "J44", "N18", "I50", "F32", "K21", "M54", "J18", "S72", "Z00", "R07"]


def main(folder, rows):
    rng = np.random.default_rng(3030)
    os.makedirs(folder, exist_ok=True)
    n_patients = max(10, rows // 3)
    pids = np.array([f"MRN{100000 + i}" for i in range(n_patients)])
    birth_year = rng.integers(1930, 2004, n_patients)
    patients = pd.DataFrame({
        "patient_id": pids,
        "birth_year": birth_year,
        "sex": rng.choice(["F", "M", "f", "m", "U"], n_patients, p=[0.45, 0.43, 0.05, 0.05, 0.02]),
        "insurance": rng.choice(["Medicare", "Medicaid", "Private", "Self-pay"], n_patients, p=[0.4, 0.2, 0.35, 0.05]),
        "zip3": rng.integers(100, 999, n_patients),
    })
    patients = patients[rng.random(n_patients) > 0.04]  # a few patients missing from the register
    patients.to_csv(os.path.join(folder, "patients.csv"), index=False)

    recs = []
    aid = 1
    while len(recs) < rows:
        p = int(rng.integers(0, n_patients))
        k = int(rng.integers(1, 6))
        day = pd.Timestamp("2021-01-01") + pd.Timedelta(days=int(rng.integers(0, 500)))
        for _ in range(k):
            los = int(rng.integers(1, 15))
            recs.append({
                "admission_id": aid,
                "patient_id": pids[p],
                "admit_date": day.strftime("%Y-%m-%d"),
                "discharge_date": (day + pd.Timedelta(days=los)).strftime("%Y-%m-%d"),
                "admission_type": str(rng.choice(["EMERGENCY", "ELECTIVE", "URGENT", "NEWBORN", "emergency"],
                                                 p=[0.5, 0.25, 0.15, 0.05, 0.05])),
                "discharge_to": str(rng.choice(["home", "snf", "rehab", "expired"], p=[0.7, 0.15, 0.12, 0.03])),
                "num_procedures": int(rng.poisson(1.3)),
                "num_medications": int(rng.poisson(12)),
            })
            aid += 1
            gap = int(rng.integers(2, 30)) if rng.random() < 0.4 else int(rng.exponential(200)) + 31
            day = day + pd.Timedelta(days=los + gap)
    adm = pd.DataFrame(recs[:rows])
    bad = rng.random(len(adm)) < 0.02   # discharge typed before admission
    adm.loc[bad, "discharge_date"] = (pd.to_datetime(adm.loc[bad, "admit_date"]) - pd.Timedelta(days=3)).dt.strftime("%Y-%m-%d")
    adm.loc[rng.random(len(adm)) < 0.03, "num_medications"] = np.nan
    adm = pd.concat([adm, adm.sample(frac=0.03, random_state=5)]).sample(frac=1.0, random_state=6)
    adm.to_csv(os.path.join(folder, "admissions.csv"), index=False)

    n_dx = int(rows * 2.5)
    pd.DataFrame({
        "admission_id": rng.integers(1, aid + max(3, rows // 50), n_dx),
        "seq": rng.integers(1, 10, n_dx),
        "icd10": [c + ("" if rng.random() < 0.7 else "." + str(rng.integers(0, 9))) for c in rng.choice(CODES, n_dx)],
    }).to_csv(os.path.join(folder, "diagnoses.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
