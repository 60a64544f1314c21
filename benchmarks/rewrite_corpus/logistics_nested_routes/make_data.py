"""Parcel shipments, the route plan and depots. Usage: python make_data.py DIR ROWS (ROWS shipments)"""
import csv
import datetime
import os
import random
import sys

CITIES = ["Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig", "Dresden"]


def main(folder, rows):
    rng = random.Random(2718)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "depots.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["depot", "region", "docks"])
        for i, c in enumerate(CITIES):
            w.writerow([c, ["north", "south", "west", "east"][i % 4], rng.randint(4, 30)])
    routes = []
    with open(os.path.join(folder, "routes.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["route_id", "from_depot", "to_depot", "planned_hours", "toll_km"])
        rid = 0
        for a in CITIES:
            for b in CITIES:
                if a != b and rng.random() < 0.8:
                    rid += 1
                    routes.append((a, b))
                    w.writerow([f"R{rid:03d}", a, b, rng.randint(3, 11), rng.randint(100, 800)])
    start = datetime.datetime(2024, 3, 4, 0, 0)
    with open(os.path.join(folder, "shipments.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["parcel_id", "origin", "destination", "picked_up", "transit_hours", "weight_kg"])
        for i in range(rows):
            a, b = rng.sample(CITIES, 2)
            picked = start + datetime.timedelta(hours=rng.randint(0, 24 * 60))
            w.writerow([f"PX{i:07d}", a if rng.random() > 0.08 else a.upper(), b, picked.strftime("%Y-%m-%d %H:%M"),
                        round(rng.uniform(2, 16), 1), round(rng.uniform(0.2, 31.5), 1)])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
