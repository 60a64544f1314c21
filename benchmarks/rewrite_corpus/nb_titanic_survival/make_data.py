"""Titanic passengers (Kaggle train.csv layout). Usage: python make_data.py DIR ROWS (ROWS passengers)"""
import os
import sys

import numpy as np
import pandas as pd

FIRST_M = ["Owen Harris", "William Henry", "James", "Timothy J", "Charles", "Thomas", "John Bradley", "Arthur"]
FIRST_F = ["Florence Briggs", "Laina", "Lily May", "Elisabeth", "Mary", "Anna", "Marguerite", "Helen"]
LAST = ["Braund", "Cumings", "Heikkinen", "Futrelle", "Allen", "Moran", "McCarthy", "Palsson", "Johnson",
        "Nasser", "Sandstrom", "Bonnell", "Saundercock", "Andersson", "Vestrom", "Hewlett", "Rice", "Williams"]


def main(folder, rows):
    rng = np.random.default_rng(1912)
    os.makedirs(folder, exist_ok=True)
    sex = rng.choice(["male", "female"], rows, p=[0.64, 0.36])
    pclass = rng.choice([1, 2, 3], rows, p=[0.24, 0.21, 0.55])
    age = np.clip(rng.normal(29, 14, rows), 0.4, 80).round(0)
    names, titles = [], []
    for i in range(rows):
        last = LAST[rng.integers(len(LAST))]
        if sex[i] == "male":
            title = "Master" if age[i] < 13 else rng.choice(["Mr", "Mr", "Mr", "Mr", "Dr", "Rev", "Col", "Don"],
                                                             p=[.22, .22, .22, .22, .04, .04, .02, .02])
            first = FIRST_M[rng.integers(len(FIRST_M))]
        else:
            title = rng.choice(["Miss", "Mrs", "Ms", "Mlle", "Mme", "Lady", "Countess"],
                               p=[.45, .45, .03, .03, .02, .01, .01])
            first = FIRST_F[rng.integers(len(FIRST_F))]
        names.append(f"{last}, {title}. {first}")
    sibsp = rng.choice([0, 0, 0, 1, 1, 2, 3, 4], rows)
    parch = rng.choice([0, 0, 0, 0, 1, 2, 3], rows)
    fare = (rng.gamma(2, 1, rows) * np.select([pclass == 1, pclass == 2], [45, 11], 5)).round(4)
    p = 0.12 + 0.55 * (sex == "female") + 0.18 * (pclass == 1) - 0.08 * (pclass == 3) + 0.15 * (age < 12)
    survived = (rng.random(rows) < np.clip(p, 0.05, 0.95)).astype(int)
    cabin = np.array([f"{rng.choice(list('ABCDE'))}{rng.integers(1, 130)}" for _ in range(rows)], dtype=object)
    cabin[rng.random(rows) < np.where(pclass == 1, 0.2, 0.9)] = None
    embarked = rng.choice(["S", "C", "Q"], rows, p=[0.72, 0.19, 0.09]).astype(object)
    embarked[rng.random(rows) < 0.02] = None
    sex_raw = sex.astype(object)
    messy = rng.random(rows) < 0.05
    sex_raw[messy] = [s.capitalize() + " " for s in sex[messy]]
    age_raw = age.copy()
    age_raw[rng.random(rows) < 0.2] = np.nan
    fare[rng.integers(rows)] = np.nan
    pd.DataFrame({
        "PassengerId": np.arange(1, rows + 1),
        "Survived": survived,
        "Pclass": pclass,
        "Name": names,
        "Sex": sex_raw,
        "Age": age_raw,
        "SibSp": sibsp,
        "Parch": parch,
        "Ticket": [f"{rng.choice(['A/5 ', 'PC ', 'STON/O2. ', ''])}{rng.integers(1000, 400000)}" for _ in range(rows)],
        "Fare": fare,
        "Cabin": cabin,
        "Embarked": embarked,
    }).to_csv(os.path.join(folder, "train.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
