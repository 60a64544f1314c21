"""Discharge vitals and the 30-day readmission outcomes, exported as two line-aligned files.

Usage: python make_data.py DIR ROWS (ROWS patients)
"""
import os
import random
import sys

WARDS = ["cardio", "geriatrics", "internal", "surgery", "Cardio", "ICU", "surgery ", "paediatrics"]


def main(folder, rows):
    rng = random.Random(1207)
    os.makedirs(folder, exist_ok=True)
    vitals, outcomes = [], []
    for i in range(rows):
        pid = f"P{70000 + i}"
        ward = rng.choice(WARDS)
        age = rng.randint(18, 95)
        systolic = round(rng.gauss(130, 18))
        hr = round(rng.gauss(78, 12))
        bmi = round(rng.gauss(27, 5), 1)
        risk = 0.1 + 0.004 * (age - 18) + (0.15 if systolic > 150 else 0.0)
        readmitted = "1" if rng.random() < risk else "0"
        if rng.random() < 0.05:
            readmitted = ""          # outcome not known yet
        sys_s = str(systolic) if rng.random() > 0.04 else ""
        vitals.append(f"{pid},{ward},{age},{sys_s},{hr},{bmi}")
        outcomes.append(f"{pid},{readmitted}")
    # the outcome export is sorted slightly differently in a few places
    for i in range(0, rows - 1, 23):
        outcomes[i], outcomes[i + 1] = outcomes[i + 1], outcomes[i]
    with open(os.path.join(folder, "vitals.csv"), "w") as f:
        f.write("patient_id,ward,age,systolic_bp,heart_rate,bmi\n")
        f.write("\n".join(vitals) + "\n")
    with open(os.path.join(folder, "outcomes.csv"), "w") as f:
        f.write("patient_id,readmitted_30d\n")
        f.write("\n".join(outcomes) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
