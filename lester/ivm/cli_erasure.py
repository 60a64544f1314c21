"""``lester verify-erasure`` and ``lester purge``: the command-line face of
:mod:`lester.ivm.erasure` and :mod:`lester.ivm.purge`.

Loaded by ``lester --help``: nothing heavy at module level (the work is in the command bodies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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

    from lester.ivm.erasure import ErasureReport
    from lester.ivm.purge import PurgeReport


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def print_erasure(report: ErasureReport, console: Console, verbose: bool = False) -> None:
    """The report as text: what was searched (columns, never values), then each place."""
    from rich.table import Table

    searched = sorted({what for items in report.searched.values() for what in items})
    console.print(f"verify-erasure: {len(report.subjects)} subject(s) of {report.source}, searched for "
                  f"{', '.join(searched)}; {report.files} files ({_size(report.bytes)}) scanned in "
                  f"{report.seconds:.2f} s", highlight=False, markup=False)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if report.findings:
        table = Table(title=f"remains in {len(report.places())} file(s)")
        for name in ("file", "kind", "category", "subject", "what", "where"):
            table.add_column(name, no_wrap=name == "file")
        for finding in report.findings:
            plain_row(table, finding.path, finding.kind, finding.category, finding.subject, finding.what, finding.where)
        console.print(table)
    for item in report.unchecked:
        console.print(f"unchecked: {item.path}: {item.reason}", highlight=False, markup=False)
    if verbose:
        console.print(f"rule: {report.rule}", highlight=False, markup=False)
    if report.clean:
        console.print("clean: nothing of the subject remains in the store", style="green", highlight=False)
    elif report.findings:
        console.print(f"NOT erased: {len(report.findings)} place(s) in {len(report.places())} file(s) still hold "
                      "the subject (lester purge removes what superseded versions, caches and temporary files "
                      "hold)", style="red", highlight=False, markup=False)
    else:
        console.print("nothing found, but some files could not be checked (listed above)", style="yellow",
                      highlight=False)


@click.command("verify-erasure")
@click.option("--source", required=True, help="The source the subject is a row of, e.g. customers.")
@click.option("--id", "ids", multiple=True, help="The subject's id (key value, or position); repeatable.")
@click.option("--where", default=None, help="A SQL predicate over the source's columns choosing the subjects.")
@store_option
@output_options
def verify_erasure_command(source: str, ids: tuple[str, ...], where: str | None, store: str) -> None:
    """Prove that a person is gone from the store, or list every place where something of
    them remains.

    Scans every file of the store (Parquet chunks, .npy/.npz arrays, the models, encoders and
    stage-cache pickles, the DuckDB catalog and its free space, run.json/catalog.json,
    temporary files) for the subject's key, in id and provenance columns, and for its
    identifying values (text of at least 5 characters, with a letter, that no other row of the
    source holds: "yes", "DE" or a shared name are never searched). Only pickles signed with
    the store's key are unpickled. Output names columns and places, never the values.

    \b
    Exit status: 0 clean, 1 something remains, 2 a bad request, 3 nothing found but some file
    could not be checked.

    \b
    lester verify-erasure --source customers --id C00017
    lester verify-erasure --source customers --where "customer_email = 'a@b.c'" --json
    """
    from lester.errors import LesterError
    from lester.ivm.erasure import verify_erasure

    if bool(ids) == (where is not None):
        raise click.UsageError("name the subject by --id (repeatable) or by --where, not both")
    output = current_output()
    try:
        report = verify_erasure(source, list(ids) or None, where=where, store=store)
    except LesterError as error:
        exit_with_error(error)
    if output.json:
        output.emit(report.to_dict())
    elif output.quiet:
        output.ids(report.places())
    else:
        print_erasure(report, output.console(), verbose=output.verbose)
    raise SystemExit(report.exit_code)


def print_pending(pending: Sequence[Any], purge_within: str, console: Console) -> None:
    """The requests pending purge, with their deadlines (``lester purge`` and ``lester audit``)."""
    from rich.table import Table

    if not pending:
        return
    table = Table(title=f"requests pending purge (purge_within = {purge_within})")
    for name in ("entry", "action", "source", "received", "deadline", ""):
        table.add_column(name, no_wrap=name == "entry")
    for item in pending:
        plain_row(table, item.entry_id, item.action, item.source, item.received, item.deadline or "-",
                  "OVERDUE" if item.overdue else "")
    console.print(table)


def print_purge(report: PurgeReport, console: Console, verbose: bool = False) -> None:
    from rich.table import Table

    print_pending(report.pending, report.purge_within, console)
    shown = [a for a in report.actions if verbose or a.kind != "compact catalog" or a.error]
    if shown:
        table = Table(title="purge (dry run: nothing was changed)" if report.dry_run else "purge")
        for name in ("action", "path", "reason", "size", *(() if report.dry_run else ("time",))):
            table.add_column(name, no_wrap=name == "path")
        for action in shown:
            reason = action.reason + (f" -> new version {action.new_run_id}" if action.new_run_id else "")
            reason += f" FAILED: {action.error}" if action.error else ""
            cells: list[Any] = [action.kind, action.path, reason, _size(action.bytes)]
            if not report.dry_run:
                cells.append("-" if action.seconds is None else f"{action.seconds * 1000:.0f} ms")
            plain_row(table, *cells)
        console.print(table)
    for item in report.remaining:
        console.print(f"remaining: {item}", style="red", highlight=False, markup=False)
    console.print(f"{report.message} ({report.seconds:.2f} s)", highlight=False, markup=False)


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be removed and the pending deadlines; change nothing.")
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="The lester.toml holding [compliance] purge_within (default: ./lester.toml when it exists).")
@store_option
@output_options
def purge_command(dry_run: bool, config: str | None, store: str) -> None:
    """Make deletions physical: remove what still holds forgotten or redacted rows.

    Rewrites kept versions (lineage heads) that still hold forgotten rows, expires superseded
    versions (oldest first), stage-cache entries built before the newest request or holding a
    forgotten id, temporary files of interrupted writers, and compacts catalog.duckdb so deleted
    rows do not stay in its free space. Crash-safe: a kill at any point leaves every kept
    version and the catalog consistent; run it again to finish.

    \b
    Deadlines: [compliance] purge_within = "24h" in lester.toml (default 30d); pending
    requests are listed with their deadline, overdue ones marked.

    \b
    lester purge --dry-run
    lester purge --json
    """
    from lester.errors import LesterError
    from lester.ivm.purge import purge

    output = current_output()
    try:
        report = purge(store, dry_run=dry_run, config=config)
    except LesterError as error:
        exit_with_error(error)
    if output.json:
        output.emit(report.to_dict())
    elif output.quiet:
        output.ids(a.path for a in report.actions if a.kind != "compact catalog" and not a.error)
    else:
        print_purge(report, output.console(), verbose=output.verbose)
    if report.remaining and not dry_run:
        raise SystemExit(1)
