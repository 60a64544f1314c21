"""``lester forget`` and ``lester redact``: the command-line face of :mod:`lester.ivm`."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from lester.cli_params import exit_with_error, store_option
from lester.errors import LesterError
from lester.ivm.maintain import MaintenanceReport

_RUN = click.option("--run", "run_id", default=None, help="Maintain only this run (id or unique prefix).")
_ALL = click.option("--all-runs", is_flag=True, help="Maintain every affected run (the newest version of each).")
_VERIFY = click.option("--verify", is_flag=True,
                       help="Also retrain from scratch on the changed sources and compare.")
_DRY = click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")


def _seconds(value: float | None) -> str:
    return "" if value is None else (f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s")


def print_report(report: MaintenanceReport, console: Console | None = None) -> None:
    """A report as rich tables: affected runs, strategies, timings, verification."""
    console = console or Console()
    if not report.changes:
        console.print(f"[yellow]{report.message}[/]", highlight=False)
        return
    title = f"{report.action}{' (dry run)' if report.dry_run else ''}"
    table = Table("run", "new version", "train rows -/+", "test rows -/+", "data prep", "model update",
                  "time", title=title)
    for change in report.changes:
        table.add_row(
            change.run_id, change.new_run_id or "-",
            f"-{change.rows_removed.get('train', 0)} / +{change.rows_added.get('train', 0)}",
            f"-{change.rows_removed.get('test', 0)} / +{change.rows_added.get('test', 0)}",
            change.dataprep,
            f"{change.strategy}{' (exact)' if change.exact else ''}\n{change.detail}",
            _seconds(change.seconds.get("total")),
        )
    console.print(table)
    timed = [c for c in report.changes if c.new_run_id]
    if timed:
        steps = Table("run", *[s for s in ("resolve", "dataprep", "apply", "update_model", "evaluate", "write")],
                      title="timings")
        for change in timed:
            steps.add_row(change.run_id, *[_seconds(change.seconds.get(s)) for s in
                                           ("resolve", "dataprep", "apply", "update_model", "evaluate", "write")])
        console.print(steps)
    verified = [c for c in report.changes if c.verification is not None]
    if verified:
        check = Table("run", "agreement", "metric (incremental / retrain)", "delta (points)",
                      "parameter distance (old -> new)", "retrain", "speedup", title="verification against a retrain")
        for change in verified:
            v = change.verification
            distance = ("n/a" if v.parameter_distance is None else
                        f"{v.old_parameter_distance:.4f} -> {v.parameter_distance:.4f}"
                        if v.old_parameter_distance is not None else f"{v.parameter_distance:.4f}")
            total = change.seconds.get("total") or float("nan")
            ties = f" ({v.near_ties} near ties)" if v.near_ties else ""
            check.add_row(change.run_id, f"{100 * v.agreement:.2f}%{ties}",
                          f"{v.metric} {v.metric_incremental:.4f} / {v.metric_retrain:.4f}",
                          f"{v.metric_delta:+.2f}", distance, _seconds(v.retrain_seconds),
                          f"{v.retrain_seconds / total:.0f}x")
        console.print(check)
    console.print(report.message, highlight=False)


@click.command("forget")
@click.option("--source", required=True, help="The source the rows come from, e.g. customers.")
@click.option("--id", "ids", multiple=True, help="A source row id (its key value); repeatable.")
@click.option("--where", default=None, help="A SQL predicate over the source's columns.")
@_RUN
@_ALL
@_VERIFY
@_DRY
@store_option
def forget_command(source, ids, where, run_id, all_runs, verify, dry_run, store) -> None:
    """Forget source rows: write a new version of every affected run without them (rows,
    features, labels, predictions, metrics) and with the model unlearned.

    \b
    lester forget --source customers --id 17 --id 42 --verify
    lester forget --source customers --where "customer_email = 'a@b.c'" --all-runs
    """
    from lester.ivm.forget import forget

    try:
        report = forget(source, list(ids) or None, where=where, run=run_id, all_runs=all_runs,
                        verify=verify, dry_run=dry_run, store=store)
    except LesterError as error:
        exit_with_error(error)
    print_report(report)


@click.command("redact")
@click.option("--source", required=True, help="The source holding the column, e.g. mails.")
@click.option("--column", required=True, help="The source column to redact.")
@click.option("--where", required=True, help="A SQL predicate choosing the rows to redact.")
@click.option("--with", "with_", default="[redacted]", show_default=True, help="The replacement value.")
@_RUN
@_ALL
@_VERIFY
@_DRY
@store_option
def redact_command(source, column, where, with_, run_id, all_runs, verify, dry_run, store) -> None:
    """Redact a source column in some rows: re-derive and re-encode only the affected
    prepared rows and update the model, as a new version of every affected run.

    \b
    lester redact --source mails --column mail_text --where "mail_text LIKE '%4111%'" --with "[redacted]"
    """
    from lester.ivm.redact import redact

    try:
        report = redact(source, column, where, with_, run=run_id, all_runs=all_runs, verify=verify,
                        dry_run=dry_run, store=store)
    except LesterError as error:
        exit_with_error(error)
    print_report(report)
