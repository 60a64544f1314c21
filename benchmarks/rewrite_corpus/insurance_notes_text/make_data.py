"""Home-insurance claims, adjuster notes and policies. Usage: python make_data.py DIR ROWS (ROWS claims)"""
import csv
import os
import random
import sys

NOTE_BITS = ["customer called twice", "photos look inconsistent", "police report attached", "water damage in kitchen",
             "receipt missing", "neighbour confirmed the storm", "second claim this year", "cash payment requested",
             "contractor estimate received", "story changed on follow-up"]


def main(folder, rows):
    rng = random.Random(9090)
    os.makedirs(folder, exist_ok=True)
    n_policies = max(10, rows // 2)
    with open(os.path.join(folder, "policies.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["policy_id", "property_type", "sum_insured", "channel"])
        for p in range(n_policies):
            w.writerow([f"HP{p:06d}", rng.choice(["flat", "house", "farm"]), rng.randint(50, 900) * 1000,
                        rng.choice(["broker", "online", "agent", "Online "])])
    with open(os.path.join(folder, "claims.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["claim_id", "policy_id", "reported", "peril", "amount", "fraud"])
        for c in range(rows):
            w.writerow([f"HC{c:06d}", f"HP{rng.randint(0, n_policies + n_policies // 20):06d}",
                        f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.choice([2022, 2023, 2023, 2024])}",
                        rng.choice(["water", "fire", "storm", "theft"]), round(rng.lognormvariate(8, 1), 2),
                        int(rng.random() < 0.18)])
    with open(os.path.join(folder, "adjuster_notes.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["note_id", "claim_id", "author", "note"])
        for n in range(rows * 2):
            claim = f"HC{rng.randint(0, rows - 1):06d}"
            note = "; ".join(rng.choice(NOTE_BITS) for _ in range(rng.randint(1, 3)))
            w.writerow([n + 1, claim, rng.choice(["adj01", "adj02", "adj03", "system"]), note.capitalize()])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
