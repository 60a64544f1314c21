# escalation drivers -- helpdesk export, agent list, team list
import csv
from collections import Counter
from datetime import datetime

import numpy as np
from sklearn.tree import DecisionTreeClassifier

TICKETS = []
PLANS = ["free", "pro", "enterprise"]
HOT_TAGS = ["urgent", "outage", "refund"]


def read_tickets(path):
    with open(path, newline="") as f:
        for rec in csv.DictReader(f):
            TICKETS.append(rec)


def load_lookup(path, key, value):
    d = {}
    with open(path, newline="") as f:
        for rec in csv.DictReader(f):
            d[rec[key]] = rec[value]
    return d


def to_float(s):
    try:
        return float(s)
    except ValueError:
        return None


read_tickets("data/tickets.csv")
agent_team = load_lookup("data/agents.csv", "agent_id", "team_code")
team_level = load_lookup("data/teams.csv", "team_code", "level")
team_region = load_lookup("data/teams.csv", "team_code", "region")
print(len(TICKETS), "ticket lines")

# updated tickets are appended again at the end of the export -> the last version wins
latest = {}
for t in TICKETS:
    latest[t["ticket_id"]] = t
tickets = list(latest.values())
print(len(tickets), "distinct tickets")

# average response time over the whole export (before we drop spam etc.), used as the yardstick
resp_all = [to_float(t["first_response_h"]) for t in tickets]
resp_all = [r for r in resp_all if r is not None]
avg_resp = sum(resp_all) / len(resp_all)

rows = []
for t in tickets:
    if t["status"] in ("spam", "merged"):
        continue
    opened = datetime.strptime(t["opened_at"], "%Y-%m-%dT%H:%M:%S")
    if opened.year < 2024:      # old ticket system, different SLA
        continue
    resp = to_float(t["first_response_h"])
    if resp is None:
        continue
    if t["agent_id"] not in agent_team:   # unassigned
        continue
    team = agent_team[t["agent_id"]]
    level = team_level.get(team, "L1")
    region = team_region.get(team, "unknown")
    tags = [x for x in t["tags"].split("|") if x]
    rows.append({
        "id": t["ticket_id"],
        "plan": t["customer_plan"].lower(),
        "level": level,
        "region": region,
        "resp_rel": resp / avg_resp,
        "hour": opened.hour,
        "weekend": 1 if opened.weekday() >= 5 else 0,
        "tags": tags,
        "y": 1 if t["escalated"] == "yes" else 0,
    })

tag_freq = Counter()
for r in rows:
    for tg in r["tags"]:
        tag_freq[tg] += 1
print("tags:", tag_freq.most_common(5))

regions = sorted(set(r["region"] for r in rows))
reg_ix = {g: i for i, g in enumerate(regions)}

n = len(rows)
X = np.zeros((n, 6 + len(HOT_TAGS) + len(PLANS) + len(regions)))
y = np.zeros(n, dtype=int)
for i, r in enumerate(rows):
    X[i, 0] = r["resp_rel"]
    X[i, 1] = r["hour"]
    X[i, 2] = r["weekend"]
    X[i, 3] = len(r["tags"])
    X[i, 4] = 1 if r["level"] == "L1" else 0
    X[i, 5] = sum(tag_freq[tg] for tg in r["tags"]) / n    # how common the ticket's tags are
    for j, h in enumerate(HOT_TAGS):
        if h in r["tags"]:
            X[i, 6 + j] = 1
    if r["plan"] in PLANS:
        X[i, 6 + len(HOT_TAGS) + PLANS.index(r["plan"])] = 1
    X[i, 6 + len(HOT_TAGS) + len(PLANS) + reg_ix[r["region"]]] = 1
    y[i] = r["y"]

dt = DecisionTreeClassifier(max_depth=5, random_state=1)
dt.fit(X, y)
print(n, "tickets, escalation rate", round(y.mean(), 3), "train acc", round(dt.score(X, y), 3))
