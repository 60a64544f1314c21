"""Titanic passenger list (the OpenML titanic columns), with missing ages, fares and ports.

Usage: python make_data.py DIR ROWS
"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(1912)
    os.makedirs(folder, exist_ok=True)
    pclass = rng.choice([1, 2, 3], rows, p=[0.25, 0.21, 0.54])
    sex = rng.choice(["male", "female"], rows, p=[0.64, 0.36])
    age = rng.normal(30, 14, rows).clip(0.4, 80).round(0)
    age = np.where(age < 1, 0.83, age)
    fare = np.round(rng.lognormal(np.select([pclass == 1, pclass == 2], [4.3, 3.0], 2.2), 0.5), 4)
    p_survive = 0.15 + 0.5 * (sex == "female") + 0.15 * (pclass == 1) - 0.08 * (pclass == 3) + 0.15 * (age < 10)
    survived = (rng.random(rows) < p_survive.clip(0.05, 0.95)).astype(int)
    surnames = ["Allen", "Andersson", "Baxter", "Carter", "Dean", "Goodwin", "Kelly", "Palsson", "Sage", "Ware"]
    titles = np.where(sex == "male", "Mr.", rng.choice(["Mrs.", "Miss."], rows))
    names = [f"{rng.choice(surnames)}, {t} {rng.choice(['John', 'Mary', 'William', 'Anna', 'Elin', 'Thomas'])}"
             for t in titles]
    df = pd.DataFrame({
        "pclass": pclass,
        "name": names,
        "sex": sex,
        "age": age,
        "sibsp": rng.choice([0, 0, 0, 1, 1, 2, 4], rows),
        "parch": rng.choice([0, 0, 0, 0, 1, 2], rows),
        "ticket": [str(t) for t in rng.integers(1000, 400000, rows)],
        "fare": fare,
        "cabin": np.where((pclass == 1) & (rng.random(rows) < 0.8), [f"C{c}" for c in rng.integers(1, 130, rows)], ""),
        "embarked": rng.choice(["S", "C", "Q"], rows, p=[0.7, 0.2, 0.1]),
        "boat": "",
        "body": "",
        "home.dest": rng.choice(["", "New York, NY", "London", "Montreal, PQ", "Sweden Worcester, MA"], rows),
        "survived": survived,
    })
    df.loc[rng.random(rows) < 0.2, "age"] = np.nan
    df.loc[rng.random(rows) < 0.01, "fare"] = np.nan
    df.loc[rng.random(rows) < 0.02, "embarked"] = ""
    df.to_csv(os.path.join(folder, "titanic.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
