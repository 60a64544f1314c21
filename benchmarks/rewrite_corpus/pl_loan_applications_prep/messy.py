"""Prepare the loan applications table for the credit-risk team (no model here, they do that).

Output: out/prepared.csv, one row per decided application.
"""
import os

import numpy as np
import pandas as pd

DATA_DIR = "data"
OUT_DIR = "out"


def load_applications():
    df = pd.read_csv("{}/applications.csv".format(DATA_DIR))
    print("applications:", df.shape)
    return df


def load_branches():
    return pd.read_csv("{}/branches.csv".format(DATA_DIR))


def clean(df):
    df = df.copy()
    df["status"] = df["status"].str.strip().str.lower()
    df["employment"] = df["employment"].str.lower().fillna("unknown")
    # resubmissions keep the application id -> last one wins
    df = df.drop_duplicates(subset="application_id", keep="last")
    # -1 was "don't know" in the old paper form
    df.loc[df["annual_income"] < 0, "annual_income"] = np.nan
    df = df.dropna(subset=["annual_income"])
    df = df[df["status"].isin(["approved", "rejected"])]
    df = df[df["applicant_age"] >= 18]
    df["submitted"] = pd.to_datetime(df["submitted"])
    return df


def add_features(df, branches):
    df = df.merge(branches[["branch_code", "region"]], on="branch_code", how="left")
    df["region"] = df["region"].fillna("Unassigned")
    df["submitted_month"] = df["submitted"].dt.month
    df["submitted_weekday"] = df["submitted"].dt.day_of_week
    df["loan_to_income"] = df["loan_amount"] / df["annual_income"]
    df["monthly_payment"] = df["loan_amount"] / df["term_months"]
    df["age_band"] = np.select(
        [df["applicant_age"] < 25, df["applicant_age"] < 40, df["applicant_age"] < 60],
        ["18-24", "25-39", "40-59"],
        default="60+",
    )
    df["approved"] = (df["status"] == "approved").astype(int)
    return df


def main():
    apps = clean(load_applications())
    prepared = add_features(apps, load_branches())
    prepared = prepared[["application_id", "branch_code", "region", "submitted_month", "submitted_weekday",
                         "applicant_age", "age_band", "employment", "annual_income", "loan_amount",
                         "term_months", "loan_to_income", "monthly_payment", "approved"]]
    print(prepared["approved"].value_counts())
    os.makedirs(OUT_DIR, exist_ok=True)
    prepared.to_csv(os.path.join(OUT_DIR, "prepared.csv"), index=False)
    print("wrote", len(prepared), "rows")


if __name__ == "__main__":
    main()
