"""Patients (demographics) and their medical histories for the healthcare example pipeline.

Usage: python make_data.py DIR ROWS   (ROWS patients, about as many history records)
"""
import os
import sys

import numpy as np
import pandas as pd

LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
              "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
              "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark"]


def main(folder, rows):
    rng = np.random.default_rng(20240611)
    os.makedirs(folder, exist_ok=True)
    ssn = np.array([f"{a:03d}-{b:02d}-{c:04d}" for a, b, c in zip(rng.integers(100, 900, rows),
                                                                 rng.integers(10, 99, rows),
                                                                 rng.permutation(rows) + 1000)])
    # the registry export writes '?' for unknown values and is not consistent about county spelling
    county = rng.choice(["county1", "county2", "county3", "county4"], rows, p=[0.2, 0.3, 0.3, 0.2]).astype(object)
    messy = rng.random(rows)
    county[messy < 0.1] = [c.upper() for c in county[messy < 0.1]]
    county[(messy >= 0.1) & (messy < 0.15)] = [" " + c + " " for c in county[(messy >= 0.1) & (messy < 0.15)]]
    race = rng.choice(["race1", "race2", "race3"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    race[rng.random(rows) < 0.06] = "?"
    income = rng.normal(65000, 18000, rows).round(-2).clip(12000, None).astype(object)
    income[rng.random(rows) < 0.05] = "?"
    age_group = rng.choice(["group1", "group2", "group3"], rows, p=[0.35, 0.4, 0.25])
    pd.DataFrame({
        "id": np.arange(rows) + 1,
        "first_name": rng.choice(["Anna", "Ben", "Carla", "Dev", "Emil", "Fay", "Gus", "Hana"], rows),
        "last_name": rng.choice(LAST_NAMES, rows),
        "race": race,
        "county": county,
        "num_children": rng.poisson(1.4, rows),
        "income": income,
        "age_group": age_group,
        "ssn": ssn,
    }).to_csv(os.path.join(folder, "patients.csv"), index=False)

    # histories: most patients have one, a few ssns belong to nobody in the registry
    has_history = rng.random(rows) < 0.92
    hist_ssn = list(ssn[has_history])
    n_unknown = max(2, rows // 25)
    hist_ssn += [f"999-{i % 90 + 10:02d}-{i:04d}" for i in range(n_unknown)]
    n = len(hist_ssn)
    base = {"group1": 1.0, "group2": 2.0, "group3": 3.2}
    lookup = dict(zip(ssn, age_group))
    lam = np.array([base.get(lookup.get(s, "group2"), 2.0) for s in hist_ssn])
    smoker = rng.choice(["yes", "no"], n, p=[0.3, 0.7]).astype(object)
    smoker[rng.random(n) < 0.05] = "?"
    order = rng.permutation(n)
    pd.DataFrame({
        "smoker": smoker[order],
        "complications": rng.poisson(lam)[order],
        "ssn": np.array(hist_ssn)[order],
    }).to_csv(os.path.join(folder, "histories.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
