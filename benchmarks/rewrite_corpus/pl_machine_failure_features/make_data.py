"""Hourly machine telemetry (with the 'fails within 24h' flag from maintenance) and the machine register.

Usage: python make_data.py DIR ROWS   (ROWS telemetry rows over ~ROWS/25 machines)
"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(98765)
    os.makedirs(folder, exist_ok=True)
    n_machines = max(3, rows // 25)
    machines = pd.DataFrame({
        "machineID": np.arange(1, n_machines + 1),
        "model": rng.choice(["model1", "model2", "model3", "model4"], n_machines),
        "age": rng.integers(0, 21, n_machines),
    })
    machines.to_csv(os.path.join(folder, "machines.csv"), index=False)

    machine = np.sort(rng.integers(1, n_machines + 2, rows))   # the last id was decommissioned (not in the register)
    hour_index = np.concatenate([np.arange((machine == m).sum()) for m in np.unique(machine)])
    stamp = pd.Timestamp("2015-01-01 06:00") + pd.to_timedelta(hour_index, unit="h")
    wear = rng.random(rows)
    vibration = np.round(40 + 15 * wear + rng.normal(0, 4, rows), 3)
    rotate = np.round(450 - 60 * wear + rng.normal(0, 40, rows), 3)
    volt = np.round(rng.normal(170, 14, rows), 3).astype(object)
    pressure = np.round(rng.normal(100, 10, rows), 3)
    fails = (wear > 0.8) & (rng.random(rows) < 0.8) | (rng.random(rows) < 0.03)
    flag = np.where(fails, rng.choice(["yes", "Yes", "YES "], rows), rng.choice(["no", "No"], rows))
    # sensor dropouts: blanks and the logger's "ERR"
    volt[rng.random(rows) < 0.03] = ""
    volt[rng.random(rows) < 0.02] = "ERR"
    df = pd.DataFrame({
        "datetime": stamp.strftime("%m/%d/%Y %I:%M:%S %p"),
        "machineID": machine,
        "volt": volt,
        "rotate": rotate,
        "pressure": pressure,
        "vibration": vibration,
        "fails_24h": flag,
    })
    df = pd.concat([df, df.sample(frac=0.03, random_state=4)]).sort_values(["machineID"], kind="stable")
    df.to_csv(os.path.join(folder, "telemetry.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
