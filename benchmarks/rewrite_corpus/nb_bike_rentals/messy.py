# %% [markdown]
# # Bike Sharing Demand
# Feature engineering on the timestamp + the daily weather from the NOAA station, then a random forest.

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LinearRegression
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_squared_error, mean_squared_log_error

import warnings
warnings.filterwarnings("ignore")
pd.set_option("display.max_columns", None)

# %%
df = pd.read_csv("data/bike_train.csv")
weather = pd.read_csv("data/weather_daily.csv")
df.head()

# %%
df.shape, weather.shape

# %%
df.dtypes

# %%
df.isnull().sum()

# %%
df["count"].describe()

# %% [markdown]
# remove the outliers (more than 3 std away)

# %%
df = df[np.abs(df["count"] - df["count"].mean()) <= (3 * df["count"].std())]
print("after outlier removal:", df.shape)

# %%
df["datetime"] = pd.to_datetime(df["datetime"])
df["hour"] = df["datetime"].dt.hour
df["month"] = df["datetime"].dt.month
df["year"] = df["datetime"].dt.year
df["weekday"] = df["datetime"].dt.dayofweek
df["date"] = df["datetime"].dt.normalize()

# %%
df.groupby("hour")["count"].mean().plot(kind="bar", figsize=(12, 4))
plt.title("mean rentals per hour")
plt.show()

# %%
weather["date"] = pd.to_datetime(weather["date"], format="%d/%m/%Y")
df = df.merge(weather, on="date", how="left")
df["precip_mm"] = df["precip_mm"].fillna(0)
df["snow_cm"] = df["snow_cm"].fillna(0)
df.head()

# %%
# humidity 0 is a sensor error
df.loc[df["humidity"] == 0, "humidity"] = np.nan
df["humidity"] = df["humidity"].fillna(df.groupby("month")["humidity"].transform("mean"))
# only one hour with weather 4 (heavy rain + hail), put it with 3
df.loc[df["weather"] == 4, "weather"] = 3

# %%
df["temp_anomaly"] = df["temp"] - df.groupby("month")["temp"].transform("mean")
df["season"] = df["season"].map({1: "spring", 2: "summer", 3: "fall", 4: "winter"})
df["daypart"] = pd.cut(df["hour"], bins=[-1, 6, 10, 16, 20, 23],
                       labels=["night", "morning", "midday", "evening", "late"])
df["rush_hour"] = (df["hour"].isin([7, 8, 17, 18]) & (df["workingday"] == 1)).astype(int)

# %%
df[["temp", "atemp", "humidity", "windspeed", "precip_mm", "count"]].corr()

# %%
df = df.drop(["casual", "registered", "atemp", "datetime", "date"], axis=1)
df = pd.get_dummies(df, columns=["season", "weather", "daypart"], drop_first=True)
df.head()

# %%
X = df.drop("count", axis=1)
y = np.log1p(df["count"])
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

# %%
lr = LinearRegression()
lr.fit(X_train, y_train)
pred = lr.predict(X_test)
print("LinearRegression RMSLE:", np.sqrt(mean_squared_error(y_test, pred)))

# %%
rf = RandomForestRegressor(n_estimators=50, random_state=0, n_jobs=-1)
rf.fit(X_train, y_train)
pred = rf.predict(X_test)
print("RandomForest RMSLE:", np.sqrt(mean_squared_error(y_test, pred)))
print("RMSLE on counts:", np.sqrt(mean_squared_log_error(np.expm1(y_test), np.expm1(pred))))

# %%
pd.Series(rf.feature_importances_, index=X.columns).sort_values(ascending=False)[:10]
