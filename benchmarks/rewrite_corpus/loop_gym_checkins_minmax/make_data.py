"""Gym check-ins from the turnstile system. Usage: python make_data.py DIR ROWS"""
import csv
import os
import random
import sys


def main(folder, rows):
    rng = random.Random(808)
    os.makedirs(folder, exist_ok=True)
    clubs = ["downtown", "harbour", "airport", "campus"]
    with open(os.path.join(folder, "checkins.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["checkin_id", "member_id", "club", "minutes", "status", "visits_month", "renewed"])
        for i in range(rows):
            visits = rng.randint(1, 20)
            minutes = rng.randint(15, 120)
            p_renew = 0.2 + 0.03 * visits
            renewed = "Y" if rng.random() < p_renew else "N"
            if rng.random() < 0.2:
                renewed = renewed.lower()
            status = rng.choice(["completed", "completed", "completed", "Completed", "cancelled", "Cancelled ",
                                 "no-show", " completed"])
            m = str(minutes)
            u = rng.random()
            if u < 0.05:
                m = ""
            elif u < 0.08:
                m = "0"
            w.writerow([f"C{i + 1:06d}", rng.randint(1, max(5, rows // 4)), rng.choice(clubs), m, status, visits,
                        renewed])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
