"""Product reviews (star rating + free text) and the product catalogue.

Usage: python make_data.py DIR ROWS   (ROWS reviews, ~ROWS/10 products)
"""
import os
import sys

import numpy as np
import pandas as pd

GOOD = ["works great", "love it", "excellent quality", "fast delivery", "would buy again", "very happy",
        "does the job", "great value for money", "my kids love it", "perfect fit"]
BAD = ["stopped working after a week", "cheap plastic", "arrived broken", "waste of money", "returned it",
       "does not fit", "terrible customer service", "battery dies fast", "smells weird", "not as described"]
NEUTRAL = ["ok I guess", "as expected", "the box was", "bought this for my", "it is", "color is",
           "second one I bought", "size runs", "instructions", "delivery took"]
CATEGORIES = ["Electronics", "Home & Kitchen", "Toys", "Sports", "Beauty"]


def main(folder, rows):
    rng = np.random.default_rng(8080)
    os.makedirs(folder, exist_ok=True)
    n_products = max(6, rows // 10)
    product_ids = [f"P{i:05d}" for i in range(n_products)]
    category = rng.choice(CATEGORIES, n_products)
    quality = rng.normal(0, 1, n_products)
    products = pd.DataFrame({
        "product_id": product_ids,
        "title": [f"{c.split()[0]} item {i}" for i, c in enumerate(category)],
        "category": category,
        "price": np.round(rng.lognormal(3.2, 0.8, n_products), 2),
    })
    products.to_csv(os.path.join(folder, "products.csv"), index=False)

    idx = rng.integers(0, n_products + max(2, n_products // 8), rows)  # some reviews of delisted products
    pid = [product_ids[i] if i < n_products else f"P9{i:04d}" for i in idx]
    q = np.array([quality[i] if i < n_products else 0.0 for i in idx])
    stars = np.clip(np.round(3.4 + 1.2 * q + rng.normal(0, 1.2, rows)), 1, 5).astype(int)
    texts = []
    for s in stars:
        k = int(rng.integers(1, 4))
        pool = GOOD if s >= 4 else BAD if s <= 2 else NEUTRAL
        words = [pool[j] for j in rng.integers(0, len(pool), k)] + [NEUTRAL[j] for j in rng.integers(0, 10, 1)]
        rng.shuffle(words)
        text = ". ".join(words).capitalize() + ("!" * int(rng.integers(0, 3)))
        if rng.random() < 0.1:
            text = "  " + text.upper() + " "
        if rng.random() < 0.04:
            text = ""
        texts.append(text)
    pd.DataFrame({
        "review_id": np.arange(rows) + 1,
        "product_id": pid,
        "stars": stars,
        "review_text": texts,
        "verified_purchase": rng.choice(["Y", "N"], rows, p=[0.8, 0.2]),
        "helpful_votes": rng.poisson(1.5, rows),
    }).to_csv(os.path.join(folder, "reviews.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
