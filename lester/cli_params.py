"""What lester's commands share: the ``--store`` and ``--show-values`` options, ``NAME=VALUE``
options, and how a command reports a lester error (masked of secrets)."""

from __future__ import annotations

import sys

import click
from rich.console import Console

store_option = click.option("--store", default=".lester", show_default=True,
                            type=click.Path(file_okay=False), help="Artifact store folder.")
show_values_option = click.option(
    "--show-values", is_flag=True,
    help="Print the failing row's values in errors of Python functions (hidden by default: "
         "they are often personal data).")


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
    """Print ``error`` as one line on stderr, masked of secrets, and exit with status 2 (no
    traceback)."""
    from rich.markup import escape

    from lester.secrets import mask

    Console(stderr=True).print(f"[red]error:[/] {escape(mask(str(error)))}", markup=True, highlight=False)
    sys.exit(2)
