"""A small store to erase people from: customers with e-mail addresses, names and text keys
(``C0001``, ...), their mails, and the tests' mails pipeline; shared by the verify-erasure and
purge tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import lester as lt

PIPELINE = Path(__file__).parent / "data" / "mails_pipeline.py"

# The mails pipeline with the e-mail address one-hot encoded: its fitted encoder holds every
# customer's address (an encoder keeping raw values, as vocabularies and categories do).
EMAIL_ENCODER_PIPELINE = PIPELINE.read_text().replace(
    '("country", OneHotEncoder(handle_unknown="ignore"), ["country"]),',
    '("country", OneHotEncoder(handle_unknown="ignore"), ["country"]),\n'
    '        ("email", OneHotEncoder(handle_unknown="ignore"), ["customer_email"]),',
).replace('joined[["customer_id", "country",', 'joined[["customer_id", "customer_email", "country",')


def write_case(folder: Path, customers: int = 40, mails: int = 200) -> Path:
    """customers.csv, mails.csv, pipeline.py and email_pipeline.py in ``folder``."""
    rng = np.random.default_rng(3)
    ids = [f"C{i:04d}" for i in range(1, customers + 1)]
    frame = pd.DataFrame({
        "customer_id": ids,
        "customer_email": [f"person.{i}@example.org" for i in range(1, customers + 1)],
        # shared by many customers: never searched by value (it would find the others)
        "name": rng.choice(["Anna Meyer", "Ben Okafor", "Carla Rossi"], customers),
        "country": rng.choice(["DE", "FR", "NL"], customers),
        "is_premium": rng.random(customers) < 0.4,
    })
    words = ["thanks", "great", "love", "broken", "slow", "ok"]
    mail_frame = pd.DataFrame({
        "mail_id": np.arange(1000, 1000 + mails),
        "email": [f"person.{i}@example.org" for i in rng.integers(1, customers + 1, mails)],
        "mail_date": np.where(rng.random(mails) < 0.2, "2021-06-01", "2022-06-01"),
        "mail_text": [" ".join(rng.choice(words, 3)) for _ in range(mails)],
    })
    frame.to_csv(folder / "customers.csv", index=False)
    mail_frame.to_csv(folder / "mails.csv", index=False)
    (folder / "pipeline.py").write_text(PIPELINE.read_text())
    (folder / "email_pipeline.py").write_text(EMAIL_ENCODER_PIPELINE)
    return folder


def sources(folder: Path) -> dict[str, str]:
    return {"customers": str(folder / "customers.csv"), "mails": str(folder / "mails.csv")}


def run(folder: Path, pipeline: str = "pipeline.py", cache: bool = True):
    """A run of ``pipeline`` into ``folder/.lester`` (with the stage cache by default)."""
    return lt.run(folder / pipeline, sources=sources(folder), store=folder / ".lester", cache=cache)


def busiest_customer(result) -> str:
    """The customer behind the most prepared rows of a run (a subject worth erasing)."""
    rows = pd.concat([result.train, result.test])
    return str(rows["customer_id"].value_counts().index[0])


def email_of(folder: Path, customer: str) -> str:
    frame = pd.read_csv(folder / "customers.csv")
    return str(frame.loc[frame["customer_id"] == customer, "customer_email"].iloc[0])
