"""The intermediate representation: a data-flow plan of DSL operations built while reading a script.

A :class:`RowSet` is one set of rows of the script (the rows of a file, the rows surviving a
filter, the rows of a join). Adding a column never changes which rows there are, so
projections extend a row set in place, and later stages (features computed from the same
rows, labels) can add the columns they need to the very frame the script wrote out. Filters,
joins, unions and aggregations make new row sets.

Every operation records the script line it came from; the emitter turns the plan into
``dataprep`` code, one statement per operation.
"""

from __future__ import annotations

import itertools
import keyword
import re
from dataclasses import dataclass, field

from lester.frame.sources import _default_name


@dataclass(frozen=True)
class RowExpr:
    """A per-row expression over columns of a row set, ready to become a filter or projection.

    ``python`` is the source of a callable taking ``columns`` in order (a function name or a
    lambda) and always exact; ``sql`` is a DuckDB expression with the same semantics, when one
    exists. ``column`` is set when the expression is just a column.
    """

    columns: tuple[str, ...] = ()
    python: str | None = None
    sql: str | None = None
    ctype: str | None = None
    column: str | None = None
    vectorized: bool = False
    text: str = ""  # the original Python text, for comments

    @staticmethod
    def of_column(name: str, ctype: str | None) -> RowExpr:
        return RowExpr(columns=(name,), column=name, ctype=ctype, sql=quote(name), text=name)


