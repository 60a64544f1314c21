import os

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)

grades = pd.read_csv("data/grades.csv")
grades["reading"] = grades["reading"].fillna(0)
grades["name"] = grades["name"].apply(lambda s: " ".join(s.split()).title())

# the online school follows another curriculum
grades = grades[grades["school"].isin(["North", "South", "East", "West"])]

grades["avg"] = grades.apply(lambda r: (r["math"] + r["reading"]) / 2, axis=1)

passed = []
for idx, row in grades.iterrows():
    if row["avg"] >= 50 and row["absences"] < 10:
        passed.append(1)
    else:
        passed.append(0)
grades["passed"] = passed
print(grades.groupby("school")["passed"].mean())

grades.to_csv("out/prepared.csv", index=False)

math = grades["math"].to_numpy()
reading = grades["reading"].to_numpy()
absences = grades["absences"].to_numpy().astype(float)
X = np.column_stack([
    (math - math.mean()) / math.std(),
    (reading - reading.mean()) / reading.std(),
    (absences - absences.mean()) / absences.std(),
])
np.save("out/X.npy", X)
np.save("out/y.npy", grades["passed"].to_numpy())
