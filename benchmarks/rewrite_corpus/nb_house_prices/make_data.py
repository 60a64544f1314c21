"""House sales (Kaggle House Prices train.csv layout, a subset of the columns).
Usage: python make_data.py DIR ROWS (ROWS houses)"""
import os
import sys

import numpy as np
import pandas as pd

NEIGHBORHOODS = ["CollgCr", "Veenker", "Crawfor", "NoRidge", "Mitchel", "Somerst", "NWAmes", "OldTown", "BrkSide",
                 "Sawyer", "Edwards", "NridgHt"]


def main(folder, rows):
    rng = np.random.default_rng(1460)
    os.makedirs(folder, exist_ok=True)
    hood = rng.choice(NEIGHBORHOODS, rows)
    hood_premium = {h: v for h, v in zip(NEIGHBORHOODS, rng.normal(1.0, 0.18, len(NEIGHBORHOODS)))}
    qual = rng.choice(np.arange(3, 11), rows, p=[.03, .09, .27, .26, .21, .1, .03, .01])
    year_built = rng.integers(1900, 2009, rows)
    yr_sold = rng.integers(2006, 2011, rows)
    year_built = np.minimum(year_built, yr_sold)
    remod = np.minimum(year_built + rng.integers(0, 40, rows), 2010)
    first = rng.normal(1100, 350, rows).clip(400, 3000).round(0)
    second = np.where(rng.random(rows) < 0.45, rng.normal(800, 250, rows).clip(200, 2000), 0).round(0)
    grliv = first + second
    bsmt = (first * rng.uniform(0.6, 1.1, rows)).round(0)
    bsmt[rng.random(rows) < 0.03] = 0
    garage_cars = rng.choice([0, 1, 2, 3], rows, p=[.06, .25, .56, .13])
    garage_area = (garage_cars * rng.normal(260, 40, rows)).clip(0).round(0)
    price = (np.exp(10.9 + 0.12 * qual) * (grliv / 1500) ** 0.6 * np.array([hood_premium[h] for h in hood])
             * (1 - 0.002 * (yr_sold - year_built)) * rng.lognormal(0, 0.1, rows)).round(-2)
    # two huge, cheap houses in Edwards (the famous outliers)
    for i in rng.choice(rows, 2, replace=False):
        grliv[i] = first[i] + second[i] + 3000
        price[i] = 160000
        hood[i] = "Edwards"
    lot_frontage = rng.normal(70, 20, rows).clip(21, 200).round(0)
    lot_frontage[rng.random(rows) < 0.18] = np.nan
    mas = np.where(rng.random(rows) < 0.4, rng.gamma(2, 100, rows), 0).round(0)
    mas[rng.random(rows) < 0.01] = np.nan
    garage_type = np.where(garage_cars == 0, None, rng.choice(["Attchd", "Detchd", "BuiltIn"], rows)).astype(object)
    kitchen = rng.choice(["Ex", "Gd", "TA", "Fa"], rows, p=[.07, .4, .5, .03]).astype(object)
    kitchen[rng.random(rows) < 0.01] = None
    pool = np.where(rng.random(rows) < 0.01, "Gd", None)
    fence = np.where(rng.random(rows) < 0.2, rng.choice(["MnPrv", "GdWo", "GdPrv"], rows), None)
    misc = np.where(rng.random(rows) < 0.04, "Shed", None)
    pd.DataFrame({
        "Id": np.arange(1, rows + 1),
        "MSSubClass": rng.choice([20, 60, 50, 120, 30, 160, 70, 80, 90], rows),
        "MSZoning": rng.choice(["RL", "RM", "FV", "RH", "C (all)"], rows, p=[.78, .15, .04, .02, .01]),
        "LotFrontage": lot_frontage,
        "LotArea": rng.lognormal(9.1, 0.45, rows).round(0).astype(int),
        "Street": rng.choice(["Pave", "Grvl"], rows, p=[.99, .01]),
        "Neighborhood": hood,
        "OverallQual": qual,
        "OverallCond": rng.choice(np.arange(3, 10), rows, p=[.02, .04, .56, .17, .14, .05, .02]),
        "YearBuilt": year_built,
        "YearRemodAdd": remod,
        "MasVnrArea": mas,
        "TotalBsmtSF": bsmt,
        "1stFlrSF": first.astype(int),
        "2ndFlrSF": second.astype(int),
        "GrLivArea": grliv.astype(int),
        "FullBath": rng.choice([1, 2, 3], rows, p=[.45, .52, .03]),
        "HalfBath": rng.choice([0, 1], rows, p=[.62, .38]),
        "BedroomAbvGr": rng.choice([1, 2, 3, 4, 5], rows, p=[.04, .25, .55, .14, .02]),
        "KitchenQual": kitchen,
        "GarageType": garage_type,
        "GarageCars": garage_cars,
        "GarageArea": garage_area,
        "PoolQC": pool,
        "Fence": fence,
        "MiscFeature": misc,
        "YrSold": yr_sold,
        "SalePrice": price.astype(int),
    }).to_csv(os.path.join(folder, "train.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
