"""The two kinds of expression a plan holds: DuckDB SQL text and Python functions.

Both know exactly which columns they read, which is what makes column provenance exact and
unknown-column errors possible before anything runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from lester.errors import ColumnNotFoundError, PlanError, SqlExpressionError

_parser_lock = threading.Lock()
_parser: duckdb.DuckDBPyConnection | None = None


def quote(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def select_wrapper(expression: str) -> str:
    """The query ``_parse_sql`` parses ``expression`` in: one value per row of a table ``__t``.

    Whoever runs a checked expression runs this very text, so that what was checked is what runs.
    """
    return f"SELECT ({expression}) FROM __t"


def _parse_sql(expression: str) -> dict:
    global _parser
    with _parser_lock:
        if _parser is None:
            _parser = duckdb.connect()
        row = _parser.execute(
            "SELECT json_serialize_sql(?)", [select_wrapper(expression)]
        ).fetchall()[0][0]
    return json.loads(row)


def _column_refs(tree: Any, bound: frozenset[str] = frozenset()) -> list[str]:
    """Column names referenced anywhere in a serialized DuckDB expression tree."""
    found: list[str] = []
    if isinstance(tree, dict):
        if tree.get("class") == "COLUMN_REF":
            names = tree.get("column_names") or []
            if names and names[-1] not in bound:
                found.append(names[-1])
            return found
        if tree.get("class") == "LAMBDA":
            params = _column_refs(tree.get("lhs"))
            inner = bound | frozenset(params)
            return _column_refs(tree.get("expr"), inner)
        for value in tree.values():
            found.extend(_column_refs(value, bound))
    elif isinstance(tree, list):
        for value in tree:
            found.extend(_column_refs(value, bound))
    return found


def _resolve(names: Sequence[str], available: Sequence[str], operation: str) -> tuple[str, ...]:
    """Match names to columns the way DuckDB does: exactly, else case-insensitively."""
    resolved: list[str] = []
    missing: list[str] = []
    lowered: dict[str, list[str]] = {}
    for column in available:
        lowered.setdefault(column.lower(), []).append(column)
    for name in names:
        if name in available:
            match = name
        elif len(lowered.get(name.lower(), [])) == 1:
            match = lowered[name.lower()][0]
        else:
            missing.append(name)
            continue
        if match not in resolved:
            resolved.append(match)
    if missing:
        raise ColumnNotFoundError(operation, missing, available)
    return tuple(resolved)


@dataclass(frozen=True)
class SqlExpr:
    """A DuckDB SQL scalar expression such as ``"year(mail_date) >= 2022"``."""

    text: str
    columns: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, available: Sequence[str], operation: str) -> SqlExpr:
        if not isinstance(text, str) or not text.strip():
            raise SqlExpressionError(operation, str(text), "the expression is empty")
        tree = _parse_sql(text)
        if tree.get("error"):
            raise SqlExpressionError(operation, text, tree.get("error_message", "syntax error"))
        statements = tree.get("statements") or []
        node = statements[0]["node"] if statements else {}
        if len(statements) != 1 or len(node.get("select_list", [])) != 1:
            raise SqlExpressionError(operation, text, "expected exactly one scalar expression")
        refs = _column_refs(node["select_list"])
        return cls(text, _resolve(refs, available, operation))

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True)
class PyFunc:
    """A Python function over named columns.

    Row-wise (the default) it is called once per row with one positional argument per column,
    missing values arriving as ``None``. With ``vectorized=True`` it is called once with one
    pandas Series per column and must return a sequence of the same length.
    """

    func: Callable[..., Any]
    columns: tuple[str, ...]
    vectorized: bool = False

    @classmethod
    def bind(
        cls,
        func: Callable[..., Any],
        columns: Sequence[str] | str | None,
        available: Sequence[str],
        operation: str,
        vectorized: bool = False,
    ) -> PyFunc:
        if not callable(func):
            raise PlanError(f"{operation}: expected a function, got {type(func).__name__}")
        if columns is None:
            raise PlanError(
                f"{operation}: a Python function needs columns=[...] naming the columns it reads"
            )
        if isinstance(columns, str):
            columns = [columns]
        missing = [c for c in columns if c not in available]
        if missing:
            raise ColumnNotFoundError(operation, missing, available)
        return cls(func, tuple(columns), vectorized)

    @property
    def name(self) -> str:
        return getattr(self.func, "__name__", None) or repr(self.func)

    def describe(self) -> str:
        return f"{self.name}({', '.join(self.columns)})"


Expression = SqlExpr | PyFunc
