"""What does capturing a run's artifacts and provenance cost, next to running the same
pipeline without capture?

What is measured
----------------
A realistic customers + mails pipeline module (written to a temporary folder, in the style of
``tests/data/mails_pipeline.py``) is run end to end with :func:`lester.pipeline.runner.run`:

* ``dataprep``: ``read_csv`` of both CSV files with keys (``customer_id``, ``mail_id``), a SQL
  date filter (``year(mail_date) >= 2022``), a join of mails to customers on the e-mail address,
  a row-wise Python projection (``sentiment`` over ``mail_text``), SQL projections
  (``length(mail_text)``, ``amount * 0.92``) and a column selection;
* ``encode_features``: a ``ColumnTransformer`` with a ``OneHotEncoder`` (country, channel) and a
  ``StandardScaler`` (sentiment, text length, amount, age);
* ``extract_label``: ``is_premium``; ``make_model``: ``LogisticRegression``.

The synthetic CSVs are deterministic (numpy seed): ``rows`` mails and ``rows // 10`` customers.

For each size, two variants of the same call are timed (wall clock around the whole
``run(...)`` call, caching off in both):

* ``nocapture``: ``run(..., cache=False, capture=False)``: nothing is stored;
* ``capture``: ``run(..., cache=False, capture=True)`` into a fresh store folder each time:
  the run folder (parquet, npy, pickles, config, run.json), its catalog record (row provenance
  as Parquet; sources, column and matrix provenance, metrics in ``catalog.json``) and the
  rename that registers it. The capture time includes creating the store, as a first run into
  a new ``.lester`` folder would. Indexing the new folder into ``catalog.duckdb`` happens when
  the catalog is next opened; that one-off cost is reported apart as ``catalog_sync_s``.

The variants are interleaved (nocapture, capture, nocapture, capture, ...) after one untimed
warm-up of each, and the best of ``--repeats`` (default 3) is kept for each.

``capture_overhead_ratio = (capture_s - nocapture_s) / nocapture_s``: the fraction of the run
time that capture adds. Target: at most 0.25.

Because the other stages jitter from run to run on a busy machine, the JSON also gives
``attributable_overhead_ratio = (store_s + open_store_s) / nocapture_s``: only the time spent in
capture itself (the ``store`` stage plus opening the fresh store), over the no-capture run.

Also reported: each variant's per-stage seconds (``RunResult.seconds``; ``store`` is the capture
stage), the split of ``store`` into building the provenance tables, writing the run's artifacts
and writing its catalog record and registering it (measured by passing an instrumented ``ArtifactStore`` subclass to
``run``; no lester code is changed), the prepared/train/test row counts, the size of the run
folder and of the catalog, and the catalog's ``row_provenance`` row count.

How to run
----------
::

    python benchmarks/bench_pipeline.py            # 10,000 and 100,000 mails (a minute or two)
    python benchmarks/bench_pipeline.py --quick    # 10,000 mails only (well under a minute)
    python benchmarks/bench_pipeline.py --rows 10000 50000 --repeats 5

It prints a table and writes ``benchmarks/results/bench_pipeline.json`` (``--output`` to
change). Data and stores go to a temporary folder that is removed at the end (``--keep`` to
keep it and print where it is). Exits 0 whatever the verdict; ``--strict`` exits 1 if a size
misses the target.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import textwrap
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from machine import load_average, machine_description
from rich.console import Console
from rich.table import Table

from lester.pipeline.catalog import Catalog
from lester.pipeline.runner import RunResult, run
from lester.pipeline.store import ArtifactStore

SEED = 20_240_601
FULL_SIZES = (10_000, 100_000)
QUICK_SIZES = (10_000,)
TARGET_OVERHEAD = 0.25
RESULTS = Path(__file__).resolve().parent / "results" / "bench_pipeline.json"

COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "PL", "SE", "US", "GB", "BR"]
COUNTRY_WEIGHTS = np.array([18, 14, 9, 10, 11, 7, 4, 15, 8, 4], dtype=float)
CHANNELS = ["web", "app", "email", "phone"]
VOCABULARY = (  # noqa: SIM905 - easier to read as one string
    "account balance transfer card loan mortgage fee refund complaint thanks please great "
    "urgent statement interest rate savings branch online banking password reset fraud love "
    "payment invoice delivery order parcel meeting tomorrow hello regards question help "
    "credit debit limit overdraft app login error update address"
).split()

console = Console(width=None if sys.stdout.isatty() else 140)

# -- the pipeline module -------------------------------------------------------------------------
PIPELINE_SOURCE = textwrap.dedent(
    '''
    """Benchmark pipeline: customers + mails, as a rewrite would produce it."""

    import lester as lt
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    GOOD_WORDS = ("thanks", "great", "love")


    def sentiment(text):
        words = text.split()
        return sum(word in GOOD_WORDS for word in words) - words.count("complaint")


    def dataprep(customers="customers.csv", mails="mails.csv"):
        customers = lt.read_csv(customers, key="customer_id")
        mails = lt.read_csv(mails, key="mail_id", parse_dates=["mail_date"])
        recent = mails.filter("year(mail_date) >= 2022")
        joined = lt.join(recent, customers, left_on="email", right_on="customer_email")
        joined = joined.project("sentiment", ["mail_text"], sentiment)
        joined = joined.project("text_length", "length(mail_text)")
        joined = joined.project("amount_eur", "amount * 0.92")
        return joined[["customer_id", "country", "channel", "age", "sentiment", "text_length",
                       "amount_eur", "is_premium"]]


    def encode_features(scale=True):
        numeric = StandardScaler() if scale else "passthrough"
        return ColumnTransformer([
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["country", "channel"]),
            ("numbers", numeric, ["sentiment", "text_length", "amount_eur", "age"]),
        ])


    def extract_label(prepared):
        return prepared["is_premium"].astype(int).to_numpy()


    def make_model(C=1.0):
        return LogisticRegression(C=C, max_iter=500)
    '''
).lstrip()


# -- synthetic data ------------------------------------------------------------------------------
def make_data(n_rows: int, folder: Path) -> dict[str, Path]:
    """Write ``customers.csv`` (``n_rows // 10`` rows) and ``mails.csv`` (``n_rows`` rows)."""
    rng = np.random.default_rng(SEED)
    n_customers = max(n_rows // 10, 1)
    ids = np.arange(1, n_customers + 1, dtype=np.int64)
    premium = rng.random(n_customers) < 0.25
    customers = pd.DataFrame({
        "customer_id": ids,
        "customer_email": [f"user{i}@example.com" for i in ids.tolist()],
        "country": rng.choice(COUNTRIES, size=n_customers, p=COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum()),
        "age": rng.integers(18, 90, n_customers),
        "is_premium": premium,
    })

    known = customers["customer_email"].to_numpy(dtype=object)
    who = rng.integers(0, n_customers, n_rows)
    emails = known[who]
    strangers = rng.random(n_rows) < 0.05
    emails[strangers] = [f"stranger{i}@example.org" for i in rng.integers(0, 50_000, strangers.sum())]
    start = np.datetime64("2019-01-01T00:00:00", "s")
    dates = start + rng.integers(0, 6 * 365 * 24 * 3600, n_rows).astype("timedelta64[s]")
    lengths = rng.integers(3, 13, n_rows).tolist()
    words = rng.integers(0, len(VOCABULARY), (n_rows, 12)).tolist()
    texts = [" ".join(VOCABULARY[w] for w in row[:k]) for row, k in zip(words, lengths)]
    # premium customers spend a little more, so the model has something to learn
    amounts = np.round(rng.gamma(2.0, 30.0, n_rows) * np.where(premium[who], 1.6, 1.0), 2)
    mails = pd.DataFrame({
        "mail_id": np.arange(1, n_rows + 1, dtype=np.int64),
        "email": emails,
        "mail_date": pd.to_datetime(dates).strftime("%Y-%m-%d %H:%M:%S"),
        "channel": rng.choice(CHANNELS, size=n_rows),
        "mail_text": texts,
        "amount": amounts,
    })
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"customers": folder / "customers.csv", "mails": folder / "mails.csv"}
    customers.to_csv(paths["customers"], index=False)
    mails.to_csv(paths["mails"], index=False)
    return paths


# -- an instrumented store: the same ArtifactStore, with the write_run parts timed ----------------
class TimedArtifactStore(ArtifactStore):
    """Times ``write_files`` (the run's artifacts) inside ``write_run``; the rest of
    ``write_run`` is the catalog record (row provenance Parquet, ``catalog.json``) and the
    rename that registers the run."""

    def __init__(self, root: Path):
        started = time.perf_counter()
        super().__init__(root)
        self.timings: dict[str, float] = {"open_store": time.perf_counter() - started}

    def write_run(self, run_id, write_files, record, tables, audit=()):  # type: ignore[override]
        self.timings["build_tables"] = time.perf_counter() - self._store_started
        self.timings["catalog_rows"] = float(sum(len(t) for t in tables.values()) + 1)
        started = time.perf_counter()

        def timed_write(folder: Path) -> dict | None:
            t0 = time.perf_counter()
            digests = write_files(folder)  # the pickles' signatures, recorded with the run
            self.timings["write_files"] = time.perf_counter() - t0
            return digests

        try:
            return super().write_run(run_id, timed_write, record, tables, audit)
        finally:
            self.timings["write_run"] = time.perf_counter() - started

    def mark_store_start(self) -> None:
        self._store_started = time.perf_counter()


def _progress_for(store: TimedArtifactStore):
    """The runner reports "evaluate" just before it starts capturing: mark the time there."""

    def progress(stage: str, message: str) -> None:
        if stage == "evaluate":
            store.mark_store_start()

    return progress


# -- timing --------------------------------------------------------------------------------------
def run_nocapture(pipeline: Path, sources: dict[str, Path]) -> tuple[float, RunResult, dict[str, float]]:
    gc.collect()
    started = time.perf_counter()
    result = run(pipeline, sources={k: str(v) for k, v in sources.items()}, cache=False, capture=False)
    return time.perf_counter() - started, result, {}


def run_capture(pipeline: Path, sources: dict[str, Path], store_root: Path
                ) -> tuple[float, RunResult, dict[str, float]]:
    gc.collect()
    started = time.perf_counter()
    store = TimedArtifactStore(store_root)  # a fresh store: creating it is part of capture
    result = run(pipeline, sources={k: str(v) for k, v in sources.items()}, store=store,
                 cache=False, capture=True, progress=_progress_for(store))
    return time.perf_counter() - started, result, dict(store.timings)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_size(n_rows: int, repeats: int, work: Path) -> dict[str, Any]:
    folder = work / f"rows-{n_rows}"
    with console.status(f"generating {n_rows:,} mails"):
        t0 = time.perf_counter()
        sources = make_data(n_rows, folder / "data")
        generate_s = time.perf_counter() - t0
    pipeline = folder / "pipeline.py"
    pipeline.write_text(PIPELINE_SOURCE)
    console.print(f"data: {n_rows:,} mails, {max(n_rows // 10, 1):,} customers "
                  f"({generate_s:.1f} s to generate)")

    stores = folder / "stores"
    counter = iter(range(1_000_000))

    def fresh_store() -> Path:
        return stores / f"store-{next(counter)}"

    with console.status(f"{n_rows:,}: warm-up"):
        run_nocapture(pipeline, sources)
        run_capture(pipeline, sources, fresh_store())

    times: dict[str, list[float]] = {"nocapture": [], "capture": []}
    best: dict[str, tuple[float, RunResult, dict[str, float], Path | None]] = {}
    for repeat in range(repeats):
        with console.status(f"{n_rows:,}: repeat {repeat + 1}/{repeats}, no capture"):
            elapsed, result, timings = run_nocapture(pipeline, sources)
            times["nocapture"].append(elapsed)
            if "nocapture" not in best or elapsed < best["nocapture"][0]:
                best["nocapture"] = (elapsed, result, timings, None)
        with console.status(f"{n_rows:,}: repeat {repeat + 1}/{repeats}, capture"):
            root = fresh_store()
            elapsed, result, timings = run_capture(pipeline, sources, root)
            times["capture"].append(elapsed)
            if "capture" not in best or elapsed < best["capture"][0]:
                best["capture"] = (elapsed, result, timings, root)

    nocapture_s, plain, _, _ = best["nocapture"]
    capture_s, captured, store_timings, root = best["capture"]
    assert root is not None and captured.folder is not None
    catalog = Catalog(root / "catalog.duckdb")
    t0 = time.perf_counter()
    catalog.sync()  # not part of the run: the index is brought up to date on the next open
    sync_s = time.perf_counter() - t0
    counts = catalog.query(
        "SELECT (SELECT count(*) FROM row_provenance WHERE run_id = ?) AS row_provenance, "
        "(SELECT count(*) FROM column_provenance WHERE run_id = ?) AS column_provenance, "
        "(SELECT count(*) FROM matrix_provenance WHERE run_id = ?) AS matrix_provenance",
        [captured.run_id] * 3,
    ).iloc[0]
    prepared_rows = len(captured.train) + len(captured.test)
    if (len(plain.train), len(plain.test)) != (len(captured.train), len(captured.test)):
        raise AssertionError("capture and no-capture runs split the rows differently")
    if int(counts["row_provenance"]) != 2 * prepared_rows:  # one mail and one customer id per row
        raise AssertionError(f"row_provenance has {counts['row_provenance']} rows for "
                             f"{prepared_rows} prepared rows from 2 sources")

    store_s = captured.seconds["store"]
    overhead = (capture_s - nocapture_s) / nocapture_s
    stages = sorted(set(plain.seconds) | set(captured.seconds), key=list(captured.seconds).index)
    store_parts = {
        "open_store": store_timings.get("open_store"),
        "build_tables": store_timings.get("build_tables"),
        "write_files": store_timings.get("write_files"),
        "write_record_and_register": store_timings["write_run"] - store_timings["write_files"],
    }
    return {
        "rows": n_rows,
        "customers": max(n_rows // 10, 1),
        "prepared_rows": prepared_rows,
        "train_rows": len(captured.train),
        "test_rows": len(captured.test),
        "matrix_columns": int(captured.X_train.shape[1]),
        "matrix_sparse": bool(hasattr(captured.X_train, "tocsr")),
        "nocapture_s": nocapture_s,
        "capture_s": capture_s,
        "store_s": store_s,
        "capture_overhead_ratio": overhead,
        "pass": overhead <= TARGET_OVERHEAD,
        # less noisy on a busy machine: only the time spent capturing (opening the fresh store
        # plus the "store" stage) over the no-capture run, ignoring jitter in the other stages
        "attributable_overhead_ratio": (store_s + store_timings["open_store"]) / nocapture_s,
        # the parts of capture: opening a fresh store (outside run()'s stages), then "store"
        "store_parts_s": store_parts,
        # paid once by the next catalog reader (lester runs/show/trace, or lester run's CLI),
        # not by run(): indexing the new run folder into catalog.duckdb
        "catalog_sync_s": sync_s,
        "stage_seconds": {
            "nocapture": {stage: plain.seconds.get(stage) for stage in stages},
            "capture": {stage: captured.seconds.get(stage) for stage in stages},
        },
        "unstaged_s": {  # wall time not in any stage (loading the module, config, sources...)
            "nocapture": nocapture_s - sum(plain.seconds.values()),
            "capture": capture_s - sum(captured.seconds.values()),
        },
        "catalog_rows": {
            "row_provenance": int(counts["row_provenance"]),
            "column_provenance": int(counts["column_provenance"]),
            "matrix_provenance": int(counts["matrix_provenance"]),
            "all_tables": int(store_timings.get("catalog_rows", 0)),
        },
        "row_provenance_rows": int(counts["row_provenance"]),
        "run_folder_bytes": folder_bytes(captured.folder),
        "catalog_bytes": (root / "catalog.duckdb").stat().st_size,
        "test_metrics": captured.metrics.get("test", {}),
        "all_times_s": times,
        "repeats": repeats,
    }


# -- reporting -----------------------------------------------------------------------------------
def print_table(sizes: list[dict[str, Any]], machine: dict[str, Any], load: float | None) -> None:
    def verdict(ok: bool) -> str:
        return "[green]ok[/green]" if ok else "[red]miss[/red]"

    table = Table(
        title="lester pipeline run: capture (artifacts + provenance catalog) vs no capture",
        caption=(
            f"best of {sizes[0]['repeats']} interleaved runs each, cache off; capture into a fresh "
            f"store each run. overhead = (capture - nocapture) / nocapture, target <= "
            f"{TARGET_OVERHEAD:.0%}. {machine['usable_cores']} cores"
            + (f", load average {load:.1f} at start." if load is not None else ".")
        ),
    )
    table.add_column("mails", justify="right")
    table.add_column("prepared (train/test)", justify="right")
    table.add_column("no capture", justify="right")
    table.add_column("capture", justify="right")
    table.add_column("store", justify="right")
    table.add_column("tables/files/record", justify="right")
    table.add_column("row_provenance", justify="right")
    table.add_column("overhead", justify="right")
    table.add_column("store+open", justify="right")
    for s in sizes:
        parts = s["store_parts_s"]
        table.add_row(
            f"{s['rows']:,}",
            f"{s['prepared_rows']:,} ({s['train_rows']:,}/{s['test_rows']:,})",
            f"{s['nocapture_s']:.3f} s",
            f"{s['capture_s']:.3f} s",
            f"{s['store_s']:.3f} s",
            f"{parts['build_tables']:.3f} / {parts['write_files']:.3f} / {parts['write_record_and_register']:.3f}",
            f"{s['row_provenance_rows']:,}",
            f"{s['capture_overhead_ratio']:+.1%} {verdict(s['pass'])}",
            f"{s['attributable_overhead_ratio']:.1%}",
        )
    console.print(table)

    stages = Table(title="per-stage seconds (best run of each variant)")
    stages.add_column("stage")
    for s in sizes:
        stages.add_column(f"{s['rows']:,} no capture", justify="right")
        stages.add_column(f"{s['rows']:,} capture", justify="right")
    names = list(dict.fromkeys(n for s in sizes for n in s["stage_seconds"]["capture"]))
    for name in [*names, "(outside stages)"]:
        row = [name]
        for s in sizes:
            for variant in ("nocapture", "capture"):
                value = (s["unstaged_s"][variant] if name == "(outside stages)"
                         else s["stage_seconds"][variant].get(name))
                row.append("-" if value is None else f"{value:.3f}")
        stages.add_row(*row)
    console.print(stages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 mails only (under a minute)")
    parser.add_argument("--rows", type=int, nargs="+", help="mail counts to run (overrides --quick)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per variant (best kept)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--keep", action="store_true", help="keep the data and stores")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a size misses the target")
    args = parser.parse_args(argv)
    sizes = args.rows or (QUICK_SIZES if args.quick else FULL_SIZES)

    warnings.filterwarnings("ignore", category=FutureWarning)
    load = load_average()
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="lester-bench-pipeline-"))
    try:
        results = [bench_size(n, args.repeats, work) for n in sizes]
    finally:
        if args.keep:
            console.print(f"data and stores kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    machine = machine_description()
    print_table(results, machine, load)
    report = {
        "benchmark": "bench_pipeline",
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "pipeline": (
            "read_csv customers (key customer_id) and mails (key mail_id, parse_dates); filter "
            "year(mail_date) >= 2022 (SQL); join mails.email = customers.customer_email; project "
            "sentiment(mail_text) (Python); project length(mail_text), amount * 0.92 (SQL); "
            "ColumnTransformer(OneHotEncoder[country, channel], StandardScaler[4 numbers]); "
            "LogisticRegression; random split 0.2 on provenance"
        ),
        "overhead_definition": "(capture_s - nocapture_s) / nocapture_s, best of repeats each",
        "target_overhead": TARGET_OVERHEAD,
        "sizes": results,
        "pass": {str(s["rows"]): s["pass"] for s in results},
        "all_pass": all(s["pass"] for s in results),
        "python": machine["python"],
        "pandas": machine["pandas"],
        "duckdb": machine["duckdb"],
        "cores": machine["usable_cores"],
        "machine": {**machine, "load_average_1m_at_start": load, "load_average_1m_at_end": load_average()},
        "total_benchmark_s": time.perf_counter() - started,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    console.print(f"wrote {args.output} ({report['total_benchmark_s']:.0f} s in all)")
    return 1 if args.strict and not report["all_pass"] else 0


if __name__ == "__main__":
    sys.exit(main())
