import os

import pandas as pd

os.makedirs("out", exist_ok=True)

TO_EUR = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}


def is_valid_iata(code):
    return len(code) == 3 and code.isalpha()


def to_eur(amount, currency):
    return round(amount * TO_EUR[currency], 2)


lines = open("data/bookings.csv").readlines()
records = []
for line in lines[1:]:
    ref, origin, destination, price, currency, passengers, cabin = line.strip().split(";")
    origin = origin.strip().upper()
    destination = destination.strip().upper()
    currency = currency.upper()
    if currency not in ["EUR", "USD", "GBP"]:
        continue
    if not is_valid_iata(origin) or not is_valid_iata(destination):
        continue
    if origin == destination:
        continue
    price_eur = to_eur(float(price), currency)
    records.append((ref, origin, destination, price_eur, int(passengers), cabin.strip().lower(),
                    price_eur / int(passengers)))

df = pd.DataFrame(records, columns=["booking_ref", "origin", "destination", "price_eur", "passengers",
                                    "cabin", "price_per_passenger"])
print(df["cabin"].value_counts())
df.to_csv("out/prepared.csv", index=False)
