import os

import numpy as np
from sklearn.naive_bayes import GaussianNB

os.makedirs("out", exist_ok=True)

students = {}
for line in open("data/students.csv").readlines()[1:]:
    sid, full_name, program, year, scholarship = line.strip().split(",")
    students[sid] = {"program": program, "year": int(year), "scholarship": scholarship == "yes"}

data = []
for line in open("data/enrollments.csv").readlines()[1:]:
    eid, sid, course, level, credits, grade = line.strip().split(",")
    course = course.upper()
    if not course.startswith(("CS", "MA")):
        continue
    if not grade:
        continue   # still running
    s = students.get(sid)
    if s is None:
        continue
    data.append((eid, sid, course, level, int(credits), int(grade), s["program"], s["year"], s["scholarship"]))

print("enrolments:", len(data))

f = open("out/prepared.csv", "w")
f.write("enrollment_id,student_id,course,level,credits,grade,program,year_of_study,scholarship\n")
for eid, sid, course, level, credits, grade, program, year, scholarship in data:
    f.write(f"{eid},{sid},{course},{level},{credits},{grade},{program},{year},{scholarship}\n")
f.close()

levels = sorted(set(d[3] for d in data))
li = dict(zip(levels, range(len(levels))))
L = np.zeros((len(data), len(levels)))
for r, d in enumerate(data):
    L[r, li[d[3]]] = 1

credits = np.array([d[4] for d in data], dtype=float)
credits = (credits - credits.min()) / (credits.max() - credits.min())
year = np.array([d[7] for d in data], dtype=float)

X = np.hstack((L, credits.reshape(-1, 1), year.reshape(-1, 1)))
grades = np.array([d[5] for d in data])
y = np.where(grades >= 50, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

nb = GaussianNB()
nb.fit(X, y)
print("class priors", nb.class_prior_.round(2))
