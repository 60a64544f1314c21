"""Hospital patients and outpatient visits. Usage: python make_data.py DIR ROWS (ROWS visits)"""
import csv
import os
import random
import sys

DEPARTMENTS = ["cardiology", "oncology", "orthopedics", "emergency"]


def main(folder, rows):
    rng = random.Random(17)
    os.makedirs(folder, exist_ok=True)
    n_patients = max(10, rows // 3)
    with open(os.path.join(folder, "patients.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "birth_year", "sex", "region"])
        for p in range(n_patients):
            w.writerow([f"P{p:05d}", rng.randint(1930, 2015), rng.choice("FM"),
                        rng.choice(["north", "south", "east", "west"])])
    with open(os.path.join(folder, "visits.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["visit_id", "patient_id", "visit_date", "department", "duration_min", "readmitted"])
        for v in range(rows):
            # referrals from other hospitals have no patient record here (left join keeps them)
            pid = f"P{rng.randint(0, int(n_patients * 1.2)):05d}"
            dept = rng.choice(DEPARTMENTS + ["Cardiology", "radiology"])
            duration = "" if rng.random() < 0.04 else str(rng.randint(5, 240))
            w.writerow([f"V{v:06d}", pid, f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", dept,
                        duration, int(rng.random() < 0.2)])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
