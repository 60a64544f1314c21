"""The Spark engine: compiles a plan into Spark DataFrame operations, provenance included.

Provenance ids are ordinary columns, born at the source from its key or the row's position
in the file (computed as the other engines compute them, never ``monotonically_increasing_id``,
whose values depend on the partitioning), and carried through every operator like data:
a join keeps both sides' ids, a union puts NULL under the ids of the side a row did not come
from, an aggregate collects the ids it summarises with ``collect_list``. SQL expressions are
translated from DuckDB's dialect (:mod:`lester.frame.engines.spark_sql`); Python functions run
in the workers over Arrow batches (:mod:`lester.frame.engines.spark_udf`); a ``pipe`` step sees
the whole frame, so its rows are gathered on the driver. Results come back as Arrow.

Sources are read by the driver with the same readers as the other engines (so a CSV parses
and a row gets its id exactly as on DuckDB) and handed to Spark as Arrow.

Examples
--------
>>> import pandas as pd, lester as lt
>>> people = lt.from_pandas(pd.DataFrame({"id": [1, 2, 3], "age": [31, 17, 45]}), name="people", key="id")
>>> adults = people.filter("age >= 18").sort("age", ascending=False)
>>> adults.to_pandas(engine="spark")  # doctest: +SKIP
   id  age
0   3   45
1   1   31
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import pandas as pd
import pyarrow as pa

from lester.errors import ExecutionError, SqlExpressionError
from lester.frame import plan as p
from lester.frame.engines.base import output_columns
from lester.frame.engines.duckdb_engine import _to_pandas
from lester.frame.engines.spark_session import session
from lester.frame.engines.spark_sql import UnsupportedExpression, to_spark_sql
from lester.frame.engines.spark_udf import Step, common_type, raise_worker_error
from lester.frame.expressions import SqlExpr
from lester.frame.pipes import run_pipe
from lester.frame.plan import provenance_column


def _name(column: str) -> str:
    return "`" + column.replace("`", "``") + "`"


class SparkEngine:
    """Executes a plan on Apache Spark (local mode by default, or any ``master`` URL).

    Parameters
    ----------
    master : str, optional
        The Spark master (``local[4]``, ``spark://host:7077``...); default
        ``$LESTER_SPARK_MASTER`` or ``local[*]``. Ignored when a session is active already.
    spark : SparkSession, optional
        A session to run in (a team's cluster session, say) instead of the process's own.
    """

    name = "spark"

    def __init__(self, master: str | None = None, spark: Any = None):
        self.master = master
        self._spark = spark

    @property
    def spark(self) -> Any:
        """The SparkSession, started on first use."""
        if self._spark is None:
            self._spark = session(self.master)
        return self._spark

    def dataframe(self, node: p.Node) -> Any:
        """The plan as a Spark DataFrame of data then provenance columns (nothing runs yet,
        except the Python steps' type probes and ``pipe`` steps)."""
        return _Compilation(self.spark).compile(node)

    def execute(self, node: p.Node) -> pd.DataFrame:
        frame = self.dataframe(node)
        return _to_pandas(_action(node, lambda: frame.select(*map(_name, output_columns(node))).toArrow()))


def _action(node: p.Node, run: Any) -> Any:
    """Run a Spark action; a lester error from a worker comes back as itself, any other
    failure as an ExecutionError naming the last step."""
    from pyspark.errors import PySparkException

    try:
        return run()
    except (PySparkException, Exception) as exc:  # py4j errors are plain Exceptions
        if isinstance(exc, (ExecutionError, SqlExpressionError)):
            raise
        raise_worker_error(exc)
        raise ExecutionError(f"executing the plan ending in {node.describe()}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for marker in ("\n\tat ", "\nJVM stacktrace", "\n\nJVM"):
        text = text.split(marker)[0]
    return text.splitlines()[0] if text else type(exc).__name__


class _Compilation:
    def __init__(self, spark: Any):
        self.spark = spark
        self.scans: dict[int, Any] = {}  # one DataFrame per source within an execution

    def compile(self, node: p.Node) -> Any:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _analysed(self, node: p.Node, build: Any) -> Any:
        """``build()`` (a transformation, which Spark analyses at once), with its errors named."""
        from pyspark.errors import PySparkException

        try:
            return build()
        except PySparkException as exc:
            expression = getattr(node, "predicate", None) or getattr(node, "expression", None)
            if isinstance(expression, SqlExpr):
                raise SqlExpressionError(node.describe(), expression.text,
                                         f"Spark cannot run it: {_first_line(exc)}") from None
            raise ExecutionError(f"{node.describe()}: {_first_line(exc)}") from None

    # -- sources ----------------------------------------------------------------------------
    def _scan(self, node: p.Scan) -> Any:
        key = id(node.source)
        if key not in self.scans:
            data = node.source.load()
            ids = node.source.ids(data)
            table = _arrow(data.assign(**{provenance_column(node.source.label): ids}), node)
            self.scans[key] = self.spark.createDataFrame(table)
        return self.scans[key]

    def _pipe(self, node: p.Pipe) -> Any:
        child = self.compile(node.children[0])
        columns = output_columns(node.children[0])
        table = _action(node.children[0], lambda: child.select(*map(_name, columns)).toArrow())
        result = run_pipe(node, _to_pandas(table))
        return self.spark.createDataFrame(_arrow(result, node))

    # -- expressions --------------------------------------------------------------------------
    def _sql(self, node: p.Node, frame: Any, expression: SqlExpr) -> Any:
        from pyspark.sql import functions as F

        types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
        try:
            text = to_spark_sql(expression.text, types)
        except UnsupportedExpression as exc:
            raise SqlExpressionError(node.describe(), expression.text, f"not supported on the Spark engine: {exc}") from None
        return self._analysed(node, lambda: F.expr(text))

    def _step(self, node: p.Node, frame: Any, expression: Any, output: str | None = None) -> Step:
        provenance = [(label, provenance_column(label)) for label in node.children[0].provenance]
        return Step(expression, node.describe(), provenance, output)

    # -- operations -----------------------------------------------------------------------------
    def _filter(self, node: p.Filter) -> Any:
        child = self.compile(node.children[0])
        if isinstance(node.predicate, SqlExpr):
            condition = self._sql(node, child, node.predicate)
            return self._analysed(node, lambda: child.filter(condition))
        step = self._step(node, child, node.predicate)
        return child.mapInArrow(step.filter, child.schema)

    def _project(self, node: p.Project) -> Any:
        from pyspark.sql import functions as F

        child = self.compile(node.children[0])
        columns = output_columns(node)
        if isinstance(node.expression, SqlExpr):
            value = self._sql(node, child, node.expression)
            items = [value.alias(c) if c == node.output else F.col(_name(c)) for c in columns]
            projected = self._analysed(node, lambda: child.select(*items))
            if projected.schema[node.output].dataType.typeName() != "timestamp":
                return projected
            # Spark's date functions make timestamps with a time zone (in the session's, UTC);
            # DuckDB's keep none, as the sources' timestamps have none
            items[columns.index(node.output)] = value.cast("timestamp_ntz").alias(node.output)
            return self._analysed(node, lambda: child.select(*items))
        return self._python_project(node, child, columns)

    def _python_project(self, node: p.Project, child: Any, columns: list[str]) -> Any:
        from pyspark.sql.pandas.types import from_arrow_type, to_arrow_schema
        from pyspark.sql.types import StructField, StructType

        step = self._step(node, child, node.expression, node.output)
        probes = _action(node, lambda: child.mapInArrow(step.probe, "type binary").toArrow())
        kind = common_type(step, probes.column("type").to_pylist())
        fields = {f.name: f for f in child.schema.fields}
        fields[node.output] = StructField(node.output, from_arrow_type(kind), True)
        schema = StructType([fields[c] for c in columns])
        arrow_schema = to_arrow_schema(schema, timezone="UTC")
        step.schema = pa.schema([f.with_type(kind) if f.name == node.output else f for f in arrow_schema])
        return child.mapInArrow(step.project, schema)

    def _select(self, node: p.Select) -> Any:
        child = self.compile(node.children[0])
        return child.select(*map(_name, output_columns(node)))

    def _rename(self, node: p.Rename) -> Any:
        from pyspark.sql import functions as F

        child = self.compile(node.children[0])
        items = [F.col(_name(c)).alias(node.mapping.get(c, c)) for c in node.children[0].columns]
        items += [F.col(_name(c)) for c in output_columns(node)[len(node.columns):]]
        return child.select(*items)

    def _join(self, node: p.Join) -> Any:
        from pyspark.sql import functions as F

        left_node, right_node = node.children
        # every column under a name of its side, so clashing names never meet
        left = self.compile(left_node).toDF(*[f"l{i}" for i in range(len(output_columns(left_node)))])
        right = self.compile(right_node).toDF(*[f"r{i}" for i in range(len(output_columns(right_node)))])
        lpos = {c: f"l{i}" for i, c in enumerate(output_columns(left_node))}
        rpos = {c: f"r{i}" for i, c in enumerate(output_columns(right_node))}
        condition = functools.reduce(operator.and_, [
            left[lpos[lk]] == right[rpos[rk]] for lk, rk in zip(node.left_on, node.right_on)])
        joined = self._analysed(node, lambda: left.join(right, condition, "left" if node.how == "left" else "inner"))
        items = [F.col(lpos[o.column] if o.side == "left" else rpos[o.column]).alias(o.name) for o in node.output]
        items += [F.col(lpos[provenance_column(label)]).alias(provenance_column(label)) for label in left_node.provenance]
        items += [F.col(rpos[provenance_column(label)]).alias(provenance_column(out))
                  for label, out in node.right_provenance.items()]
        return joined.select(*items)

    def _union(self, node: p.Union) -> Any:
        from pyspark.sql import functions as F

        frames = [self.compile(child) for child in node.children]
        kinds: dict[str, Any] = {}
        for frame in frames:
            for field in frame.schema.fields:
                kinds.setdefault(field.name, field.dataType)
        parts = []
        for child, frame in zip(node.children, frames):
            items = [F.col(_name(c)) for c in node.columns]
            for label in node.provenance:
                column = provenance_column(label)
                items.append(F.col(_name(column)) if label in child.provenance
                             else F.lit(None).cast(kinds[column]).alias(column))
            parts.append(frame.select(*items))
        return self._analysed(node, lambda: parts[0].union(parts[1]))

    def _explode(self, node: p.Explode) -> Any:
        from pyspark.sql import functions as F

        child = self.compile(node.children[0])
        column = F.col(_name(node.column))
        if child.schema[node.column].dataType.typeName() == "void":
            # a Python step that returned no value at all: no list, so no row
            column = column.cast("array<string>")
        items = [F.explode(column).alias(c) if c == node.column else F.col(_name(c))
                 for c in output_columns(node)]
        return self._analysed(node, lambda: child.select(*items))

    def _aggregate(self, node: p.Aggregate) -> Any:
        from pyspark.sql import functions as F

        child_node = node.children[0]
        child = self.compile(child_node)
        rows = F.count(F.lit(1))
        items = []
        for agg in node.aggregations:
            column = F.col(_name(agg.column)) if agg.column is not None else None
            if column is None:
                value = rows
            elif agg.function == "list":
                # collect_list drops NULLs, DuckDB's list() keeps them: collect them wrapped
                value = F.transform(F.collect_list(F.struct(column.alias("v"))), lambda x: x["v"])
                if not node.keys:  # DuckDB: the list of no rows is NULL
                    value = F.when(rows > 0, value)
            else:
                value = _AGGREGATES[agg.function](column)
            items.append(value.alias(agg.output))
        for label, kind in child_node.provenance.items():
            column = provenance_column(label)
            ids = F.collect_list(F.col(_name(column)))  # NULL ids (a union's other side) dropped
            items.append((F.flatten(ids) if kind == "list" else ids).alias(column))
        grouped = child.groupBy(*map(_name, node.keys)) if node.keys else child
        return self._analysed(node, lambda: grouped.agg(*items))

    def _distinct(self, node: p.Distinct) -> Any:
        return self._aggregate(node)

    def _sort(self, node: p.Sort) -> Any:
        from pyspark.sql import functions as F

        child = self.compile(node.children[0])
        order = [F.col(_name(c)).asc_nulls_last() if asc else F.col(_name(c)).desc_nulls_last()
                 for c, asc in zip(node.by, node.ascending)]
        order += [F.col(_name(provenance_column(label))).asc_nulls_last() for label in node.tiebreak]
        return self._analysed(node, lambda: child.orderBy(*order))

    def _limit(self, node: p.Limit) -> Any:
        return self.compile(node.children[0]).limit(node.n)


def _aggregate_functions() -> dict[str, Any]:
    from pyspark.sql import functions as F

    return {"count": F.count, "sum": F.sum, "mean": F.avg, "min": F.min, "max": F.max,
            "nunique": F.count_distinct, "median": F.median, "std": F.stddev_samp}


class _Lazy(dict):
    def __missing__(self, key: str) -> Any:
        self.update(_aggregate_functions())
        return self[key]


_AGGREGATES: dict[str, Any] = _Lazy()


def _arrow(frame: pd.DataFrame, node: p.Node) -> pa.Table:
    """A pandas frame as the Arrow table Spark is given: columns with no value at all typed
    as strings (as DuckDB types them) and dictionaries decoded."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ExecutionError(f"{node.describe()}: the rows cannot be stored as columns: {exc}") from None
    for i, field in enumerate(table.schema):
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_null(kind):
            kind = pa.string()
        if pa.types.is_large_string(kind):
            kind = pa.string()
        if kind != field.type:
            table = table.set_column(i, field.name, table.column(i).cast(kind))
    return table.replace_schema_metadata(None)
