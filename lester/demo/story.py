"""``lester demo``: the compliance story end to end, offline, in well under a minute.

1. synthetic customers and support mails (some mails carry card numbers);
2. the messy script a data scientist wrote for them;
3. ``lester rewrite`` with the offline rules engine, validated against the script;
4. ``lester run`` of the rewritten pipeline, with provenance;
5. where one prepared row came from;
6. ``lester forget`` of one customer and ``lester redact`` of the card numbers, each checked
   against a retrain from scratch;
7. a table of timings and agreement, written with a PNG chart to the work folder;
8. ``lester verify-erasure`` finds what still holds the forgotten customer (the original
   version, the stage cache), ``lester purge`` removes it (timed per affected row chunk), and
   ``lester verify-erasure`` again comes out clean (skipped with ``purge=False``, which keeps
   every version for exploring ``lester show`` and ``lester audit``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import lester as lt
from lester.demo.data import CARD_NUMBER_SQL, write_demo_data
from lester.demo.data import messy_script as _messy_script
from lester.demo.limits import customers_problem
from lester.errors import LesterError

# Files the demo writes into its folder; a folder holding anything else is refused.
_MARKER = ".lester-demo"
SCRIPT_NAME = "messy_mails.py"


class DemoFolderError(LesterError, FileExistsError):
    """The work folder holds files the demo did not write."""


def _prepare_folder(workdir: str | os.PathLike | None) -> Path:
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix="lester-demo-"))
    folder = Path(workdir)
    if folder.exists() and any(folder.iterdir()) and not (folder / _MARKER).exists():
        raise DemoFolderError(
            f"{folder}: not empty and not a folder of an earlier `lester demo`; "
            "the demo would overwrite files there. Pass an empty or new folder."
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _MARKER).write_text("written by `lester demo`; its files may be replaced\n")
    return folder


def _step(console: Console, number: int, text: str) -> None:
    console.print(f"\n[bold cyan]{number}.[/] [bold]{text}[/]")


def _forgettable_customer(run: Any) -> str:
    """A customer with several training rows: the most interesting one to forget."""
    counts = run.train["customer_id"].value_counts()
    return str(counts.index[0])


def _timing_row(label: str, change: Any) -> dict[str, Any]:
    verification = change.verification
    incremental = change.seconds.get("total")
    retrain = verification.retrain_seconds if verification else None
    return {
        "request": label,
        "rows_removed": sum(change.rows_removed.values()),
        "rows_changed": sum(change.rows_added.values()),
        "strategy": change.strategy,
        "incremental_s": incremental,
        "retrain_s": retrain,
        "speedup": retrain / incremental if incremental and retrain else None,
        "agreement": verification.agreement if verification else None,
        "metric": verification.metric if verification else None,
        "metric_delta_points": verification.metric_delta if verification else None,
        "new_run": change.new_run_id,
    }


def _chart(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """A bar chart of incremental vs retrain seconds; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels = [row["request"] for row in rows]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    positions = range(len(rows))
    incremental = ax.bar([p - 0.2 for p in positions], [row["incremental_s"] * 1000 for row in rows],
                         0.4, label="lester (incremental)")
    retrain = ax.bar([p + 0.2 for p in positions], [(row["retrain_s"] or 0) * 1000 for row in rows],
                     0.4, label="full retrain")
    ax.bar_label(incremental, fmt="%.0f ms")
    ax.bar_label(retrain, fmt="%.0f ms")
    ax.set_xticks(list(positions), labels)
    ax.set_ylabel("milliseconds")
    ax.set_title("Deleting and redacting data: incremental update vs retrain")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _erasure_step(console: Console, store: Path, customer: str, number: int) -> dict[str, Any]:
    """Verify the erasure, purge, verify again; the figures for demo_results.json."""
    from lester.ivm.erasure import verify_erasure
    from lester.ivm.purge import purge

    _step(console, number, f"lester verify-erasure: is customer {customer} gone from the store?")
    # the demo's customers have no key column (rows are positions): named by their number
    where = f"customer_id = '{customer}'"
    before = verify_erasure("customers", where=where, store=store)
    kinds: dict[str, int] = {}
    for finding in before.findings:
        top = finding.path.split("/")[0] if finding.path.startswith("cache/") else \
            "/".join(finding.path.split("/")[:2]) if finding.path.startswith("runs/") else finding.path
        kinds[top] = kinds.get(top, 0) + 1
    console.print(f"   not yet: {len(before.findings)} places in {len(before.places())} files still hold them "
                  f"({before.files} files scanned in {before.seconds * 1000:.0f} ms):")
    for place, count in sorted(kinds.items()):
        console.print(f"     {escape(place)}: {count}", highlight=False)
    console.print("   (the versions before the requests, and the stage cache, were never rewritten: deletion "
                  "is logical first)")

    _step(console, number + 1, "lester purge: make the deletion physical")
    planned = purge(store, dry_run=True)
    chunks = sum(_chunk_count(store / a.path) for a in planned.actions if a.kind == "expire version")
    report = purge(store)
    spent = sum(a.seconds or 0.0 for a in report.actions)
    counts: dict[str, int] = {}
    for action in report.actions:
        counts[action.kind] = counts.get(action.kind, 0) + 1
    console.print(f"   {escape(report.message)} in {report.seconds * 1000:.0f} ms; "
                  f"{chunks} affected row chunks, {1000 * spent / max(chunks, 1):.1f} ms per chunk")

    _step(console, number + 2, f"lester verify-erasure again: customer {customer}")
    after = verify_erasure("customers", where=where, store=store)
    if after.clean:
        console.print(f"   [green]clean[/]: nothing of customer {customer} in any of the {after.files} files "
                      f"({after.seconds * 1000:.0f} ms)")
    else:
        console.print(f"   [red]still {len(after.findings)} places:[/] " + escape(", ".join(after.places())))
    return {
        "subject": customer, "before": {"findings": len(before.findings), "files": len(before.places())},
        "purge": {"seconds": report.seconds, "actions": counts, "affected_chunks": chunks,
                  "ms_per_chunk": 1000 * spent / max(chunks, 1), "remaining": report.remaining},
        "after": {"clean": after.clean, "findings": len(after.findings), "files_scanned": after.files,
                  "seconds": after.seconds},
    }


