"""COMPAS-like screening records, split into a train and a test file.

Usage: python make_data.py DIR ROWS   (ROWS training records, ROWS // 3 test records)
"""
import os
import sys

import numpy as np
import pandas as pd

COLUMNS = ["id", "name", "first", "last", "sex", "dob", "age", "age_cat", "race", "juv_fel_count",
           "decile_score", "juv_misd_count", "juv_other_count", "priors_count", "days_b_screening_arrest",
           "c_jail_in", "c_jail_out", "c_charge_degree", "is_recid", "score_text", "two_year_recid"]


def records(rng, n, start_id):
    age = rng.integers(18, 70, n)
    dob = pd.Timestamp("2013-01-01") - pd.to_timedelta(age * 365 + rng.integers(0, 365, n), unit="D")
    age_cat = np.select([age < 25, age > 45], ["Less than 25", "Greater than 45"], "25 - 45")
    priors = rng.poisson(2.5, n)
    decile = np.clip(np.round(3 + 0.9 * priors + (40 - age) / 6 + rng.normal(0, 2.5, n)), 1, 10).astype(int)
    score_text = np.select([decile <= 4, decile <= 7], ["Low", "Medium"], "High")
    # most people are screened within a day or two of the arrest, some weeks later
    days = np.where(rng.random(n) < 0.75, rng.integers(-2, 3, n), rng.integers(-90, 90, n)).astype(object)
    days[rng.random(n) < 0.04] = ""
    jail_in = pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D") \
        + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
    jail_out = jail_in + pd.to_timedelta(rng.exponential(8, n) * 86400, unit="s")
    jail_in_s = jail_in.strftime("%Y-%m-%d %H:%M:%S").to_numpy().astype(object)
    jail_out_s = jail_out.strftime("%Y-%m-%d %H:%M:%S").to_numpy().astype(object)
    no_jail = rng.random(n) < 0.08
    jail_in_s[no_jail] = ""
    jail_out_s[no_jail] = ""
    is_recid = rng.choice([-1, 0, 1], n, p=[0.06, 0.52, 0.42])
    two_year = np.where(is_recid == 1, (rng.random(n) < 0.8).astype(int), 0)
    first = rng.choice(["michael", "kevin", "marsha", "edward", "ashley", "joseph", "rosa", "dwayne"], n)
    last = rng.choice(["hernandez", "brown", "wilson", "miller", "moore", "baker", "rivera", "cox"], n)
    race = rng.choice(["African-American", "Caucasian", "Hispanic", "Other", "Asian"], n,
                      p=[0.5, 0.33, 0.09, 0.06, 0.02]).astype(object)
    race[rng.random(n) < 0.03] = "?"
    return pd.DataFrame({
        "id": np.arange(n) + start_id,
        "name": [f"{a} {b}" for a, b in zip(first, last)],
        "first": first,
        "last": last,
        "sex": rng.choice(["Male", "Female"], n, p=[0.8, 0.2]),
        "dob": dob.strftime("%Y-%m-%d"),
        "age": age,
        "age_cat": age_cat,
        "race": race,
        "juv_fel_count": rng.poisson(0.1, n),
        "decile_score": decile,
        "juv_misd_count": rng.poisson(0.1, n),
        "juv_other_count": rng.poisson(0.15, n),
        "priors_count": priors,
        "days_b_screening_arrest": days,
        "c_jail_in": jail_in_s,
        "c_jail_out": jail_out_s,
        "c_charge_degree": rng.choice(["F", "M", "O"], n, p=[0.62, 0.33, 0.05]),
        "is_recid": is_recid,
        "score_text": score_text,
        "two_year_recid": two_year,
    })[COLUMNS]


def main(folder, rows):
    rng = np.random.default_rng(7)
    os.makedirs(folder, exist_ok=True)
    records(rng, rows, 1).to_csv(os.path.join(folder, "compas_train.csv"))
    records(rng, max(12, rows // 3), 100001).to_csv(os.path.join(folder, "compas_test.csv"))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
