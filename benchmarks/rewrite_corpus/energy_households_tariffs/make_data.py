"""Households on the utility's tariffs. Usage: python make_data.py DIR ROWS (ROWS households)"""
import os
import random
import sys

TARIFFS = [("T-BASE", "Basic", 0.34, "no"), ("T-GRN", "Green Power", 0.37, "yes"), ("T-NIGHT", "Night Saver", 0.29, "no"),
           ("T-ECO", "Eco Plus", 0.36, "yes"), ("T-FIX24", "Fixed 24", 0.32, "no")]


def main(folder, rows):
    rng = random.Random(606)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tariffs.csv"), "w") as f:
        f.write("tariff_code\ttariff_name\tprice_per_kwh\tgreen\n")
        for t in TARIFFS:
            f.write("\t".join(str(x) for x in t) + "\n")
    with open(os.path.join(folder, "households.csv"), "w") as f:
        f.write("household_id\tpostcode\ttariff_code\tresidents\theating\tannual_kwh\n")
        for h in range(rows):
            code = rng.choice([t[0] for t in TARIFFS] + ["T-OLD"])
            residents = rng.choice([0, 1, 1, 2, 2, 3, 4, 5])
            heating = rng.choice(["gas", "Gas", "heat pump", "electric", "oil", "district"])
            kwh = round(900 + 750 * residents + rng.gauss(0, 400) + (2500 if heating.lower() != "gas" else 0), 1)
            f.write(f"H{h:06d}\t{rng.randint(10000, 99999)}\t{code}\t{residents}\t{heating}\t{kwh}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
