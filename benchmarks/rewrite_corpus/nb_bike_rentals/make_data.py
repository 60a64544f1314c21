"""Hourly bike rentals (Kaggle Bike Sharing Demand train.csv layout) and a daily weather-station export.
Usage: python make_data.py DIR ROWS (ROWS hourly rows; one weather row per day, a few days missing)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(2011)
    os.makedirs(folder, exist_ok=True)
    hours = pd.date_range("2011-01-01", "2012-12-19 23:00", freq="h")
    hours = hours[hours.day <= 19]
    stamp = pd.DatetimeIndex(np.sort(rng.choice(hours.values, rows, replace=False)))
    month = stamp.month.to_numpy()
    hour = stamp.hour.to_numpy()
    season = (month % 12) // 3 + 1          # 1 spring (Dec-Feb in the Kaggle coding), ...
    workingday = ((stamp.day_of_week < 5) & (rng.random(rows) > 0.03)).astype(int)
    holiday = ((stamp.day_of_week < 5) & (workingday == 0)).astype(int)
    weather = rng.choice([1, 2, 3], rows, p=[.66, .26, .08])
    weather[rng.integers(rows)] = 4
    temp = (20 - 11 * np.cos((month - 1) / 12 * 2 * np.pi) + rng.normal(0, 3.5, rows)).clip(0.8, 41).round(2)
    humidity = rng.normal(62, 19, rows).clip(8, 100).round(0).astype(int)
    humidity[rng.random(rows) < 0.01] = 0
    windspeed = np.where(rng.random(rows) < 0.12, 0, rng.gamma(3, 4.3, rows)).round(4)
    peak = np.where(workingday == 1, 120 * np.exp(-((hour - 8) ** 2) / 2) + 170 * np.exp(-((hour - 17.5) ** 2) / 3),
                    110 * np.exp(-((hour - 14) ** 2) / 12))
    base = (10 + peak + 4 * temp - 25 * (weather - 1)) * (1 + 0.4 * (stamp.year.to_numpy() == 2012))
    count = rng.poisson(np.clip(base, 1, None))
    casual = np.minimum(count, rng.binomial(count, 0.2))
    pd.DataFrame({
        "datetime": stamp.strftime("%Y-%m-%d %H:%M:%S"),
        "season": season,
        "holiday": holiday,
        "workingday": workingday,
        "weather": weather,
        "temp": temp,
        "atemp": (temp * 1.15 + rng.normal(0, 1, rows)).round(3),
        "humidity": humidity,
        "windspeed": windspeed,
        "casual": casual,
        "registered": count - casual,
        "count": count,
    }).to_csv(os.path.join(folder, "bike_train.csv"), index=False)

    days = pd.date_range(stamp.min().normalize(), stamp.max().normalize(), freq="D")
    days = days[rng.random(len(days)) > 0.05]          # station outages
    pd.DataFrame({
        "date": days.strftime("%d/%m/%Y"),
        "precip_mm": np.where(rng.random(len(days)) < 0.7, 0, rng.gamma(1.5, 4, len(days))).round(1),
        "snow_cm": np.where(days.month.isin([12, 1, 2]) & (rng.random(len(days)) < 0.1),
                            rng.integers(1, 15, len(days)), 0),
    }).to_csv(os.path.join(folder, "weather_daily.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
