# readings per plant: a field added to each row dict, then rows copied with {**r, ...}
import os

import pandas as pd

os.makedirs("out", exist_ok=True)

limits = {}
for line in open("data/limits.csv").read().strip().split("\n")[1:]:
    sensor, limit = line.split(",")
    limits[sensor] = float(limit)

readings = []
for plant in ["north", "south"]:
    with open(f"data/readings_{plant}.csv") as f:
        f.readline()
        for line in f:
            rid, sensor, value = line.strip().split(",")
            readings.append({"plant": plant.title(), "rid": rid, "sensor": sensor, "value": float(value)})

over = {}
for r in readings:
    r["over"] = int(r["value"] > limits[r["sensor"]])
    over[r["sensor"]] = over.get(r["sensor"], 0) + r["over"]

records = []
for r in readings:
    if r["value"] < 0:
        continue
    records.append({**r, "share": r["value"] / limits[r["sensor"]], "sensor_over": over[r["sensor"]]})

pd.DataFrame(records).to_csv("out/prepared.csv", index=False)
