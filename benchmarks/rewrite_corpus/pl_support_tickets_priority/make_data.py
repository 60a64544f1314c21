"""Helpdesk tickets (subject, body, priority set by the agent) and the customer accounts.

Usage: python make_data.py DIR ROWS   (ROWS tickets, ~ROWS/5 accounts)
"""
import os
import sys

import numpy as np
import pandas as pd

HIGH = ["production is down", "cannot log in", "data loss", "outage", "payment failed", "urgent", "security breach"]
MEDIUM = ["slow dashboard", "export broken", "wrong invoice", "sync delayed", "error message", "api timeout"]
LOW = ["feature request", "how do I", "change my email", "typo on page", "question about plan", "dark mode"]
FILLER = ["hello team", "thanks", "see attached", "since yesterday", "for our users", "please advise",
          "we noticed", "after the update", "regards", "any news"]


def main(folder, rows):
    rng = np.random.default_rng(1212)
    os.makedirs(folder, exist_ok=True)
    n_accounts = max(8, rows // 5)
    acc_ids = [f"ACC{i:05d}" for i in range(n_accounts)]
    pd.DataFrame({
        "account_id": acc_ids,
        "company": [f"Company {i}" for i in range(n_accounts)],
        "tier": rng.choice(["free", "pro", "enterprise"], n_accounts, p=[0.5, 0.35, 0.15]),
        "seats": rng.integers(1, 500, n_accounts),
        "region": rng.choice(["EMEA", "AMER", "APAC"], n_accounts),
    }).to_csv(os.path.join(folder, "accounts.csv"), index=False)

    prio = rng.choice(["low", "medium", "high"], rows, p=[0.4, 0.35, 0.25])
    subjects, bodies = [], []
    for p in prio:
        pool = {"high": HIGH, "medium": MEDIUM, "low": LOW}[p]
        other = [HIGH, MEDIUM, LOW][rng.integers(3)]
        subj = pool[rng.integers(len(pool))]
        words = [pool[rng.integers(len(pool))], other[rng.integers(len(other))]] + \
                [FILLER[j] for j in rng.integers(0, len(FILLER), rng.integers(1, 5))]
        rng.shuffle(words)
        body = " ".join(words) + ("!!" if p == "high" and rng.random() < 0.5 else ".")
        subjects.append(subj.title() if rng.random() < 0.5 else subj.upper())
        bodies.append(body if rng.random() > 0.03 else "")
    accounts = rng.choice(acc_ids + ["ACC99999", " acc00001"], rows)
    df = pd.DataFrame({
        "ticket_id": np.arange(rows) + 7000,
        "account_id": accounts,
        "created": (pd.Timestamp("2024-02-01") + pd.to_timedelta(rng.integers(0, 90 * 24, rows), unit="h"))
        .strftime("%Y-%m-%d %H:%M"),
        "channel": rng.choice(["email", "chat", "phone", "web"], rows),
        "language": rng.choice(["en", "en", "en", "de", "fr", "EN"], rows),
        "category": rng.choice(["billing", "technical", "account", "spam"], rows, p=[0.3, 0.45, 0.2, 0.05]),
        "subject": subjects,
        "body": bodies,
        "priority": np.where(rng.random(rows) < 0.05, [p.capitalize() for p in prio], prio),
    })
    df.to_csv(os.path.join(folder, "tickets.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