def quote(name: str) -> str:
    """A DuckDB identifier (quoted only when it has to be)."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name.upper() not in _SQL_RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


_SQL_RESERVED = {
    "ALL", "AND", "ANY", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "CHECK", "COLUMN", "CREATE",
    "DEFAULT", "DESC", "DISTINCT", "DO", "ELSE", "END", "FALSE", "FOR", "FROM", "GROUP", "HAVING",
    "IN", "INTO", "IS", "JOIN", "LIMIT", "NOT", "NULL", "ON", "OR", "ORDER", "SELECT", "TABLE",
    "THEN", "TO", "TRUE", "UNION", "USING", "WHEN", "WHERE", "WITH", "ARRAY", "LIKE", "OFFSET",
    "ROW", "ROWS", "KEY", "DATE", "TIME", "TIMESTAMP", "INTERVAL", "YEAR", "MONTH", "DAY",
}


@dataclass
class SourceSpec:
    """One input file of the script: the ``dataprep`` parameter, its default path, read options."""

    param: str
    path: str
    options: dict[str, str]  # keyword -> Python source of the value
    line: int


@dataclass
class Op:
    """One generated statement ``var = code`` (``line``: where in the script it came from)."""

    var: str
    code: str
    line: int
    comment: str = ""
    reads: tuple[str, ...] = ()


class RowSet:
    """One set of rows; ``var`` names the frame that currently holds it with all its columns."""

    _ids = itertools.count(1)

    def __init__(self, var: str, columns: dict[str, str | None], origin: str):
        self.id = next(self._ids)
        self.var = var
        self.columns = dict(columns)  # column -> type ('str', 'int', 'float', 'bool') or None
        self.origin = origin
        self.all_columns_known = True  # False for pandas reads whose columns are only known at run time

    def __repr__(self) -> str:
        return f"<RowSet {self.id} {self.var} {list(self.columns)}>"


@dataclass
class DataprepPlan:
    """The ``dataprep`` body under construction: sources and operations in script order."""

    sources: dict[str, SourceSpec] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _names: set[str] = field(default_factory=set)

    # -- naming -----------------------------------------------------------------------------
    def fresh_var(self, hint: str) -> str:
        base = re.sub(r"(_\d+)+$", "", identifier(hint) or "frame") or "frame"
        name, n = base, 2
        while name in self._names or name in self.sources:
            name, n = f"{base}_{n}", n + 1
        self._names.add(name)
        return name

    @staticmethod
    def fresh_column(rs: RowSet, hint: str, taken: set[str] | None = None) -> str:
        base = hint or "value"
        if not rs.all_columns_known:
            base = base + "_"  # the source may hold any name; computed columns end in _ to stay apart
        lowered = {c.lower() for c in rs.columns} | {c.lower() for c in (taken or ())}
        name, n = base, 2
        while name.lower() in lowered:
            name, n = f"{base}_{n}", n + 1
        return name

    def _emit(self, rs_var_hint: str, code: str, line: int, comment: str = "", reads=()) -> str:
        var = self.fresh_var(rs_var_hint)
        self.ops.append(Op(var, code, line, comment, tuple(reads)))
        return var

    # -- operations -------------------------------------------------------------------------
    def scan(self, path: str, options: dict[str, str], columns: dict[str, str | None], line: int,
             param: str | None = None) -> RowSet:
        param = param or self._source_param(path)
        if param not in self.sources:
            self.sources[param] = SourceSpec(param, path, options, line)
        args = "".join(f", {k}={v}" for k, v in options.items())
        var = self._emit(param + "_rows" if param + "_rows" not in self._names else param, f"lt.read_csv({param}{args})", line, f"read {path}", (param,))
        return RowSet(var, columns, f"read {path}")

    def scan_lines(self, path: str, skip: int, line: int, param: str | None = None) -> RowSet:
        """The file as rows of its raw lines (column ``line``), after the first ``skip``."""
        param = param or self._source_param(path)
        if param not in self.sources:
            self.sources[param] = SourceSpec(param, path, {}, line)
        args = f", skip={skip}" if skip else ""
        var = self._emit(param + "_lines", f"lt.read_lines({param}{args})", line, f"read {path} line by line",
                         (param,))
        return RowSet(var, {"line": "str"}, f"lines of {path}")

    def _source_param(self, path: str) -> str:
        base = _default_name(path)
        base = identifier(base) or "source"
        name, n = base, 2
        while name in self.sources and self.sources[name].path != path:
            name, n = f"{base}_{n}", n + 1
        return name

    def project(self, rs: RowSet, column: str, expr: RowExpr, line: int, comment: str = "") -> None:
        """Add (or replace) ``column`` on the row set, in place."""
        if expr.column is not None and expr.column == column:
            return
        if expr.sql is not None:
            code = f"{rs.var}.project({column!r}, {expr.sql!r})"
        elif not expr.columns and rs.columns and not expr.vectorized:
            # a value that reads no column ('a'.upper() in a loop over literals): computed for every row
            # as the script does, through a column it ignores (a function of no columns is not a projection)
            some = next(iter(rs.columns))
            code = f"{rs.var}.project({column!r}, [{some!r}], lambda _row_value: ({expr.python})())"
        else:
            cols = ", ".join(repr(c) for c in expr.columns)
            vec = ", vectorized=True" if expr.vectorized else ""
            code = f"{rs.var}.project({column!r}, [{cols}], {expr.python}{vec})"
        rs.var = self._emit(rs.var, code, line, comment or expr.text, (rs.var,))
        rs.columns[column] = expr.ctype

    def filter(self, rs: RowSet, expr: RowExpr, line: int, comment: str = "") -> RowSet:
        if expr.sql is not None:
            code = f"{rs.var}.filter({expr.sql!r})"
        else:
            cols = ", ".join(repr(c) for c in expr.columns)
            vec = ", vectorized=True" if expr.vectorized else ""
            code = f"{rs.var}.filter({expr.python}, columns=[{cols}]{vec})"
        var = self._emit(rs.var, code, line, comment or expr.text, (rs.var,))
        out = RowSet(var, rs.columns, f"filter of {rs.origin}")
        out.all_columns_known = rs.all_columns_known
        return out

    def join(self, left: RowSet, right: RowSet, left_on: list[str], right_on: list[str], how: str,
             line: int, comment: str = "") -> RowSet:
        keys = f"left_on={_one(left_on)!r}, right_on={_one(right_on)!r}"
        if left_on == right_on:
            keys = f"on={_one(left_on)!r}"
        code = f"lt.join({left.var}, {right.var}, {keys}" + (f", how={how!r})" if how != "inner" else ")")
        var = self._emit(left.var, code, line, comment, (left.var, right.var))
        columns = dict(left.columns)
        for c, t in right.columns.items():
            if c not in columns:
                columns[c] = t
        out = RowSet(var, columns, f"join of {left.origin} and {right.origin}")
        out.all_columns_known = left.all_columns_known and right.all_columns_known
        return out

    def union(self, parts: list[RowSet], line: int, comment: str = "") -> RowSet:
        code = "lt.union(" + ", ".join(p.var for p in parts) + ")"
        var = self._emit(parts[0].var, code, line, comment, tuple(p.var for p in parts))
        return RowSet(var, parts[0].columns, "union")

    def select(self, rs: RowSet, columns: list[str], line: int, comment: str = "") -> RowSet:
        var = self._emit(rs.var, f"{rs.var}[{columns!r}]", line, comment, (rs.var,))
        out = RowSet(var, {c: rs.columns.get(c) for c in columns}, rs.origin)
        out.id = rs.id  # the same rows
        return out

    def rename(self, rs: RowSet, mapping: dict[str, str], line: int, comment: str = "") -> RowSet:
        var = self._emit(rs.var, f"{rs.var}.rename({mapping!r})", line, comment, (rs.var,))
        out = RowSet(var, {mapping.get(c, c): t for c, t in rs.columns.items()}, rs.origin)
        out.id = rs.id
        out.all_columns_known = rs.all_columns_known
        return out

    def aggregate(self, rs: RowSet, keys: list[str], aggs: dict[str, tuple[str | None, str]], line: int,
                  comment: str = "") -> RowSet:
        specs = ", ".join(f"{k}=({c!r}, {f!r})" for k, (c, f) in aggs.items())
        var = self._emit(rs.var, f"{rs.var}.groupby({_one(keys)!r}).agg({specs})", line, comment, (rs.var,))
        types = {"count": "int", "sum": None, "mean": "float", "min": None, "max": None, "list": None,
                 "nunique": "int", "median": "float", "std": "float"}
        columns = {k: rs.columns.get(k) for k in keys}
        for out, (c, f) in aggs.items():
            columns[out] = types[f] if f != "sum" else rs.columns.get(c)
        return RowSet(var, columns, f"groupby of {rs.origin}")

    def raw(self, rs: RowSet, code: str, line: int, comment: str = "", columns=None, same_rows=True) -> RowSet:
        """An operation written out by the caller (``{rs}`` in ``code`` is the input frame)."""
        var = self._emit(rs.var, code.format(rs=rs.var), line, comment, (rs.var,))
        out = RowSet(var, rs.columns if columns is None else columns, rs.origin)
        if same_rows:
            out.id = rs.id
        out.all_columns_known = rs.all_columns_known
        return out


def _one(names: list[str]) -> str | list[str]:
    return names[0] if len(names) == 1 else list(names)


def identifier(text: str) -> str:
    """``text`` as a Python identifier (``"mail date"`` -> ``"mail_date"``), or ``""``."""
    name = re.sub(r"\W+", "_", text).strip("_")
    if not name:
        return ""
    if name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name):
        name += "_"
    return name
