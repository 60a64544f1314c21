"""The default engine: compiles a plan into a chain of DuckDB views.

SQL operations become views that DuckDB optimises and runs as one query. A Python function
cuts the chain: the rows so far are materialised as an Arrow table, only the columns the
function reads are converted to Python values, and the result is registered as the next
view. Provenance ids are ordinary columns, so they ride along every operator at SQL speed.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from lester.errors import ExecutionError, SqlExpressionError
from lester.frame import plan as p
from lester.frame.engines.base import output_columns
from lester.frame.expressions import PyFunc, SqlExpr, quote
from lester.frame.pipes import run_pipe
from lester.frame.plan import provenance_column
from lester.frame.python_functions import as_arrow_column, as_mask, evaluate
from lester.frame.sources import PROVENANCE_PREFIX

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "HUGEINT"}


# Arrow to pandas would make an integer column with nulls float64 (31 becomes 31.0) and a
# boolean one object; the nullable dtypes keep the values' type, as the pandas engine does.
_NULLABLE = {
    pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype(),
}


class DuckDBEngine:
    """Executes a plan in an in-process DuckDB database.

    The database is opened once per engine; each execution works in its own cursor, whose
    temporary views no other execution sees (opening a database costs ~20 ms, a cursor ~0.3 ms).
    """

    name = "duckdb"

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self._database: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor on the engine's in-process database, for a query of its own
        (close it when done); far cheaper than opening a database per query."""
        return self._cursor()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._database is None:
                config = {"threads": self.threads} if self.threads else {}
                self._database = duckdb.connect(config=config)
            return self._database.cursor()

    def execute(self, node: p.Node) -> pd.DataFrame:
        run = _Compilation(self._cursor())
        try:
            view = run.compile(node)
            table = run.fetch(view, output_columns(node), node)
        finally:
            run.close()
        return _to_pandas(table)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    lists = [f.name for f in table.schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)]
    # integer ids are always nullable, so a union or an unmatched left join keeps them integers;
    # data columns only where this result has a null (an Int64 source, an outer side)
    nullable = [f.name for f in table.schema if f.type in _NULLABLE and (
        (f.name.startswith(PROVENANCE_PREFIX) and pa.types.is_integer(f.type)) or table.column(f.name).null_count)]
    plain = [name for name in table.column_names if name not in lists and name not in nullable]
    frame = table.select(plain).to_pandas()
    if nullable:
        converted = table.select(nullable).to_pandas(types_mapper=_NULLABLE.get)
        for name in nullable:
            frame[name] = converted[name]
    for name in lists:
        frame[name] = pd.Series(table.column(name).to_pylist(), dtype=object)
    return frame[table.column_names]


def _columns_sql(columns: list[str]) -> str:
    return ", ".join(quote(c) for c in columns)


def _provenance_sql(node: p.Node) -> list[str]:
    return [quote(provenance_column(label)) for label in node.provenance]


