import csv
import os


def parse_record(line):
    """one line of the circulation export -> tuple, or None if the line is junk"""
    fields = line.strip().split(",")
    if len(fields) != 6:
        return None
    loan_id, member, isbn, branch, days_out, fine = fields
    try:
        days_out = int(days_out)
    except ValueError:
        return None
    try:
        fine = float(fine)
    except ValueError:
        return None
    return (int(loan_id), member.strip().title(), isbn, branch.strip().lower(), days_out, fine)


lines = open("data/loans_export.csv").read().splitlines()
records = [parse_record(l) for l in lines[1:]]
print("unparseable:", sum(1 for r in records if r is None))
records = [r for r in records if r is not None]

# the sync job duplicates loans, keep the first one we see
seen = set()
loans = []
for r in records:
    if r[0] in seen:
        continue
    seen.add(r[0])
    loans.append(r)

os.makedirs("out", exist_ok=True)
with open("out/prepared.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["loan_id", "member", "branch", "days_out", "fine_eur", "overdue", "weeks_out"])
    for loan_id, member, isbn, branch, days_out, fine in loans:
        overdue = "yes" if days_out > 21 else "no"
        w.writerow([loan_id, member, branch, days_out, fine, overdue, round(days_out / 7, 1)])

print(len(loans), "loans written")
