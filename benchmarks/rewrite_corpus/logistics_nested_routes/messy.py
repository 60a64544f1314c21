# transit-time regression for the network planning team
import csv
import os
from datetime import datetime

import numpy as np
from sklearn.linear_model import Ridge

os.makedirs("out", exist_ok=True)

routes = []
with open("data/routes.csv") as f:
    rd = csv.DictReader(f)
    for r in rd:
        routes.append(r)

depots = {}
with open("data/depots.csv") as f:
    rd = csv.DictReader(f)
    for d in rd:
        depots[d["depot"]] = d

shipments = []
with open("data/shipments.csv") as f:
    rd = csv.DictReader(f)
    for s in rd:
        picked = datetime.strptime(s["picked_up"], "%Y-%m-%d %H:%M")
        if picked.weekday() == 6:    # no Sunday trucks, those are data errors
            continue
        if picked.hour < 6 or picked.hour >= 22:
            continue
        shipments.append(s)

matched = []
for s in shipments:
    for r in routes:
        if s["origin"] == r["from_depot"] and s["destination"] == r["to_depot"]:
            matched.append((s, r))
            break
print(f"{len(matched)} of {len(shipments)} shipments on a planned route")

route_load = {}
for s, r in matched:
    route_load[r["route_id"]] = route_load.get(r["route_id"], 0) + 1

parcel, route, region, planned, toll, weight, load, transit = [], [], [], [], [], [], [], []
for s, r in matched:
    parcel.append(s["parcel_id"])
    route.append(r["route_id"])
    region.append(depots[r["from_depot"]]["region"])
    planned.append(float(r["planned_hours"]))
    toll.append(float(r["toll_km"]))
    weight.append(float(s["weight_kg"]))
    load.append(route_load[r["route_id"]])
    transit.append(float(s["transit_hours"]))

with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["parcel_id", "route_id", "region", "planned_hours", "toll_km", "weight_kg", "route_load",
                "transit_hours"])
    for row in zip(parcel, route, region, planned, toll, weight, load, transit):
        w.writerow(row)

regions = sorted(set(region))
R = np.zeros((len(region), len(regions)))
for i, g in enumerate(region):
    R[i, regions.index(g)] = 1.0
num = np.column_stack([planned, toll, weight, load]).astype(float)
num = (num - num.mean(axis=0)) / num.std(axis=0)
X = np.hstack([R, num])
y = np.array(transit)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

reg = Ridge(alpha=1.0).fit(X, y)
print("R^2", round(reg.score(X, y), 3))