class _Compilation:
    def __init__(self, cursor: duckdb.DuckDBPyConnection):
        self.con = cursor
        self.counter = itertools.count()
        self.tables: dict[str, pa.Table] = {}  # registered Arrow tables, by view name

    def close(self) -> None:
        self.con.close()

    def _name(self) -> str:
        return f"v{next(self.counter)}"

    def _view(self, sql: str, node: p.Node) -> str:
        name = self._name()
        try:
            self.con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
        except duckdb.Error as exc:
            raise self._error(node, exc) from None
        return name

    def _register(self, data: Any) -> str:
        name = self._name()
        if isinstance(data, pa.Table):
            self.tables[name] = data
        self.con.register(name, data)
        return name

    def _error(self, node: p.Node, exc: Exception) -> Exception:
        expression = getattr(node, "predicate", None) or getattr(node, "expression", None)
        if isinstance(expression, SqlExpr):
            return SqlExpressionError(node.describe(), expression.text, str(exc))
        return ExecutionError(f"{node.describe()}: {exc}")

    def fetch(self, view: str, columns: list[str], node: p.Node) -> pa.Table:
        if view in self.tables:  # a Python step's result: no need for another DuckDB pass
            return self.tables[view].select(columns)
        try:
            return self.con.sql(f"SELECT {_columns_sql(columns)} FROM {view}").arrow().read_all()
        except duckdb.Error as exc:
            raise ExecutionError(f"executing the plan ending in {node.describe()}: {exc}") from None

    def compile(self, node: p.Node) -> str:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    # -- sources and Python functions -----------------------------------------------------
    def _scan(self, node: p.Scan) -> str:
        data = node.source.load()
        return self._register(data.assign(**{provenance_column(node.source.label): node.source.ids(data)}))

    def _python(self, node: p.Node, child_view: str, expression: PyFunc) -> tuple[pa.Table, Any]:
        table = self.fetch(child_view, output_columns(node.children[0]), node.children[0])
        columns = {c: table.column(c) for c in expression.columns}

        def row_id(i: int) -> dict[str, Any]:
            ids = {}
            for label in node.children[0].provenance:
                value = table.column(provenance_column(label))[i].as_py()
                if value is not None:
                    ids[label] = value
            return ids

        return table, evaluate(expression, columns, node.describe(), row_id)

    # -- operations -----------------------------------------------------------------------
    def _filter(self, node: p.Filter) -> str:
        child = self.compile(node.children[0])
        if isinstance(node.predicate, SqlExpr):
            return self._view(f"SELECT * FROM {child} WHERE ({node.predicate.text})", node)
        table, values = self._python(node, child, node.predicate)
        mask = as_mask(values, node.describe(), node.predicate.name)
        return self._register(table.filter(pa.array(mask, type=pa.bool_())))

    def _project(self, node: p.Project) -> str:
        child = self.compile(node.children[0])
        if isinstance(node.expression, SqlExpr):
            items = []
            for c in node.columns:
                if c == node.output:
                    items.append(f"({node.expression.text}) AS {quote(c)}")
                else:
                    items.append(quote(c))
            items += _provenance_sql(node)
            return self._view(f"SELECT {', '.join(items)} FROM {child}", node)
        table, values = self._python(node, child, node.expression)
        array = as_arrow_column(values, node.describe(), node.expression.name)
        if node.output in table.column_names:
            table = table.set_column(table.column_names.index(node.output), node.output, array)
        else:
            table = table.append_column(node.output, array)
        return self._register(table)

    def _select(self, node: p.Select) -> str:
        child = self.compile(node.children[0])
        columns = [quote(c) for c in node.columns] + _provenance_sql(node)
        return self._view(f"SELECT {', '.join(columns)} FROM {child}", node)

    def _rename(self, node: p.Rename) -> str:
        child = self.compile(node.children[0])
        items = [
            f"{quote(c)} AS {quote(node.mapping[c])}" if c in node.mapping else quote(c)
            for c in node.children[0].columns
        ] + _provenance_sql(node)
        return self._view(f"SELECT {', '.join(items)} FROM {child}", node)

    def _join(self, node: p.Join) -> str:
        left = self.compile(node.children[0])
        right = self.compile(node.children[1])
        items = [
            f"{'l' if o.side == 'left' else 'r'}.{quote(o.column)} AS {quote(o.name)}"
            for o in node.output
        ]
        items += [f"l.{quote(provenance_column(label))}" for label in node.children[0].provenance]
        items += [
            f"r.{quote(provenance_column(label))} AS {quote(provenance_column(out))}"
            for label, out in node.right_provenance.items()
        ]
        condition = " AND ".join(
            f"l.{quote(lk)} = r.{quote(rk)}" for lk, rk in zip(node.left_on, node.right_on)
        )
        kind = "LEFT JOIN" if node.how == "left" else "JOIN"
        return self._view(
            f"SELECT {', '.join(items)} FROM {left} AS l {kind} {right} AS r ON {condition}", node
        )

    def _union(self, node: p.Union) -> str:
        selects = []
        for child in node.children:
            view = self.compile(child)
            items = [quote(c) for c in node.columns]
            for label in node.provenance:
                column = quote(provenance_column(label))
                items.append(column if label in child.provenance else f"NULL AS {column}")
            selects.append(f"SELECT {', '.join(items)} FROM {view}")
        return self._view(" UNION ALL ".join(selects), node)

    def _explode(self, node: p.Explode) -> str:
        child = self.compile(node.children[0])
        items = [
            f"unnest({quote(c)}) AS {quote(c)}" if c == node.column else quote(c)
            for c in node.columns
        ] + _provenance_sql(node)
        return self._view(f"SELECT {', '.join(items)} FROM {child}", node)

    def _aggregate(self, node: p.Aggregate) -> str:
        child_node = node.children[0]
        child = self.compile(child_node)
        types = self._types(child)
        items = [quote(k) for k in node.keys]
        for agg in node.aggregations:
            column = quote(agg.column) if agg.column is not None else "*"
            if agg.function == "sum" and types.get(agg.column, "").split("(")[0] in _INTEGER_TYPES:
                sql = f"CAST(sum({column}) AS BIGINT)"  # DuckDB widens to HUGEINT
            elif agg.function == "mean":
                sql = f"avg({column})"
            elif agg.function == "nunique":
                sql = f"count(DISTINCT {column})"
            elif agg.function == "median":
                sql = f"CAST(median({column}) AS DOUBLE)"
            elif agg.function == "std":
                sql = f"stddev_samp({column})"
            else:
                sql = f"{agg.function}({column})"
            items.append(f"{sql} AS {quote(agg.output)}")
        for label, kind in child_node.provenance.items():
            column = quote(provenance_column(label))
            ids = f"list_filter(list({column}), lambda x: x IS NOT NULL)"
            if kind == "list":
                ids = f"flatten({ids})"
            items.append(f"coalesce({ids}, []) AS {column}")
        group = f" GROUP BY {_columns_sql(list(node.keys))}" if node.keys else ""
        return self._view(f"SELECT {', '.join(items)} FROM {child}{group}", node)

    def _distinct(self, node: p.Distinct) -> str:
        return self._aggregate(node)

    def _sort(self, node: p.Sort) -> str:
        child = self.compile(node.children[0])
        order = [
            f"{quote(c)} {'ASC' if asc else 'DESC'} NULLS LAST"
            for c, asc in zip(node.by, node.ascending)
        ]
        order += [f"{quote(provenance_column(label))} ASC NULLS LAST" for label in node.tiebreak]
        return self._view(f"SELECT * FROM {child} ORDER BY {', '.join(order)}", node)

    def _limit(self, node: p.Limit) -> str:
        child = self.compile(node.children[0])
        return self._view(f"SELECT * FROM {child} LIMIT {node.n}", node)

    def _pipe(self, node: p.Pipe) -> str:
        child = self.compile(node.children[0])
        table = self.fetch(child, output_columns(node.children[0]), node.children[0])
        result = run_pipe(node, _to_pandas(table))
        try:
            converted = pa.Table.from_pandas(result, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise ExecutionError(f"{node.describe()}: its result cannot be stored as columns: {exc}") from None
        return self._register(converted)

    def _types(self, view: str) -> dict[str, str]:
        relation = self.con.sql(f"SELECT * FROM {view}")
        return {name: str(kind) for name, kind in zip(relation.columns, relation.types)}
