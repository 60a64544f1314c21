import os

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)

df = pd.read_csv("data/employees.csv")
print(df.shape)
print(df.head())

# the export has random blanks in the headers
df.columns = [c.strip().lower().replace(" ", "_").replace("(", "").replace(")", "") for c in df.columns]
df["department"] = df["department"].str.strip().str.title()
df = df.dropna(subset=["salary"])
df["active"] = df["active"].str.upper()

# only active staff, and interns (tenure 0) are out of scope
df = df[(df["active"] == "Y") & (df["tenure_years"] > 0)]
print(df.describe())

df = df[["employee_id", "department", "salary", "tenure_years", "age", "left_company"]]
df.to_csv("out/prepared.csv", index=False)

salary = df["salary"].values
salary_scaled = (salary - salary.min()) / (salary.max() - salary.min())
tenure = df["tenure_years"].values.astype(float)
tenure_scaled = (tenure - tenure.min()) / (tenure.max() - tenure.min())
age = df["age"].values.astype(float)

X = np.column_stack([salary_scaled, tenure_scaled, age])
y = np.where(df["left_company"] == 1, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)
print("attrition rate", y.mean())
