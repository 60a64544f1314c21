"""Library circulation export: one line per loan, with repeated lines from the nightly sync.

Usage: python make_data.py DIR ROWS
"""
import os
import random
import sys

NAMES = ["anna de vries", "  Bram Jansen", "CHLOE BAKKER", "daan visser ", "Emma Smit", "fleur meijer",
         "Gijs de Boer", "hana mulder", "Ivo Bos", "JULIA VOS"]
BRANCHES = ["Centrum", "Noord", "Oost", "west", "Zuid "]


def main(folder, rows):
    rng = random.Random(31)
    os.makedirs(folder, exist_ok=True)
    lines = []
    loan_id = 5000
    while len(lines) < rows:
        loan_id += 1
        member = rng.choice(NAMES)
        isbn = "978" + "".join(str(rng.randint(0, 9)) for _ in range(10))
        branch = rng.choice(BRANCHES)
        days = rng.choice([3, 7, 10, 14, 14, 21, 21, 25, 30, 42, 60])
        fine = max(0.0, (days - 21) * 0.25)
        fine_s = f"{fine:.2f}"
        u = rng.random()
        if u < 0.04:
            fine_s = "waived?"
        elif u < 0.07:
            fine_s = ""
        days_s = str(days) if rng.random() > 0.03 else "?"
        line = f"{loan_id},{member},{isbn},{branch},{days_s},{fine_s}"
        lines.append(line)
        if rng.random() < 0.08:
            lines.append(line)  # the sync writes some loans twice
        if rng.random() < 0.02:
            lines.append(f"{loan_id + 100000},{member}")  # cut-off line
    with open(os.path.join(folder, "loans_export.csv"), "w") as f:
        f.write("loan_id,member_name,isbn,branch,days_out,fine_eur\n")
        for line in lines[:rows]:
            f.write(line + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
