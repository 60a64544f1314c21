"""Predictive maintenance: will the machine fail within 24 hours?

Features from the telemetry (raw sensors, 3h rolling vibration, deviation from the machine's
own mean) and the machine register. The feature matrix is cached in out/ for the notebook.
"""
import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

DATA_DIR = "data"
SENSORS = ["volt", "rotate", "pressure", "vibration"]

telemetry = pd.read_csv(os.path.join(DATA_DIR, "telemetry.csv"))
machines = pd.read_csv(os.path.join(DATA_DIR, "machines.csv"))

telemetry["datetime"] = pd.to_datetime(telemetry["datetime"], format="%m/%d/%Y %I:%M:%S %p")
for c in SENSORS:
    telemetry[c] = pd.to_numeric(telemetry[c], errors="coerce")
telemetry = telemetry.dropna(subset=SENSORS)
telemetry = telemetry.drop_duplicates(subset=["machineID", "datetime"])
print(telemetry.describe())

df = telemetry.merge(machines, on="machineID")
df = df.sort_values(["machineID", "datetime"]).reset_index(drop=True)
df["vibration_3h"] = df.groupby("machineID")["vibration"].transform(lambda s: s.rolling(3, min_periods=1).mean())
df["vibration_machine_mean"] = df.groupby("machineID")["vibration"].transform("mean")
df["vibration_dev"] = df["vibration"] - df["vibration_machine_mean"]
df["hour"] = df["datetime"].dt.hour

df["fails_24h"] = df["fails_24h"].str.strip().str.lower().map({"yes": 1, "no": 0})
y = df["fails_24h"].to_numpy()
print("failure rate:", y.mean())

features = ColumnTransformer([
    ("sensors", StandardScaler(), SENSORS + ["vibration_3h", "vibration_dev"]),
    ("model", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), ["model"]),
    ("age", FunctionTransformer(np.log1p), ["age"]),
])
X = features.fit_transform(df)

os.makedirs("out", exist_ok=True)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=1)
clf = RandomForestClassifier(n_estimators=200, min_samples_leaf=2, class_weight="balanced", random_state=1)
clf.fit(X_train, y_train)
pred = clf.predict(X_test)
print("precision %.3f recall %.3f" % (precision_score(y_test, pred, zero_division=0),
                                      recall_score(y_test, pred, zero_division=0)))
