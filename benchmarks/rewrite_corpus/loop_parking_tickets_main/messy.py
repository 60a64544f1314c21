"""Which parking fines get paid late? quick model for the enforcement office"""
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

DATA = "data"
LATE_DAYS = 14


def load(path):
    rows = []
    with open(path) as f:
        header = next(f)
        for line in f:
            ticket_no, plate, zone, hour, amount, days = line.strip().split(",")
            rows.append({"ticket": ticket_no, "plate": plate, "zone": zone, "hour": hour, "amount": amount,
                         "days": days})
    return rows


def clean(rows):
    good = []
    for r in rows:
        if r["plate"].strip() == "":
            continue
        if r["days"] == "":      # not paid yet, we don't know
            continue
        zone = r["zone"].strip().upper()
        if zone not in ("A", "B", "C"):
            continue
        amount = float(r["amount"].replace("EUR", "").strip())
        good.append((zone, int(r["hour"]), amount, int(r["days"])))
    return good


def build_features(good):
    hour = np.array([g[1] for g in good], dtype=float)
    amount = np.array([g[2] for g in good])
    hour_z = (hour - hour.mean()) / hour.std()
    amount_z = (amount - amount.mean()) / amount.std()
    evening = np.array([1.0 if g[1] >= 19 else 0.0 for g in good])
    X = np.column_stack([hour_z, amount_z, evening])
    y = np.array([1 if g[3] > LATE_DAYS else 0 for g in good])
    return X, y


def main():
    rows = load(os.path.join(DATA, "tickets.csv"))
    good = clean(rows)
    print(f"{len(good)} usable tickets out of {len(rows)}")
    X, y = build_features(good)
    clf = LogisticRegression()
    clf.fit(X, y)
    print("train accuracy", clf.score(X, y))
    print("share late", y.mean())


if __name__ == "__main__":
    main()
