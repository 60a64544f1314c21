"""30-day readmission risk -- training script.

Joins the admissions extract with the patient register and the diagnosis codes, labels every
admission that is followed by another one within 30 days of discharge, and fits a gradient
boosting pipeline. Defaults work from the repo root; override with --data-dir etc.
"""
import argparse
import logging
import os
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

warnings.simplefilter("ignore", category=FutureWarning)
logger = logging.getLogger("readmission")

CHRONIC = ["I10", "E11", "J44", "N18", "I50"]
REFERENCE_YEAR = 2022


def get_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--window-days", type=int, default=30)
    parser.add_argument("--random-state", type=int, default=2022)
    return parser.parse_known_args()[0]


def load(data_dir):
    admissions = pd.read_csv(os.path.join(data_dir, "admissions.csv"), parse_dates=["admit_date", "discharge_date"])
    patients = pd.read_csv(os.path.join(data_dir, "patients.csv"))
    diagnoses = pd.read_csv(os.path.join(data_dir, "diagnoses.csv"))
    logger.info("admissions=%d patients=%d diagnoses=%d", len(admissions), len(patients), len(diagnoses))
    return admissions, patients, diagnoses


def clean_admissions(adm):
    adm = adm.drop_duplicates()
    adm = adm[adm["discharge_date"] >= adm["admit_date"]].copy()
    adm["admission_type"] = adm["admission_type"].str.upper()
    adm = adm[~adm["admission_type"].isin(["NEWBORN"])]
    return adm


def add_label(adm, window_days):
    adm = adm.sort_values(["patient_id", "admit_date"])
    adm["next_admit"] = adm.groupby("patient_id")["admit_date"].shift(-1)
    days_to_next = (adm["next_admit"] - adm["discharge_date"]).dt.days
    adm["readmitted"] = (days_to_next <= window_days).astype(int)
    # no readmission possible after death
    adm.loc[adm["discharge_to"] == "expired", "readmitted"] = 0
    return adm


def build_features(adm, patients, diagnoses):
    diagnoses = diagnoses.copy()
    diagnoses["code3"] = diagnoses["icd10"].str.split(".").str[0]
    diagnoses["chronic"] = diagnoses["code3"].isin(CHRONIC).astype(int)
    dx = diagnoses.groupby("admission_id").agg(n_diagnoses=("code3", "nunique"), n_chronic=("chronic", "sum"))
    df = adm.merge(dx, left_on="admission_id", right_index=True, how="left")
    df[["n_diagnoses", "n_chronic"]] = df[["n_diagnoses", "n_chronic"]].fillna(0)

    patients = patients.copy()
    patients["sex"] = patients["sex"].str.upper().replace({"U": np.nan})
    df = df.merge(patients, on="patient_id", how="inner")

    df["age"] = REFERENCE_YEAR - df["birth_year"]
    df["age_group"] = np.select([df["age"] < 40, df["age"] < 65, df["age"] < 80], ["<40", "40-64", "65-79"], "80+")
    df["length_of_stay"] = (df["discharge_date"] - df["admit_date"]).dt.days
    df["prior_admissions"] = df.groupby("patient_id").cumcount()
    df["patient_mean_los"] = df.groupby("patient_id")["length_of_stay"].transform("mean")
    return df


FEATURES_CAT = ["admission_type", "discharge_to", "insurance", "sex", "age_group"]
FEATURES_NUM = ["age", "length_of_stay", "num_procedures", "num_medications", "n_diagnoses", "n_chronic",
                "prior_admissions", "patient_mean_los"]


def make_model(random_state):
    pre = ColumnTransformer([
        ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), FEATURES_CAT),
        ("num", SimpleImputer(strategy="median"), FEATURES_NUM),
    ])
    return Pipeline([("preprocessor", pre),
                     ("classifier", HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1,
                                                                   random_state=random_state))])


def main():
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = get_args()
    admissions, patients, diagnoses = load(args.data_dir)
    adm = add_label(clean_admissions(admissions), args.window_days)
    df = build_features(adm, patients, diagnoses)
    logger.info("training rows: %d, readmission rate %.3f", len(df), df["readmitted"].mean())

    X = df[FEATURES_CAT + FEATURES_NUM]
    y = df["readmitted"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y,
                                                        random_state=args.random_state)
    model = make_model(args.random_state)
    model.fit(X_train, y_train)
    logger.info("balanced accuracy: %.3f", balanced_accuracy_score(y_test, model.predict(X_test)))


if __name__ == "__main__":
    main()
