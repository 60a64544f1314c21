"""App-store reviews (texts contain commas and quotes). Usage: python make_data.py DIR ROWS"""
import csv
import os
import random
import sys

OPENERS = ["I really like this app", "Terrible update", "Works fine, mostly", "Crashes every time I open it",
           "Great value for money", "Not sure what changed", "Five stars", "Meh"]
DETAILS = ["the new layout is confusing", "support answered quickly", "battery drain is awful",
           "sync works, finally", "ads everywhere", "dark mode is \"nice\"", "login keeps failing"]


def main(folder, rows):
    rng = random.Random(3)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "reviews.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["review_id", "app", "lang", "rating", "helpful_votes", "review_text"])
        for i in range(rows):
            parts = [rng.choice(OPENERS)] + [rng.choice(DETAILS) for _ in range(rng.randint(0, 3))]
            text = ", ".join(parts) + rng.choice([".", "!", "!!", ""])
            if rng.random() < 0.05:
                text = "   "
            lang = rng.choice(["en", "en", "en", "de", "EN", "fr"])
            w.writerow([f"r{i:06d}", rng.choice(["notes", "maps", "bank", "chat"]), lang, rng.randint(1, 5),
                        rng.randint(0, 40), text])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
