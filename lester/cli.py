"""The ``lester`` command line.

At start-up (before any command runs) the secret variables of the environment move into
lester's memory (:func:`lester.secrets.scrub_process_environment`): children never inherit
them, and when the kernel's copy of the process's initial environment (``/proc/<pid>/environ``)
holds them, the command re-executes itself once without them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from lester import __version__
from lester.cli_params import (
    current_output,
    exit_with_error,
    name_value_pairs,
    output_options,
    plain_row,
    show_values_option,
    store_option,
    text,
)

# Nothing heavy is imported here or by the modules of eager commands (lester.ivm.cli,
# lester.cli_params): `lester --help` and every tab completion load this module, and pandas,
# scikit-learn, DuckDB, libcst and rich's tables cost seconds. Commands import what they use.

_QUICK = {"-h", "--help", "--version"}
# Commands that start no other process and run no pipeline: no child could read the initial
# environment, so they skip the re-exec (which costs a second start of Python).
_NO_CHILDREN = {"runs", "show", "trace", "audit"}
# Options of the group itself, which may come before the command's name.
_GROUP_FLAGS = {"--json", "-q", "--quiet", "-v", "--verbose", "-vv", "-vvv"}
# Commands whose module is heavy to import: loaded when run, listed (help, completion) from
# their short help here. A test checks that each matches the command's own.
_LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "rewrite": ("lester.rewrite.cli", "rewrite_command",
                "Rewrite a messy script (.py or .ipynb) into a validated lester pipeline module."),
    "tune": ("lester.tune.cli", "tune_command",
             "Run a model-selection tournament over a pipeline's contenders and encoder settings."),
}


class _LesterGroup(click.Group):
    """The ``lester`` group; run as a program (``__call__``), it first scrubs the environment.

    Tests call ``main.main(...)`` through click's runner, which leaves their process alone.
    Commands of :data:`_LAZY_COMMANDS` are imported when resolved to run, never to be listed.
    """

    def __call__(self, *args, **kwargs):
        _scrub_environment(sys.argv[1:])
        return super().__call__(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _LAZY_COMMANDS:
            module, attribute, short_help = _LAZY_COMMANDS[cmd_name]
            if ctx.meta.get(_LISTING):
                # a stand-in that only describes the command: its module is not imported
                return click.Command(cmd_name, help=short_help)
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple:
        name, command, rest = super().resolve_command(ctx, args)
        takes = command is not None and any(p.name == "json" for p in command.params)
        if command is not None and not takes and any(k.startswith("lester.output.") for k in ctx.meta):
            # ignored, a --json would leave a script parsing text
            raise click.UsageError(f"lester {name} takes no --json, -q or -v")
        return name, command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _listing(ctx):
            super().format_commands(ctx, formatter)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list:
        with _listing(ctx):
            return super().shell_complete(ctx, incomplete)


_LISTING = "lester.listing"


@contextmanager
def _listing(ctx: click.Context) -> Iterator[None]:
    ctx.meta[_LISTING] = True
    try:
        yield
    finally:
        ctx.meta.pop(_LISTING, None)


def _scrub_environment(arguments: list[str]) -> None:
    import os

    from lester.secrets import scrub_process_environment

    command = next((a for a in arguments if a not in _GROUP_FLAGS), None)
    # help, the version and shell completion end at once: moving the secrets out suffices
    quick = (command is None or command in _NO_CHILDREN or bool(_QUICK & set(arguments))
             or "_LESTER_COMPLETE" in os.environ)
    again = None if quick or not sys.executable or not _started_as_lester() else [sys.executable, *sys.orig_argv[1:]]
    scrub_process_environment(again, extra_names=_key_variables(arguments))


def _started_as_lester() -> bool:
    """Whether this process is the ``lester`` program (not Python that imported the CLI)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "lester.cli" or Path(sys.argv[0]).stem in ("lester", "lester-script")


def _key_variables(arguments: list[str]) -> list[str]:
    """The variables named by ``--api-key-env``: secrets whatever their name."""
    names = []
    for i, argument in enumerate(arguments):
        if argument == "--api-key-env" and i + 1 < len(arguments):
            names.append(arguments[i + 1])
        elif argument.startswith("--api-key-env="):
            names.append(argument.partition("=")[2])
    return names


