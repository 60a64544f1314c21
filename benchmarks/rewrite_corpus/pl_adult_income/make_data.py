"""Census-income (adult) records in the UCI file's spelling: ', ' separators, '?' for unknown.

Usage: python make_data.py DIR ROWS
"""
import os
import sys

import numpy as np

EDU = [("Bachelors", 13), ("HS-grad", 9), ("Some-college", 10), ("Masters", 14), ("Assoc-voc", 11),
       ("11th", 7), ("Doctorate", 16), ("Prof-school", 15)]
WORK = ["Private", "Self-emp-not-inc", "Local-gov", "State-gov", "Federal-gov", "Self-emp-inc"]
OCC = ["Tech-support", "Craft-repair", "Sales", "Exec-managerial", "Prof-specialty", "Adm-clerical",
       "Machine-op-inspct", "Other-service"]
MARITAL = ["Married-civ-spouse", "Never-married", "Divorced", "Separated", "Widowed"]
COUNTRY = ["United-States", "Mexico", "Philippines", "Germany", "Canada", "India"]
HEADER = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
          "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
          "income-per-year"]


def main(folder, rows):
    rng = np.random.default_rng(1994)
    os.makedirs(folder, exist_ok=True)
    lines = []
    for i in range(rows):
        age = int(rng.integers(17, 80))
        edu, edu_num = EDU[rng.integers(len(EDU))]
        work = WORK[rng.integers(len(WORK))] if rng.random() > 0.05 else "?"
        occ = OCC[rng.integers(len(OCC))] if rng.random() > 0.05 else "?"
        marital = MARITAL[rng.integers(len(MARITAL))]
        rel = "Husband" if marital == "Married-civ-spouse" and rng.random() < 0.8 else \
            ["Not-in-family", "Own-child", "Unmarried", "Wife"][rng.integers(4)]
        sex = "Male" if rel == "Husband" or rng.random() < 0.4 else "Female"
        race = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"][
            rng.choice(5, p=[0.8, 0.1, 0.05, 0.03, 0.02])]
        hours = int(np.clip(rng.normal(41, 11), 1, 99))
        gain = int(rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 5178, 7688, 15024]))
        loss = int(rng.choice([0] * 15 + [1902, 1887]))
        country = COUNTRY[rng.choice(len(COUNTRY), p=[0.85, 0.05, 0.03, 0.03, 0.02, 0.02])] \
            if rng.random() > 0.02 else "?"
        score = 0.3 * (edu_num - 10) + 0.04 * (hours - 40) + 0.03 * min(age - 20, 30) \
            + (1.2 if marital == "Married-civ-spouse" else 0) + (2 if gain > 5000 else 0) + rng.normal(0, 1)
        income = ">50K" if score > 1.8 else "<=50K"
        if rng.random() < 0.1:
            income += "."  # the test split of the UCI file ends its labels with a dot
        lines.append(", ".join(str(v) for v in [
            age, work, int(rng.integers(20000, 900000)), edu, edu_num, marital, occ, rel, race, sex, gain, loss,
            hours, country, income]))
        if rng.random() < 0.02:
            lines.append(lines[-1])  # duplicated records in the export
    with open(os.path.join(folder, "adult_train.csv"), "w") as f:
        f.write(",".join(HEADER) + "\n")
        for line in lines:
            f.write(line + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
