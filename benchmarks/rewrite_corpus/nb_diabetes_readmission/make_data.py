"""Diabetes hospital encounters (UCI "Diabetes 130-US hospitals" diabetic_data.csv layout, a subset of the columns,
'?' for missing) and the admission-type id mapping. Usage: python make_data.py DIR ROWS (ROWS encounters)"""
import os
import sys

import numpy as np
import pandas as pd

AGES = ["[0-10)", "[10-20)", "[20-30)", "[30-40)", "[40-50)", "[50-60)", "[60-70)", "[70-80)", "[80-90)", "[90-100)"]
DIAG = ["250.83", "276", "648", "8", "197", "414", "428", "398", "434", "250.7", "V57", "E909", "?"]


def main(folder, rows):
    rng = np.random.default_rng(101766)
    os.makedirs(folder, exist_ok=True)
    patients = rng.integers(100000, 200000000, max(5, int(rows * 0.75)))
    patient = rng.choice(patients, rows)
    inpatient = rng.choice([0, 1, 2, 3, 5], rows, p=[.66, .19, .08, .05, .02])
    emergency = rng.choice([0, 1, 2], rows, p=[.88, .08, .04])
    time = rng.integers(1, 15, rows)
    n_diag = rng.integers(1, 10, rows)
    p_early = (0.16 + 0.07 * inpatient + 0.05 * emergency + 0.01 * time).clip(0.05, 0.85)
    r = rng.random(rows)
    readmitted = np.where(r < p_early, "<30", np.where(r < p_early + 0.3, ">30", "NO"))
    pd.DataFrame({
        "encounter_id": np.sort(rng.choice(np.arange(2278392, 2278392 + rows * 50), rows, replace=False)),
        "patient_nbr": patient,
        "race": rng.choice(["Caucasian", "AfricanAmerican", "?", "Hispanic", "Other", "Asian"], rows,
                           p=[.74, .19, .02, .02, .015, .015]),
        "gender": rng.choice(["Female", "Male", "Unknown/Invalid"], rows, p=[.535, .46, .005]),
        "age": rng.choice(AGES, rows, p=[.002, .007, .016, .037, .095, .17, .221, .256, .169, .027]),
        "weight": np.where(rng.random(rows) < 0.97, "?", rng.choice(["[50-75)", "[75-100)", "[100-125)"], rows)),
        "admission_type_id": rng.choice([1, 2, 3, 5, 6, 8], rows, p=[.53, .18, .19, .05, .04, .01]),
        "discharge_disposition_id": rng.choice([1, 3, 6, 18, 2, 11, 22, 19], rows,
                                               p=[.59, .14, .13, .04, .02, .02, .04, .02]),
        "payer_code": np.where(rng.random(rows) < 0.4, "?", rng.choice(["MC", "HM", "SP", "BC"], rows)),
        "medical_specialty": np.where(rng.random(rows) < 0.49, "?",
                                      rng.choice(["InternalMedicine", "Emergency/Trauma", "Family/GeneralPractice",
                                                  "Cardiology", "Surgery-General"], rows)),
        "time_in_hospital": time,
        "num_lab_procedures": rng.integers(1, 100, rows),
        "num_procedures": rng.choice(np.arange(7), rows),
        "num_medications": rng.integers(1, 60, rows),
        "number_outpatient": rng.choice([0, 1, 2, 3], rows, p=[.83, .09, .05, .03]),
        "number_emergency": emergency,
        "number_inpatient": inpatient,
        "diag_1": rng.choice(DIAG, rows),
        "number_diagnoses": n_diag,
        "A1Cresult": rng.choice(["None", ">8", "Norm", ">7"], rows, p=[.83, .08, .05, .04]),
        "insulin": rng.choice(["No", "Steady", "Down", "Up"], rows, p=[.47, .3, .12, .11]),
        "change": rng.choice(["No", "Ch"], rows, p=[.54, .46]),
        "diabetesMed": rng.choice(["Yes", "No"], rows, p=[.77, .23]),
        "readmitted": readmitted,
    }).to_csv(os.path.join(folder, "diabetic_data.csv"), index=False)

    pd.DataFrame({
        "admission_type_id": [1, 2, 3, 4, 5, 6, 7],
        "description": ["Emergency", "Urgent", "Elective", "Newborn", "Not Available", "NULL", "Trauma Center"],
    }).to_csv(os.path.join(folder, "admission_type_mapping.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
