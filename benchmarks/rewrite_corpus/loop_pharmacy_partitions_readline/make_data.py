"""Pharmacy chain: one sales export per region and the drug catalogue.

Usage: python make_data.py DIR ROWS (ROWS sales lines over all regions)
"""
import os
import random
import sys
from datetime import date, timedelta

CATEGORIES = ["analgesic", "antibiotic", "cardio", "allergy", "vitamins", "dermatology"]


def main(folder, rows):
    rng = random.Random(360)
    os.makedirs(folder, exist_ok=True)
    n_drugs = max(12, rows // 15)
    rx = {}
    price = {}
    with open(os.path.join(folder, "drugs.csv"), "w") as f:
        f.write("drug_code,name,category,rx_only\n")
        for d in range(n_drugs):
            code = f"D{d:04d}"
            cat = CATEGORIES[d % len(CATEGORIES)]
            rx[code] = cat in ("antibiotic", "cardio") or rng.random() < 0.1
            price[code] = round(rng.uniform(2, 60), 2)
            f.write(f"{code},{cat.title()} product {d},{cat},{'Y' if rx[code] else 'N'}\n")
    shares = {"north": 0.45, "south": 0.35, "east": 0.20}
    start = date(2023, 1, 1)
    receipt = 0
    for region, share in shares.items():
        with open(os.path.join(folder, f"sales_{region}.csv"), "w") as f:
            f.write("receipt_no,sale_date,drug_code,qty,unit_price,insured\n")
            for _ in range(max(15, int(rows * share))):
                receipt += 1
                code = f"D{rng.randint(0, n_drugs + 3):04d}"   # a few codes from the old catalogue
                day = start + timedelta(days=rng.randint(0, 364))
                day_s = day.strftime("%Y%m%d") if rng.random() > 0.03 else day.strftime("%d-%m-%Y")
                qty = rng.choice([1, 1, 1, 2, 2, 3, 6, -1])
                qty_s = str(qty) if rng.random() > 0.03 else "1x"
                p = price.get(code, 9.99)
                ins = rng.random() < (0.75 if rx.get(code) else 0.2)
                insured = rng.choice(["Y", "y", "Y "]) if ins else rng.choice(["N", "n", ""])
                line = f"R{receipt:07d},{day_s},{code.lower() if rng.random() < 0.1 else code},{qty_s},{p},{insured}"
                if rng.random() < 0.02:
                    line = line[: rng.randint(5, 20)]
                f.write(line + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
