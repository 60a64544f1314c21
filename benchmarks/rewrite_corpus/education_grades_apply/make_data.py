"""Exam results of one term. Usage: python make_data.py DIR ROWS"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(5)
    os.makedirs(folder, exist_ok=True)
    first = np.array(["ada", "  Bo", "CHEN", "dara ", "eli", "fay", "gio", "hal"])
    last = np.array(["lee", "MORA", " nunez", "ortiz", "park", "quinn"])
    names = [f"{a} {b}" for a, b in zip(first[rng.integers(0, 8, rows)], last[rng.integers(0, 6, rows)])]
    math = rng.normal(62, 15, rows).clip(0, 100).round(1)
    reading = rng.normal(68, 12, rows).clip(0, 100).round(1)
    reading[rng.random(rows) < 0.03] = np.nan
    pd.DataFrame({
        "student_id": np.arange(1, rows + 1),
        "name": names,
        "school": rng.choice(["North", "South", "East", "West", "Online"], rows),
        "math": math,
        "reading": reading,
        "absences": rng.poisson(4, rows),
    }).to_csv(os.path.join(folder, "grades.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
