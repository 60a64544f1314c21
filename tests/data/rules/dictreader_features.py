import csv
import os
from datetime import datetime

import numpy as np
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)


def clean(text):
    # collapse blanks, as the CRM does
    return " ".join(text.split()).lower()


rows = []
with open("data/tickets.csv", newline="") as f:
    for t in csv.DictReader(f):
        if datetime.strptime(t["opened"], "%Y-%m-%d").year < 2021:
            continue
        if t["channel"] not in ("mail", "phone", "chat"):
            continue
        try:
            minutes = int(t["minutes"])
        except ValueError:
            continue
        if minutes > 300:
            grade = "long"
        elif minutes > 60:
            grade = "medium"
        else:
            grade = "short"
        rows.append({"ticket": t["ticket_id"], "channel": t["channel"], "text": clean(t["text"]),
                     "minutes": minutes, "grade": grade, "escalated": t["escalated"] == "yes"})

with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["ticket", "channel", "text", "minutes", "grade", "escalated"])
    for r in rows:
        w.writerow([r["ticket"], r["channel"], r["text"], r["minutes"], r["grade"], r["escalated"]])

channels = sorted(set(r["channel"] for r in rows))
channel_index = {c: i for i, c in enumerate(channels)}
X = np.zeros((len(rows), len(channels) + 3))
words = np.array([len(r["text"].split()) for r in rows], dtype=float)
words = (words - words.mean()) / words.std()
minutes = np.array([r["minutes"] for r in rows], dtype=float)
minutes = (minutes - minutes.min()) / (minutes.max() - minutes.min())
for i, r in enumerate(rows):
    X[i, channel_index[r["channel"]]] = 1.0
    X[i, len(channels)] = words[i]
    X[i, len(channels) + 1] = minutes[i]
    X[i, len(channels) + 2] = len(r["text"])
y = np.array([1 if r["escalated"] else 0 for r in rows])
np.save("out/X.npy", X)
np.save("out/y.npy", y)
model = LogisticRegression(C=0.5, max_iter=300)
model.fit(X, y)
