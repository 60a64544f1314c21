"""Synthetic customers and support mails for the compliance demo.

The files have the shape of a CRM export and a mailbox dump, with the dirt real exports have:
some countries in lower case with blanks, e-mail addresses in upper case, mails from people who
are not customers, and (about 7% of mails) card-number-like strings in the mail text, which is
what ``lester redact`` removes in the demo.

Example:
    >>> from lester.demo.data import write_demo_data
    >>> customers, mails = write_demo_data("data", customers=1000)   # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lester.errors import LesterError

COUNTRIES = ["DE", "FR", "NL", "US", "UK", "ES"]
FIRST_NAMES = ["Anna", "Ben", "Carla", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena"]
LAST_NAMES = ["Meyer", "Okafor", "Rossi", "Smith", "Tanaka", "Dubois", "Novak", "Silva", "Berg"]
TOPICS = ["credit card", "account", "mortgage", "savings", "transfer", "newsletter", "event", "app login"]
GOOD_WORDS = ["great", "thanks", "happy", "love", "excellent", "helpful"]
BAD_WORDS = ["broken", "angry", "refund", "terrible", "slow", "never"]

# A card-number-like string, as the demo's redaction request matches it (DuckDB regex syntax).
CARD_NUMBER_SQL = r"regexp_matches(mail_text, '\d{4} \d{4} \d{4} \d{4}')"


def _dates(rng: np.random.Generator, n: int, first_year: int, last_year: int) -> np.ndarray:
    years = rng.integers(first_year, last_year + 1, n).astype(str)
    months = np.char.zfill(rng.integers(1, 13, n).astype(str), 2)
    days = np.char.zfill(rng.integers(1, 29, n).astype(str), 2)
    return np.char.add(np.char.add(np.char.add(years, "-"), np.char.add(months, "-")), days)


class DemoDataError(LesterError, ValueError):
    """The demo data cannot be made with these arguments."""


def write_demo_data(folder: str | os.PathLike, customers: int = 1000, seed: int = 42
                    ) -> tuple[Path, Path]:
    """Write ``customers.csv`` (``customers`` rows) and ``mails.csv`` (three per customer)
    into ``folder``; the same ``seed`` and size give the same bytes."""
    if not isinstance(customers, int) or isinstance(customers, bool) or customers < 1:
        raise DemoDataError(f"customers must be a whole number of at least 1, got {customers!r}")
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    ids = np.arange(1, customers + 1)
    first = rng.choice(FIRST_NAMES, customers)
    emails = np.char.add(np.char.add(np.char.lower(first), "."), ids.astype(str))
    emails = np.char.add(emails, "@example.com")
    country = rng.choice(COUNTRIES, customers)
    dirty = rng.random(customers) < 0.1  # the CRM exports some countries as " de"
    country = np.where(dirty, np.char.add(" ", np.char.lower(country)), country)
    people = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in ids],
        "customer_email": emails,
        "name": np.char.add(np.char.add(rng.choice(FIRST_NAMES, customers), " "),
                            rng.choice(LAST_NAMES, customers)),
        "country": country,
        "is_premium": (rng.random(customers) < 0.35).astype(int),
        "signup_date": _dates(rng, customers, 2015, 2023),
    })

    n = customers * 3
    sender = emails[rng.integers(0, customers, n)]
    sender = np.where(rng.random(n) < 0.15, np.char.upper(sender), sender)  # kept as typed
    strangers = rng.random(n) < 0.08  # mails from people who are not customers
    sender = np.where(strangers, np.char.add(np.char.add("unknown", np.arange(n).astype(str)),
                                             "@other.org"), sender)
    topic = rng.choice(TOPICS, n)
    mood = np.where(rng.random(n) < 0.5, rng.choice(GOOD_WORDS, n), rng.choice(BAD_WORDS, n))
    text = pd.Series(topic).radd("Hello, about my ") + ": the service was " + mood + "."
    extra = rng.random(n) < 0.5
    text[extra] += " " + pd.Series(rng.choice(GOOD_WORDS + BAD_WORDS, n)).str.capitalize()[extra] + ", really."
    card = rng.random(n) < 0.07
    digits = rng.integers(1000, 10000, (n, 2)).astype(str)
    text[card] += " My card number is 4111 1111 " + pd.Series(digits[:, 0])[card] + " " + pd.Series(digits[:, 1])[card] + "."
    titled = pd.Series(topic).str.title()
    subject = np.where(rng.random(n) < 0.6, "Re: " + titled + " question",
                       "  " + pd.Series(topic).str.upper() + "  ")
    mails = pd.DataFrame({
        "mail_id": np.arange(1, n + 1),
        "email": sender,
        "mail_date": _dates(rng, n, 2020, 2024),
        "mail_subject": subject,
        "mail_text": text,
    })
    paths = folder / "customers.csv", folder / "mails.csv"
    people.to_csv(paths[0], index=False)
    mails.to_csv(paths[1], index=False)
    return paths


def messy_script() -> str:
    """The demo's messy script: customers and mails joined by hand, filtered, sanitised,
    one-hot encoded and scaled with numpy, and a scikit-learn model."""
    return (Path(__file__).parent / "assets" / "messy_mails.py").read_text()
