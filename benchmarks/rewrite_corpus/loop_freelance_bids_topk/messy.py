# which of the shortlisted bids wins?  the client UI only shows the 3 cheapest bids,
# so we model the shortlist only
import csv
import os
from collections import defaultdict

import numpy as np
from sklearn.tree import DecisionTreeClassifier

SHORTLIST = 3

projects = {}
with open("data/projects.csv") as f:
    for i, line in enumerate(f):
        if i == 0:
            continue
        parts = line.strip().split(",")
        project_id, category, budget, client_country = parts
        if not budget.isdigit():
            continue
        projects[project_id] = (category, float(budget))

freelancers = {}
with open("data/freelancers.csv") as f:
    for i, line in enumerate(f):
        if i == 0:
            continue
        parts = line.strip().split(",")
        fid, rating, jobs, country = parts
        freelancers[fid] = (float(rating) if rating else None, int(jobs))

bids_by_project = defaultdict(list)
with open("data/bids.csv") as f:
    for i, line in enumerate(f):
        if i == 0:
            continue
        parts = line.strip().split(",")
        bid_id, project_id, fid, amount, days, accepted = parts
        if project_id not in projects:
            continue
        try:
            amount = float(amount)
        except ValueError:
            continue
        bids_by_project[project_id].append((amount, bid_id, fid, int(days), int(accepted)))

rows = []
for project_id in bids_by_project:
    bids = bids_by_project[project_id]
    category, budget = projects[project_id]
    n_bids = len(bids)
    mean_bid = sum(b[0] for b in bids) / n_bids
    shortlist = sorted(bids)[:SHORTLIST]
    for rank, (amount, bid_id, fid, days, accepted) in enumerate(shortlist, start=1):
        rating, jobs = freelancers.get(fid, (None, 0))
        if rating is None:
            rating = 3.0
        rows.append([bid_id, project_id, category, rank, n_bids, amount / budget, amount / mean_bid, days, rating,
                     jobs, accepted])

print(len(rows), "shortlisted bids from", len(bids_by_project), "projects")

os.makedirs("out", exist_ok=True)
with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["bid_id", "project_id", "category", "rank", "n_bids", "budget_ratio", "vs_mean_bid", "delivery_days",
                "rating", "jobs", "accepted"])
    for r in rows:
        w.writerow(r)

cats = []
for r in rows:
    if r[2] not in cats:
        cats.append(r[2])
cat_pos = dict((c, k) for k, c in enumerate(cats))
onehot = np.zeros((len(rows), len(cats)))
for k, r in enumerate(rows):
    onehot[k][cat_pos[r[2]]] = 1.0

days = np.array([r[7] for r in rows], dtype=float)
jobs = np.array([r[9] for r in rows], dtype=float)
days_mm = (days - days.min()) / (days.max() - days.min())
jobs_mm = (jobs - jobs.min()) / (jobs.max() - jobs.min())
X = np.hstack([np.array([[r[3], r[4], r[5], r[6], r[8]] for r in rows], dtype=float),
               days_mm.reshape(-1, 1), jobs_mm.reshape(-1, 1), onehot])
y = np.array([r[10] for r in rows])
np.save("out/X.npy", X)
np.save("out/y.npy", y)

model = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
model.fit(X, y)
print("win rate in shortlist %.3f, train acc %.3f" % (y.mean(), model.score(X, y)))
