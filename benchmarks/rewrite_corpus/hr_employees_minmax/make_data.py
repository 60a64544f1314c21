"""HR master data export. Usage: python make_data.py DIR ROWS"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(11)
    os.makedirs(folder, exist_ok=True)
    departments = np.array(["Sales", "Engineering", "Support", "Finance", "HR ", " sales", "engineering"])
    salary = rng.normal(58000, 14000, rows).round(-2)
    salary[rng.random(rows) < 0.04] = np.nan
    df = pd.DataFrame({
        "Employee ID": np.arange(1000, 1000 + rows),
        " Department": departments[rng.integers(0, len(departments), rows)],
        "Salary ": salary,
        "Tenure (years)": rng.integers(0, 25, rows),
        "Age": rng.integers(19, 66, rows),
        "Active": rng.choice(["Y", "Y", "Y", "N", "y"], rows),
        "Left Company": rng.choice([0, 0, 0, 1], rows),
    })
    df.to_csv(os.path.join(folder, "employees.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
