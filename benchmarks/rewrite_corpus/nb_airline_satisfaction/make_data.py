"""Airline passenger satisfaction survey (Kaggle "Airline Passenger Satisfaction" train.csv layout, saved with
its pandas index as an unnamed first column). Usage: python make_data.py DIR ROWS (ROWS passengers)"""
import os
import sys

import numpy as np
import pandas as pd

SERVICES = ["Inflight wifi service", "Departure/Arrival time convenient", "Ease of Online booking", "Gate location",
            "Food and drink", "Online boarding", "Seat comfort", "Inflight entertainment", "On-board service",
            "Leg room service", "Baggage handling", "Checkin service", "Inflight service", "Cleanliness"]


def main(folder, rows):
    rng = np.random.default_rng(103904)
    os.makedirs(folder, exist_ok=True)
    travel = rng.choice(["Business travel", "Personal Travel"], rows, p=[.69, .31])
    klass = np.where(travel == "Business travel", rng.choice(["Business", "Eco", "Eco Plus"], rows, p=[.7, .24, .06]),
                     rng.choice(["Business", "Eco", "Eco Plus"], rows, p=[.1, .78, .12]))
    loyal = rng.choice(["Loyal Customer", "disloyal Customer"], rows, p=[.82, .18])
    ratings = {s: rng.choice([0, 1, 2, 3, 4, 5], rows, p=[.03, .14, .19, .24, .24, .16]) for s in SERVICES}
    dep_delay = np.where(rng.random(rows) < 0.56, 0, rng.gamma(0.8, 35, rows)).round(0).astype(int)
    arr_delay = (dep_delay + rng.normal(0, 6, rows)).clip(0).round(0)
    arr_delay[rng.random(rows) < 0.01] = np.nan
    score = (0.6 * (ratings["Online boarding"] - 3) + 0.4 * (ratings["Inflight wifi service"] - 3)
             + 0.3 * (ratings["Seat comfort"] - 3) + 1.2 * (klass == "Business") + 0.8 * (travel == "Business travel")
             - 0.01 * dep_delay - 1.0)
    satisfied = rng.random(rows) < 1 / (1 + np.exp(-score))
    df = pd.DataFrame({
        "id": rng.choice(np.arange(1, 130000), rows, replace=False),
        "Gender": rng.choice(["Female", "Male"], rows),
        "Customer Type": loyal,
        "Age": rng.integers(7, 86, rows),
        "Type of Travel": travel,
        "Class": klass,
        "Flight Distance": rng.gamma(1.6, 740, rows).clip(31, 4983).round(0).astype(int),
        **ratings,
        "Departure Delay in Minutes": dep_delay,
        "Arrival Delay in Minutes": arr_delay,
        "satisfaction": np.where(satisfied, "satisfied", "neutral or dissatisfied"),
    })
    df.to_csv(os.path.join(folder, "airline_train.csv"))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
