"""Freelance marketplace: projects, freelancer profiles and the bids placed on projects.

Usage: python make_data.py DIR ROWS (ROWS bids)
"""
import os
import random
import sys

CATS = ["web", "mobile", "data", "design", "writing", "translation"]


def main(folder, rows):
    rng = random.Random(6061)
    os.makedirs(folder, exist_ok=True)
    n_projects = max(8, rows // 6)
    n_free = max(10, rows // 4)
    budgets = {}
    with open(os.path.join(folder, "projects.csv"), "w") as f:
        f.write("project_id,category,budget_usd,client_country\n")
        for p in range(n_projects):
            cat = rng.choice(CATS)
            budget = rng.choice([150, 300, 500, 800, 1200, 2500])
            budgets[p] = budget
            b = str(budget)
            u = rng.random()
            if u < 0.06:
                b = "negotiable"
            elif u < 0.09:
                b = ""
            f.write(f"PR{p:04d},{cat},{b},{rng.choice(['US', 'UK', 'DE', 'IN'])}\n")
    rating = {}
    with open(os.path.join(folder, "freelancers.csv"), "w") as f:
        f.write("freelancer_id,rating,completed_jobs,country\n")
        for fr in range(n_free):
            if rng.random() < 0.08:
                continue                     # deleted profiles
            rating[fr] = round(rng.uniform(2.5, 5.0), 1)
            r = str(rating[fr]) if rng.random() > 0.05 else ""   # new freelancer, no rating yet
            f.write(f"FL{fr:05d},{r},{rng.randint(0, 120)},{rng.choice(['PK', 'UA', 'PH', 'IN', 'RO'])}\n")
    bids = []
    for b in range(rows):
        p = rng.randint(0, n_projects + 1)          # a few bids on withdrawn projects
        fr = rng.randint(0, n_free - 1)
        budget = budgets.get(p, 500)
        amount = round(budget * rng.uniform(0.5, 1.4), 2)
        bids.append([f"B{b + 1:06d}", f"PR{p:04d}", f"FL{fr:05d}", amount, rng.randint(2, 45), 0])
    by_project = {}
    for bid in bids:
        by_project.setdefault(bid[1], []).append(bid)
    for pid, lst in by_project.items():
        weights = [(1.0 / bid[3]) * rating.get(int(bid[2][2:]), 3.0) ** 2 for bid in lst]
        rng.choices(lst, weights=weights)[0][5] = 1
    rng.shuffle(bids)
    with open(os.path.join(folder, "bids.csv"), "w") as f:
        f.write("bid_id,project_id,freelancer_id,amount_usd,delivery_days,accepted\n")
        for bid in bids:
            amount = str(bid[3])
            if rng.random() < 0.04:
                amount = rng.choice(["", "tbd"])
            f.write(f"{bid[0]},{bid[1]},{bid[2]},{amount},{bid[4]},{bid[5]}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
