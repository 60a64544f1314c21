"""Mobile subscribers and last month's usage. Usage: python make_data.py DIR ROWS (ROWS subscribers)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(21)
    os.makedirs(folder, exist_ok=True)
    numbers = [f"1760{n:07d}" for n in rng.choice(10_000_000, rows, replace=False)]
    plan = rng.choice(["Basic", "basic ", "Plus", "Unlimited", "Prepaid"], rows)
    pd.DataFrame({
        "msisdn": [("+49" + n) if i % 4 == 0 else ("0" + n) for i, n in enumerate(numbers)],
        "plan": plan,
        "region": rng.choice(["north", "south", "east", "west"], rows),
        "churned": rng.choice(["yes", "no", "no", "no"], rows),
    }).to_csv(os.path.join(folder, "subscribers.csv"), index=False)
    keep = rng.random(rows) < 0.9   # some subscribers had no usage record last month
    minutes = rng.gamma(2, 120, rows).round(0).astype(object)
    minutes[rng.random(rows) < 0.03] = "n/a"
    pd.DataFrame({
        "msisdn": ["0" + n for n in numbers],
        "minutes": minutes,
        "sms": rng.poisson(30, rows),
        "data_mb": rng.gamma(2, 2500, rows).round(1),
    })[keep].to_csv(os.path.join(folder, "usage.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
