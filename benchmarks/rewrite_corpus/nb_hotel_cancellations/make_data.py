"""Hotel bookings (Antonio, Almeida & Nunes hotel_bookings.csv layout, a subset of the columns).
Usage: python make_data.py DIR ROWS (ROWS bookings, a few exported twice)"""
import os
import sys

import numpy as np
import pandas as pd

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
COUNTRIES = ["PRT", "GBR", "FRA", "ESP", "DEU", "ITA", "IRL", "BEL", "BRA", "NLD", "USA", "CHE", "CN", "AUT",
             "SWE", "POL"]


def main(folder, rows):
    rng = np.random.default_rng(119390)
    os.makedirs(folder, exist_ok=True)
    hotel = rng.choice(["City Hotel", "Resort Hotel"], rows, p=[.66, .34])
    lead = rng.gamma(1.1, 95, rows).round(0).astype(int)
    year = rng.choice([2015, 2016, 2017], rows, p=[.2, .47, .33])
    month = rng.integers(1, 13, rows)
    day = rng.integers(1, 29, rows)
    deposit = rng.choice(["No Deposit", "Non Refund", "Refundable"], rows, p=[.87, .12, .01])
    segment = rng.choice(["Online TA", "Offline TA/TO", "Groups", "Direct", "Corporate"], rows,
                         p=[.47, .2, .17, .11, .05])
    country = rng.choice(COUNTRIES, rows, p=np.array([40, 10, 9, 7, 6, 3, 3, 2, 2, 2, 2, 1.5, 1, 1, 1, 1]) / 91.5)
    country = country.astype(object)
    country[rng.random(rows) < 0.01] = None
    adults = rng.choice([0, 1, 2, 3], rows, p=[.005, .19, .75, .055])
    children = rng.choice([0.0, 1.0, 2.0], rows, p=[.93, .04, .03])
    children[rng.random(rows) < 0.005] = np.nan
    babies = rng.choice([0, 1], rows, p=[.99, .01])
    p = (0.15 + 0.0012 * lead + 0.55 * (deposit == "Non Refund") + 0.08 * (hotel == "City Hotel")
         + 0.1 * (segment == "Groups")).clip(0.02, 0.97)
    canceled = (rng.random(rows) < p).astype(int)
    adr = (rng.normal(100, 40, rows) * np.where(np.isin(month, [7, 8]), 1.4, 1)).clip(0).round(2)
    adr[rng.integers(rows)] = 5400.0
    adr[rng.integers(rows)] = -6.38
    agent = rng.choice([9.0, 240.0, 1.0, 14.0, 7.0, 6.0, np.nan], rows, p=[.27, .12, .06, .03, .03, .03, .46])
    company = np.where(rng.random(rows) < 0.06, rng.choice([40.0, 223.0, 67.0], rows), np.nan)
    status = np.where(canceled == 1, rng.choice(["Canceled", "No-Show"], rows, p=[.96, .04]), "Check-Out")
    status_date = pd.to_datetime(dict(year=year, month=month, day=day)) + pd.to_timedelta(
        rng.integers(0, 8, rows), unit="D")
    df = pd.DataFrame({
        "hotel": hotel,
        "is_canceled": canceled,
        "lead_time": lead,
        "arrival_date_year": year,
        "arrival_date_month": [MONTHS[m - 1] for m in month],
        "arrival_date_day_of_month": day,
        "stays_in_weekend_nights": rng.choice([0, 1, 2, 3], rows, p=[.43, .26, .28, .03]),
        "stays_in_week_nights": rng.choice([0, 1, 2, 3, 4, 5, 7], rows, p=[.06, .25, .28, .19, .09, .09, .04]),
        "adults": adults,
        "children": children,
        "babies": babies,
        "meal": rng.choice(["BB", "HB", "SC", "Undefined", "FB"], rows, p=[.77, .12, .09, .01, .01]),
        "country": country,
        "market_segment": segment,
        "distribution_channel": rng.choice(["TA/TO", "Direct", "Corporate", "GDS"], rows, p=[.82, .12, .05, .01]),
        "is_repeated_guest": (rng.random(rows) < 0.03).astype(int),
        "previous_cancellations": rng.choice([0, 1, 2], rows, p=[.94, .05, .01]),
        "reserved_room_type": rng.choice(list("ADEFGB"), rows, p=[.72, .16, .06, .03, .02, .01]),
        "deposit_type": deposit,
        "agent": agent,
        "company": company,
        "adr": adr,
        "required_car_parking_spaces": rng.choice([0, 1], rows, p=[.94, .06]),
        "total_of_special_requests": rng.choice([0, 1, 2, 3], rows, p=[.59, .28, .11, .02]),
        "reservation_status": status,
        "reservation_status_date": status_date.dt.strftime("%Y-%m-%d"),
    })
    df = pd.concat([df, df.sample(frac=0.08, random_state=5)]).sort_values(
        ["arrival_date_year", "lead_time"], kind="stable")
    df.to_csv(os.path.join(folder, "hotel_bookings.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
