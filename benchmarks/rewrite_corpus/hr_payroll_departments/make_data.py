"""Payroll run and department table. Usage: python make_data.py DIR ROWS (ROWS payroll lines)"""
import csv
import os
import random
import sys

DEPTS = [("D01", "Sales", "Berlin"), ("D02", "Engineering", "Munich"), ("D03", "Support", "Leipzig"),
         ("D04", "Finance", "Berlin"), ("D05", "Legal", "Frankfurt"), ("D06", "Marketing", "Hamburg")]


def main(folder, rows):
    rng = random.Random(4)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "departments.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dept_id", "dept_name", "site"])
        w.writerows(DEPTS)
    with open(os.path.join(folder, "payroll.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emp_no", "dept_id", "gross_monthly", "overtime_hours", "contract", "promoted"])
        for e in range(rows):
            dept = rng.choice([d[0] for d in DEPTS] + ["D99", "d02"])
            gross = rng.gauss(4800, 1300)
            w.writerow([e + 1, dept, f"{gross:.2f}" if rng.random() > 0.03 else "n/a", rng.randint(0, 40),
                        rng.choice(["permanent", "permanent", "fixed-term", "freelance"]),
                        int(rng.random() < (0.3 if gross > 5500 else 0.1))])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
