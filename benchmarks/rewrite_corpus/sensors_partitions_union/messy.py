"""Q1 cold-chain anomaly dataset. One file per month from the IoT hub export."""
import os

import numpy as np

os.makedirs("out", exist_ok=True)

FILES = ["data/readings_2024_01.csv", "data/readings_2024_02.csv", "data/readings_2024_03.csv"]

sites = {}
with open("data/sites.csv") as f:
    f.readline()
    for line in f:
        site_id, city, zone = line.strip().split(",")
        sites[site_id] = zone

devices = {}
with open("data/devices.csv") as f:
    f.readline()
    for line in f:
        device_id, site_id, model, installed = line.strip().split(",")
        devices[device_id] = (site_id, model)

readings = []
for path in FILES:
    with open(path) as f:
        f.readline()
        for line in f:
            device_id, ts, temp, battery = line.strip().split(",")
            if temp == "ERR":
                continue
            if int(battery) < 10:   # readings on a dying battery are junk
                continue
            readings.append((device_id, ts, float(temp), int(battery)))
print("readings after cleaning:", len(readings))
temps = [r[2] for r in readings]
print("min/max temp:", min(temps), max(temps))

# per-device mean temperature, to get the deviation from the device's normal
counts = {}
sums = {}
for device_id, ts, temp, battery in readings:
    counts[device_id] = counts.get(device_id, 0) + 1
    sums[device_id] = sums.get(device_id, 0.0) + temp

rows = []
for device_id, ts, temp, battery in readings:
    if device_id not in devices:
        continue
    site_id, model = devices[device_id]
    if site_id not in sites:
        continue
    mean_temp = sums[device_id] / counts[device_id]
    rows.append([device_id, ts, temp, battery, model, sites[site_id], counts[device_id], temp - mean_temp])

out = open("out/prepared.csv", "w")
out.write("device_id,ts,temp_c,battery,model,climate_zone,n_readings,deviation\n")
for r in rows:
    out.write(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6]},{r[7]}\n")
out.close()

zones = sorted({r[5] for r in rows})
zi = {z: i for i, z in enumerate(zones)}
Z = np.zeros((len(rows), len(zones)))
for i, r in enumerate(rows):
    Z[i, zi[r[5]]] = 1

dev = np.array([r[7] for r in rows])
bat = np.array([r[3] for r in rows], dtype=float)
n = np.array([r[6] for r in rows], dtype=float)
X = np.column_stack([Z, (dev - dev.mean()) / dev.std(), (bat - bat.min()) / (bat.max() - bat.min()), n])
y = np.where(np.abs(dev) > 6, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)
print("anomalies:", y.sum())
