# predict the final mark from the exam + how the student did relative to the class
# (the export column order keeps changing so look the columns up by name)
import math

import numpy as np
from sklearn.linear_model import Ridge

register = {}
for line in open("data/classes.csv").read().splitlines()[1:]:
    code, school, mentor, year_level = line.split(",")
    register[code.lower()] = int(year_level)

lines = open("data/exam_results.csv").read().splitlines()
header = lines[0].split(",")
i_cls = header.index("class_code")
i_subj = header.index("subject")
i_att = header.index("attempt")
i_max = header.index("max_score")
i_score = header.index("score")
i_final = header.index("final_mark")

rows = []
for line in lines[1:]:
    p = line.split(",")
    if p[i_att] != "1":          # resits are graded differently
        continue
    if p[i_score] == "abs" or p[i_final] == "":
        continue
    cls = p[i_cls].lower()
    if cls not in register:
        continue
    pct = float(p[i_score]) / float(p[i_max])
    rows.append({"cls": cls, "subject": p[i_subj], "pct": pct, "level": register[cls],
                 "final": float(p[i_final])})

# per-class stats
stats = {}
for r in rows:
    k = r["cls"]
    if k not in stats:
        stats[k] = {"n": 0, "total": 0.0, "sq": 0.0}
    stats[k]["n"] += 1
    stats[k]["total"] += r["pct"]
    stats[k]["sq"] += r["pct"] ** 2
for k in stats:
    s = stats[k]
    s["mean"] = s["total"] / s["n"]
    var = s["sq"] / s["n"] - s["mean"] ** 2
    s["std"] = math.sqrt(var) if var > 1e-12 else 1.0

for r in rows:
    s = stats[r["cls"]]
    r["class_mean"] = s["mean"]
    r["rel"] = (r["pct"] - s["mean"]) / s["std"]
    r["class_size"] = s["n"]

subjects = sorted(set(r["subject"] for r in rows))
S = np.zeros((len(rows), len(subjects)))
for i, r in enumerate(rows):
    S[i, subjects.index(r["subject"])] = 1.0

X = np.column_stack([
    [r["pct"] for r in rows],
    [r["rel"] for r in rows],
    [r["class_mean"] for r in rows],
    [r["level"] for r in rows],
    S,
])
y = np.array([r["final"] for r in rows])

model = Ridge(alpha=0.5)
model.fit(X, y)
print("n =", len(y), " R2 =", round(model.score(X, y), 3))
# print(dict(zip(["pct", "rel", "class_mean", "level"] + subjects, model.coef_.round(2))))
