import csv
import os
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

RED_FLAGS = ["inconsistent", "cash", "story changed", "second claim", "missing"]


def has_red_flag(note):
    n = note.lower()
    return any(flag in n for flag in RED_FLAGS)


# aggregate the adjuster notes per claim (automatic "system" notes don't count)
note_count, note_words, red_flags = {}, {}, {}
with open("data/adjuster_notes.csv", newline="") as f:
    reader = csv.reader(f)
    next(reader)
    for note_id, claim_id, author, note in reader:
        if author == "system":
            continue
        note_count[claim_id] = note_count.get(claim_id, 0) + 1
        note_words[claim_id] = note_words.get(claim_id, 0) + len(note.split())
        if has_red_flag(note):
            red_flags[claim_id] = red_flags.get(claim_id, 0) + 1

policies = {}
with open("data/policies.csv", newline="") as f:
    for p in csv.DictReader(f):
        policies[p["policy_id"]] = (p["property_type"], int(p["sum_insured"]), p["channel"].strip().lower())

rows = []
with open("data/claims.csv", newline="") as f:
    for c in csv.DictReader(f):
        reported = datetime.strptime(c["reported"], "%d.%m.%Y")
        if reported.year != 2023:
            continue
        if c["policy_id"] not in policies:
            continue
        prop, sum_insured, channel = policies[c["policy_id"]]
        cid = c["claim_id"]
        rows.append((cid, c["peril"], prop, channel, float(c["amount"]), float(c["amount"]) / sum_insured,
                     note_count.get(cid, 0), note_words.get(cid, 0), red_flags.get(cid, 0), int(c["fraud"])))

df = pd.DataFrame(rows, columns=["claim_id", "peril", "property_type", "channel", "amount", "loss_ratio",
                                 "n_notes", "note_words", "red_flags", "fraud"])
df.to_csv("out/prepared.csv", index=False)
print(df[["n_notes", "red_flags", "fraud"]].corr())

channel_index = {}
for ch in df["channel"]:
    if ch not in channel_index:
        channel_index[ch] = len(channel_index)
CH = np.zeros((len(df), len(channel_index)))
for i, ch in enumerate(df["channel"]):
    CH[i, channel_index[ch]] = 1.0

perils = sorted(df["peril"].unique())
PE = np.zeros((len(df), len(perils)))
for i, p in enumerate(df["peril"]):
    PE[i, perils.index(p)] = 1.0

amount = df["amount"].to_numpy()
X = np.concatenate([
    CH, PE,
    ((amount - amount.mean()) / amount.std()).reshape(-1, 1),
    df[["loss_ratio", "n_notes", "note_words", "red_flags"]].to_numpy(dtype=float),
], axis=1)
y = df["fraud"].to_numpy()
np.save("out/X.npy", X)
np.save("out/y.npy", y)

LogisticRegression(max_iter=2000).fit(X, y)
