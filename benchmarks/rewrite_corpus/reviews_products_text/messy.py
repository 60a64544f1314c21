# negative-review detector, text features only + a couple of meta columns
import csv
import os
from datetime import datetime

import numpy as np
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

PRICE_WORDS = ["price", "expensive", "cheap"]


def mentions_price(text):
    t = text.lower()
    return int(any(w in t for w in PRICE_WORDS))


def clean(text):
    return " ".join(text.lower().replace("!", " ").split())


products = list(csv.DictReader(open("data/products.csv")))

users = {}
for line in open("data/users.csv"):
    user_id, country, verified = line.strip().split(";")
    if user_id == "user_id":
        continue
    users[user_id] = (country, verified == "true")

reader = csv.reader(open("data/reviews.csv"))
next(reader)
rows = []
for review_id, sku, user_id, created_at, rating, body in reader:
    created = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S")
    if created.year < 2023:
        continue
    if user_id not in users:
        continue
    country, verified = users[user_id]
    if not verified:
        continue
    for p in products:
        if p["sku"] == sku:
            text = clean(body)
            rows.append((review_id, sku, p["department"], float(p["list_price"]), country, text, len(text),
                         len(text.split()), body.count("!"), mentions_price(body), int(rating)))

print(len(rows), "verified reviews since 2023")
with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["review_id", "sku", "department", "list_price", "country", "text", "n_chars", "n_words",
                "n_exclaims", "mentions_price", "rating"])
    w.writerows(rows)

n_chars = np.array([r[6] for r in rows], dtype=float)
n_words = np.array([r[7] for r in rows], dtype=float)
n_excl = np.array([r[8] for r in rows], dtype=float)
price_flag = np.array([r[9] for r in rows], dtype=float)
price = np.array([r[3] for r in rows])

depts = sorted(set(r[2] for r in rows))
D = np.zeros((len(rows), len(depts)))
for i, r in enumerate(rows):
    D[i, depts.index(r[2])] = 1

X = np.column_stack([
    (n_chars - n_chars.mean()) / n_chars.std(),
    (n_words - n_words.mean()) / n_words.std(),
    n_excl,
    price_flag,
    (price - price.min()) / (price.max() - price.min()),
    D,
])
y = np.where(np.array([r[10] for r in rows]) <= 2, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

clf = LogisticRegression(max_iter=1000).fit(X, y)
print("negatives:", int(y.sum()), "acc:", round(clf.score(X, y), 3))