@click.group(cls=_LesterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lester")
@output_options
def main() -> None:
    """lester turns messy ML scripts into declarative pipelines with row and column
    provenance, and deletes a person's data from every artifact without a full retrain.

    \b
    Start with:  lester demo
    Scripts:     --json (one JSON document on stdout), -q (only the ids), -v (more detail),
                 before the command or after it; $LESTER_STORE is the default --store.
    Completion:  eval "$(_LESTER_COMPLETE=bash_source lester)"   (zsh_source, fish_source)
    Docs:        README.md in the project, or `help(lester)` in Python.
    """


def _read_store(store: str) -> Any:
    """The store, for a command that only reads it: a mistyped ``--store`` is an error (exit
    2), never a new empty store."""
    from lester.errors import LesterError
    from lester.pipeline.store import open_store

    try:
        return open_store(store, create=False)
    except LesterError as error:
        exit_with_error(error)


def _query(catalog: Any, sql: str, parameters: list[Any]) -> Any:
    from lester.errors import LesterError

    try:
        return catalog.query(sql, parameters)
    except LesterError as error:
        exit_with_error(error)


def _flat(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A nested configuration as ``(dotted.key, value)`` pairs, the way ``--set`` names them."""
    if isinstance(value, dict) and value:
        return [pair for key, item in value.items() for pair in _flat(item, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), value)] if prefix else []


def _metrics_of(listed: Any) -> dict[str, float]:
    """The catalog's ``['accuracy=0.9', ...]`` list as ``{'accuracy': 0.9}`` (empty for a
    run without a model)."""
    if isinstance(listed, str) or not hasattr(listed, "__iter__"):
        return {}
    metrics = {}
    for item in listed:
        name, _, value = str(item).partition("=")
        try:
            metrics[name] = float(value)
        except ValueError:
            continue
    return metrics


def _audit_entries(frame: Any) -> list[dict[str, Any]]:
    import json

    from lester.cli_params import jsonable

    entries = jsonable(frame)
    for entry in entries:
        if isinstance(entry.get("request"), str):
            entry["request"] = json.loads(entry["request"])
    return entries


def _request_text(request: Any) -> str:
    if not isinstance(request, dict):
        return text(request)
    return ", ".join(f"{k}={v}" for k, v in request.items() if v not in (None, False, [], ""))


@main.command()
@click.option("--customers", default=1000, show_default=True, help="Synthetic customers to generate.")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Folder for the demo's data (default: a temporary folder).")
@click.option("--keep-history", is_flag=True,
              help="Stop before the purge: keep every version, to explore lester show and lester audit.")
@output_options
def demo(customers: int, workdir: str | None, keep_history: bool) -> None:
    """Run the compliance demo offline, no API key needed: synthetic customers and mails,
    a messy script rewritten into a validated declarative pipeline, a run with provenance,
    then one customer forgotten and card numbers redacted in every artifact, each checked
    against a retrain from scratch, with a table of timings and a PNG chart; last,
    verify-erasure finds what still holds the customer, purge removes it, and verify-erasure
    comes out clean.

    With --json the story goes to stderr and stdout gets demo_results.json (and the folders);
    with -q only the store's folder is printed."""
    import io
    import json
    import tempfile

    from lester.cli_params import make_console
    from lester.demo.story import run_demo

    output = current_output()
    if (output.json or output.quiet) and workdir is None:
        workdir = tempfile.mkdtemp(prefix="lester-demo-")  # to know where the results are
    captured = io.StringIO()
    if output.json or output.quiet:
        from rich.console import Console

        # the story is kept for an error, unless -v asks to see it on stderr
        console = make_console(stderr=True) if output.verbose else Console(file=captured, width=200)
    else:
        console = make_console()
    status = run_demo(customers=customers, workdir=workdir, console=console, purge=not keep_history)
    if status != 0:
        if captured.getvalue():
            sys.stderr.write(captured.getvalue())
        sys.exit(status)
    folder = Path(workdir).resolve() if workdir is not None else None
    if folder is not None and output.json:
        results = json.loads((folder / "demo_results.json").read_text())
        output.emit({"workdir": str(folder), "store": str(folder / ".lester"), **results})
    elif folder is not None and output.quiet:
        output.ids([folder / ".lester"])


@main.command("run")
@click.argument("pipeline", required=False, type=click.Path(dir_okay=False))
@click.option("--source", "sources", multiple=True, metavar="NAME=PATH", callback=name_value_pairs,
              help="Path for a dataprep() source; overrides lester.toml and the defaults.")
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="Run configuration (default: ./lester.toml when it exists).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a configuration value, e.g. --set model.C=0.5 (repeatable).")
@store_option
@click.option("--no-cache", is_flag=True, help="Recompute every stage.")
@click.option("--engine", type=click.Choice(["duckdb", "pandas", "spark"]), default=None,
              help="Where the data preparation runs (default: lester.toml's [engine], else duckdb).")
