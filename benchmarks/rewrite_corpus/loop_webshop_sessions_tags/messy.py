import csv
import os
from collections import Counter

import numpy as np
from sklearn.tree import DecisionTreeClassifier

# ---- visitors
visitors = {}
with open("data/visitors.csv", newline="") as f:
    rd = csv.reader(f)
    header = next(rd)
    for row in rd:
        vid, country, newsletter = row
        visitors[vid.strip()] = (country.strip().upper(), int(newsletter))
print(len(visitors), "visitors")

# ---- sessions
sessions = []
tag_counts = Counter()
durations_by_visitor = {}
with open("data/sessions.csv", newline="") as f:
    rd = csv.reader(f)
    next(rd)
    for row in rd:
        sid, vid, pages, duration, tags, bought = row
        vid = vid.strip()
        if vid not in visitors:
            continue
        if int(pages) == 0:   # bounced before the first page loaded
            continue
        tag_list = [t.strip().lower() for t in tags.split("|") if t.strip() != ""]
        for t in tag_list:
            tag_counts[t] += 1
        durations_by_visitor.setdefault(vid, []).append(int(duration))
        sessions.append((sid, vid, int(pages), int(duration), tag_list, int(bought)))

print(tag_counts.most_common())
top_tags = [t for t, c in tag_counts.most_common(5)]

countries = []
for s in sessions:
    c = visitors[s[1]][0]
    if c not in countries:
        countries.append(c)

table = []
for sid, vid, pages, duration, tag_list, bought in sessions:
    country, newsletter = visitors[vid]
    n_visits = len(durations_by_visitor[vid])
    avg_dur = sum(durations_by_visitor[vid]) / n_visits
    tag_flags = [1 if t in tag_list else 0 for t in top_tags]
    table.append([sid, vid, country, newsletter, pages, duration, n_visits, avg_dur, len(tag_list)] + tag_flags
                 + [bought])

os.makedirs("out", exist_ok=True)
with open("out/prepared.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["session_id", "visitor_id", "country", "newsletter", "pages", "duration_s", "visitor_sessions",
                "visitor_avg_duration", "n_tags"] + ["tag_" + t for t in top_tags] + ["purchased"])
    w.writerows(table)

onehot = np.zeros((len(table), len(countries)))
for i, r in enumerate(table):
    onehot[i, countries.index(r[2])] = 1

nums = np.array([r[3:-1] for r in table], dtype=float)
X = np.hstack([nums, onehot])
y = np.array([r[-1] for r in table])
np.save("out/X.npy", X)
np.save("out/y.npy", y)

tree = DecisionTreeClassifier(max_depth=4, random_state=0)
tree.fit(X, y)
print("tree acc on train:", tree.score(X, y))
