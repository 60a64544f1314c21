"""Marketplace reviews with the product list and reviewer accounts.

Usage: python make_data.py DIR ROWS (ROWS reviews)
"""
import csv
import os
import random
import sys

PHRASES = ["arrived late", "works as described", "too expensive for what it is", "great price",
           "broke after a week", "my kids love it", "cheap plastic", "would buy again", "returned it",
           "customer service never answered", "five stars", "the price dropped the day after"]


def main(folder, rows):
    rng = random.Random(808)
    os.makedirs(folder, exist_ok=True)
    n_products = max(5, rows // 40)
    with open(os.path.join(folder, "products.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "title", "department", "list_price"])
        for p in range(n_products):
            w.writerow([f"P-{p:04d}", f"Product {p}", rng.choice(["home", "toys", "garden", "kitchen"]),
                        round(rng.uniform(5, 300), 2)])
    n_users = max(20, rows // 5)
    with open(os.path.join(folder, "users.csv"), "w") as f:
        f.write("user_id;country;verified\n")
        for u in range(n_users):
            f.write(f"u{u};{rng.choice(['DE', 'AT', 'CH', 'PL'])};{rng.choice(['true', 'true', 'false'])}\n")
    with open(os.path.join(folder, "reviews.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["review_id", "sku", "user_id", "created_at", "rating", "body"])
        for i in range(rows):
            words = [rng.choice(PHRASES) for _ in range(rng.randint(1, 4))]
            body = ", ".join(words) + rng.choice([".", "!", "!!!", ""])
            if rng.random() < 0.1:
                body = body.upper()
            w.writerow([i + 1, f"P-{rng.randint(0, n_products):04d}", f"u{rng.randint(0, n_users + n_users // 15)}",
                        f"{rng.choice([2022, 2023, 2024])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
                        rng.randint(1, 5), body])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
