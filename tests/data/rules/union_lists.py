# monthly exports, one file per month; per-column lists into a DataFrame
import os

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)

ids, months, kwh, flags = [], [], [], []
for month in ["jan", "feb"]:
    with open(f"data/meter_{month}.csv") as f:
        lines = f.readlines()
    lines.pop(0)
    for line in lines:
        meter, value, quality = line.rstrip("\n").split(";")
        if quality.strip() == "bad":
            continue
        ids.append(meter)
        months.append(month)
        kwh.append(float(value))
        if float(value) > 100:
            flags.append(1)
        else:
            flags.append(0)

pd.DataFrame({"meter": ids, "month": months, "kwh": kwh, "high": flags}).to_csv("out/prepared.csv", index=False)
X = np.column_stack([kwh]).astype(float)
y = np.array(flags)
np.save("out/X.npy", X)
np.save("out/y.npy", y)
