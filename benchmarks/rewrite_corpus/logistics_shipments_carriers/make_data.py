"""Freight shipments and the carrier master. Usage: python make_data.py DIR ROWS (ROWS shipments)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(77)
    os.makedirs(folder, exist_ok=True)
    codes = ["DHL", "UPS", "FDX", "MSK", "DBS", "GLS", "TNT", "CMA"]
    pd.DataFrame({
        "carrier_code": [c + " " if i % 3 == 0 else c for i, c in enumerate(codes)],
        "carrier_name": ["DHL Freight", "UPS", "FedEx", "Maersk", "DB Schenker", "GLS", "TNT", "CMA CGM"],
        "on_time_rate": rng.uniform(0.7, 0.98, len(codes)).round(3),
    }).to_csv(os.path.join(folder, "carriers.csv"), index=False)
    code_pool = np.array([c.lower() for c in codes] + codes + ["XXX"])
    weight = rng.lognormal(3, 1.1, rows).round(1)
    weight[rng.random(rows) < 0.03] = 0.0
    promised = rng.integers(1, 15, rows)
    pd.DataFrame({
        "shipment_id": np.arange(rows) + 1,
        "carrier": code_pool[rng.integers(0, len(code_pool), rows)],
        "mode": rng.choice(["road", "air", "sea", "rail"], rows, p=[0.5, 0.2, 0.2, 0.1]),
        "weight_kg": weight,
        "distance_km": rng.integers(20, 9000, rows),
        "promised_days": promised,
        "actual_days": promised + rng.integers(-2, 5, rows),
        "status": rng.choice(["delivered", "delivered", "delivered", "in transit", "lost"], rows),
    }).to_csv(os.path.join(folder, "shipments.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
