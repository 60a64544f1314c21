"""What lester's commands share: the ``--store`` and ``--show-values`` options, ``NAME=VALUE``
options, the output options (``--json``, ``-q``, ``-v``), consoles that print plainly when
stdout is not a terminal, and how a command reports a lester error (masked of secrets).

Nothing here imports rich at module level: ``lester --help`` and shell completion load this
module and must stay fast.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

STORE_VARIABLE = "LESTER_STORE"
store_option = click.option("--store", default=".lester", show_default=True, envvar=STORE_VARIABLE,
                            show_envvar=True, type=click.Path(file_okay=False), help="Artifact store folder.")
show_values_option = click.option(
    "--show-values", is_flag=True,
    help="Print the failing row's values in errors of Python functions (hidden by default: "
         "they are often personal data).")

# Plain output is never wrapped: a suggested command or a run id must stay copyable whole.
# rich needs some width for tables; this one no table of lester reaches.
PLAIN_WIDTH = 4096
_META = "lester.output."


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


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # ctx.meta is shared by the group's context and the command's: `lester -q runs` and
    # `lester runs -q` land in the same place
    if value:
        key = _META + str(param.name)
        ctx.meta[key] = ctx.meta.get(key, 0) + value if isinstance(value, int) and not isinstance(value, bool) \
            else value


def output_options(function: F) -> F:
    """``--json``, ``-q/--quiet`` and ``-v/--verbose``, on the group and on each command that
    reports; read them with :func:`current_output`."""
    for option in (
        click.option("-v", "--verbose", count=True, expose_value=False, callback=_remember,
                     help="More detail (repeatable)."),
        click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_remember,
                     help="Print only errors and the essential ids."),
        click.option("--json", "json", is_flag=True, expose_value=False, callback=_remember,
                     help="Print one JSON document on stdout, nothing else."),
    ):
        function = option(function)
    return function


@dataclass(frozen=True)
class Output:
    """How a command prints: ``json`` (one document on stdout), ``verbosity`` (-1 quiet,
    0 normal, 1+ verbose)."""

    json: bool = False
    verbosity: int = 0

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    @property
    def verbose(self) -> bool:
        return self.verbosity > 0

    def console(self, stderr: bool = False) -> Console:
        """A console for text; under ``--json`` or ``-q`` the text goes to stderr, or nowhere."""
        if self.json or self.quiet:
            return make_console(stderr=True, quiet=not self.verbose)
        return make_console(stderr=stderr)

    def emit(self, document: Any) -> None:
        """Print ``document`` as JSON on stdout (NaN as null, timestamps as ISO text)."""
        click.echo(json.dumps(jsonable(document), indent=2, allow_nan=False))

    def ids(self, ids: Any) -> None:
        """Quiet output: one id a line, for ``xargs`` and ``$(...)``."""
        for value in ids:
            click.echo(str(value))


def current_output() -> Output:
    """The output settings of the command being run (global and per-command flags merged)."""
    meta = click.get_current_context().meta
    quiet, verbose = bool(meta.get(_META + "quiet")), int(meta.get(_META + "verbose") or 0)
    if quiet and verbose:
        raise click.UsageError("give -q or -v, not both")
    return Output(json=bool(meta.get(_META + "json")), verbosity=-1 if quiet else verbose)


def make_console(stderr: bool = False, quiet: bool = False) -> Console:
    """A rich console; when its stream is not a terminal it prints plain text: no colours, no
    wrapping at 80 columns (so suggested commands and run ids stay whole)."""
    from rich.console import Console

    console = Console(stderr=stderr, quiet=quiet, highlight=False)
    if not console.is_terminal:
        console = Console(stderr=stderr, quiet=quiet, highlight=False, width=PLAIN_WIDTH, soft_wrap=True,
                          color_system=None)
    return console


def jsonable(value: Any) -> Any:
    """``value`` with pandas/numpy values made JSON: frames as lists of records, NaN and NA as
    None, timestamps as ISO text, paths as text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if getattr(value, "ndim", 0) == 0 and _is_missing(value):  # NaT, pandas.NA, numpy NaN
        return None
    if isinstance(value, _dates()):
        return value.isoformat()
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return [jsonable(record) for record in value.to_dict(orient="records")]
    if hasattr(value, "__dataclass_fields__"):
        return {name: jsonable(getattr(value, name)) for name in value.__dataclass_fields__}
    if hasattr(value, "tolist") and getattr(value, "ndim", 0):  # numpy arrays, pandas series
        return jsonable(value.tolist())
    if hasattr(value, "isoformat"):  # pandas.Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


def _dates() -> tuple[type, ...]:
    from datetime import date, datetime  # here, not at the top: --help never needs it

    return datetime, date


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value)  # noqa: PLR0124 (NaN and NaT differ from themselves; NA raises)
    except (TypeError, ValueError):
        return type(value).__name__ in ("NAType", "NaTType")


def text(value: Any, missing: str = "-") -> str:
    """A cell for a table: missing values (None, NaN, NA) as ``missing``; rich renders only
    strings, and pandas 3 hands missing text as float NaN."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return missing
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def plain_row(table: Any, *cells: Any) -> None:
    """Add a row of text cells that rich must not read as markup: a replacement value
    ``[redacted]``, a path or a predicate would otherwise lose its brackets."""
    from rich.text import Text

    table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))


def exit_with_error(error: Exception | str) -> NoReturn:
    """Print ``error`` as one line on stderr, masked of secrets, and exit with status 2 (no
    traceback)."""
    from rich.markup import escape

    from lester.secrets import mask

    make_console(stderr=True).print(f"[red]error:[/] {escape(mask(str(error)))}", markup=True, highlight=False)
    sys.exit(2)
