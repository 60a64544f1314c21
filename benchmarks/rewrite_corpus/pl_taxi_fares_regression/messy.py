# fare_model.py -- fare estimate for the quote screen (baseline, linear)
import os
import pickle

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
MONTH = "2019-03"

trips = pd.read_csv(os.path.join(HERE, "data", f"trips_{MONTH}.csv"),
                    parse_dates=["tpep_pickup_datetime", "tpep_dropoff_datetime"])
zones = pd.read_csv(os.path.join(HERE, "data", "zones_lookup.csv"))
print(len(trips), "trips")

# --- cleaning (same rules as the dashboard)
trips = trips[(trips["fare_amount"] > 0) & (trips["trip_distance"] > 0)]
trips = trips[trips["passenger_count"].between(1, 6)]
trips = trips[trips["payment_type"].isin([1, 2])]        # card / cash only, no disputes or no-charge
trips["duration_min"] = (trips["tpep_dropoff_datetime"] - trips["tpep_pickup_datetime"]).dt.total_seconds() / 60
trips = trips[trips["duration_min"] < 180]

# --- borough of pickup and dropoff
pu = zones[["LocationID", "Borough"]].rename(columns={"LocationID": "PULocationID", "Borough": "pickup_borough"})
do = zones[["LocationID", "Borough"]].rename(columns={"LocationID": "DOLocationID", "Borough": "dropoff_borough"})
trips = trips.merge(pu, on="PULocationID", how="left").merge(do, on="DOLocationID", how="left")
trips[["pickup_borough", "dropoff_borough"]] = trips[["pickup_borough", "dropoff_borough"]].fillna("Unknown")

trips["hour"] = trips["tpep_pickup_datetime"].dt.hour
trips["weekday"] = trips["tpep_pickup_datetime"].dt.day_of_week
trips["time_of_day"] = np.select(
    [trips["hour"].between(7, 9), trips["hour"].between(16, 19), (trips["hour"] >= 22) | (trips["hour"] < 5)],
    ["morning_rush", "evening_rush", "night"], default="day")
trips["same_borough"] = (trips["pickup_borough"] == trips["dropoff_borough"]).astype(int)


def cyclical_hour(X):
    h = np.asarray(X, dtype=float)
    return np.hstack([np.sin(2 * np.pi * h / 24), np.cos(2 * np.pi * h / 24)])


features = ["trip_distance", "passenger_count", "hour", "time_of_day", "pickup_borough", "dropoff_borough",
            "same_borough", "RatecodeID"]
X = trips[features]
y = trips["fare_amount"]

preprocessor = make_column_transformer(
    (StandardScaler(), ["trip_distance", "passenger_count"]),
    (FunctionTransformer(cyclical_hour), ["hour"]),
    (OneHotEncoder(handle_unknown="ignore"), ["time_of_day", "pickup_borough", "dropoff_borough", "RatecodeID"]),
    remainder="passthrough",
)
model = make_pipeline(preprocessor, RidgeCV(alphas=np.logspace(-3, 3, 13)))

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=2019)
model.fit(X_train, y_train)
print("MAE: %.2f" % mean_absolute_error(y_test, model.predict(X_test)))

os.makedirs(os.path.join(HERE, "models"), exist_ok=True)
with open(os.path.join(HERE, "models", "model.pkl"), "wb") as f:
    pickle.dump(model, f)
