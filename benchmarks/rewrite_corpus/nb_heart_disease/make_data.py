"""Heart disease (UCI / Kaggle heart.csv layout, with the duplicated rows of the Kaggle copy).
Usage: python make_data.py DIR ROWS (ROWS rows before the duplicates)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(303)
    os.makedirs(folder, exist_ok=True)
    age = rng.normal(54, 9, rows).clip(29, 77).round(0).astype(int)
    sex = rng.choice([0, 1], rows, p=[.32, .68])
    cp = rng.choice([0, 1, 2, 3], rows, p=[.47, .17, .28, .08])
    thalach = (rng.normal(150, 22, rows) - 0.5 * (age - 54)).clip(71, 202).round(0).astype(int)
    exang = (rng.random(rows) < 0.33).astype(int)
    oldpeak = np.round(rng.gamma(1.2, 0.9, rows) * (rng.random(rows) < 0.7), 1)
    chol = rng.normal(246, 50, rows).clip(126, 564).round(0).astype(int)
    chol[rng.random(rows) < 0.05] = 0          # unrecorded cholesterol stored as 0
    ca = rng.choice([0, 1, 2, 3, 4], rows, p=[.57, .22, .13, .07, .01])
    thal = rng.choice([0, 1, 2, 3], rows, p=[.01, .06, .54, .39])
    score = (0.9 * (cp > 0) + 0.02 * (thalach - 150) - 0.9 * exang - 0.5 * oldpeak - 0.6 * ca
             - 0.7 * (thal == 3) - 0.5 * sex + 0.8)
    target = (rng.random(rows) < 1 / (1 + np.exp(-score))).astype(int)
    df = pd.DataFrame({
        "age": age, "sex": sex, "cp": cp,
        "trestbps": rng.normal(131, 17, rows).clip(94, 200).round(0).astype(int),
        "chol": chol,
        "fbs": (rng.random(rows) < 0.15).astype(int),
        "restecg": rng.choice([0, 1, 2], rows, p=[.48, .5, .02]),
        "thalach": thalach, "exang": exang, "oldpeak": oldpeak,
        "slope": rng.choice([0, 1, 2], rows, p=[.07, .46, .47]),
        "ca": ca, "thal": thal, "target": target,
    })
    df = pd.concat([df, df.sample(frac=0.3, random_state=1)]).sample(frac=1, random_state=2)
    df.to_csv(os.path.join(folder, "heart.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
