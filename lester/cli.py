"""The ``lester`` command line.

At start-up (before any command runs) the secret variables of the environment move into
lester's memory (:func:`lester.secrets.scrub_process_environment`): children never inherit
them, and when the kernel's copy of the process's initial environment (``/proc/<pid>/environ``)
holds them, the command re-executes itself once without them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from lester import __version__
from lester.cli_params import exit_with_error, name_value_pairs, show_values_option, store_option

_QUICK = {"-h", "--help", "--version"}
# Commands that start no other process and run no pipeline: no child could read the initial
# environment, so they skip the re-exec (which costs a second start of Python).
_NO_CHILDREN = {"runs", "show", "trace"}


class _LesterGroup(click.Group):
    """The ``lester`` group; run as a program (``__call__``), it first scrubs the environment.

    Tests call ``main.main(...)`` through click's runner, which leaves their process alone.
    """

    def __call__(self, *args, **kwargs):
        _scrub_environment(sys.argv[1:])
        return super().__call__(*args, **kwargs)


def _scrub_environment(arguments: list[str]) -> None:
    import os

    from lester.secrets import scrub_process_environment

    # help, the version and shell completion end at once: moving the secrets out suffices
    quick = (not arguments or arguments[0] in _NO_CHILDREN or bool(_QUICK & set(arguments))
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
def main() -> None:
    """lester turns messy ML scripts into declarative pipelines with row and column
    provenance, and deletes a person's data from every artifact without a full retrain.

    \b
    Start with:  lester demo
    Docs:        README.md in the project, or `help(lester)` in Python.
    """


@main.command()
@click.option("--customers", default=1000, show_default=True, help="Synthetic customers to generate.")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Folder for the demo's data (default: a temporary folder).")
def demo(customers: int, workdir: str | None) -> None:
    """Run the compliance demo offline, no API key needed: synthetic customers and mails,
    a messy script rewritten into a validated declarative pipeline, a run with provenance,
    then one customer forgotten and card numbers redacted in every artifact, each checked
    against a retrain from scratch, with a table of timings and a PNG chart."""
    from lester.demo.story import run_demo

    sys.exit(run_demo(customers=customers, workdir=workdir))


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
@show_values_option
def run_command(pipeline, sources, config, overrides, store, no_cache, show_values) -> None:
    """Run a pipeline module: prepare data with provenance, split, encode, train,
    evaluate, and store every artifact and its provenance as a new run."""
    import os
    from contextlib import nullcontext

    from lester.errors import LesterError
    from lester.frame import python_functions
    from lester.pipeline.runner import run
    from lester.pipeline.store import ArtifactStore
    from lester.secrets import mask

    if config is None and os.path.exists("lester.toml"):
        config = "lester.toml"
    console = Console()
    values = python_functions.show_values() if show_values else nullcontext()
    try:
        with values, console.status("running the pipeline") as status:
            def progress(stage: str, message: str) -> None:
                console.print(f"[bold]{stage:<16}[/] {mask(message)}", highlight=False)
                status.update(f"after {stage}")

            result = run(pipeline, sources=sources, config=config,
                         overrides=overrides, store=store, cache=not no_cache, progress=progress)
    except LesterError as error:
        exit_with_error(error)
    # The run is registered by its folder; bring the database index up to date now so that
    # tools reading catalog.duckdb directly see it too.
    ArtifactStore(store).catalog.sync()
    console.print(f"[green]run {result.run_id}[/] stored in {result.folder}")


@main.command("runs")
@store_option
def runs_command(store) -> None:
    """List the stored runs, newest first."""
    from lester.pipeline.store import ArtifactStore

    table = Table("run", "created", "model", "train", "test", "test metrics", "parent")
    for row in ArtifactStore(store).catalog.runs().itertuples():
        # a run without a model (a data preparation pipeline) has no metrics
        metrics = "\n".join(row.test_metrics) if isinstance(row.test_metrics, (list, tuple)) or \
            hasattr(row.test_metrics, "tolist") else ""
        table.add_row(row.run_id, f"{row.created:%Y-%m-%d %H:%M:%S}", row.model or "(none)",
                      str(row.train_rows), str(row.test_rows), metrics, row.parent_run or "")
    Console().print(table)


@main.command("show")
@click.argument("run_id")
@store_option
def show_command(run_id, store) -> None:
    """Show one run: its configuration, sources, metrics and provenance summary."""
    from lester.errors import LesterError
    from lester.pipeline.store import ArtifactStore

    catalog = ArtifactStore(store).catalog
    try:
        record = catalog.run(run_id)
    except LesterError as error:
        exit_with_error(error)
    console = Console()
    model = record["model"] if isinstance(record["model"], str) else "(none: a data preparation pipeline)"
    console.print(f"[bold]run {record['run_id']}[/]  {record['pipeline']}  model {model}")
    console.print(f"created {record['created']}, {record['train_rows']} train / "
                  f"{record['test_rows']} test rows, folder {record['folder']}")
    sources = Table("source", "path", "rows", "key", "fingerprint", title="sources")
    for row in record["sources"].itertuples():
        sources.add_row(row.label, str(row.path), str(row.rows), str(row.key_column or "(position)"),
                        row.fingerprint[:12])
    console.print(sources)
    if len(record["metrics"]):
        metrics = Table("split", "metric", "value", title="metrics")
        for row in record["metrics"].itertuples():
            metrics.add_row(row.split, row.name, f"{row.value:.4f}")
        console.print(metrics)
    features = catalog.query(
        "SELECT prepared_column, count(*) AS n, min(matrix_column) AS first, max(matrix_column) AS last "
        "FROM matrix_provenance WHERE run_id = ? GROUP BY ALL ORDER BY first", [record["run_id"]])
    if len(features):
        matrix = Table("prepared column", "feature columns", title="feature matrix provenance")
        for row in features.itertuples():
            matrix.add_row(str(row.prepared_column), f"{row.n} (columns {row.first}..{row.last})")
        console.print(matrix)


@main.command("trace")
@click.option("--source", help="Source name, with --id: where did this source row go?")
@click.option("--id", "source_id", help="The source row's id (its key value, or its position).")
@click.option("--run", "run_id", help="Run id (or a unique prefix), with --train-row or --test-row.")
@click.option("--train-row", type=int, help="Row number in the run's training data.")
@click.option("--test-row", type=int, help="Row number in the run's test data.")
@store_option
def trace_command(source, source_id, run_id, train_row, test_row, store) -> None:
    """Trace provenance both ways.

    \b
    lester trace --source customers --id 17     every run, train/test row, feature row and
                                                model that used this source row
    lester trace --run RUN --train-row 5        the source rows this training row came from
    """
    from lester.errors import LesterError
    from lester.pipeline.store import ArtifactStore

    catalog = ArtifactStore(store).catalog
    console = Console()
    try:
        if source is not None and source_id is not None:
            hits = catalog.trace_source_row(source, source_id)
            if hits.empty:
                console.print(f"no stored run used {source} row {source_id}")
                return
            table = Table("run", "split", "row (= feature-matrix row)", "model", title=f"{source} id {source_id}")
            for row in hits.itertuples():
                table.add_row(row.run_id, row.split, str(row.row), row.model)
            console.print(table)
        elif run_id is not None and (train_row is None) != (test_row is None):
            split, row = ("train", train_row) if train_row is not None else ("test", test_row)
            origins = catalog.trace_run_row(run_id, split, row)
            if origins.empty:
                console.print(f"run {run_id} has no {split} row {row}")
                return
            table = Table("source", "id", "path", "fingerprint", title=f"{split} row {row}")
            for hit in origins.itertuples():
                table.add_row(hit.source, hit.source_id, str(hit.path), str(hit.fingerprint)[:12])
            console.print(table)
        else:
            raise click.UsageError("give --source and --id, or --run with --train-row or --test-row")
    except LesterError as error:
        exit_with_error(error)


def _add_ivm_commands() -> None:
    from lester.ivm.cli import forget_command, redact_command

    main.add_command(forget_command)
    main.add_command(redact_command)


_add_ivm_commands()


def _add_rewrite_command() -> None:
    from lester.rewrite.cli import rewrite_command

    main.add_command(rewrite_command)


_add_rewrite_command()


if __name__ == "__main__":  # pragma: no cover
    main()