@click.option("--spark-master", default=None, metavar="URL",
              help="Spark master for --engine spark, e.g. local[4] or spark://host:7077.")
@show_values_option
@output_options
def run_command(pipeline, sources, config, overrides, store, no_cache, engine, spark_master, show_values) -> None:
    """Run a pipeline module: prepare data with provenance, split, encode, train,
    evaluate, and store every artifact and its provenance as a new run.

    \b
    RUN=$(lester run pipeline.py -q)      the new run's id, nothing else
    """
    import json
    import os
    from contextlib import nullcontext

    from lester.errors import LesterError
    from lester.frame import python_functions
    from lester.pipeline.runner import run
    from lester.pipeline.store import ArtifactStore
    from lester.secrets import mask

    if config is None and os.path.exists("lester.toml"):
        config = "lester.toml"
    # as --set engine.name=... would: after the files, so the command line wins
    overrides = (*overrides, *([f"engine.name={engine}"] if engine else []),
                 *([f"engine.spark_master={json.dumps(spark_master)}"] if spark_master else []))
    output = current_output()
    console = output.console()
    values = python_functions.show_values() if show_values else nullcontext()
    try:
        with values, console.status("running the pipeline") as status:
            def progress(stage: str, message: str) -> None:
                console.print(f"{stage:<16} {mask(message)}", highlight=False, markup=False)
                status.update(f"after {stage}")

            result = run(pipeline, sources=sources, config=config,
                         overrides=overrides, store=store, cache=not no_cache, progress=progress)
    except LesterError as error:
        exit_with_error(error)
    # The run is registered by its folder; bring the database index up to date now so that
    # tools reading catalog.duckdb directly see it too.
    ArtifactStore(store).catalog.sync()
    if output.json:
        output.emit({"run_id": result.run_id, "folder": str(result.folder), "metrics": result.metrics,
                     "train_rows": len(result.train), "test_rows": len(result.test),
                     "model": type(result.model).__name__ if result.model is not None else None,
                     "seconds": result.seconds, "cached": result.cached})
    elif output.quiet:
        output.ids([result.run_id])
    else:
        console.print(f"run {result.run_id} stored in {result.folder}", highlight=False, markup=False)
        console.print(f"  next: lester show {result.run_id} --store {store}", highlight=False, markup=False)


@main.command("runs")
@store_option
@output_options
def runs_command(store) -> None:
    """List the stored runs, newest first (-v adds the pipeline and the run time)."""
    output = current_output()
    catalog = _read_store(store).catalog
    from lester.errors import LesterError

    try:
        listed = catalog.runs()
    except LesterError as error:
        exit_with_error(error)
    rows = [{"run_id": row.run_id, "created": row.created, "pipeline": row.pipeline, "model": row.model,
             "train_rows": row.train_rows, "test_rows": row.test_rows, "seconds": row.seconds,
             "parent_run": row.parent_run, "test_metrics": _metrics_of(row.test_metrics)}
            for row in listed.itertuples()]
    if output.json:
        output.emit({"store": str(Path(store)), "runs": rows})
        return
    if output.quiet:
        output.ids(row["run_id"] for row in rows)
        return
    from rich.table import Table

    table = Table()
    table.add_column("run", no_wrap=True)
    table.add_column("created", no_wrap=True)
    for name in ("model", "train", "test", "test metrics"):
        table.add_column(name)
    table.add_column("parent", no_wrap=True)
    if output.verbose:
        table.add_column("pipeline")
        table.add_column("seconds")
    for row in rows:
        # a run without a model (a data preparation pipeline) has no metrics
        metrics = "\n".join(f"{name}={value:.4f}" for name, value in row["test_metrics"].items())
        cells = [row["run_id"], text(row["created"]).split(".")[0], text(row["model"], "(none)"),
                 text(row["train_rows"]), text(row["test_rows"]), metrics, text(row["parent_run"])]
        if output.verbose:
            cells += [text(row["pipeline"]), text(row["seconds"])]
        plain_row(table, *cells)
    output.console().print(table)


