"""``lester forget`` and ``lester redact``: the command-line face of :mod:`lester.ivm`.

Loaded by ``lester --help``: nothing heavy at module level (the work is in the command bodies).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import click

from lester.cli_params import (
    current_output,
    exit_with_error,
    output_options,
    plain_row,
    store_option,
)

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from lester.ivm.maintain import MaintenanceReport

_RUN = click.option("--run", "run_id", default=None, help="Maintain only this run (id or unique prefix).")
_ALL = click.option("--all-runs", is_flag=True, help="Maintain every affected run (the newest version of each).")
_ALL_ROWS = click.option("--all-rows", is_flag=True,
                         help="Confirm a predicate that matches every row (or most of them).")
_VERIFY = click.option("--verify", is_flag=True,
                       help="Also retrain from scratch on the changed sources and compare.")
_DRY = click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
_STEPS = ("resolve", "dataprep", "apply", "update_model", "evaluate", "write")


def _seconds(value: float | None) -> str:
    return "" if value is None else (f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s")


def speedup(ratio: float | None) -> str:
    """A speedup with the precision it needs: ``0.33x``, ``4.6x``, ``12x`` (``-`` when unknown).

    >>> speedup(0.333), speedup(4.62), speedup(123.4), speedup(float("nan"))
    ('0.33x', '4.6x', '123x', '-')
    """
    if ratio is None or not math.isfinite(ratio):
        return "-"
    if ratio >= 10:
        return f"{ratio:.0f}x"
    if ratio >= 1:
        return f"{ratio:.1f}x"
    return f"{ratio:.2f}x" if ratio >= 0.01 else f"{ratio:.1g}x"


def print_report(report: MaintenanceReport, console: Console | None = None, verbose: bool = False) -> None:
    """A report as rich tables: affected runs, strategies, timings (``verbose``, or when
    something was written), verification; then the new versions, whole, one a line."""
    from rich.table import Table

    from lester.cli_params import make_console

    console = console or make_console()
    if not report.changes:
        console.print(report.message, style="yellow", highlight=False, markup=False)
        return
    title = f"{report.action}{' (dry run)' if report.dry_run else ''}"
    table = Table(title=title)
    # run ids never shrink: a cut id ("20261201-182305…") cannot be copied
    table.add_column("run", no_wrap=True)
    table.add_column("new version", no_wrap=True)
    for name in ("train rows -/+", "test rows -/+", "data prep", "model update", "time"):
        table.add_column(name)
    for change in report.changes:
        plain_row(table, 
            change.run_id, change.new_run_id or "-",
            f"-{change.rows_removed.get('train', 0)} / +{change.rows_added.get('train', 0)}",
            f"-{change.rows_removed.get('test', 0)} / +{change.rows_added.get('test', 0)}",
            change.dataprep,
            f"{change.strategy}{' (exact)' if change.exact else ''}\n{change.detail}",
            _seconds(change.seconds.get("total")),
        )
    console.print(table)
    timed = [c for c in report.changes if c.new_run_id or verbose]
    if timed:
        steps = Table(title="timings")
        steps.add_column("run", no_wrap=True)
        for step in _STEPS:
            steps.add_column(step)
        for change in timed:
            plain_row(steps, change.run_id, *[_seconds(change.seconds.get(s)) for s in _STEPS])
        console.print(steps)
    verified = [c for c in report.changes if c.verification is not None]
    if verified:
        check = Table(title="verification against a retrain")
        check.add_column("run", no_wrap=True)
        for name in ("agreement", "metric (incremental / retrain)", "delta (points)",
                     "parameter distance (old -> new)", "retrain", "speedup"):
            check.add_column(name)
        for change in verified:
            v = change.verification
            distance = ("n/a" if v.parameter_distance is None else
                        f"{v.old_parameter_distance:.4f} -> {v.parameter_distance:.4f}"
                        if v.old_parameter_distance is not None else f"{v.parameter_distance:.4f}")
            total = change.seconds.get("total")
            ties = f" ({v.near_ties} near ties)" if v.near_ties else ""
            plain_row(check, change.run_id, f"{100 * v.agreement:.2f}%{ties}",
                          f"{v.metric} {v.metric_incremental:.4f} / {v.metric_retrain:.4f}",
                          f"{v.metric_delta:+.2f}", distance, _seconds(v.retrain_seconds),
                          speedup(v.retrain_seconds / total if total else None))
        console.print(check)
    if verbose:
        for change in report.changes:
            for note in change.notes + (change.verification.notes if change.verification else []):
                console.print(f"note ({change.run_id}): {note}", highlight=False, markup=False)
    console.print(report.message, highlight=False, markup=False)
    for new in report.new_runs:
        console.print(f"new version: {new}  (lester show {new})", highlight=False, markup=False)


def report_document(report: MaintenanceReport) -> dict:
    """The report as ``--json`` prints it."""
    from dataclasses import asdict

    return {**asdict(report), "new_runs": report.new_runs}


def _finish(report: MaintenanceReport) -> None:
    output = current_output()
    if output.json:
        output.emit(report_document(report))
    elif output.quiet:
        output.ids(report.new_runs)
    else:
        print_report(report, output.console(), verbose=output.verbose)


def _note_tournaments(store: str) -> None:
    """Name the tournaments (``lester tune``) whose sources a request just touched."""
    output = current_output()
    if output.json or output.quiet:
        return
    from lester.tune.refresh import stale

    for found in stale(store):
        output.console().print(f"tournament {found['tournament_id']} read {', '.join(found['sources'])}: "
                               f"lester tune --refresh {found['tournament_id']}", highlight=False, markup=False)


@click.command("forget")
@click.option("--source", required=True, help="The source the rows come from, e.g. customers.")
@click.option("--id", "ids", multiple=True, help="A source row id (its key value); repeatable.")
@click.option("--where", default=None, help="A SQL predicate over the source's columns.")
@_RUN
@_ALL
@_ALL_ROWS
@_VERIFY
@_DRY
@store_option
@output_options
def forget_command(source, ids, where, run_id, all_runs, all_rows, verify, dry_run, store) -> None:
    """Forget source rows: write a new version of every affected run without them (rows,
    features, labels, predictions, metrics) and with the model unlearned.

    \b
    lester forget --source customers --id 17 --id 42 --verify
    lester forget --source customers --where "customer_email = 'a@b.c'" --all-runs
    lester forget --source customers --id 17 -q      prints only the new versions' ids
    """
    from lester.errors import LesterError
    from lester.ivm.forget import forget

    try:
        report = forget(source, list(ids) or None, where=where, run=run_id, all_runs=all_runs,
                        all_rows=all_rows, verify=verify, dry_run=dry_run, store=store)
    except LesterError as error:
        exit_with_error(error)
    _finish(report)
    _note_tournaments(store)


@click.command("redact")
@click.option("--source", required=True, help="The source holding the column, e.g. mails.")
@click.option("--column", required=True, help="The source column to redact.")
@click.option("--where", required=True, help="A SQL predicate choosing the rows to redact.")
@click.option("--with", "with_", default="[redacted]", show_default=True, help="The replacement value.")
@_RUN
@_ALL
@_ALL_ROWS
@_VERIFY
@_DRY
@store_option
@output_options
def redact_command(source, column, where, with_, run_id, all_runs, all_rows, verify, dry_run, store) -> None:
    """Redact a source column in some rows: re-derive and re-encode only the affected
    prepared rows and update the model, as a new version of every affected run.

    \b
    lester redact --source mails --column mail_text --where "mail_text LIKE '%4111%'" --with "[redacted]"
    """
    from lester.errors import LesterError
    from lester.ivm.redact import redact

    try:
        report = redact(source, column, where, with_, run=run_id, all_runs=all_runs, all_rows=all_rows,
                        verify=verify, dry_run=dry_run, store=store)
    except LesterError as error:
        exit_with_error(error)
    _finish(report)
    _note_tournaments(store)
