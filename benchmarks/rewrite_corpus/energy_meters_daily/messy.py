"""Weekday consumption in 2023+ for the load-forecasting team."""
import csv
import os
from datetime import datetime

os.makedirs("out", exist_ok=True)

reader = csv.reader(open("data/meter_days.csv", newline=""))
header = next(reader)
print("columns:", header)

writer = csv.writer(open("out/prepared.csv", "w", newline=""))
writer.writerow(["meter", "day", "month", "kwh", "cost_eur"])

PRICE = 0.31
for row in reader:
    meter, day, kwh_raw, unit, tariff = row
    d = datetime.strptime(day, "%d/%m/%Y")
    if d.year < 2023 or d.weekday() >= 5:
        continue
    kwh = float(kwh_raw)
    if unit == "Wh":
        kwh = kwh / 1000
    cost = round(kwh * PRICE, 2)
    writer.writerow([meter, d.strftime("%Y-%m-%d"), d.month, kwh, cost])
