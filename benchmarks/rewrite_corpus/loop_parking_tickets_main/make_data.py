"""Municipal parking tickets. Usage: python make_data.py DIR ROWS"""
import os
import sys

import numpy as np


def main(folder, rows):
    rng = np.random.default_rng(99)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tickets.csv"), "w") as f:
        f.write("ticket_no,plate,zone,issued_hour,amount,paid_after_days\n")
        for i in range(rows):
            plate = "".join(rng.choice(list("ABCDEFGHJKLMNPRSTXZ"), 2)) + "-" + str(rng.integers(100, 999))
            if rng.random() < 0.05:
                plate = ""
            elif rng.random() < 0.2:
                plate = plate.lower()
            zone = str(rng.choice(["A", "B", "C", "a", "D", "C"]))
            hour = int(rng.integers(7, 23))
            amount = float(rng.choice([25, 35, 35, 60, 90, 140]))
            amount_s = f"{amount:.2f}" if rng.random() < 0.7 else f"EUR {amount:.2f}"
            late_p = 0.15 + 0.004 * amount + (0.15 if hour >= 19 else 0.0)
            if rng.random() < 0.07:
                days = ""          # still open
            elif rng.random() < late_p:
                days = str(int(rng.integers(15, 90)))
            else:
                days = str(int(rng.integers(0, 15)))
            f.write(f"T{i + 1:07d},{plate},{zone},{hour},{amount_s},{days}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
