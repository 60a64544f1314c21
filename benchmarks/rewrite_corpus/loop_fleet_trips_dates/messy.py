import csv
import os
from collections import defaultdict
from datetime import datetime

import numpy as np
from sklearn.linear_model import LogisticRegression

vehicles = {}
with open("data/vehicles.csv") as f:
    reader = csv.reader(f)
    next(reader)
    for plate, fuel, model_year in reader:
        vehicles[plate] = (fuel, int(model_year))

trips = []
with open("data/trips.csv") as f:
    reader = csv.reader(f)
    next(reader)
    for trip_id, plate, driver, started, km, litres in reader:
        t = datetime.strptime(started, "%d/%m/%Y %H:%M")
        if t.year != 2024:
            continue
        if t.weekday() >= 5:   # weekend = private use, not part of the audit
            continue
        if litres == "":
            continue
        km = float(km)
        if km <= 0:
            continue
        fuel, year = vehicles.get(plate, ("unknown", 2018))
        trips.append([trip_id, plate, driver, t.hour, km, float(litres), fuel, 2024 - year])

trips_per_driver = defaultdict(int)
for tr in trips:
    trips_per_driver[tr[2]] += 1

for tr in trips:
    tr.append(trips_per_driver[tr[2]])
    tr.append(100 * tr[5] / tr[4])   # l/100km

os.makedirs("out", exist_ok=True)
with open("out/prepared.csv", "w") as out:
    out.write("trip_id,plate,driver,hour,km,litres,fuel,vehicle_age,driver_trips,l_per_100km\n")
    for tr in trips:
        out.write(",".join(str(v) for v in tr) + "\n")

km = np.array([tr[4] for tr in trips])
km_scaled = (km - km.min()) / (km.max() - km.min())
fuels = sorted({tr[6] for tr in trips})
fuel_idx = {fu: j for j, fu in enumerate(fuels)}
F = np.zeros((len(trips), len(fuels)))
for i, tr in enumerate(trips):
    F[i, fuel_idx[tr[6]]] = 1

X = np.column_stack([km_scaled, [tr[3] for tr in trips], [tr[7] for tr in trips], [tr[8] for tr in trips], F])
y = np.array([1 if tr[9] > 8.5 else 0 for tr in trips])
np.save("out/X.npy", X)
np.save("out/y.npy", y)

clf = LogisticRegression(max_iter=1000).fit(X, y)
print(len(trips), "trips; heavy share", y.mean().round(3), "; acc", clf.score(X, y))
