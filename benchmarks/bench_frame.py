"""How much does lester's provenance-tracking DSL cost, next to plain pandas and next to the
row-at-a-time loops that naive provenance tools run?

What is measured
----------------
One data-preparation pipeline over synthetic e-mail data, written three ways:

1. **lester** (DuckDB engine, provenance on): ``from_pandas(key=...)`` for both tables, a SQL
   filter (``year(mail_date) >= 2022``), a join of mails to customers on the e-mail address, a
   SQL projection (``amount * 0.92``), a row-wise Python projection (``count_words`` over
   ``mail_text``) and a group-by on ``country`` (count, sum, mean), materialised with
   ``to_pandas(provenance=True)``. Every output row carries the ids of the rows it came from.
2. **pandas**, written by hand the idiomatic way (boolean mask, ``merge``, ``Series.map`` with
   the *same* ``count_words`` function object, ``groupby().agg``). No provenance.
3. **row-at-a-time with provenance**: ``iterrows`` over the mails, a dict lookup of the
   customer, the Python function per row, one provenance record (mail id, customer id) per
   output row, then a dict-based group-by that also collects the ids of every group.

Two variants are timed for lester and pandas:

* ``aggregate``: the whole pipeline, ending in the group-by (a handful of output rows, each
  with the lists of mail and customer ids it summarises);
* ``rows``: the prepared row-level frame before the group-by, materialised with one provenance
  id per source per row (the heavier case for provenance: every row carries its ids out).

All three start from in-memory pandas DataFrames, so file parsing is excluded everywhere;
lester's time includes building the frames (``from_pandas`` checks the key columns), planning,
DuckDB, the Python function, and converting the result back to pandas. Frames cache their
results, so each repeat builds a fresh pipeline. lester and pandas: best of ``--repeats`` runs
(default 3). Row-at-a-time: one run; if a calibration on a prefix predicts more than
``--loop-budget`` seconds (default 180), it runs on a prefix of ``--prefix-rows`` rows (default
100,000) and its time is extrapolated linearly (the JSON says so).

The three results are checked against each other (group values within float tolerance, and the
provenance of lester's rows and groups against the ids pandas keeps); the script exits non-zero
if they disagree.

Targets: lester at most 1.3x pandas, and at least 20x faster than row-at-a-time.

How to run
----------
::

    python benchmarks/bench_frame.py            # 1,000,000 mails (a few minutes)
    python benchmarks/bench_frame.py --quick    # 100,000 mails (well under a minute)
    python benchmarks/bench_frame.py --rows 250000 --repeats 5

It prints a table and writes ``benchmarks/results/bench_frame.json`` (``--output`` to change).

On Spark
--------
::

    python benchmarks/bench_frame.py --engine spark            # 1M rows on all engines, 10M on DuckDB and Spark
    python benchmarks/bench_frame.py --engine spark --quick    # 100k and 1M rows

runs the same lester pipeline (both variants) on the DuckDB engine, on the Spark engine in
local mode (``--spark-master``, default ``local[*]``) and, at the smaller size, on lester's
pandas engine and as hand-written pandas (no provenance); the larger size runs the whole
pipeline (``aggregate``) on DuckDB and Spark only. Spark's session start (and a warm-up run
on 1,000 rows) is timed apart and not counted. Every case checks that Spark's rows and
provenance equal DuckDB's (ids exactly, sums within float tolerance) and says so in
``agree``; the script exits non-zero if one does not. It writes
``benchmarks/results/bench_frame_spark.json`` (a list ``cases``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from machine import load_average, machine_description
from rich.console import Console
from rich.table import Table

import lester as lt

SEED = 20_240_601
FULL_ROWS = 1_000_000
QUICK_ROWS = 100_000
MIN_YEAR = 2022
EUR_PER_USD = 0.92
TARGET_MAX_RATIO_VS_PANDAS = 1.3
TARGET_MIN_SPEEDUP_VS_ROW_AT_A_TIME = 20.0
RESULTS = Path(__file__).resolve().parent / "results" / "bench_frame.json"

COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "PL", "SE", "US", "GB", "BR"]
COUNTRY_WEIGHTS = np.array([18, 14, 9, 10, 11, 7, 4, 15, 8, 4], dtype=float)
VOCABULARY = (  # noqa: SIM905 - easier to read than 42 quoted words
    "account balance transfer card loan mortgage fee refund complaint thanks please "
    "urgent statement interest rate savings branch online banking password reset fraud "
    "payment invoice delivery order parcel meeting tomorrow hello regards question help "
    "credit debit limit overdraft app login error update address"
).split()

console = Console(width=None if sys.stdout.isatty() else 100)


# -- the Python function every variant applies ----------------------------------------------
def count_words(text: str) -> int:
    """The number of whitespace-separated words in a mail (the row-wise Python function)."""
    return len(text.split())


# -- synthetic data ---------------------------------------------------------------------------
def make_customers(n_customers: int, rng: np.random.Generator) -> pd.DataFrame:
    """customer_id, customer_email (unique), country, is_premium."""
    ids = np.arange(1, n_customers + 1, dtype=np.int64)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "customer_email": [f"user{i}@example.com" for i in ids.tolist()],
            "country": rng.choice(
                COUNTRIES, size=n_customers, p=COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum()
            ),
            "is_premium": rng.random(n_customers) < 0.2,
        }
    )


def make_mails(n_rows: int, customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """mail_id, email (95% known customers, 5% strangers), mail_date (2019-2024), mail_text
    (3 to 12 words), amount."""
    known = customers["customer_email"].to_numpy(dtype=object)
    emails = known[rng.integers(0, len(known), n_rows)]
    strangers = rng.random(n_rows) < 0.05
    emails[strangers] = [
        f"stranger{i}@example.org" for i in rng.integers(0, 50_000, strangers.sum())
    ]

    start = np.datetime64("2019-01-01T00:00:00", "s")
    seconds = rng.integers(0, 6 * 365 * 24 * 3600, n_rows)
    dates = (start + seconds.astype("timedelta64[s]")).astype("datetime64[ns]")

    lengths = rng.integers(3, 13, n_rows).tolist()
    words = rng.integers(0, len(VOCABULARY), (n_rows, 12)).tolist()
    texts = [" ".join([VOCABULARY[w] for w in row[:k]]) for row, k in zip(words, lengths)]

    return pd.DataFrame(
        {
            "mail_id": np.arange(1, n_rows + 1, dtype=np.int64),
            "email": emails,
            "mail_date": dates,
            "mail_text": texts,
            "amount": np.round(rng.gamma(2.0, 30.0, n_rows), 2),
        }
    )


def make_data(n_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The mails and customers tables (customers: a tenth as many rows), deterministically."""
    rng = np.random.default_rng(SEED)
    customers = make_customers(max(n_rows // 10, 1), rng)
    return make_mails(n_rows, customers, rng), customers


# -- 1. lester ----------------------------------------------------------------------------------
def lester_prepared_frame(mails: pd.DataFrame, customers: pd.DataFrame) -> lt.Frame:
    """The row-level pipeline as a (lazy) lester Frame, built from scratch."""
    mail_frame = lt.from_pandas(mails, name="mails", key="mail_id")
    customer_frame = lt.from_pandas(customers, name="customers", key="customer_id")
    recent = mail_frame.filter(f"year(mail_date) >= {MIN_YEAR}")
    joined = lt.join(recent, customer_frame, left_on="email", right_on="customer_email")
    joined = joined.project("amount_eur", f"amount * {EUR_PER_USD}")
    return joined.project("word_count", ["mail_text"], count_words)


def lester_country_summary_frame(mails: pd.DataFrame, customers: pd.DataFrame) -> lt.Frame:
    """The whole pipeline, ending in the group-by on country."""
    return lester_prepared_frame(mails, customers).aggregate(
        by="country",
        mails=(None, "count"),
        amount_eur=("amount_eur", "sum"),
        mean_words=("word_count", "mean"),
    )


def lester_rows(mails: pd.DataFrame, customers: pd.DataFrame, engine: str = "duckdb") -> pd.DataFrame:
    return lester_prepared_frame(mails, customers).to_pandas(provenance=True, engine=engine)


def lester_country_summary(mails: pd.DataFrame, customers: pd.DataFrame, engine: str = "duckdb") -> pd.DataFrame:
    return lester_country_summary_frame(mails, customers).to_pandas(provenance=True, engine=engine)


# -- 2. plain pandas ------------------------------------------------------------------------------
def pandas_rows(mails: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The row-level pipeline, hand-written in idiomatic pandas (no provenance)."""
    recent = mails[mails["mail_date"].dt.year >= MIN_YEAR]
    joined = recent.merge(customers, left_on="email", right_on="customer_email")
    joined["amount_eur"] = joined["amount"] * EUR_PER_USD
    joined["word_count"] = joined["mail_text"].map(count_words)
    return joined


def pandas_country_summary(mails: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    return (
        pandas_rows(mails, customers)
        .groupby("country")
        .agg(
            mails=("mail_id", "count"),
            amount_eur=("amount_eur", "sum"),
            mean_words=("word_count", "mean"),
        )
        .reset_index()
    )


# -- 3. row-at-a-time with provenance --------------------------------------------------------------
def row_at_a_time_country_summary(
    mails: pd.DataFrame, customers: pd.DataFrame
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """The pipeline as naive provenance tools run it: one Python iteration per mail.

    Returns the groups (country -> count, sums, id lists) and the seconds spent indexing the
    customers (``index``), producing the row-level records with their provenance (``rows``)
    and grouping them (``group``).
    """
    started = time.perf_counter()
    customer_by_email = {
        row["customer_email"]: (row["customer_id"], row["country"])
        for _, row in customers.iterrows()
    }
    indexed = time.perf_counter()
    records = []
    for _, mail in mails.iterrows():
        if mail["mail_date"].year < MIN_YEAR:
            continue
        customer = customer_by_email.get(mail["email"])
        if customer is None:
            continue
        customer_id, country = customer
        records.append(
            {
                "country": country,
                "amount_eur": mail["amount"] * EUR_PER_USD,
                "word_count": count_words(mail["mail_text"]),
                "provenance": {"mails": mail["mail_id"], "customers": customer_id},
            }
        )
    rows_done = time.perf_counter()

    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        group = groups.setdefault(
            record["country"],
            {"mails": 0, "amount_eur": 0.0, "words": 0, "prov_mails": [], "prov_customers": []},
        )
        group["mails"] += 1
        group["amount_eur"] += record["amount_eur"]
        group["words"] += record["word_count"]
        group["prov_mails"].append(record["provenance"]["mails"])
        group["prov_customers"].append(record["provenance"]["customers"])
    for group in groups.values():
        group["mean_words"] = group["words"] / group["mails"]
    finished = time.perf_counter()
    seconds = {
        "index": indexed - started,
        "rows": rows_done - indexed,
        "group": finished - rows_done,
    }
    return groups, seconds


def row_at_a_time_as_frame(groups: dict[str, dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "country": c,
                "mails": g["mails"],
                "amount_eur": g["amount_eur"],
                "mean_words": g["mean_words"],
            }
            for c, g in groups.items()
        ]
    )


# -- timing -------------------------------------------------------------------------------------------
def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """Best wall-clock time of ``repeats`` runs, all the times, and the last run's result."""
    times, result = [], None
    for _ in range(repeats):
        result = None
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), times, result


def time_row_at_a_time(
    mails: pd.DataFrame, customers: pd.DataFrame, budget_s: float, prefix_rows: int
) -> dict[str, Any]:
    """Run the row-at-a-time loop on all mails, or on a prefix and extrapolate when a quick
    calibration predicts it would take longer than ``budget_s``.

    Indexing the customers is a fixed cost (all customers are indexed whatever the number of
    mails), so only the per-mail work (the loop and the group-by) is scaled up.
    """
    n = len(mails)
    calibration_rows = min(n, 20_000)
    _, seconds = row_at_a_time_country_summary(mails.iloc[:calibration_rows], customers)
    predicted = seconds["index"] + (seconds["rows"] + seconds["group"]) * n / calibration_rows
    measured_rows = n if predicted <= budget_s else min(n, prefix_rows)
    subset = mails.iloc[:measured_rows]
    gc.collect()
    groups, seconds = row_at_a_time_country_summary(subset, customers)
    scale = n / measured_rows
    return {
        "groups": groups,
        "measured_rows": measured_rows,
        "extrapolated": measured_rows < n,
        "measured_s": sum(seconds.values()),
        "measured_sections_s": seconds,
        "total_s": seconds["index"] + (seconds["rows"] + seconds["group"]) * scale,
        "rows_s": seconds["index"] + seconds["rows"] * scale,
        "predicted_from_calibration_s": predicted,
    }


# -- agreement checks ---------------------------------------------------------------------------------------
class Disagreement(AssertionError):
    pass


def _summary_values(summary: pd.DataFrame) -> pd.DataFrame:
    return (
        summary[["country", "mails", "amount_eur", "mean_words"]]
        .astype({"country": object, "mails": np.int64, "amount_eur": float, "mean_words": float})
        .sort_values("country")
        .reset_index(drop=True)
    )


def check_summaries_agree(expected: pd.DataFrame, actual: pd.DataFrame, what: str) -> None:
    """Group keys and counts equal, sums and means equal within float tolerance."""
    a, b = _summary_values(expected), _summary_values(actual)
    if a["country"].tolist() != b["country"].tolist():
        raise Disagreement(
            f"{what}: groups differ: {a['country'].tolist()} vs {b['country'].tolist()}"
        )
    if a["mails"].tolist() != b["mails"].tolist():
        raise Disagreement(f"{what}: counts differ:\n{a}\nvs\n{b}")
    for column in ("amount_eur", "mean_words"):
        if not np.allclose(a[column], b[column], rtol=1e-9, atol=1e-6):
            raise Disagreement(f"{what}: {column} differs:\n{a}\nvs\n{b}")


def check_lester_rows(expected: pd.DataFrame, rows: pd.DataFrame) -> None:
    """lester's row-level output holds the same rows as pandas', each with the right ids."""
    if len(rows) != len(expected):
        raise Disagreement(f"rows: lester has {len(rows)} rows, pandas {len(expected)}")
    ours = rows.sort_values("mail_id").reset_index(drop=True)
    theirs = expected.sort_values("mail_id").reset_index(drop=True)
    if not (ours["prov:mails"].to_numpy(dtype=np.int64) == ours["mail_id"].to_numpy()).all():
        raise Disagreement("rows: a row's mails provenance is not its mail_id")
    if not (
        ours["prov:customers"].to_numpy(dtype=np.int64) == ours["customer_id"].to_numpy()
    ).all():
        raise Disagreement("rows: a row's customers provenance is not its customer_id")
    for column in ("mail_id", "customer_id", "word_count"):
        if not (ours[column].to_numpy() == theirs[column].to_numpy()).all():
            raise Disagreement(f"rows: column {column} differs from pandas")
    if not np.allclose(ours["amount_eur"].to_numpy(float), theirs["amount_eur"].to_numpy(float)):
        raise Disagreement("rows: column amount_eur differs from pandas")


def check_group_provenance(
    expected_rows: pd.DataFrame,
    summary: pd.DataFrame,
    what: str,
    mails_column: str,
    customers_column: str,
) -> None:
    """Each group's provenance lists exactly the mail and customer ids of its rows."""
    expected = expected_rows.groupby("country")
    for _, group in summary.iterrows():
        rows = expected.get_group(group["country"])
        if sorted(group[mails_column]) != sorted(rows["mail_id"].tolist()):
            raise Disagreement(f"{what}: the mail ids of group {group['country']} differ")
        if sorted(group[customers_column]) != sorted(rows["customer_id"].tolist()):
            raise Disagreement(f"{what}: the customer ids of group {group['country']} differ")


# -- reporting ------------------------------------------------------------------------------------------------
def print_table(result: dict[str, Any]) -> None:
    loop = result["row_at_a_time"]
    loop_note = (
        f"extrapolated from {loop['measured_rows']:,} rows" if loop["extrapolated"] else "1 run"
    )
    table = Table(
        title=f"lester DSL vs pandas vs row-at-a-time: {result['rows']:,} mails, "
        f"{result['customers']:,} customers",
        caption="aggregate: the pipeline ending in a group-by on country; rows: the "
        f"{result['output_rows']:,} prepared rows with their ids. loop: row-at-a-time. "
        "From in-memory pandas DataFrames: file parsing excluded for all three. "
        f"Best of {result['repeats']} for lester and pandas; row-at-a-time {loop_note}. "
        f"{result['machine']['usable_cores']} cores, load average "
        f"{result['machine']['load_average_1m_at_start']:.1f} at start.",
    )
    table.add_column("variant")
    table.add_column("lester+prov", justify="right")
    table.add_column("pandas", justify="right")
    table.add_column("loop+prov", justify="right")
    table.add_column("lester/pandas", justify="right")
    table.add_column("loop/lester", justify="right")

    def verdict(ok: bool) -> str:
        return "[green]ok[/green]" if ok else "[red]miss[/red]"

    table.add_row(
        "aggregate",
        f"{result['lester_s']:.3f} s",
        f"{result['pandas_s']:.3f} s",
        f"{result['row_at_a_time_s']:.1f} s",
        f"{result['ratio_vs_pandas']:.2f}x {verdict(result['ratio_vs_pandas_pass'])}",
        f"{result['speedup_vs_row_at_a_time']:.0f}x {verdict(result['speedup_vs_row_at_a_time_pass'])}",
    )
    table.add_row(
        "rows",
        f"{result['lester_rows_s']:.3f} s",
        f"{result['pandas_rows_s']:.3f} s",
        f"{result['row_at_a_time_rows_s']:.1f} s",
        f"{result['ratio_rows_vs_pandas']:.2f}x {verdict(result['ratio_rows_vs_pandas_pass'])}",
        f"{result['speedup_rows_vs_row_at_a_time']:.0f}x "
        f"{verdict(result['speedup_rows_vs_row_at_a_time_pass'])}",
    )
    console.print(table)
    console.print(
        f"targets: lester/pandas <= {TARGET_MAX_RATIO_VS_PANDAS}, "
        f"row-at-a-time/lester >= {TARGET_MIN_SPEEDUP_VS_ROW_AT_A_TIME:.0f}"
    )


# -- main -------------------------------------------------------------------------------------------------------
def run_benchmark(
    n_rows: int, repeats: int, loop_budget_s: float, prefix_rows: int
) -> dict[str, Any]:
    load_at_start = load_average()
    with console.status(f"generating {n_rows:,} mails"):
        started = time.perf_counter()
        mails, customers = make_data(n_rows)
        generate_s = time.perf_counter() - started
    console.print(f"data: {len(mails):,} mails, {len(customers):,} customers ({generate_s:.1f} s)")

    with console.status("lester, row-level"):
        lester_rows_s, lester_rows_times, lester_row_result = best_of(
            repeats, lambda: lester_rows(mails, customers)
        )
    with console.status("lester, aggregate"):
        lester_s, lester_times, lester_summary = best_of(
            repeats, lambda: lester_country_summary(mails, customers)
        )
    with console.status("pandas, row-level"):
        pandas_rows_s, pandas_rows_times, pandas_row_result = best_of(
            repeats, lambda: pandas_rows(mails, customers)
        )
    with console.status("pandas, aggregate"):
        pandas_s, pandas_times, pandas_summary = best_of(
            repeats, lambda: pandas_country_summary(mails, customers)
        )
    with console.status("row-at-a-time (this is the slow one)"):
        loop = time_row_at_a_time(mails, customers, loop_budget_s, prefix_rows)

    with console.status("checking that the three agree"):
        check_summaries_agree(pandas_summary, lester_summary, "lester vs pandas")
        check_lester_rows(pandas_row_result, lester_row_result)
        check_group_provenance(
            pandas_row_result,
            lester_summary,
            "lester aggregate provenance",
            "prov:mails",
            "prov:customers",
        )
        measured = mails.iloc[: loop["measured_rows"]]
        reference_rows = pandas_rows(measured, customers)
        reference = pandas_country_summary(measured, customers)
        loop_summary = row_at_a_time_as_frame(loop["groups"])
        check_summaries_agree(reference, loop_summary, "row-at-a-time vs pandas")
        check_group_provenance(
            reference_rows,
            pd.DataFrame([{"country": c, **g} for c, g in loop["groups"].items()]),
            "row-at-a-time provenance",
            "prov_mails",
            "prov_customers",
        )
    console.print(
        "[green]results agree[/green]: lester, pandas and row-at-a-time "
        "(group values, row ids, group provenance)"
    )

    ratio = lester_s / pandas_s
    speedup = loop["total_s"] / lester_s
    ratio_rows = lester_rows_s / pandas_rows_s
    speedup_rows = loop["rows_s"] / lester_rows_s
    return {
        "benchmark": "bench_frame",
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scope": "from in-memory pandas DataFrames; file parsing excluded for all variants",
        "pipeline": (
            f"filter year(mail_date) >= {MIN_YEAR}; inner join mails.email = "
            "customers.customer_email; project amount_eur = amount * 0.92 (SQL); project "
            "word_count = count_words(mail_text) (Python, row-wise); aggregate by country: "
            "count, sum(amount_eur), mean(word_count)"
        ),
        "rows": n_rows,
        "customers": len(customers),
        "output_rows": len(pandas_row_result),
        "groups": len(pandas_summary),
        "repeats": repeats,
        "string_dtype": str(mails["mail_text"].dtype),
        # the whole pipeline (ends in the group-by)
        "lester_s": lester_s,
        "pandas_s": pandas_s,
        "row_at_a_time_s": loop["total_s"],
        "ratio_vs_pandas": ratio,
        "speedup_vs_row_at_a_time": speedup,
        # the row-level variant (prepared rows with their provenance, no group-by)
        "lester_rows_s": lester_rows_s,
        "pandas_rows_s": pandas_rows_s,
        "row_at_a_time_rows_s": loop["rows_s"],
        "ratio_rows_vs_pandas": ratio_rows,
        "speedup_rows_vs_row_at_a_time": speedup_rows,
        "all_times_s": {
            "lester": lester_times,
            "lester_rows": lester_rows_times,
            "pandas": pandas_times,
            "pandas_rows": pandas_rows_times,
        },
        "row_at_a_time": {
            "extrapolated": loop["extrapolated"],
            "measured_rows": loop["measured_rows"],
            "measured_s": loop["measured_s"],
            "measured_sections_s": loop["measured_sections_s"],
            "predicted_from_calibration_s": loop["predicted_from_calibration_s"],
            "method": "customer index measured; per-mail loop and group-by extrapolated "
            "linearly from a prefix of the mails"
            if loop["extrapolated"]
            else "measured on all rows",
        },
        "targets": {
            "ratio_vs_pandas_max": TARGET_MAX_RATIO_VS_PANDAS,
            "speedup_vs_row_at_a_time_min": TARGET_MIN_SPEEDUP_VS_ROW_AT_A_TIME,
        },
        "ratio_vs_pandas_pass": ratio <= TARGET_MAX_RATIO_VS_PANDAS,
        "speedup_vs_row_at_a_time_pass": speedup >= TARGET_MIN_SPEEDUP_VS_ROW_AT_A_TIME,
        "ratio_rows_vs_pandas_pass": ratio_rows <= TARGET_MAX_RATIO_VS_PANDAS,
        "speedup_rows_vs_row_at_a_time_pass": speedup_rows >= TARGET_MIN_SPEEDUP_VS_ROW_AT_A_TIME,
        "data_generation_s": generate_s,
        "machine": {**machine_description(), "load_average_1m_at_start": load_at_start},
    }


# -- the Spark engine next to DuckDB and pandas (--engine spark) ------------------------------------------
SPARK_RESULTS = RESULTS.parent / "bench_frame_spark.json"
SPARK_SIZES = {False: (FULL_ROWS, 10 * FULL_ROWS), True: (QUICK_ROWS, FULL_ROWS)}  # by --quick


def check_engine_rows_agree(duck: pd.DataFrame, other: pd.DataFrame, what: str) -> None:
    """The same prepared rows, each with the same ids (row order is each engine's own)."""
    if len(duck) != len(other):
        raise Disagreement(f"{what}: {len(other)} rows, DuckDB {len(duck)}")
    a = duck.sort_values("prov:mails").reset_index(drop=True)
    b = other.sort_values("prov:mails").reset_index(drop=True)
    for column in ("prov:mails", "prov:customers", "mail_id", "customer_id", "word_count", "country"):
        if not (a[column].to_numpy() == b[column].to_numpy()).all():
            raise Disagreement(f"{what}: column {column} differs from DuckDB's")
    if not np.allclose(a["amount_eur"].to_numpy(float), b["amount_eur"].to_numpy(float)):
        raise Disagreement(f"{what}: column amount_eur differs from DuckDB's")


def check_engine_summaries_agree(duck: pd.DataFrame, other: pd.DataFrame, what: str) -> None:
    """The same groups and values, and each group the same lists of mail and customer ids."""
    check_summaries_agree(duck, other, what)
    a, b = duck.set_index("country"), other.set_index("country")
    for country in a.index:
        for column in ("prov:mails", "prov:customers"):
            if sorted(a.at[country, column]) != sorted(b.at[country, column]):
                raise Disagreement(f"{what}: the {column} ids of group {country} differ from DuckDB's")


def _spark_case(mails: pd.DataFrame, customers: pd.DataFrame, variant: str, repeats: int,
                baselines: bool) -> dict[str, Any]:
    run = lester_rows if variant == "rows" else lester_country_summary
    check = check_engine_rows_agree if variant == "rows" else check_engine_summaries_agree
    case: dict[str, Any] = {"rows": len(mails), "customers": len(customers), "variant": variant}
    results = {}
    for engine in ("duckdb", "spark") + (("pandas",) if baselines else ()):
        with console.status(f"{len(mails):,} rows, {variant}, lester on {engine}"):
            best, times, results[engine] = best_of(repeats, lambda engine=engine: run(mails, customers, engine))
        case[f"{engine}_s"] = best
        case[f"{engine}_times_s"] = times
    if baselines:
        hand_written = pandas_rows if variant == "rows" else pandas_country_summary
        with console.status(f"{len(mails):,} rows, {variant}, hand-written pandas"):
            case["plain_pandas_s"], case["plain_pandas_times_s"], _ = best_of(
                repeats, lambda: hand_written(mails, customers))
    case["output_rows"] = len(results["duckdb"])
    case["spark_over_duckdb"] = case["spark_s"] / case["duckdb_s"]
    disagreements = []
    for engine, result in results.items():
        if engine != "duckdb":
            try:
                check(results["duckdb"], result, f"{len(mails):,} rows, {variant}, {engine}")
            except Disagreement as exc:
                disagreements.append(str(exc))
    case["agree"] = not disagreements
    case["disagreements"] = disagreements
    return case


def run_spark_benchmark(quick: bool, repeats: int, master: str, large_repeats: int) -> dict[str, Any]:
    from lester.frame.engines import configure_engine
    from lester.frame.engines.spark_session import session

    load_at_start = load_average()
    cores = os.cpu_count() or 1
    settings = {"spark.driver.memory": "8g", "spark.sql.shuffle.partitions": str(4 * cores)}
    with console.status(f"starting Spark ({master})"):
        started = time.perf_counter()
        spark = session(master, settings)
        configure_engine("spark", spark=spark)
        start_s = time.perf_counter() - started
        mails, customers = make_data(1_000)
        started = time.perf_counter()
        lester_country_summary(mails, customers, "spark")
        warm_up_s = time.perf_counter() - started
    console.print(f"Spark {spark.version} on {spark.sparkContext.master}: session {start_s:.1f} s, "
                  f"warm-up run {warm_up_s:.1f} s (neither counted)")
    small, large = SPARK_SIZES[quick]
    cases = []
    for n_rows, variants, times, baselines in ((small, ("aggregate", "rows"), repeats, True),
                                               (large, ("aggregate",), large_repeats, False)):
        with console.status(f"generating {n_rows:,} mails"):
            mails, customers = make_data(n_rows)
        for variant in variants:
            cases.append(_spark_case(mails, customers, variant, times, baselines))
            console.print(f"{n_rows:,} rows, {variant}: " + ", ".join(
                f"{k[:-2]} {v:.2f} s" for k, v in cases[-1].items() if k.endswith("_s") and not k.endswith("times_s")))
        del mails, customers
        gc.collect()
    return {
        "benchmark": "bench_frame --engine spark",
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scope": "from in-memory pandas DataFrames (each engine gets the sources from them: "
        "Spark's time includes handing them to the JVM as Arrow and the results back); "
        "Spark's session start and a warm-up run are not counted",
        "pipeline": "as bench_frame: filter, join, SQL project, row-wise Python project "
        "(Arrow batch function on Spark), group-by on country (aggregate) or not (rows)",
        "spark": {"version": spark.version, "master": spark.sparkContext.master, "settings": settings,
                  "session_start_s": start_s, "warm_up_s": warm_up_s},
        "repeats": {"small": repeats, "large": large_repeats},
        "cases": cases,
        "machine": {**machine_description(), "load_average_1m_at_start": load_at_start},
    }


def print_spark_table(result: dict[str, Any]) -> None:
    table = Table(
        title="lester on Spark (local mode) next to DuckDB and pandas",
        caption=f"best of {result['repeats']['small']} (smaller size) and {result['repeats']['large']} "
        f"(larger size). pandas engine: lester's reference engine; plain pandas: hand-written, "
        f"no provenance. {result['machine']['usable_cores']} cores, {result['spark']['master']}.",
    )
    for column in ("rows", "variant", "DuckDB", "Spark", "pandas engine", "plain pandas", "Spark/DuckDB", "agree"):
        table.add_column(column, justify="left" if column in ("variant", "agree") else "right")
    for case in result["cases"]:
        def seconds(key: str, case: dict[str, Any] = case) -> str:
            return f"{case[key]:.2f} s" if key in case else "-"

        table.add_row(f"{case['rows']:,}", case["variant"], seconds("duckdb_s"), seconds("spark_s"),
                      seconds("pandas_s"), seconds("plain_pandas_s"), f"{case['spark_over_duckdb']:.1f}x",
                      "[green]yes[/green]" if case["agree"] else "[red]NO[/red]")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ROWS:,} mails instead of {FULL_ROWS:,}"
    )
    parser.add_argument("--rows", type=int, help="number of mails (overrides --quick)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per lester/pandas variant (best is kept)"
    )
    parser.add_argument(
        "--loop-budget",
        type=float,
        default=180.0,
        help="seconds the row-at-a-time loop may take before it runs on a prefix",
    )
    parser.add_argument(
        "--prefix-rows",
        type=int,
        default=100_000,
        help="prefix the row-at-a-time loop runs on when it would be too slow",
    )
    parser.add_argument("--output", type=Path, default=None, help="where to write the JSON")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                        help="spark: the Spark engine next to DuckDB and pandas (see 'On Spark')")
    parser.add_argument("--spark-master", default="local[*]", help="with --engine spark")
    parser.add_argument("--large-repeats", type=int, default=1,
                        help="with --engine spark: runs per engine at the larger size")
    args = parser.parse_args(argv)
    if args.engine == "spark":
        result = run_spark_benchmark(args.quick, args.repeats, args.spark_master, args.large_repeats)
        print_spark_table(result)
        output = args.output or SPARK_RESULTS
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {output}")
        return 0 if all(case["agree"] for case in result["cases"]) else 1
    args.output = args.output or RESULTS
    n_rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)

    try:
        result = run_benchmark(n_rows, args.repeats, args.loop_budget, args.prefix_rows)
    except Disagreement as exc:
        console.print(f"[bold red]RESULTS DISAGREE[/bold red]: {exc}")
        return 1
    print_table(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
