"""Synthetic customers and support mails for the compliance demo.

Usage: python make_data.py DIR ROWS   (ROWS customers, about three mails each)
"""
import csv
import os
import random
import sys

COUNTRIES = ["DE", "FR", "NL", "US", "UK", "ES"]
FIRST = ["Anna", "Ben", "Carla", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena"]
LAST = ["Meyer", "Okafor", "Rossi", "Smith", "Tanaka", "Dubois", "Novak", "Silva", "Berg"]
TOPICS = ["credit card", "account", "mortgage", "savings", "transfer", "newsletter", "event", "app login"]
GOOD = ["great", "thanks", "happy", "love", "excellent", "helpful"]
BAD = ["broken", "angry", "refund", "terrible", "slow", "never"]


def main(folder, rows):
    rng = random.Random(42)
    os.makedirs(folder, exist_ok=True)
    emails = []
    with open(os.path.join(folder, "customers.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "customer_email", "name", "country", "is_premium", "signup_date"])
        for i in range(1, rows + 1):
            email = f"{rng.choice(FIRST).lower()}.{i}@example.com"
            emails.append(email)
            country = rng.choice(COUNTRIES)
            if rng.random() < 0.1:  # CRM exports some countries in lower case with blanks
                country = f" {country.lower()}"
            premium = 1 if rng.random() < 0.35 else 0
            signup = f"{rng.randint(2015, 2023)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            w.writerow([f"C{i:05d}", email, f"{rng.choice(FIRST)} {rng.choice(LAST)}", country, premium, signup])
    with open(os.path.join(folder, "mails.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mail_id", "email", "mail_date", "mail_subject", "mail_text"])
        for m in range(rows * 3):
            if rng.random() < 0.08:
                email = f"unknown{m}@other.org"  # mails from people who are not customers
            else:
                email = rng.choice(emails)
                if rng.random() < 0.15:
                    email = email.upper()  # mail clients keep the sender's spelling
            date = f"{rng.randint(2020, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            topic = rng.choice(TOPICS)
            word = rng.choice(GOOD if rng.random() < 0.5 else BAD)
            text = f"Hello, about my {topic}: the service was {word}."
            if rng.random() < 0.5:
                text += f" {rng.choice(GOOD + BAD).capitalize()}, really."
            if rng.random() < 0.07:
                text += f" My card number is 4111 1111 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}."
            subject = f"Re: {topic.title()} question" if rng.random() < 0.6 else f"  {topic.upper()}  "
            w.writerow([m + 1, email, date, subject, text])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
