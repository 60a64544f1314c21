# fraud model v0 -- first try, features from the account master + the amount
import csv
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)
DEBUG = False


def load_blacklist(path):
    # TODO: merchant blacklist from compliance, not wired in yet
    with open(path) as fh:
        return {l.strip() for l in fh}


accounts = {}
f = open("data/accounts.csv")
next(f)
for line in f:
    account_id, owner_initials, account_type, opened_year, branch = line.strip().split(",")
    accounts[account_id] = {"type": account_type.strip().lower(), "opened": int(opened_year), "branch": branch}
f.close()

rows = []
for t in csv.DictReader(open("data/transactions.csv")):
    acc = t["account_id"].strip()
    if acc not in accounts:
        continue  # closed accounts
    amount = float(t["amount"])
    if amount <= 0:
        continue  # refunds are handled elsewhere
    a = accounts[acc]
    rows.append([t["txn_id"], acc, a["type"], a["opened"], t["merchant_category"], amount, int(t["is_fraud"])])
print(len(rows), "transactions matched")
if DEBUG:
    for r in rows[:10]:
        print(r)

with open("out/prepared.csv", "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["txn_id", "account_id", "account_type", "opened_year", "merchant_category", "amount", "is_fraud"])
    w.writerows(rows)

types = sorted({r[2] for r in rows})
type_idx = {t: i for i, t in enumerate(types)}
X_type = np.zeros((len(rows), len(types)))
for i, r in enumerate(rows):
    X_type[i, type_idx[r[2]]] = 1.0

amounts = np.array([r[5] for r in rows])
mu, sd = amounts.mean(), amounts.std()
X_amount = ((amounts - mu) / sd).reshape(-1, 1)

X = np.hstack([X_type, X_amount])
y = []
for r in rows:
    y.append(r[6])
y = np.array(y)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

clf = LogisticRegression()
clf.fit(X, y)
print("coef", clf.coef_.round(3))
