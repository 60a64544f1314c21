"""What lester's commands share: the ``--store`` option, ``NAME=VALUE`` options, and how a
command reports a lester error."""

from __future__ import annotations

import sys

import click
from rich.console import Console

store_option = click.option("--store", default=".lester", show_default=True,
                            type=click.Path(file_okay=False), help="Artifact store folder.")


def name_value_pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """A click callback for a repeatable ``NAME=VALUE`` option: the pairs as a dict.

    Example:
        >>> @click.option("--source", multiple=True, callback=name_value_pairs)  # doctest: +SKIP
    """
    parsed = {}
    for pair in values:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", ctx=ctx, param=param)
        parsed[name.strip()] = value.strip()
    return parsed


def exit_with_error(error: Exception) -> None:
    """Print ``error`` as one line on stderr and exit with status 2 (no traceback)."""
    Console(stderr=True).print(f"[red]error:[/] {error}", markup=True, highlight=False)
    sys.exit(2)
