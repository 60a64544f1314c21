"""Webshop sessions with the page tags seen in each session, plus the visitor table.

Usage: python make_data.py DIR ROWS (ROWS sessions)
"""
import csv
import os
import random
import sys

TAGS = ["sale", "new", "shoes", "kids", "outdoor", "gift", "premium", "clearance"]
COUNTRIES = ["NL", "BE", "DE", "fr", "NL", "nl "]


def main(folder, rows):
    rng = random.Random(4242)
    os.makedirs(folder, exist_ok=True)
    n_visitors = max(10, rows // 5)
    with open(os.path.join(folder, "visitors.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["visitor_id", "country", "newsletter"])
        for v in range(n_visitors):
            w.writerow([f"V{v:05d}", rng.choice(COUNTRIES), rng.choice(["0", "1", "0"])])
    with open(os.path.join(folder, "sessions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["session_id", "visitor_id", "pages", "duration_s", "tags", "purchased"])
        for i in range(rows):
            if rng.random() < 0.08:
                vid = f"V{rng.randint(n_visitors, n_visitors + 50):05d}"   # cookie from another shop
            else:
                vid = f"V{rng.randint(0, n_visitors - 1):05d}"
                if rng.random() < 0.1:
                    vid = " " + vid
            pages = rng.choice([0, 1, 1, 2, 3, 4, 5, 8, 12])
            duration = int(pages * rng.uniform(10, 90))
            tags = rng.sample(TAGS, rng.randint(0, 3))
            tags = [t.upper() if rng.random() < 0.1 else t for t in tags]
            tag_s = "|".join(tags)
            if tags and rng.random() < 0.1:
                tag_s += "|"
            p = 0.08 + 0.04 * pages + (0.2 if "sale" in tags else 0.0)
            w.writerow([f"S{i + 1:06d}", vid, pages, duration, tag_s, int(rng.random() < p)])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
