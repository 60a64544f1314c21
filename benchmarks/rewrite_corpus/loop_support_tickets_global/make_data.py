"""Helpdesk tickets (with later versions of updated tickets appended), agents and teams.

Usage: python make_data.py DIR ROWS (ROWS ticket lines)
"""
import csv
import os
import random
import sys
from datetime import datetime, timedelta

TAGS = ["billing", "urgent", "refund", "login", "bug", "feature", "invoice", "outage"]


def main(folder, rows):
    rng = random.Random(2718)
    os.makedirs(folder, exist_ok=True)
    teams = [("T1", "emea", "L1"), ("T2", "emea", "L2"), ("T3", "amer", "L1"), ("T4", "apac", "L2")]
    with open(os.path.join(folder, "teams.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["team_code", "region", "level"])
        w.writerows(teams)
    n_agents = max(6, rows // 40)
    agent_team = {}
    with open(os.path.join(folder, "agents.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["agent_id", "name", "team_code"])
        for a in range(n_agents):
            team = rng.choice(["T1", "T2", "T3", "T4", "T1", "T9"])   # T9 was dissolved
            agent_team[a] = team
            w.writerow([f"ag{a:03d}", f"Agent {a}", team])
    lines = []
    pending = []
    start = datetime(2023, 10, 1)
    tid = 0
    while len(lines) < rows:
        tid += 1
        opened = start + timedelta(seconds=rng.randint(0, 3600 * 24 * 400))
        agent = "" if rng.random() < 0.06 else f"ag{rng.randint(0, n_agents - 1):03d}"
        plan = rng.choice(["free", "free", "pro", "pro", "enterprise", "Pro", "legacy"])
        status = rng.choice(["closed", "closed", "closed", "open", "spam", "merged", "closed"])
        resp = rng.expovariate(1 / 6.0)
        resp_s = f"{resp:.1f}" if rng.random() > 0.05 else rng.choice(["", "n/a"])
        tags = rng.sample(TAGS, rng.randint(0, 3))
        level = "L1" if agent and agent_team[int(agent[2:])] in ("T1", "T3") else "L2"
        p = 0.1 + 0.02 * min(resp, 20) + (0.25 if "urgent" in tags or "outage" in tags else 0) \
            + (0.1 if level == "L1" else 0) + (0.1 if plan == "enterprise" else 0)
        escalated = "yes" if rng.random() < p else "no"
        row = [f"TK{tid:06d}", plan, agent, opened.strftime("%Y-%m-%dT%H:%M:%S"), status, resp_s, "|".join(tags),
               escalated]
        lines.append(row)
        for due, upd in [p for p in pending if p[0] <= tid]:
            lines.append(upd)
        pending = [p for p in pending if p[0] > tid]
        if rng.random() < 0.12:
            # the ticket got updated later: the export appends the new version a few tickets on
            upd = list(row)
            upd[4] = "closed"
            upd[7] = "yes" if rng.random() < 0.5 else upd[7]
            pending.append((tid + rng.randint(1, 4), upd))
    with open(os.path.join(folder, "tickets.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket_id", "customer_plan", "agent_id", "opened_at", "status", "first_response_h", "tags",
                    "escalated"])
        w.writerows(lines[:rows])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
