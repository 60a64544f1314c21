"""Vinho verde wines (UCI Wine Quality layout: two ';'-separated files, red and white).
Usage: python make_data.py DIR ROWS (ROWS white wines, a third as many red ones; some duplicated rows)"""
import os
import sys

import numpy as np
import pandas as pd


def wines(rng, n, red):
    alcohol = rng.normal(10.4, 1.1, n).clip(8, 14.9).round(1)
    volatile = (rng.gamma(4, 0.13 if red else 0.07, n)).clip(0.08, 1.58).round(3)
    sulphates = rng.normal(0.66 if red else 0.49, 0.15, n).clip(0.22, 2).round(2)
    score = 0.85 * (alcohol - 10.4) - (3 if red else 5) * (volatile - (0.52 if red else 0.28)) + 1.5 * (sulphates - 0.6)
    quality = np.clip(np.round(5.7 + score + rng.normal(0, 0.7, n)), 3, 9).astype(int)
    df = pd.DataFrame({
        "fixed acidity": rng.normal(8.3 if red else 6.9, 1.4 if red else 0.8, n).clip(3.8, 15.9).round(1),
        "volatile acidity": volatile,
        "citric acid": rng.uniform(0, 0.75, n).round(2),
        "residual sugar": rng.gamma(1.5, 1.7 if red else 4.2, n).clip(0.6, 65).round(1),
        "chlorides": rng.gamma(6, 0.014 if red else 0.008, n).round(3),
        "free sulfur dioxide": rng.gamma(3, 5 if red else 12, n).round(0),
        "total sulfur dioxide": rng.gamma(3, 15 if red else 46, n).round(0),
        "density": (0.9967 - 0.001 * (alcohol - 10.4) + rng.normal(0, 0.001, n)).round(5),
        "pH": rng.normal(3.31 if red else 3.19, 0.15, n).clip(2.72, 4.01).round(2),
        "sulphates": sulphates,
        "alcohol": alcohol,
        "quality": quality,
    })
    for col in ["fixed acidity", "pH", "volatile acidity", "sulphates", "citric acid", "residual sugar", "chlorides"]:
        df[col] = df[col].astype("float64")
        df.loc[rng.random(n) < 0.004, col] = np.nan
    return pd.concat([df, df.sample(frac=0.12, random_state=int(red))]).sample(frac=1, random_state=9)


def main(folder, rows):
    rng = np.random.default_rng(1599)
    os.makedirs(folder, exist_ok=True)
    wines(rng, max(10, rows // 3), True).to_csv(os.path.join(folder, "winequality-red.csv"), sep=";", index=False)
    wines(rng, rows, False).to_csv(os.path.join(folder, "winequality-white.csv"), sep=";", index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
