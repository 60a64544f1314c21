import os

os.makedirs("out", exist_ok=True)
rows = []
with open("data/values.csv") as f:
    next(f)
    line = f.readline()
    while line:
        key, value = line.strip().split(",")
        rows.append((key, int(value) * 2))
        line = f.readline()
with open("out/prepared.csv", "w") as out:
    out.write("key,double\n")
    for key, value in rows:
        out.write(f"{key},{value}\n")
