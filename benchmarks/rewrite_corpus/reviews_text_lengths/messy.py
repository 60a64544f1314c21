import csv
import os

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)

ids, apps, texts, n_chars, n_words, votes, labels = [], [], [], [], [], [], []

with open("data/reviews.csv", encoding="utf-8") as fh:
    for rec in csv.DictReader(fh):
        if rec["lang"].lower() != "en":
            continue
        text = rec["review_text"].strip()
        if not text:
            continue
        ids.append(rec["review_id"])
        apps.append(rec["app"])
        texts.append(text)
        n_chars.append(len(text))
        n_words.append(len(text.split()))
        votes.append(int(rec["helpful_votes"]))
        if int(rec["rating"]) >= 4:
            labels.append(1)
        else:
            labels.append(0)

print(len(ids), "english reviews")
pd.DataFrame({"review_id": ids, "app": apps, "text": texts, "n_chars": n_chars,
              "n_words": n_words, "helpful_votes": votes, "positive": labels}).to_csv("out/prepared.csv", index=False)

X = np.column_stack([n_chars, n_words, votes]).astype(float)
y = np.array(labels)
np.save("out/X.npy", X)
np.save("out/y.npy", y)
