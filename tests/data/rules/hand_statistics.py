# standardisation without numpy: means and standard deviations from sum/len/math.sqrt
import csv
import math
import os

import numpy as np

os.makedirs("out", exist_ok=True)

ids, hours, pay = [], [], []
with open("data/shifts.csv") as f:
    rd = csv.reader(f)
    next(rd)
    for shift_id, worker, h, rate in rd:
        if h == "":
            continue
        ids.append(shift_id)
        hours.append(float(h))
        pay.append(float(h) * float(rate))

with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["shift_id", "hours", "pay"])
    for row in zip(ids, hours, pay):
        w.writerow(row)

n = len(hours)
mean_h = sum(hours) / n
std_h = math.sqrt(sum((x - mean_h) ** 2 for x in hours) / n)
hours_z = [(x - mean_h) / std_h for x in hours]
mean_p = sum(pay) / len(pay)
sd_p = (sum((p - mean_p) * (p - mean_p) for p in pay) / (n - 1)) ** 0.5
pay_z = [(p - mean_p) / sd_p for p in pay]
lo, hi = min(pay), max(pay)
pay_01 = [(p - lo) / (hi - lo) for p in pay]
np.save("out/X.npy", np.column_stack([hours_z, pay_z, pay_01]))
