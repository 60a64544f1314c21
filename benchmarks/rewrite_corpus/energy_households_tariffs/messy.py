# which households chose a green tariff? (marketing asked, quick and dirty)
import os

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)

with open("data/tariffs.csv") as f:
    lines = f.read().splitlines()
lines.pop(0)
tariffs = {}
for l in lines:
    code, name, price, green = l.split("\t")
    tariffs[code] = (name, float(price), green == "yes")

HEATING_OK = ["gas", "heat pump", "electric"]
out = {"household_id": [], "tariff": [], "heating": [], "residents": [], "annual_kwh": [],
       "yearly_cost": [], "green": []}
with open("data/households.csv") as f:
    lines = f.read().splitlines()
for l in lines[1:]:
    hid, postcode, code, residents, heating, kwh = l.split("\t")
    heating = heating.lower()
    residents = int(residents)
    if residents > 0 and heating in HEATING_OK and code in tariffs:
        name, price, green = tariffs[code]
        out["household_id"].append(hid)
        out["tariff"].append(name)
        out["heating"].append(heating)
        out["residents"].append(residents)
        out["annual_kwh"].append(float(kwh))
        out["yearly_cost"].append(float(kwh) * price)
        out["green"].append(green)

df = pd.DataFrame(out)
df.to_csv("out/prepared.csv", index=False)
print(df.groupby("heating")["yearly_cost"].mean().round(0))

heat_types = sorted(set(out["heating"]))
hidx = {h: i for i, h in enumerate(heat_types)}
H = np.zeros((len(df), len(heat_types)))
for i, h in enumerate(out["heating"]):
    H[i][hidx[h]] = 1.0
kwh = np.array(out["annual_kwh"])
cost = np.array(out["yearly_cost"])
res = np.array(out["residents"], dtype=float)

X = np.column_stack([(kwh - kwh.mean()) / kwh.std(), (cost - cost.min()) / (cost.max() - cost.min()), res, H])
y = np.array([1 if g else 0 for g in out["green"]])
np.save("out/X.npy", X)
np.save("out/y.npy", y)
