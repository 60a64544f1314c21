"""Loyalty-card customers, the product catalogue and order lines.

Usage: python make_data.py DIR ROWS (ROWS order lines)
"""
import csv
import os
import random
import sys

CATEGORIES = ["grocery", "drinks", "household", "electronics", "toys", "gift card"]


def main(folder, rows):
    rng = random.Random(55)
    os.makedirs(folder, exist_ok=True)
    n_customers = max(8, rows // 8)
    n_products = max(12, rows // 20)
    with open(os.path.join(folder, "customers.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["card_no", "tier", "joined"])
        for c in range(n_customers):
            w.writerow([100000 + c, rng.choice(["bronze", "silver", "gold"]), rng.randint(2010, 2024)])
    with open(os.path.join(folder, "products.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "product_name", "category", "unit_price"])
        for p in range(n_products):
            cat = CATEGORIES[p % len(CATEGORIES)]
            w.writerow([f"SKU{p:05d}", f"Item {p}, {cat}", cat, round(rng.uniform(0.5, 120), 2)])
    with open(os.path.join(folder, "order_lines.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["line_id", "card_no", "sku", "quantity"])
        for i in range(rows):
            card = 100000 + rng.randint(0, n_customers - 1) if rng.random() > 0.1 else ""  # no card shown
            sku = f"SKU{rng.randint(0, n_products + 2):05d}"  # a few delisted products
            qty = rng.choice([1, 1, 1, 2, 2, 3, 5, 0, -1])
            w.writerow([i + 1, card, sku, qty])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
