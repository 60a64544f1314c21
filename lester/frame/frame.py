"""``Frame``: the pandas-like, lazy, provenance-tracking dataframe that rewrites target.

Every method returns a new Frame wrapping a bigger logical plan; nothing runs until
``to_pandas()``, ``provenance()`` or a notebook preview asks for rows. Column names are
checked as the plan is built, so a typo fails on the line that made it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from lester.errors import ColumnNotFoundError, PlanError
from lester.frame import plan as p
from lester.frame.engines import get_engine
from lester.frame.expressions import PyFunc, SqlExpr
from lester.frame.plan import provenance_column
from lester.frame.sources import (
    PROVENANCE_PREFIX,
    Source,
    csv_source,
    lines_source,
    pandas_source,
    parquet_source,
)

DEFAULT_ENGINE = None  # engines.default_engine(): $LESTER_ENGINE, else "duckdb"
# How provenance columns are named in ``to_pandas(provenance=True)`` and in stored runs.
PROVENANCE_COLUMN_PREFIX = "prov:"


class Frame:
    """A lazy dataframe with row and column provenance.

    Build one with :func:`read_csv`, :func:`read_parquet` or :func:`from_pandas`, transform it
    with the methods below, and execute it with :meth:`to_pandas`.

    Example:
        >>> import pandas as pd, lester as lt
        >>> people = lt.from_pandas(pd.DataFrame({"id": [1, 2], "age": [31, 17]}), name="people", key="id")
        >>> adults = people.filter("age >= 18")
        >>> adults.to_pandas()
           id  age
        0   1   31
        >>> adults.provenance()
           people
        0       1
    """

    def __init__(self, node: p.Node):
        lowered: dict[str, str] = {}
        for column in node.columns:
            other = lowered.setdefault(column.lower(), column)
            if other != column:
                # SQL identifiers are case-insensitive: DuckDB could not tell them apart
                raise PlanError(
                    f"{node.describe()}: columns {other!r} and {column!r} differ only in case; "
                    "rename one of them"
                )
        self._node = node
        self._cache: dict[str, tuple[tuple, pd.DataFrame]] = {}

    # -- schema -----------------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        """The output data columns, in order."""
        return list(self._node.columns)

    @property
    def plan(self) -> p.Node:
        """The logical plan (an immutable tree of :mod:`lester.frame.plan` nodes)."""
        return self._node

    @property
    def sources(self) -> dict[str, Source]:
        """The sources whose ids this frame's provenance carries, by provenance label."""
        return dict(self._node.origins)

    # -- row operations -------------------------------------------------------------------
    def filter(
        self,
        predicate: str | Callable[..., Any],
        columns: Sequence[str] | str | None = None,
        *,
        vectorized: bool = False,
    ) -> Frame:
        """Keep the rows for which ``predicate`` holds.

        ``predicate`` is a DuckDB SQL boolean expression, or a Python function called with the
        values of ``columns`` (one argument per column, per row; with ``vectorized=True``,
        once with one pandas Series per column). Rows where it is null/None are dropped.

        Example:
            >>> mails.filter("year(mail_date) >= 2022")                        # doctest: +SKIP
            >>> mails.filter(lambda text: "complaint" in text, columns=["mail_text"])  # doctest: +SKIP
        """
        operation = "filter"
        if isinstance(predicate, str):
            if columns is not None:
                raise PlanError("filter: columns= is only for Python functions; a SQL expression names its own columns")
            expression = SqlExpr.parse(predicate, self.columns, f"filter({predicate})")
        else:
            name = getattr(predicate, "__name__", "predicate")
            operation = f"filter({name})"
            expression = PyFunc.bind(predicate, columns, self.columns, operation, vectorized)
        return Frame(p.Filter(self._node, expression))

    def project(
        self,
        output: str,
        expression: str | Sequence[str],
        func: Callable[..., Any] | None = None,
        *,
        vectorized: bool = False,
    ) -> Frame:
        """Add (or replace) one column computed from other columns.

        Either ``project(output, sql)`` with a DuckDB SQL expression, or
        ``project(output, columns, func)`` with a Python function called with the values of
        ``columns`` (per row, or once with Series when ``vectorized=True``).

        Example:
            >>> mails.project("text_length", "length(mail_text)")            # doctest: +SKIP
            >>> mails.project("title", ["mail_subject"], sanitize)            # doctest: +SKIP
        """
        if func is None:
            if not isinstance(expression, str):
                raise PlanError(
                    f"project({output!r}): give a SQL expression string, or columns and a function"
                )
            parsed = SqlExpr.parse(expression, self.columns, f"project({output!r}, {expression!r})")
            return Frame(p.Project(self._node, output, parsed))
        name = getattr(func, "__name__", "function")
        bound = PyFunc.bind(func, expression, self.columns, f"project({output!r}, {name})", vectorized)
        return Frame(p.Project(self._node, output, bound))

    def join(
        self,
        right: Frame,
        on: str | Sequence[str] | None = None,
        *,
        left_on: str | Sequence[str] | None = None,
        right_on: str | Sequence[str] | None = None,
        how: str = "inner",
        suffixes: tuple[str, str] = ("_x", "_y"),
    ) -> Frame:
        """Join with another frame (``how`` is ``"inner"`` or ``"left"``), like ``pandas.merge``.

        A key joined to a same-named key appears once; other columns on both sides get
        ``suffixes``. Null keys match nothing, as in SQL. Each output row carries the
        provenance ids of both input rows.

        Example:
            >>> lt.join(mails, customers, left_on="email", right_on="customer_email")  # doctest: +SKIP
        """
        if not isinstance(right, Frame):
            raise PlanError(f"join: the right input must be a Frame, got {type(right).__name__}")
        if on is not None:
            if left_on is not None or right_on is not None:
                raise PlanError("join: give either on= or left_on=/right_on=, not both")
            left_on = right_on = on
        if left_on is None or right_on is None:
            raise PlanError("join: name the keys with on= or with left_on= and right_on=")
        lk = [left_on] if isinstance(left_on, str) else list(left_on)
        rk = [right_on] if isinstance(right_on, str) else list(right_on)
        return Frame(p.Join(self._node, right._node, lk, rk, how, tuple(suffixes)))

    def pipe(self, function: Callable[[pd.DataFrame], pd.DataFrame], *,
             columns: Sequence[str] | None = None, name: str | None = None) -> Frame:
        """Apply a pandas function to the whole frame, keeping row provenance by index.

        ``function`` gets the data columns as a pandas DataFrame and returns one: it may
        change values, add or drop columns, and drop, reorder or repeat rows, as long as each
        row it returns keeps the index label of the input row it came from (``reset_index``,
        ``groupby().agg`` and ``merge`` make new labels and are refused when it runs).
        ``columns`` names what it returns; without it, the function is called once on an
        empty frame to find out. Deleting a source row re-runs the function, since any output
        value may depend on any row.

        Example:
            >>> import pandas as pd, lester as lt
            >>> people = lt.from_pandas(pd.DataFrame({"id": [1, 2, 3], "age": [31.0, None, 17.0]}),
            ...                         name="people", key="id")
            >>> def fill_age(df):
            ...     df.loc[df["age"].isna(), "age"] = df["age"].median()
            ...     return df[df["age"] >= 18]
            >>> filled = people.pipe(fill_age)
            >>> filled.to_pandas()
               id   age
            0   1  31.0
            1   2  24.0
            >>> filled.provenance()["people"].tolist()
            [1, 2]
        """
        if not callable(function):
            raise PlanError(f"pipe: give a function, got {type(function).__name__}")
        label = name or getattr(function, "__name__", "function")
        if columns is None:
            from lester.frame.pipes import pipe_columns

            # an empty frame of the input's own types costs a run of the plan with no rows out
            columns = pipe_columns(function, self._node.columns, label,
                                   typed=lambda: Frame(p.Limit(self._node, 0)).to_pandas())
        return Frame(p.Pipe(self._node, function, list(columns), label))

    def union(self, *others: Frame) -> Frame:
        """All rows of this frame and the others (duplicates kept); columns matched by name."""
        node = self._node
        for other in others:
            node = p.Union(node, other._node)
        return Frame(node)

    def explode(self, column: str) -> Frame:
        """One row per element of a list column; empty and null lists yield no row."""
        return Frame(p.Explode(self._node, column))

    def distinct(self) -> Frame:
        """Distinct rows; each row's provenance lists the ids of all duplicates it stands for."""
        return Frame(p.Distinct(self._node))

    def sort(self, by: str | Sequence[str], ascending: bool | Sequence[bool] = True) -> Frame:
        """Sort by columns, nulls last; ties are broken by provenance ids (deterministic)."""
        by = [by] if isinstance(by, str) else list(by)
        flags = [ascending] * len(by) if isinstance(ascending, bool) else list(ascending)
        return Frame(p.Sort(self._node, by, flags))

    def limit(self, n: int) -> Frame:
        """The first ``n`` rows (deterministic after :meth:`sort`)."""
        return Frame(p.Limit(self._node, n))

    # -- column operations ----------------------------------------------------------------
    def select(self, columns: str | Sequence[str]) -> Frame:
        """Keep only ``columns``, in that order. ``frame[["a", "b"]]`` does the same."""
        columns = [columns] if isinstance(columns, str) else list(columns)
        return Frame(p.Select(self._node, columns))

    def __getitem__(self, columns: str | Sequence[str]) -> Frame:
        return self.select(columns)

    def drop(self, columns: str | Sequence[str]) -> Frame:
        """All columns but ``columns``."""
        columns = [columns] if isinstance(columns, str) else list(columns)
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise ColumnNotFoundError(f"drop({columns})", missing, self.columns)
        keep = [c for c in self.columns if c not in columns]
        return Frame(p.Select(self._node, keep, operation="drop"))

    def rename(self, columns: Mapping[str, str]) -> Frame:
        """Rename columns, e.g. ``frame.rename({"mail_text": "text"})``."""
        return Frame(p.Rename(self._node, columns))

    def groupby(self, by: str | Sequence[str]) -> GroupBy:
        """Group rows for :meth:`GroupBy.agg`, e.g. ``frame.groupby("country").agg(n=("id", "count"))``."""
        return GroupBy(self, [by] if isinstance(by, str) else list(by))

    def aggregate(
        self, by: str | Sequence[str] | None = None, **aggregations: tuple[str | None, str]
    ) -> Frame:
        """Group by ``by`` (or the whole frame) and aggregate, pandas named-aggregation style.

        Each keyword is ``output=(column, function)`` with function one of ``count``, ``sum``,
        ``mean``, ``min``, ``max``, ``median``, ``std``, ``nunique``, ``list``; ``(None, "count")``
        counts rows. Provenance of an
        output row is the list of ids of the rows it summarises.

        Example:
            >>> mails.aggregate(by="email", n=(None, "count"), last=("mail_date", "max"))  # doctest: +SKIP
        """
        keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
        specs = []
        for output, spec in aggregations.items():
            if isinstance(spec, str):
                spec = (None, spec)
            if not (isinstance(spec, tuple) and len(spec) == 2):
                raise PlanError(
                    f"aggregate: {output}= must be (column, function), e.g. ('amount', 'sum'); got {spec!r}"
                )
            column, function = spec
            specs.append(p.Aggregation(output, None if column in (None, "*") else column, function))
        if not specs and not keys:
            raise PlanError("aggregate: name at least one key or one aggregation")
        return Frame(p.Aggregate(self._node, keys, specs))

    # -- execution ------------------------------------------------------------------------
    def _execute(self, engine: Any) -> pd.DataFrame:
        engine = get_engine(engine)
        signature = tuple(source._signature() for source in self._node.origins.values())
        cached = self._cache.get(engine.name)
        if cached is not None and cached[0] == signature:
            return cached[1]
        result = engine.execute(self._node)
        self._cache[engine.name] = (signature, result)
        return result

    def to_pandas(self, provenance: bool = False, engine: Any = DEFAULT_ENGINE) -> pd.DataFrame:
        """Execute the plan and return the rows.

        With ``provenance=True`` the provenance columns (one per source occurrence, named
        ``prov:<source>``) are appended, aligned with the rows. Row order is the engine's
        unless the plan ends with :meth:`sort`.
        """
        result = self._execute(engine)
        if provenance:
            return result.rename(
                columns={provenance_column(label): PROVENANCE_COLUMN_PREFIX + label
                         for label in self._node.provenance}
            )
        return result[self.columns]

    def provenance(self, engine: Any = DEFAULT_ENGINE) -> pd.DataFrame:
        """The provenance ids of every output row, one column per source occurrence.

        A cell is the source row's key (or position), null when the row did not come from that
        source (a union, a left join with no match), or a list of ids after an aggregate. The
        rows are aligned with :meth:`to_pandas` of the same frame (results are cached per frame).
        """
        result = self._execute(engine)
        ids = result[[provenance_column(label) for label in self._node.provenance]]
        return ids.rename(columns=lambda c: c[len(PROVENANCE_PREFIX):])

    def column_provenance(self) -> dict[str, list[str]]:
        """For every output column, the ``source.column`` names its values are computed from."""
        return {
            column: sorted(f"{s}.{c}" for s, c in self._node.lineage[column])
            for column in self._node.columns
        }

    def explain(self) -> str:
        """The plan as an indented tree, with each step's output columns and provenance."""
        lines: list[str] = []

        def visit(node: p.Node, depth: int) -> None:
            prov = ", ".join(
                label + ("[]" if kind == "list" else "") for label, kind in node.provenance.items()
            )
            lines.append(f"{'  ' * depth}{node.describe()}  -> [{', '.join(node.columns)}] prov({prov})")
            for child in node.children:
                visit(child, depth + 1)

        visit(self._node, 0)
        return "\n".join(lines)

    def __repr__(self) -> str:
        sources = ", ".join(f"{label}={s.describe()}" for label, s in self._node.origins.items())
        return (
            f"<lester.Frame columns={self.columns} sources=[{sources}]>\n"
            f"{self.explain()}"
        )

    def _repr_html_(self) -> str:
        preview = self.limit(10).to_pandas()
        plan = self.explain().replace("&", "&amp;").replace("<", "&lt;")
        return (
            f"<div><b>lester.Frame</b> ({len(self.columns)} columns; first rows)"
            f"{preview.to_html(max_rows=10)}<pre>{plan}</pre></div>"
        )


