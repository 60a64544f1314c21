"""Daily station weather export (semicolon separated, with QC flags).

Usage: python make_data.py DIR ROWS
"""
import os
import sys

import numpy as np


def main(folder, rows):
    rng = np.random.default_rng(2024)
    os.makedirs(folder, exist_ok=True)
    stations = ["AMS01", "AMS02", "RTM01", "UTR01", "EIN01", "GRQ01", "MST01"]
    with open(os.path.join(folder, "weather_daily.txt"), "w") as f:
        f.write("station;date;tmin;tmax;precip_mm;quality\n")
        for i in range(rows):
            st = stations[rng.integers(len(stations))]
            day = f"2023-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
            tmin = rng.normal(6, 6)
            tmax = tmin + abs(rng.normal(7, 3))
            u = rng.random()
            tmin_s = f"{tmin:.1f}"
            tmax_s = f"{tmax:.1f}"
            if u < 0.03:
                tmin_s = "---"          # logger offline
            elif u < 0.05:
                tmax_s = "9999"         # overflow code
            elif u < 0.07:
                tmin_s, tmax_s = tmax_s, tmin_s   # swapped columns in the old firmware
            precip = rng.exponential(2.5) if rng.random() < 0.55 else 0.0
            precip_s = "M" if rng.random() < 0.06 else f"{precip:.1f}"
            quality = str(rng.choice(["G", "G", "G", "G", "g", "S", "s ", "G"]))
            r = rng.random()
            if r < 0.03:
                f.write("\n")           # empty line from the concatenation script
            elif r < 0.06:
                f.write(f"{st};{day};{tmin_s}\n")   # truncated transmission
            f.write(f"{st};{day};{tmin_s};{tmax_s};{precip_s};{quality}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
