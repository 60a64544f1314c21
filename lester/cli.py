"""The ``lester`` command line."""

from __future__ import annotations

import sys

import click

from lester import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    """Run the end-to-end demo offline: synthetic customers and mails, a declarative
    pipeline with provenance, and the questions messy code cannot answer."""
    from lester.demo import run_demo

    sys.exit(run_demo(customers=customers, workdir=workdir))


if __name__ == "__main__":  # pragma: no cover
    main()
