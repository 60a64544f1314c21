"""Motor insurance policies and claims. Usage: python make_data.py DIR ROWS (ROWS claims)"""
import csv
import os
import random
import sys


def main(folder, rows):
    rng = random.Random(31)
    os.makedirs(folder, exist_ok=True)
    n_policies = max(10, rows // 2)
    with open(os.path.join(folder, "policies.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["policy_no", "holder_name", "vehicle_class", "driver_age", "annual_premium"])
        for p in range(n_policies):
            w.writerow([f"POL-{p:06d}", f"Holder {p}", rng.choice(["compact", "Sedan", "SUV", "van", "sedan"]),
                        rng.randint(18, 85), round(rng.uniform(300, 2500), 2)])
    with open(os.path.join(folder, "claims.csv"), "w") as f:
        f.write("claim_id|policy_no|claim_type|amount|fraud_flag\n")
        for c in range(rows):
            policy = f"POL-{rng.randint(0, int(n_policies * 1.05)):06d}"
            claim_type = rng.choice(["collision", "theft", "glass", "liability", "Collision", "weather"])
            amount = round(rng.expovariate(1 / 2500), 2)
            f.write(f"CL{c:07d}|{policy}|{claim_type}|{amount}|{int(rng.random() < 0.15)}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
