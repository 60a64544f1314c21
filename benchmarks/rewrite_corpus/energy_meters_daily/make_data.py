"""Daily smart-meter totals. Usage: python make_data.py DIR ROWS"""
import csv
import datetime
import os
import random
import sys


def main(folder, rows):
    rng = random.Random(2024)
    os.makedirs(folder, exist_ok=True)
    start = datetime.date(2022, 6, 1)
    with open(os.path.join(folder, "meter_days.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["meter", "day", "kwh_raw", "unit", "tariff"])
        for _ in range(rows):
            day = start + datetime.timedelta(days=rng.randint(0, 700))
            unit = rng.choice(["kWh", "kWh", "kWh", "Wh"])
            kwh = rng.uniform(2, 30)
            raw = kwh * 1000 if unit == "Wh" else kwh
            w.writerow([f"M{rng.randint(1, 300):04d}", day.strftime("%d/%m/%Y"), f"{raw:.3f}", unit,
                        rng.choice(["peak", "offpeak", "flat"])])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