class GroupBy:
    """The result of :meth:`Frame.groupby`; call :meth:`agg` to aggregate."""

    def __init__(self, frame: Frame, keys: list[str]):
        self._frame, self._keys = frame, keys

    def agg(self, **aggregations: tuple[str | None, str]) -> Frame:
        """Named aggregations, e.g. ``.agg(total=("amount", "sum"), n=(None, "count"))``."""
        return self._frame.aggregate(by=self._keys, **aggregations)


# -- constructors ---------------------------------------------------------------------------
def read_csv(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    key: str | None = None,
    **options: Any,
) -> Frame:
    """A frame over a CSV file, read lazily with ``pandas.read_csv``.

    ``options`` are pandas' (``header``, ``names``, ``sep``, ``dtype``, ``parse_dates``,
    ``na_values``...). ``name`` labels the source in provenance (default: the file's stem);
    ``key`` names a column of unique values that identify rows; without it a row's id is its
    position in the file.

    Example:
        >>> customers = lt.read_csv("customers.csv", key="customer_id")        # doctest: +SKIP
        >>> mails = lt.read_csv("mails.csv", names=["mail_id", "email", "mail_date", "text"],
        ...                     header=None, parse_dates=["mail_date"])         # doctest: +SKIP
    """
    return Frame(p.Scan(csv_source(path, name=name, key=key, options=options)))