def _chunk_count(folder: Path) -> int:
    """Row chunk files of a run folder (prepared rows, features, provenance)."""
    return sum(1 for name in ("train.parquet", "test.parquet", "X_train", "X_test", "row_provenance")
               if (folder / name).is_dir() for _ in (folder / name).iterdir())


def run_demo(customers: int = 1000, workdir: str | os.PathLike | None = None,
             console: Console | None = None, purge: bool = True) -> int:
    """Run the compliance demo; returns the process exit code (0 when every step held).
    ``purge=False`` stops before the purge and keeps every version of the runs."""
    console = console or Console()
    started = time.perf_counter()
    problem = customers_problem(customers)
    if problem:  # before the folder is made: nothing is written for a demo that cannot run
        console.print(f"[red]error:[/] {escape(problem)}")
        return 2
    try:
        folder = _prepare_folder(workdir)
    except DemoFolderError as error:
        console.print(f"[red]error:[/] {escape(str(error))}")
        return 2
    store = folder / ".lester"

    _step(console, 1, f"Synthetic data: {customers:,} customers and {3 * customers:,} support mails")
    paths = write_demo_data(folder / "data", customers)
    console.print(f"   {paths[0]}\n   {paths[1]}  (about 7% of mails contain a card number)")

    _step(console, 2, "The messy script a data scientist wrote")
    script = folder / SCRIPT_NAME
    script.write_text(_messy_script())
    console.print(
        f"   {script}: {len(script.read_text().splitlines())} lines. A customer dict built from a\n"
        "   for-loop over file lines, mails joined by hand on e-mail, date and keyword filters,\n"
        "   card numbers sanitised, a word-list sentiment, numpy one-hot and scaling, a model.\n"
        "   It cannot say which model rows came from a customer, nor forget one without a rerun."
    )

    _step(console, 3, "lester rewrite: into a declarative pipeline, offline (rules engine)")

    def say(stage: str, message: str) -> None:
        console.print(f"   [dim]{stage:<16}[/] {escape(message)}", highlight=False)

    result = lt.rewrite(script, engine="rules", sample_rows=1000, progress=say)
    console.print(result.report.validation_table("validation: the script vs the rewrite"))
    if not result.valid:
        console.print(f"[red]the rewrite is {result.status}:[/] {escape(result.report.message)}")
        return 1
    pipeline = folder / "pipeline.py"
    result.write(pipeline, force=True)
    opaque = len(result.report.opaque_steps)
    console.print(f"   valid -> {pipeline} ({opaque} opaque steps)")

    _step(console, 4, "lester run: prepare, split, encode, train, evaluate, store with provenance")
    sources = {name: str(folder / default) for name, default in result.sources.items()}
    run = lt.run(pipeline, sources=sources, store=store, progress=say)
    console.print(f"   run {run.run_id}: {len(run.train)} train / {len(run.test)} test rows")

    _step(console, 5, "Provenance: where did one prepared training row come from?")
    customer = _forgettable_customer(run)
    row = int(run.train.index[run.train["customer_id"] == customer][0])
    origins = lt.trace(run=run.run_id, train_row=row, store=store)
    table = Table("source", "source row id", "path", title=f"train row {row} of run {run.run_id}")
    for origin in origins.itertuples():
        table.add_row(origin.source, str(origin.source_id), str(origin.path))
    console.print(table)
    mine = int((run.train["customer_id"] == customer).sum() + (run.test["customer_id"] == customer).sum())
    console.print(f"   customer {customer} is behind {mine} prepared rows of this run.")

    _step(console, 6, f"lester forget: customer {customer} asks to be forgotten")
    forgotten = lt.forget("customers", where=f"customer_id = '{customer}'", run=run.run_id,
                          verify=True, store=store)
    console.print(f"   {escape(forgotten.message)}")
    forget_change = forgotten.changes[0]

    _step(console, 7, "lester redact: card numbers turned up in mail_text")
    redacted = lt.redact("mails", column="mail_text", where=CARD_NUMBER_SQL, with_="[redacted]",
                         run=forget_change.new_run_id, verify=True, store=store)
    console.print(f"   {escape(redacted.message)}")
    redact_change = redacted.changes[0]

    rows = [_timing_row(f"forget {customer}", forget_change),
            _timing_row("redact cards", redact_change)]
    summary = Table("request", "rows out/in", "model update", "lester", "retrain", "speedup",
                    "agree", "Δ metric", title="incremental update vs retraining from scratch")
    for item in rows:
        summary.add_row(
            item["request"],
            f"{item['rows_removed']}/{item['rows_changed']}",
            item["strategy"].replace("_", " "),
            f"{item['incremental_s'] * 1000:.0f} ms",
            f"{item['retrain_s'] * 1000:.0f} ms" if item["retrain_s"] else "-",
            f"{item['speedup']:.1f}x" if item["speedup"] else "-",
            f"{item['agreement']:.1%}" if item["agreement"] is not None else "-",
            f"{item['metric_delta_points']:+.2f} pts" if item["metric"] else "-",
        )
    console.print(summary)
    console.print("   rows out/in: prepared rows removed / re-derived; Δ metric: test "
                  f"{rows[0]['metric']} of the update minus the retrain's, in points.")

    erasure = _erasure_step(console, store, customer, 8) if purge else None

    results = folder / "demo_results.json"
    results.write_text(json.dumps({
        "customers": customers, "run": run.run_id, "rewrite": result.report.to_dict()["status"],
        "requests": rows, "erasure": erasure, "seconds": time.perf_counter() - started,
    }, indent=2, default=str))
    chart = _chart(rows, folder / "demo_timings.png")
    console.print(f"\nresults: {results}")
    console.print(f"chart:   {chart}" if chart else
                  "chart:   not drawn (pip install matplotlib to get demo_timings.png)")
    console.print(f"store:   {store}  (try: lester runs --store {store})")
    console.print(f"[green]done in {time.perf_counter() - started:.1f} s[/]")
    return 0 if erasure is None or erasure["after"]["clean"] else 1