@main.command("show")
@click.argument("run_id")
@store_option
@output_options
def show_command(run_id, store) -> None:
    """Show one run: its configuration, parent, sources, metrics, feature provenance and the
    audit entries that made it or derived from it."""
    from lester.cli_params import jsonable
    from lester.errors import LesterError

    output = current_output()
    catalog = _read_store(store).catalog
    try:
        record = catalog.run(run_id)
    except LesterError as error:
        exit_with_error(error)
    rid = record["run_id"]
    if output.quiet:
        output.ids([rid])
        return
    features = _query(catalog,
        "SELECT prepared_column, count(*) AS n, min(matrix_column) AS first, max(matrix_column) AS last "
        "FROM matrix_provenance WHERE run_id = ? GROUP BY ALL ORDER BY first", [rid])
    audit = _audit_entries(_query(catalog, "SELECT * FROM audit_log WHERE run_id = ? OR new_run_id = ? "
                                           "ORDER BY created, entry_id", [rid, rid]))
    versions = _query(catalog, "SELECT run_id FROM runs WHERE parent_run = ? ORDER BY created, run_id",
                      [rid])["run_id"].tolist()
    document = {**jsonable({k: v for k, v in record.items() if k not in ("sources", "metrics")}),
                "sources": jsonable(record["sources"]), "metrics": jsonable(record["metrics"]),
                "features": jsonable(features), "audit": audit, "versions": versions}
    if output.json:
        output.emit(document)
        return
    _print_run(document, output.console(), output.verbose)


def _print_run(run: dict[str, Any], console: Any, verbose: bool) -> None:
    from rich.table import Table

    def say(line: str) -> None:
        console.print(line, highlight=False, markup=False)

    model = run["model"] if isinstance(run["model"], str) else "(none: a data preparation pipeline)"
    say(f"run {run['run_id']}  {run['pipeline']}  model {model}")
    say(f"created {text(run['created'])}, {text(run['train_rows'])} train / {text(run['test_rows'])} test rows, "
        f"{text(run['seconds'])} s")
    say(f"folder {run['folder']}")
    say(f"parent {run['parent_run']}" if run["parent_run"] else "parent - (an original run)")
    if run["versions"]:
        say(f"newer versions {' '.join(run['versions'])}")
    settings = _flat(run["config"])
    if settings:
        say("configuration")
        for key, value in settings:
            say(f"  {key} = {value if not isinstance(value, dict) else '{}'}")
    sources = Table("source", "path", "rows", "key", "fingerprint", title="sources")
    for row in run["sources"]:
        fingerprint = text(row["fingerprint"])
        plain_row(sources, text(row["label"]), text(row["path"]), text(row["rows"]),
                        text(row["key_column"], "(position)"), fingerprint if verbose else fingerprint[:12])
    console.print(sources)
    if run["metrics"]:
        metrics = Table("split", "metric", "value", title="metrics")
        for row in run["metrics"]:
            value = row["value"]
            plain_row(metrics, text(row["split"]), text(row["name"]), "-" if value is None else f"{value:.4f}")
        console.print(metrics)
    if run["features"]:
        matrix = Table("prepared column", "feature columns", title="feature matrix provenance")
        for row in run["features"]:
            plain_row(matrix, text(row["prepared_column"]), f"{row['n']} (columns {row['first']}..{row['last']})")
        console.print(matrix)
    if run["audit"]:
        _audit_table(run["audit"], console, title="audit entries", verbose=verbose)


def _audit_table(entries: list[dict[str, Any]], console: Any, title: str, verbose: bool) -> None:
    from rich.table import Table

    table = Table(title=title)
    for name in ("entry", "created", "action", "run", "new version"):
        table.add_column(name, no_wrap=True)
    for name in ("rows", "strategy", "request"):
        table.add_column(name)
    if verbose:
        table.add_column("seconds")
    for entry in entries:
        cells = [text(entry["entry_id"]), text(entry["created"]).split(".")[0], text(entry["action"]),
                 text(entry["run_id"]), text(entry["new_run_id"]), text(entry["rows_removed"]),
                 text(entry["strategy"]), _request_text(entry["request"])]
        if verbose:
            cells.append(text(entry["seconds"]))
        plain_row(table, *cells)
    console.print(table)


@main.command("audit")
@click.option("--run", "run_id", default=None, help="Only the entries of this run (id or unique prefix): "
              "those that made it and those that derived from it.")
