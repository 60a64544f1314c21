"""Semicolon-separated booking export from the agency tool. Usage: python make_data.py DIR ROWS"""
import os
import random
import sys

AIRPORTS = ["FRA", "cdg", "AMS ", "LHR", "JFK", "BCN", "mad", "XX1", "", "MUC"]


def main(folder, rows):
    rng = random.Random(99)
    os.makedirs(folder, exist_ok=True)
    lines = ["booking_ref;origin;destination;price;currency;passengers;cabin"]
    for i in range(rows):
        currency = rng.choice(["EUR", "EUR", "USD", "GBP", "eur", "CHF"])
        lines.append(";".join([
            f"BK{100000 + i}", rng.choice(AIRPORTS), rng.choice(AIRPORTS), f"{rng.uniform(40, 900):.2f}",
            currency, str(rng.randint(1, 4)), rng.choice(["economy", "Economy", "business", "premium "]),
        ]))
    with open(os.path.join(folder, "bookings.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