def read_parquet(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    key: str | None = None,
    columns: Sequence[str] | None = None,
) -> Frame:
    """A frame over a Parquet file (optionally only ``columns``); see :func:`read_csv`."""
    options = {"columns": list(columns)} if columns else {}
    return Frame(p.Scan(parquet_source(path, name=name, key=key, options=options)))


def read_lines(path: str | os.PathLike, *, name: str | None = None, skip: int = 0, encoding: str = "utf-8") -> Frame:
    """A frame of a text file's lines, one column ``line`` (with its ``\\n``, as ``for line in f``
    gives it), after the first ``skip``; provenance ids are the lines' positions. Any per-line
    parsing then runs as ``project``/``filter`` functions, each row keeping its line's id.

    Example:
        >>> lines = lt.read_lines("data/log.txt", skip=1)                        # doctest: +SKIP
        >>> lines.project("fields", ["line"], lambda line: line.rstrip("\\n").split(";"))  # doctest: +SKIP
    """
    return Frame(p.Scan(lines_source(path, name=name, skip=skip, encoding=encoding)))


def from_pandas(frame: pd.DataFrame, *, name: str = "dataframe", key: str | None = None) -> Frame:
    """A frame over an in-memory pandas DataFrame (its index is ignored).

    Example:
        >>> lt.from_pandas(df, name="customers", key="customer_id")             # doctest: +SKIP
    """
    return Frame(p.Scan(pandas_source(frame, name=name, key=key)))


def join(left: Frame, right: Frame, on: str | Sequence[str] | None = None, **options: Any) -> Frame:
    """``left.join(right, ...)``; see :meth:`Frame.join`."""
    return left.join(right, on, **options)


def union(first: Frame, *others: Frame) -> Frame:
    """All rows of all frames; see :meth:`Frame.union`."""
    return first.union(*others)