@store_option
@output_options
def audit_command(run_id, store) -> None:
    """List the audit log: every forget and redact applied, oldest first, with the run it
    changed and the version it wrote (-q: the entry ids)."""
    from lester.errors import LesterError

    output = current_output()
    catalog = _read_store(store).catalog
    if run_id is not None:
        try:
            rid = catalog.run(run_id)["run_id"]
        except LesterError as error:
            exit_with_error(error)
        frame = _query(catalog, "SELECT * FROM audit_log WHERE run_id = ? OR new_run_id = ? "
                                "ORDER BY created, entry_id", [rid, rid])
    else:
        frame = _query(catalog, "SELECT * FROM audit_log ORDER BY created, entry_id", [])
    entries = _audit_entries(frame)
    from dataclasses import asdict

    from lester.ivm.cli_erasure import print_pending
    from lester.ivm.purge import pending_requests

    try:  # the requests whose rows lester purge has not made physical yet, with deadlines
        within, pending = pending_requests(store)
    except LesterError as error:
        exit_with_error(error)
    if output.json:
        output.emit({"store": str(Path(store)), "entries": entries, "purge_within": within,
                     "pending_purges": [asdict(p) for p in pending]})
    elif output.quiet:
        output.ids(entry["entry_id"] for entry in entries)
    elif not entries:
        output.console().print("the audit log is empty: nothing was forgotten or redacted", highlight=False)
    else:
        _audit_table(entries, output.console(), title="audit log", verbose=output.verbose)
        print_pending(pending, within, output.console())


@main.command("trace")
@click.option("--source", help="Source name, with --id: where did this source row go?")
@click.option("--id", "source_id", help="The source row's id (its key value, or its position).")
@click.option("--run", "run_id", help="Run id (or a unique prefix), with --train-row or --test-row.")
@click.option("--train-row", type=int, help="Row number in the run's training data.")
@click.option("--test-row", type=int, help="Row number in the run's test data.")
@store_option
@output_options
def trace_command(source, source_id, run_id, train_row, test_row, store) -> None:
    """Trace provenance both ways.

    \b
    lester trace --source customers --id 17     every run, train/test row, feature row and
                                                model that used this source row
    lester trace --run RUN --train-row 5        the source rows this training row came from
    """
    from lester.cli_params import jsonable
    from lester.errors import LesterError

    output = current_output()
    if not (source is not None and source_id is not None) and \
            not (run_id is not None and (train_row is None) != (test_row is None)):
        raise click.UsageError("give --source and --id, or --run with --train-row or --test-row")
    catalog = _read_store(store).catalog
    console = output.console()
    try:
        if source is not None and source_id is not None:
            hits = jsonable(catalog.trace_source_row(source, source_id))
            if not hits:
                _check_source_known(catalog, source)
            if output.json:
                output.emit({"source": source, "id": source_id, "hits": hits})
            elif output.quiet:
                output.ids(dict.fromkeys(hit["run_id"] for hit in hits))
            elif not hits:
                console.print(f"no stored run used {source} row {source_id}", highlight=False, markup=False)
            else:
                from rich.table import Table

                table = Table(title=f"{source} id {source_id}")
                table.add_column("run", no_wrap=True)
                for name in ("split", "row (= feature-matrix row)", "model", *(("folder",) if output.verbose else ())):
                    table.add_column(name)
                for hit in hits:
                    plain_row(table, hit["run_id"], text(hit["split"]), text(hit["row"]), text(hit["model"], "(none)"),
                                  *((text(hit["folder"]),) if output.verbose else ()))
                console.print(table)
        else:
            split, row = ("train", train_row) if train_row is not None else ("test", test_row)
            rid = catalog.run(run_id)["run_id"]
            origins = jsonable(catalog.trace_run_row(rid, split, row))
            if output.json:
                output.emit({"run_id": rid, "split": split, "row": row, "origins": origins})
            elif output.quiet:
                output.ids(f"{o['source']}:{o['source_id']}" for o in origins)
            elif not origins:
                console.print(f"run {rid} has no {split} row {row}", highlight=False, markup=False)
            else:
                from rich.table import Table

                table = Table("source", "id", "path", "fingerprint", title=f"{rid} {split} row {row}")
                for hit in origins:
                    fingerprint = text(hit["fingerprint"])
                    plain_row(table, text(hit["source"]), text(hit["source_id"]), text(hit["path"]),
                                  fingerprint if output.verbose else fingerprint[:12])
                console.print(table)
    except LesterError as error:
        exit_with_error(error)


def _check_source_known(catalog: Any, source: str) -> None:
    """No hit for a source no run read is a typo, not an answer."""
    known = sorted(set(_query(catalog, "SELECT DISTINCT label FROM sources", [])["label"].tolist()))
    if source not in known:
        exit_with_error(f"no stored run read a source {source!r}; the sources are {', '.join(known) or '(none)'}")


def _add_ivm_commands() -> None:
    # light: lester.ivm.cli imports the deletion machinery only when a command runs
    from lester.ivm.cli import forget_command, redact_command

    main.add_command(forget_command)
    main.add_command(redact_command)
    from lester.ivm.cli_erasure import purge_command, verify_erasure_command

    main.add_command(verify_erasure_command)
    main.add_command(purge_command)


_add_ivm_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
