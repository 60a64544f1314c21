"""Greenhouse sensor readings. Usage: python make_data.py DIR ROWS"""
import os
import sys

import numpy as np


def main(folder, rows):
    rng = np.random.default_rng(7)
    os.makedirs(folder, exist_ok=True)
    devices = [f"gh-{i:02d}" for i in range(1, 13)]
    with open(os.path.join(folder, "readings.csv"), "w") as f:
        f.write("reading_id,device_id,timestamp,temperature,humidity,status\n")
        for i in range(rows):
            device = devices[rng.integers(len(devices))]
            ts = f"2024-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}T{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}:00"
            temp = rng.normal(21, 6)
            if rng.random() < 0.03:
                temp = -999.0  # sensor fault code
            temperature = "" if rng.random() < 0.05 else f"{temp:.2f}"
            humidity = f"{rng.uniform(20, 95):.1f}"
            status = rng.choice(["ok", "ok", "ok", "ok", "ok", "OK ", "calibrating", "error"])
            f.write(f"{i + 1},{device},{ts},{temperature},{humidity},{status}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
