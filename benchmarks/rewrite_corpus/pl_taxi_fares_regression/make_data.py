"""Taxi trips (one month) and the taxi zone lookup table.

Usage: python make_data.py DIR ROWS   (ROWS trips; the zone table has 40 zones)
"""
import os
import sys

import numpy as np
import pandas as pd

BOROUGHS = ["Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island", "EWR"]


def main(folder, rows):
    rng = np.random.default_rng(2019)
    os.makedirs(folder, exist_ok=True)
    n_zones = 40
    borough = rng.choice(BOROUGHS, n_zones, p=[0.4, 0.2, 0.2, 0.1, 0.07, 0.03])
    zones = pd.DataFrame({
        "LocationID": np.arange(1, n_zones + 1),
        "Borough": borough,
        "Zone": [f"Zone {i}" for i in range(1, n_zones + 1)],
        "service_zone": np.where(borough == "Manhattan", "Yellow Zone", np.where(borough == "EWR", "EWR", "Boro Zone")),
    })
    zones.to_csv(os.path.join(folder, "zones_lookup.csv"), index=False)

    pickup = pd.Timestamp("2019-03-01") + pd.to_timedelta(rng.integers(0, 31 * 86400, rows), unit="s")
    distance = np.round(rng.gamma(1.6, 1.9, rows), 2)
    minutes = distance * rng.uniform(2.5, 6.0, rows) + rng.exponential(3, rows)
    dropoff = pickup + pd.to_timedelta((minutes * 60).astype(int), unit="s")
    fare = np.round(2.5 + 2.5 * distance + 0.35 * minutes + rng.normal(0, 1.5, rows), 1)
    passengers = rng.choice([0, 1, 1, 1, 1, 2, 2, 3, 5, 6, 9], rows)
    # zones 264/265 are "unknown" in the real data and are not in the lookup
    pu = rng.integers(1, n_zones + 3, rows)
    do = rng.integers(1, n_zones + 3, rows)
    pu = np.where(pu > n_zones, 264, pu)
    do = np.where(do > n_zones, 265, do)
    df = pd.DataFrame({
        "VendorID": rng.choice([1, 2], rows),
        "tpep_pickup_datetime": pickup.strftime("%Y-%m-%d %H:%M:%S"),
        "tpep_dropoff_datetime": dropoff.strftime("%Y-%m-%d %H:%M:%S"),
        "passenger_count": passengers,
        "trip_distance": distance,
        "RatecodeID": rng.choice([1, 1, 1, 1, 2, 5], rows),
        "store_and_fwd_flag": rng.choice(["N", "N", "N", "Y"], rows),
        "PULocationID": pu,
        "DOLocationID": do,
        "payment_type": rng.choice([1, 2, 3, 4], rows, p=[0.7, 0.26, 0.02, 0.02]),
        "fare_amount": fare,
        "tip_amount": np.round(np.where(rng.random(rows) < 0.6, fare * rng.uniform(0.1, 0.25, rows), 0), 2),
    })
    # refunds and voided trips come through with negative or zero fares
    neg = rng.random(rows) < 0.03
    df.loc[neg, "fare_amount"] = -df.loc[neg, "fare_amount"]
    df.loc[rng.random(rows) < 0.02, "trip_distance"] = 0.0
    df.to_csv(os.path.join(folder, "trips_2019-03.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
