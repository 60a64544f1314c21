"""Option parsing shared by lester's commands."""

from __future__ import annotations

import click


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
