"""``df.groupby(keys)...agg(...)`` as a DSL aggregate.

pandas drops rows whose key is missing (``dropna=True``, its default) while SQL makes them a
group, so a filter on the keys comes first. The result has the keys as columns, as after
``reset_index()`` or with ``as_index=False``; a later ``merge(on=key)`` or ``right_index=True``
reads them either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from lester.rewrite.rules.expressions import is_literal, literal_value
from lester.rewrite.rules.plan import RowExpr
from lester.rewrite.rules.values import Frame, Grouped

if TYPE_CHECKING:
    from lester.rewrite.rules.dataflow import ScriptReader

# pandas' aggregation names -> the DSL's (``size`` counts rows, missing values too)
_FUNCTIONS = {"count": "count", "sum": "sum", "mean": "mean", "min": "min", "max": "max", "nunique": "nunique",
              "median": "median", "std": "std", "size": "size"}


def group(it: ScriptReader, frame: Frame, args: list, kwargs: dict, line_node) -> Grouped:
    by = kwargs.get("by", args[0] if args else None)
    keys = literal_value(by) if by is not None and is_literal(by) else it.const(by, line_node) if by is not None else None
    keys = [keys] if isinstance(keys, str) else keys
    if not (isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)):
        raise it.fail(line_node, "groupby over something other than column names")
    unknown = set(kwargs) - {"by", "as_index", "dropna", "sort", "observed"}
    if unknown:
        raise it.fail(line_node, f"groupby options {sorted(unknown)} are not translated")
    dropna = "dropna" not in kwargs or literal_value(kwargs["dropna"]) is not False
    _known(it, frame, keys, line_node)
    return Grouped(frame, list(keys), None, dropna)


def select(it: ScriptReader, grouped: Grouped, node: cst.Subscript, line_node) -> Grouped:
    key = node.slice[0].slice.value if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index) else None
    picked = it.const(key, line_node) if key is not None else None
    picked = [picked] if isinstance(picked, str) else picked
    if not (isinstance(picked, list) and all(isinstance(c, str) for c in picked)):
        raise it.fail(line_node, "a groupby selection that is not column names")
    _known(it, grouped.frame, picked, line_node)
    return Grouped(grouped.frame, grouped.keys, list(picked), grouped.dropna)


def method(it: ScriptReader, grouped: Grouped, name: str, args: list, kwargs: dict, line_node) -> Frame:
    """``.agg(out=(col, f), ...)``, ``.agg({col: f})``, ``.agg(f)``, ``.mean()``, ``.size()``..."""
    if name in ("agg", "aggregate"):
        if kwargs and not args:
            aggs = {out: _named(it, value, line_node) for out, value in kwargs.items()}
        elif len(args) == 1 and not kwargs and isinstance(args[0], cst.Dict):
            spec = literal_value(args[0])
            aggs = {col: (col, _function(it, f, line_node)) for col, f in spec.items()}
        elif len(args) == 1 and not kwargs and is_literal(args[0]):
            aggs = _each(it, grouped, _function(it, literal_value(args[0]), line_node), line_node)
        else:
            raise it.fail(line_node, "this form of groupby().agg(...) is not translated")
    elif name == "size" and not args:
        aggs = {"size": (None, "count")}
    elif name in _FUNCTIONS and not args and set(kwargs) <= {"numeric_only"}:
        aggs = _each(it, grouped, _function(it, name, line_node), line_node)
    else:
        raise it.fail(line_node, f"groupby().{name}(...) is not translated")
    return _aggregate(it, grouped, {out: ((None, "count") if f == "size" else (c, f)) for out, (c, f) in aggs.items()},
                      line_node)


def _known(it: ScriptReader, frame: Frame, columns: list[str], line_node) -> None:
    if frame.columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise it.fail(line_node, f"columns {missing} are not in the DataFrame")


def _function(it: ScriptReader, value: Any, line_node) -> str:
    if not isinstance(value, str) or value not in _FUNCTIONS:
        raise it.fail(line_node, f"groupby aggregation {value!r} is not translated "
                                 f"(translated: {', '.join(sorted(_FUNCTIONS))})")
    return _FUNCTIONS[value]


def _named(it: ScriptReader, value: cst.BaseExpression, line_node) -> tuple[str, str]:
    spec = literal_value(value) if is_literal(value) else None
    if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str)):
        raise it.fail(line_node, "a named aggregation that is not (column, function)")
    return spec[0], _function(it, spec[1], line_node)


def _each(it: ScriptReader, grouped: Grouped, function: str, line_node) -> dict[str, tuple[str, str]]:
    columns = grouped.selection
    if columns is None:
        if grouped.frame.columns is None:
            raise it.fail(line_node, "an aggregation of every column, whose columns are known only at run time")
        columns = [c for c in grouped.frame.columns if c not in grouped.keys]
    return {c: (c, function) for c in columns}


def _aggregate(it: ScriptReader, grouped: Grouped, aggs: dict[str, tuple[str | None, str]], line_node) -> Frame:
    frame, line = grouped.frame, it.line(line_node)
    aliases = getattr(frame, "aliases", None) or {}
    rs = frame.rs
    if grouped.dropna:
        checks = " AND ".join(f"{RowExpr.of_column(aliases.get(k, k), None).sql} IS NOT NULL" for k in grouped.keys)
        rs = it.plan.filter(rs, RowExpr(columns=tuple(aliases.get(k, k) for k in grouped.keys), sql=checks,
                                        text="groupby drops missing keys"), line, "groupby drops rows with a missing key")
    keys = [aliases.get(k, k) for k in grouped.keys]
    physical = {out: (None if c is None else aliases.get(c, c), f) for out, (c, f) in aggs.items()}
    out = it.plan.aggregate(rs, keys, physical, line, "groupby")
    if keys != grouped.keys:
        out = it.plan.rename(out, {p: k for p, k in zip(keys, grouped.keys) if p != k}, line)
    return Frame(out, list(grouped.keys) + [o for o in aggs if o not in grouped.keys], index=list(grouped.keys))
