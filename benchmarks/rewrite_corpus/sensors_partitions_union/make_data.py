"""Cold-chain sensors: sites, devices and three monthly partitions of readings.

Usage: python make_data.py DIR ROWS (ROWS readings over all partitions)
"""
import os
import sys

import numpy as np

ZONES = ["temperate", "tropical", "arid", "alpine"]


def main(folder, rows):
    rng = np.random.default_rng(303)
    os.makedirs(folder, exist_ok=True)
    n_sites = 8
    with open(os.path.join(folder, "sites.csv"), "w") as f:
        f.write("site_id,city,climate_zone\n")
        for s in range(n_sites):
            f.write(f"S{s},City{s},{ZONES[s % len(ZONES)]}\n")
    n_devices = max(6, rows // 25)
    base = {}
    with open(os.path.join(folder, "devices.csv"), "w") as f:
        f.write("device_id,site_id,model,installed\n")
        for d in range(n_devices):
            base[d] = rng.normal(4, 2)
            site = f"S{rng.integers(0, n_sites + 1)}"  # S8 was decommissioned, not in sites.csv
            f.write(f"dev{d:04d},{site},{rng.choice(['TX-100', 'TX-200', 'ColdEye'])},2021-0{rng.integers(1, 9)}-01\n")
    per_month = [rows // 3, rows // 3, rows - 2 * (rows // 3)]
    for month, n in zip(["01", "02", "03"], per_month):
        with open(os.path.join(folder, f"readings_2024_{month}.csv"), "w") as f:
            f.write("device_id,ts,temp_c,battery\n")
            for _ in range(n):
                d = int(rng.integers(0, n_devices))
                temp = base[d] + rng.normal(0, 2.5) + (rng.random() < 0.05) * rng.choice([-12, 15])
                temp_s = "ERR" if rng.random() < 0.04 else f"{temp:.2f}"
                f.write(f"dev{d:04d},2024-{month}-{rng.integers(1, 29):02d} {rng.integers(0, 24):02d}:00,{temp_s},"
                        f"{rng.integers(5, 101)}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
