"""``lester demo``: the customers-and-mails story, offline and in a few seconds.

Today it shows the declarative dataframe layer: synthetic data, a pipeline written in the
DSL, and the provenance questions messy code cannot answer. The rewrite, pipeline-run and
deletion steps join this demo as those parts of lester land.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

import lester as lt

_COUNTRIES = ["DE", "FR", "NL", "US", "UK"]
_WORDS_GOOD = ["great", "thanks", "happy", "love", "excellent"]
_WORDS_BAD = ["broken", "angry", "refund", "terrible", "slow"]
_TOPICS = ["credit card", "account", "mortgage", "savings", "transfer"]


def make_demo_data(folder: Path, customers: int, seed: int = 0) -> tuple[Path, Path]:
    """Write ``customers.csv`` and ``mails.csv`` (about three mails per customer) to ``folder``.

    Some mail texts contain card-number-like strings, as real support mail does.
    """
    rng = np.random.default_rng(seed)
    ids = np.arange(1, customers + 1)
    people = pd.DataFrame(
        {
            "customer_id": ids,
            "customer_email": [f"user{i}@example.com" for i in ids],
            "bank": rng.choice(["Alpha Bank", "Beta Bank", "Gamma Bank"], customers),
            "country": rng.choice(_COUNTRIES, customers),
            "is_premium": rng.random(customers) < 0.3,
        }
    )
    n_mails = customers * 3
    senders = rng.integers(1, customers + 1, n_mails)
    mood = rng.random(n_mails) < 0.5
    words = np.where(mood, rng.choice(_WORDS_GOOD, n_mails), rng.choice(_WORDS_BAD, n_mails))
    topics = rng.choice(_TOPICS, n_mails)
    card = rng.random(n_mails) < 0.05
    texts = [
        f"About my {t}: it is {w}." + (f" My card is 4111 {rng.integers(1000, 9999)} 0000 1234." if c else "")
        for t, w, c in zip(topics, words, card)
    ]
    days = rng.integers(0, 3 * 365, n_mails)
    mails = pd.DataFrame(
        {
            "mail_id": np.arange(n_mails),
            "email": [f"user{s}@example.com" for s in senders],
            "mail_date": (pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
            "mail_subject": [f"Re: {t.upper()}  " for t in topics],
            "mail_text": texts,
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    people.to_csv(folder / "customers.csv", index=False)
    mails.to_csv(folder / "mails.csv", index=False)
    return folder / "customers.csv", folder / "mails.csv"


def sentiment(text: str) -> float:
    """A tiny offline sentiment score: good words minus bad words."""
    words = text.lower().replace(".", " ").replace(":", " ").split()
    return float(sum(w in _WORDS_GOOD for w in words) - sum(w in _WORDS_BAD for w in words))


def is_about_banking(text: str) -> bool:
    return "card" in text or "account" in text


def sanitize(subject: str) -> str:
    return subject.replace("Re:", "").strip().lower()


def build_pipeline(customers_csv: Path, mails_csv: Path) -> lt.Frame:
    customers = lt.read_csv(customers_csv, key="customer_id")
    mails = lt.read_csv(mails_csv, key="mail_id", parse_dates=["mail_date"])
    recent = mails.filter("year(mail_date) >= 2022")
    banking = recent.filter(is_about_banking, columns=["mail_text"])
    joined = lt.join(banking, customers, left_on="email", right_on="customer_email")
    joined = joined.project("title", ["mail_subject"], sanitize)
    joined = joined.project("sentiment", ["mail_text"], sentiment)
    return joined[["title", "mail_text", "sentiment", "bank", "country", "is_premium"]]


def run_demo(customers: int = 1000, workdir: str | None = None) -> int:
    console = Console()
    folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="lester-demo-"))
    console.rule("[bold]lester demo")
    start = time.perf_counter()
    customers_csv, mails_csv = make_demo_data(folder, customers)
    console.print(f"1. Wrote {customers} synthetic customers and {customers * 3} mails to {folder}")

    prepared = build_pipeline(customers_csv, mails_csv)
    console.print("2. The data preparation, written declaratively in lester's DSL:")
    console.print(prepared.explain(), style="dim", markup=False, highlight=False)

    rows = prepared.to_pandas()
    ids = prepared.provenance()
    console.print(f"3. Ran it: {len(rows)} prepared rows in {time.perf_counter() - start:.2f} s")
    table = Table("title", "sentiment", "country", "from mail_id", "from customer_id")
    for i in range(min(5, len(rows))):
        table.add_row(
            str(rows["title"].iloc[i]),
            f"{rows['sentiment'].iloc[i]:+.0f}",
            str(rows["country"].iloc[i]),
            str(ids["mails"].iloc[i]),
            str(ids["customers"].iloc[i]),
        )
    console.print(table)

    console.print("4. Column provenance (which source columns each output column is computed from):")
    lineage = Table("column", "source columns")
    for column, origins in prepared.column_provenance().items():
        lineage.add_row(column, ", ".join(origins))
    console.print(lineage)

    if len(rows):
        someone = ids["customers"].iloc[0]
        theirs = int((ids["customers"] == someone).sum())
        console.print(
            f"5. Customer {someone} asked what we hold about them: {theirs} prepared row(s) "
            f"derive from their record, found through provenance, not by re-running anything."
        )
        pipeline_file = folder / "pipeline.py"
        pipeline_file.write_text(_PIPELINE_MODULE)
        console.print(f"6. Training a model as a stored pipeline run ({pipeline_file}):")
        result = lt.run(
            pipeline_file,
            sources={"customers": customers_csv, "mails": mails_csv},
            store=folder / ".lester",
            progress=lambda stage, message: console.print(f"   {stage:<16} {message}", highlight=False),
        )
        hits = lt.trace("customers", someone, store=folder / ".lester")
        console.print(
            f"7. lester trace --source customers --id {someone}: used by {len(hits)} row(s) of run "
            f"{result.run_id} ({', '.join(f'{h.split} row {h.row}' for h in hits.itertuples())}); "
            "the same row numbers index the stored feature matrices."
        )
    console.print(
        "[yellow]Not built yet:[/] rewriting a messy script and forgetting a customer join this "
        "demo as those parts of lester land."
    )
    return 0


_PIPELINE_MODULE = '''"""The demo's pipeline module, in the shape `lester rewrite` produces."""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lester.demo import build_pipeline


def dataprep(customers="customers.csv", mails="mails.csv"):
    return build_pipeline(customers, mails)


def encode_features():
    return ColumnTransformer([
        ("country", OneHotEncoder(handle_unknown="ignore"), ["country"]),
        ("sentiment", StandardScaler(), ["sentiment"]),
    ])


def extract_label(prepared):
    return prepared["is_premium"].astype(int).to_numpy()


def make_model(C=1.0):
    return LogisticRegression(C=C)
'''
