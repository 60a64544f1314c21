"""The reference engine: plain pandas, written for obviousness rather than speed.

Tests run random plans on both engines and compare, so this engine implements every
operation independently of the DuckDB one (joins with ``merge``, aggregates group by group).
Only scalar SQL expressions are delegated to DuckDB, because SQL is their definition.
Row order follows pandas: inputs' order is kept where pandas keeps it.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from lester.errors import ExecutionError, SqlExpressionError
from lester.frame import plan as p
from lester.frame.engines.base import output_columns, row_provenance
from lester.frame.expressions import PyFunc, SqlExpr
from lester.frame.pipes import run_pipe
from lester.frame.plan import provenance_column
from lester.frame.python_functions import (
    arrow_to_series,
    as_arrow_column,
    as_column,
    as_mask,
    evaluate,
)


class PandasEngine:
    """Executes a plan with pandas; the result holds data and provenance columns."""

    name = "pandas"

    def execute(self, node: p.Node) -> pd.DataFrame:
        result = self._run(node)
        return result[output_columns(node)].reset_index(drop=True)

    def _run(self, node: p.Node) -> pd.DataFrame:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node).reset_index(drop=True)

    # -- expressions ----------------------------------------------------------------------
    def _evaluate(self, node: p.Node, expression: Any, frame: pd.DataFrame, operation: str):
        if isinstance(expression, PyFunc):
            columns = {c: frame[c] for c in expression.columns}
            return evaluate(
                expression, columns, operation, lambda i: row_provenance(node, frame, i)
            )
        assert isinstance(expression, SqlExpr)
        con = duckdb.connect()
        try:
            if expression.columns:
                con.register("__t", frame[list(expression.columns)])
                query = f"SELECT ({expression.text}) AS v FROM __t"
            else:  # a constant: evaluate once, then repeat it for every row
                query = f"SELECT ({expression.text}) AS v"
            table = con.sql(query).arrow().read_all()
        except duckdb.Error as exc:
            raise SqlExpressionError(operation, expression.text, str(exc)) from None
        finally:
            con.close()
        values = arrow_to_series(table.column("v"))
        if len(values) != len(frame):
            values = pd.Series([values.iloc[0] if len(values) else None] * len(frame), dtype=values.dtype)
        return values

    # -- operations -----------------------------------------------------------------------
    def _scan(self, node: p.Scan) -> pd.DataFrame:
        data = node.source.load()
        frame = data.copy()
        ids = node.source.ids(data)
        # nullable integers, so ids stay integers when a union or left join adds nulls
        frame[provenance_column(node.source.label)] = (
            pd.array(ids, dtype="Int64") if ids.dtype.kind in "iu" else ids
        )
        return frame

    def _filter(self, node: p.Filter) -> pd.DataFrame:
        frame = self._run(node.children[0])
        values = self._evaluate(node, node.predicate, frame, node.describe())
        if isinstance(node.predicate, SqlExpr):
            mask = pd.Series(values).astype("boolean").fillna(False).to_numpy(dtype=bool)
        else:
            mask = as_mask(values, node.describe(), node.predicate.name)
        return frame[mask]

    def _project(self, node: p.Project) -> pd.DataFrame:
        frame = self._run(node.children[0])
        values = self._evaluate(node, node.expression, frame, node.describe())
        if isinstance(node.expression, PyFunc):  # the same check as the DuckDB engine's
            as_arrow_column(values, node.describe(), node.expression.name)
        frame = frame.copy()
        column = as_column(values)
        column.index = frame.index
        frame[node.output] = column
        return frame

    def _select(self, node: p.Select) -> pd.DataFrame:
        return self._run(node.children[0])[output_columns(node)]

    def _rename(self, node: p.Rename) -> pd.DataFrame:
        return self._run(node.children[0]).rename(columns=node.mapping)

    def _join(self, node: p.Join) -> pd.DataFrame:
        left = self._run(node.children[0])
        right = self._run(node.children[1])
        left_keys = [f"__key{i}" for i in range(len(node.left_on))]
        left_out = {c.column: c.name for c in node.output if c.side == "left"}
        right_out = {c.column: c.name for c in node.output if c.side == "right"}
        left = left.assign(**{k: left[c] for k, c in zip(left_keys, node.left_on)})
        right = right.assign(**{k: right[c] for k, c in zip(left_keys, node.right_on)})
        # SQL semantics: a null key matches nothing (pandas would match NaN with NaN).
        right = right[right[left_keys].notna().all(axis=1)]
        left = left.rename(columns=left_out)
        right = right[list(right_out) + left_keys + [provenance_column(label) for label in node.children[1].provenance]]
        right = right.rename(columns=right_out).rename(
            columns={provenance_column(a): provenance_column(b) for a, b in node.right_provenance.items()}
        )
        if node.how == "left":  # unmatched rows get nulls: keep integers integers, as SQL does
            right = right.astype({c: "Int64" for c in right.columns if right[c].dtype.kind in "iu"})
            right = right.astype({c: "boolean" for c in right.columns if right[c].dtype.kind == "b"})
        try:
            merged = left.merge(right, on=left_keys, how=node.how, sort=False)
        except (ValueError, TypeError) as exc:
            raise ExecutionError(f"{node.describe()}: {exc}") from None
        return merged.drop(columns=left_keys)

    def _union(self, node: p.Union) -> pd.DataFrame:
        frames = [self._run(child) for child in node.children]
        parts = []
        for frame in frames:
            for label in node.provenance:
                column = provenance_column(label)
                if column not in frame.columns:
                    # nulls of the dtype the other inputs give the ids: pandas 2's concat skips
                    # an all-null object column when typing the result, pandas 3's does not
                    like = next((f[column].dtype for f in frames if column in f.columns), object)
                    frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=like)
            parts.append(frame[output_columns(node)])
        non_empty = [part for part in parts if len(part)] or parts[:1]
        result = pd.concat(non_empty, ignore_index=True)
        for column in node.columns:
            # SQL's UNION ALL types a column from both inputs, even an empty one: int + float
            # is float. pandas ignores empty inputs, so widen by hand.
            kinds = {part[column].dtype.kind for part in parts}
            if "f" in kinds and result[column].dtype.kind in "iu":
                result[column] = result[column].astype("float64")
        return result

    def _explode(self, node: p.Explode) -> pd.DataFrame:
        frame = self._run(node.children[0])
        lengths = frame[node.column].map(lambda v: len(v) if isinstance(v, (list, tuple, np.ndarray)) else 0)
        frame = frame[lengths.to_numpy() > 0].explode(node.column)
        frame[node.column] = frame[node.column].infer_objects()  # elements keep their type
        return frame

    def _aggregate(self, node: p.Aggregate) -> pd.DataFrame:
        frame = self._run(node.children[0])
        if node.keys:
            # lists are unhashable in pandas but group fine in SQL: group by their tuples
            keys = pd.DataFrame({k: frame[k].map(_hashable) if frame[k].dtype == object else frame[k]
                                 for k in node.keys})
            codes = keys.groupby(list(node.keys), dropna=False, sort=False).ngroup().to_numpy()
            groups = [np.flatnonzero(codes == g) for g in range(codes.max() + 1 if len(codes) else 0)]
        else:
            groups = [np.arange(len(frame))]
        child = node.children[0]
        rows = []
        for positions in groups:
            part = frame.iloc[positions]
            row: dict[str, Any] = {k: part[k].iloc[0] for k in node.keys}
            for agg in node.aggregations:
                row[agg.output] = _aggregate_values(part, agg)
            for label, kind in child.provenance.items():
                ids = part[provenance_column(label)].tolist()
                if kind == "list":
                    ids = [i for group in ids if isinstance(group, (list, np.ndarray)) for i in group]
                row[provenance_column(label)] = [i for i in ids if not _is_missing(i)]
            rows.append(row)
        columns = {}
        for name in output_columns(node):
            values = [row[name] for row in rows]
            columns[name] = _typed(values, _source_dtype(node, frame, name))
        return pd.DataFrame(columns, columns=output_columns(node))

    def _distinct(self, node: p.Distinct) -> pd.DataFrame:
        return self._aggregate(node)

    def _sort(self, node: p.Sort) -> pd.DataFrame:
        frame = self._run(node.children[0])
        tiebreak = [provenance_column(label) for label in node.tiebreak]
        return frame.sort_values(
            list(node.by) + tiebreak,
            ascending=list(node.ascending) + [True] * len(tiebreak),
            na_position="last",
            kind="mergesort",
        )

    def _limit(self, node: p.Limit) -> pd.DataFrame:
        return self._run(node.children[0]).head(node.n)


    def _pipe(self, node: p.Pipe) -> pd.DataFrame:
        return run_pipe(node, self._run(node.children[0]))


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, np.ndarray)) else value


def _source_dtype(node: p.Aggregate, frame: pd.DataFrame, name: str) -> Any:
    """The dtype an aggregate output column keeps from its input (None: infer it)."""
    if name in node.keys:
        return frame[name].dtype
    for agg in node.aggregations:
        if agg.output == name:
            if agg.function in ("count", "nunique"):
                return np.dtype("int64")
            if agg.function in ("mean", "median", "std"):
                return np.dtype("float64")
            if agg.function in ("min", "max", "sum") and agg.column is not None:
                return frame[agg.column].dtype
    return None


def _typed(values: list[Any], dtype: Any) -> pd.Series:
    """A column of aggregate results in its input's dtype, nullable where nulls appeared."""
    if dtype is not None and dtype != object:
        try:
            return pd.Series(values, dtype=dtype)
        except (TypeError, ValueError):
            pass
    if not values or any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
        return pd.Series(values, dtype=object)
    try:
        return pd.Series(pd.array(values))
    except (TypeError, ValueError):
        return pd.Series(values, dtype=object)


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _aggregate_values(part: pd.DataFrame, agg: p.Aggregation) -> Any:
    if agg.column is None:
        return len(part)
    values = part[agg.column]
    present = values[values.notna()]
    if agg.function == "count":
        return len(present)
    if agg.function == "nunique":
        return int(present.nunique())
    if agg.function == "list":
        if len(values) == 0:
            return None  # as SQL's list() over no rows
        return [None if v is None or (isinstance(v, float) and v != v) else v for v in values.tolist()]
    if len(present) == 0:
        return None
    if agg.function == "sum":
        return present.sum()
    if agg.function == "mean":
        return float(present.astype(float).mean())
    if agg.function == "median":
        return float(present.astype(float).median())
    if agg.function == "std":
        return float(present.astype(float).std(ddof=1)) if len(present) > 1 else None
    if agg.function == "min":
        return present.min()
    return present.max()

