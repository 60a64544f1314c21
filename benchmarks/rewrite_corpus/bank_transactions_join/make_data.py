"""Core-banking accounts and card transactions. Usage: python make_data.py DIR ROWS (ROWS transactions)"""
import csv
import os
import sys

import numpy as np


def main(folder, rows):
    rng = np.random.default_rng(1234)
    os.makedirs(folder, exist_ok=True)
    n_accounts = max(10, rows // 5)
    types = ["Checking", "savings", "Savings ", "checking", "Business", "student"]
    with open(os.path.join(folder, "accounts.csv"), "w") as f:
        f.write("account_id,owner_initials,account_type,opened_year,branch\n")
        for a in range(n_accounts):
            f.write(f"AC{a:06d},{chr(65 + a % 26)}{chr(65 + a * 7 % 26)},{types[rng.integers(len(types))]},"
                    f"{rng.integers(1995, 2024)},BR{rng.integers(1, 20):02d}\n")
    with open(os.path.join(folder, "transactions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["txn_id", "account_id", "amount", "merchant_category", "is_fraud"])
        for t in range(rows):
            acc = f"AC{rng.integers(0, n_accounts * 1.1):06d}"  # ~10% point at closed accounts
            if rng.random() < 0.1:
                acc = f" {acc} "
            amount = round(float(rng.lognormal(3.5, 1.2)), 2)
            if rng.random() < 0.12:
                amount = -amount  # refunds
            fraud = int(rng.random() < (0.25 if amount > 150 else 0.08))
            w.writerow([t + 1, acc, amount, rng.choice(["grocery", "travel", "online", "fuel", "atm"]), fraud])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
