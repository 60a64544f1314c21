# Premium-upsell mail classifier -- exported from mails_v3.ipynb (cleaned up a bit).
# Reads the CRM export and the support mailbox dump, keeps recent banking mails,
# and trains a first model that guesses whether the sender is a premium customer.
import csv
import os
import re
from datetime import datetime

import numpy as np
from sklearn.linear_model import LogisticRegression

os.makedirs("out", exist_ok=True)

GOOD_WORDS = ["great", "thanks", "happy", "love", "excellent", "helpful"]
BAD_WORDS = ["broken", "angry", "refund", "terrible", "slow", "never"]
BANKING_WORDS = ["card", "account", "transfer", "mortgage", "savings", "loan"]
CARD_NUMBER = re.compile(r"\b(?:\d{4}[ -]?){3}\d{4}\b")


def sanitize(text):
    # legal: card numbers must never leave the mailbox
    text = CARD_NUMBER.sub("[card removed]", text)
    return text.replace("Re:", "").strip().lower()


def sentiment(text):
    words = text.lower().replace(".", " ").replace(",", " ").replace(":", " ").split()
    score = 0
    for w in words:
        if w in GOOD_WORDS:
            score += 1
        if w in BAD_WORDS:
            score -= 1
    return score


def is_about_banking(text):
    text = text.lower()
    return any(word in text for word in BANKING_WORDS)


# ---- customers (CRM export, no commas in names so split is fine)
customers = {}
with open("data/customers.csv") as f:
    header = f.readline()
    for line in f:
        customer_id, email, name, country, is_premium, signup_date = line.strip().split(",")
        customers[email.strip().lower()] = (customer_id, country.strip().upper(), is_premium == "1")
print("loaded", len(customers), "customers")

# ---- mails (texts have commas -> csv module)
rows = []
skipped_old = 0
with open("data/mails.csv", newline="") as f:
    for mail in csv.DictReader(f):
        date = datetime.strptime(mail["mail_date"], "%Y-%m-%d")
        if date.year < 2022:
            skipped_old += 1
            continue
        if not is_about_banking(mail["mail_text"]):
            continue
        email = mail["email"].strip().lower()
        if email not in customers:
            continue
        customer_id, country, premium = customers[email]
        rows.append({
            "mail_id": mail["mail_id"],
            "customer_id": customer_id,
            "title": sanitize(mail["mail_subject"]),
            "text": sanitize(mail["mail_text"]),
            "sentiment": sentiment(mail["mail_text"]),
            "country": country,
            "is_premium": premium,
        })
print("skipped", skipped_old, "old mails; kept", len(rows))

# quick look, like in the notebook
# for r in rows[:5]:
#     print(r)
print("premium share:", sum(r["is_premium"] for r in rows) / max(len(rows), 1))

with open("out/prepared.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["mail_id", "customer_id", "title", "text", "sentiment", "country", "is_premium"])
    for r in rows:
        writer.writerow([r["mail_id"], r["customer_id"], r["title"], r["text"], r["sentiment"],
                         r["country"], r["is_premium"]])

# ---- features: country one-hot | title length (standardised) | sentiment
countries = sorted(set(r["country"] for r in rows))
country_index = {c: i for i, c in enumerate(countries)}
onehot = np.zeros((len(rows), len(countries)))
for i, r in enumerate(rows):
    onehot[i, country_index[r["country"]]] = 1

title_length = np.array([len(r["title"]) for r in rows], dtype=float)
title_length = (title_length - title_length.mean()) / title_length.std()
sentiments = np.array([r["sentiment"] for r in rows], dtype=float)

X = np.hstack([onehot, title_length.reshape(-1, 1), sentiments.reshape(-1, 1)])
y = np.array([1 if r["is_premium"] else 0 for r in rows])
np.save("out/X.npy", X)
np.save("out/y.npy", y)

model = LogisticRegression(max_iter=1000)
model.fit(X, y)
print("train accuracy:", round(model.score(X, y), 3))
