"""Company fleet trip log and the vehicle list. Usage: python make_data.py DIR ROWS (ROWS trips)"""
import csv
import os
import sys
from datetime import datetime, timedelta

import numpy as np

FUELS = {"diesel": 6.5, "petrol": 8.0, "hybrid": 5.0, "lpg": 9.5}


def main(folder, rows):
    rng = np.random.default_rng(515)
    os.makedirs(folder, exist_ok=True)
    n_vehicles = max(6, rows // 25)
    plates = [f"{rng.integers(10, 99)}-{''.join(rng.choice(list('BDFGHJKLNPRSTVXZ'), 3))}-{rng.integers(1, 9)}"
              for _ in range(n_vehicles)]
    fuel_of = {}
    with open(os.path.join(folder, "vehicles.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["plate", "fuel", "model_year"])
        for p in plates[:-2]:   # two leased cars are missing from the list
            fuel = str(rng.choice(list(FUELS)))
            fuel_of[p] = fuel
            w.writerow([p, fuel, int(rng.integers(2012, 2024))])
    drivers = [f"drv{d:03d}" for d in range(max(5, rows // 30))]
    start = datetime(2023, 11, 1)
    with open(os.path.join(folder, "trips.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["trip_id", "plate", "driver", "started", "km", "litres"])
        for i in range(rows):
            plate = plates[rng.integers(len(plates))]
            when = start + timedelta(minutes=int(rng.integers(0, 60 * 24 * 300)))
            km = float(np.round(rng.gamma(2.0, 40.0), 1))
            base = FUELS.get(fuel_of.get(plate, "petrol"))
            l100 = base * rng.uniform(0.75, 1.3)
            litres = f"{km * l100 / 100:.2f}"
            if rng.random() < 0.05:
                litres = ""            # fuel card not swiped
            if rng.random() < 0.03:
                km = 0.0
            w.writerow([f"TR{i + 1:05d}", plate, drivers[rng.integers(len(drivers))], when.strftime("%d/%m/%Y %H:%M"),
                        km, litres])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
