"""The logical plan: an immutable tree of operations, kept apart from the engines that run it.

Every node knows, without touching data:

* ``columns``: its output data columns, in order;
* ``provenance``: its output provenance columns (one per source occurrence), each either a
  single id (``"id"``) or a list of ids (``"list"``, after an aggregate);
* ``reads``: the input columns the operation itself reads;
* ``lineage``: for each output column, the source columns its values are computed from.

Provenance follows provenance polynomials: a join output carries the ids of both inputs
(product), a union carries the id of whichever input a row came from (sum; the other input's
ids are null), an aggregate carries the list of ids it summarises.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lester.errors import ColumnNotFoundError, PlanError
from lester.frame.expressions import Expression
from lester.frame.sources import PROVENANCE_PREFIX, Source

AGGREGATE_FUNCTIONS = ("count", "sum", "mean", "min", "max", "list", "nunique", "median", "std")

Lineage = Mapping[str, frozenset[tuple[str, str]]]


def provenance_column(label: str) -> str:
    """The name under which a source occurrence's ids travel through the engines."""
    return PROVENANCE_PREFIX + label


def _require(columns: Sequence[str], available: Sequence[str], operation: str) -> None:
    missing = [c for c in columns if c not in available]
    if missing:
        raise ColumnNotFoundError(operation, missing, available)


class Node:
    """Base class of plan nodes. Subclasses set the attributes below in ``__init__``."""

    children: tuple[Node, ...] = ()
    columns: tuple[str, ...]
    provenance: dict[str, str]  # label -> "id" | "list", in output order
    origins: dict[str, Source]  # label -> the source whose ids the label carries
    lineage: dict[str, frozenset[tuple[str, str]]]
    reads: tuple[str, ...] = ()

    def describe(self) -> str:
        raise NotImplementedError

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def _inherit(self, child: Node) -> None:
        self.columns = child.columns
        self.provenance = dict(child.provenance)
        self.origins = dict(child.origins)
        self.lineage = dict(child.lineage)


class Scan(Node):
    def __init__(self, source: Source):
        self.source = source
        self.columns = source.columns
        self.provenance = {source.label: "id"}
        self.origins = {source.label: source}
        self.lineage = {c: frozenset({(source.name, c)}) for c in source.columns}

    def describe(self) -> str:
        return f"Source {self.source.name}: {self.source.describe()}"


class Filter(Node):
    def __init__(self, child: Node, predicate: Expression):
        self.children = (child,)
        self.predicate = predicate
        self._inherit(child)
        self.reads = predicate.columns

    def describe(self) -> str:
        return f"Filter {self.predicate.describe()}"


class Project(Node):
    """One new (or replaced) column computed from named columns."""

    def __init__(self, child: Node, output: str, expression: Expression):
        if not isinstance(output, str) or not output:
            raise PlanError(f"project: the output column name must be a non-empty string, got {output!r}")
        if output.startswith(PROVENANCE_PREFIX):
            raise PlanError(f"project: column names may not start with {PROVENANCE_PREFIX!r}")
        self.children = (child,)
        self.output = output
        self.expression = expression
        self._inherit(child)
        if output not in child.columns:
            self.columns = (*child.columns, output)
        self.lineage[output] = frozenset().union(*(child.lineage[c] for c in expression.columns))
        self.reads = expression.columns

    def describe(self) -> str:
        return f"Project {self.output} := {self.expression.describe()}"


class Select(Node):
    def __init__(self, child: Node, columns: Sequence[str], operation: str = "select"):
        columns = tuple(columns)
        _require(columns, child.columns, f"{operation}({list(columns)})")
        if len(set(columns)) != len(columns):
            raise PlanError(f"{operation}: a column is named twice in {list(columns)}")
        self.children = (child,)
        self._inherit(child)
        self.columns = columns
        self.lineage = {c: child.lineage[c] for c in columns}
        self.reads = columns

    def describe(self) -> str:
        return f"Select {', '.join(self.columns)}"


class Rename(Node):
    def __init__(self, child: Node, mapping: Mapping[str, str]):
        mapping = dict(mapping)
        _require(list(mapping), child.columns, f"rename({mapping})")
        self.children = (child,)
        self.mapping = mapping
        self.columns = tuple(mapping.get(c, c) for c in child.columns)
        if len(set(self.columns)) != len(self.columns):
            raise PlanError(f"rename({mapping}): the result would have duplicate columns {list(self.columns)}")
        bad = [c for c in self.columns if c.startswith(PROVENANCE_PREFIX)]
        if bad:
            raise PlanError(f"rename: column names may not start with {PROVENANCE_PREFIX!r}")
        self.provenance, self.origins = dict(child.provenance), dict(child.origins)
        self.lineage = {mapping.get(c, c): child.lineage[c] for c in child.columns}
        self.reads = tuple(mapping)

    def describe(self) -> str:
        return "Rename " + ", ".join(f"{a} -> {b}" for a, b in self.mapping.items())


@dataclass(frozen=True)
class JoinColumn:
    """Where one output column of a join comes from."""

    name: str
    side: str  # "left" | "right"
    column: str


class Join(Node):
    """Inner or left join on one or more keys.

    Name clashes follow pandas: a key joined to a key of the same name appears once (taken
    from the left); any other column present on both sides gets ``suffixes[0]`` on the left
    and ``suffixes[1]`` on the right. Provenance labels that clash (a self-join) get ``_2``,
    ``_3``... on the right.
    """

    def __init__(
        self,
        left: Node,
        right: Node,
        left_on: Sequence[str],
        right_on: Sequence[str],
        how: str = "inner",
        suffixes: tuple[str, str] = ("_x", "_y"),
    ):
        operation = f"join(left_on={list(left_on)}, right_on={list(right_on)}, how={how!r})"
        if how not in ("inner", "left"):
            raise PlanError(f"{operation}: how must be 'inner' or 'left', got {how!r}")
        if not left_on or len(left_on) != len(right_on):
            raise PlanError(f"{operation}: give the same number (at least one) of left and right keys")
        _require(left_on, left.columns, operation + " on the left input")
        _require(right_on, right.columns, operation + " on the right input")
        self.children = (left, right)
        self.left_on, self.right_on, self.how = tuple(left_on), tuple(right_on), how
        self.suffixes = suffixes
        shared = {lk for lk, rk in zip(left_on, right_on) if lk == rk}
        self.output: list[JoinColumn] = []
        for c in left.columns:
            clash = c in right.columns and c not in shared
            self.output.append(JoinColumn(c + suffixes[0] if clash else c, "left", c))
        for c in right.columns:
            if c in shared:
                continue
            clash = c in left.columns
            self.output.append(JoinColumn(c + suffixes[1] if clash else c, "right", c))
        self.columns = tuple(o.name for o in self.output)
        if len(set(self.columns)) != len(self.columns):
            raise PlanError(
                f"{operation}: suffixes {suffixes} still leave duplicate columns {list(self.columns)}"
            )
        self.lineage = {}
        for o in self.output:
            lineage = (left if o.side == "left" else right).lineage[o.column]
            if o.side == "left" and o.column in shared:
                lineage = lineage | right.lineage[o.column]
            self.lineage[o.name] = lineage
        self.provenance, self.origins = dict(left.provenance), dict(left.origins)
        self.right_provenance: dict[str, str] = {}  # right label -> output label
        for label, kind in right.provenance.items():
            out, n = label, 2
            while out in self.provenance:
                out, n = f"{label}_{n}", n + 1
            self.provenance[out] = kind
            self.origins[out] = right.origins[label]
            self.right_provenance[label] = out
        self.reads = tuple(left_on) + tuple(right_on)

    def describe(self) -> str:
        keys = ", ".join(f"{lk} = {rk}" for lk, rk in zip(self.left_on, self.right_on))
        return f"Join {self.how} on {keys}"


class Union(Node):
    """Rows of both inputs (bag semantics, like SQL UNION ALL); columns are matched by name."""

    def __init__(self, left: Node, right: Node):
        if set(left.columns) != set(right.columns):
            only_left = [c for c in left.columns if c not in right.columns]
            only_right = [c for c in right.columns if c not in left.columns]
            raise PlanError(
                "union: both inputs need the same columns; only on the left: "
                f"{only_left}, only on the right: {only_right}"
            )
        self.children = (left, right)
        self.columns = left.columns
        self.lineage = {c: left.lineage[c] | right.lineage[c] for c in self.columns}
        self.provenance, self.origins = dict(left.provenance), dict(left.origins)
        for label, kind in right.provenance.items():
            source = right.origins[label]
            if label in self.origins and self.origins[label].identity != source.identity:
                raise PlanError(
                    f"union: two different sources share the name {label!r} "
                    f"({self.origins[label].describe()} and {source.describe()}); "
                    "pass name= when reading them to tell them apart"
                )
            if self.provenance.get(label, kind) != kind:
                raise PlanError(
                    f"union: source {label!r} is aggregated on one side only; "
                    "aggregate both sides or neither"
                )
            self.provenance[label] = kind
            self.origins[label] = source
        self.reads = self.columns

    def describe(self) -> str:
        return "Union"


class Explode(Node):
    """One row per element of a list column; rows whose list is empty or null are dropped."""

    def __init__(self, child: Node, column: str):
        _require([column], child.columns, f"explode({column!r})")
        self.children = (child,)
        self.column = column
        self._inherit(child)
        self.reads = (column,)

    def describe(self) -> str:
        return f"Explode {self.column}"


@dataclass(frozen=True)
class Aggregation:
    output: str
    column: str | None  # None: count rows
    function: str

    def describe(self) -> str:
        return f"{self.output} := {self.function}({self.column or '*'})"


class Aggregate(Node):
    """Group by ``keys`` (nulls form a group, as in SQL) and aggregate.

    ``sum``/``mean``/``min``/``max``/``median``/``std`` (sample, as pandas) of a group with no
    non-null value is null; ``count`` counts non-null values (or rows, for ``column=None``),
    ``nunique`` distinct non-null values; ``list`` collects the values.
    Each provenance column becomes the list of the ids the group summarises.
    """

    def __init__(self, child: Node, keys: Sequence[str], aggregations: Sequence[Aggregation]):
        keys = tuple(keys)
        operation = f"aggregate(by={list(keys)})"
        _require(keys, child.columns, operation)
        for agg in aggregations:
            if agg.function not in AGGREGATE_FUNCTIONS:
                raise PlanError(
                    f"{operation}: unknown aggregate function {agg.function!r} for {agg.output!r}; "
                    f"use one of {list(AGGREGATE_FUNCTIONS)}"
                )
            if agg.column is None and agg.function != "count":
                raise PlanError(f"{operation}: {agg.function} needs a column for {agg.output!r}")
            if agg.column is not None:
                _require([agg.column], child.columns, operation)
        reserved = [a.output for a in aggregations if a.output.startswith(PROVENANCE_PREFIX)]
        if reserved:
            raise PlanError(f"{operation}: column names may not start with {PROVENANCE_PREFIX!r}: {reserved}")
        self.children = (child,)
        self.keys = keys
        self.aggregations = tuple(aggregations)
        self.columns = keys + tuple(a.output for a in aggregations)
        if len(set(self.columns)) != len(self.columns):
            raise PlanError(f"{operation}: duplicate output columns {list(self.columns)}")
        self.provenance = {label: "list" for label in child.provenance}
        self.origins = dict(child.origins)
        self.lineage = {k: child.lineage[k] for k in keys}
        for agg in aggregations:
            self.lineage[agg.output] = (
                child.lineage[agg.column] if agg.column is not None else frozenset()
            )
        self.reads = keys + tuple(a.column for a in aggregations if a.column is not None)

    def describe(self) -> str:
        aggs = ", ".join(a.describe() for a in self.aggregations)
        return f"Aggregate by [{', '.join(self.keys)}]" + (f": {aggs}" if aggs else "")


class Distinct(Aggregate):
    """Distinct rows; each carries the list of ids of the duplicates it stands for."""

    def __init__(self, child: Node):
        super().__init__(child, child.columns, ())

    def describe(self) -> str:
        return "Distinct"


class Sort(Node):
    """Sort by columns (nulls last). Ties are broken by the provenance ids, so the order,
    and therefore ``limit`` after ``sort``, is deterministic and the same on every engine."""

    def __init__(self, child: Node, by: Sequence[str], ascending: Sequence[bool]):
        by = tuple(by)
        _require(by, child.columns, f"sort(by={list(by)})")
        if len(ascending) != len(by):
            raise PlanError(f"sort(by={list(by)}): give one ascending flag per column")
        self.children = (child,)
        self.by, self.ascending = by, tuple(bool(a) for a in ascending)
        self._inherit(child)
        self.reads = by

    @property
    def tiebreak(self) -> tuple[str, ...]:
        return tuple(label for label, kind in self.provenance.items() if kind == "id")

    def describe(self) -> str:
        return "Sort " + ", ".join(
            f"{c} {'asc' if a else 'desc'}" for c, a in zip(self.by, self.ascending)
        )


class Limit(Node):
    def __init__(self, child: Node, n: int):
        if not isinstance(n, int) or n < 0:
            raise PlanError(f"limit: n must be a non-negative integer, got {n!r}")
        self.children = (child,)
        self.n = n
        self._inherit(child)

    def describe(self) -> str:
        return f"Limit {self.n}"



class Pipe(Node):
    """A Python function over the whole frame as a pandas DataFrame (``Frame.pipe``).

    The function sees data columns only, never provenance. Row provenance follows the
    DataFrame's index: an output row keeps the ids of the input row whose index label it
    carries, so filtering, reordering, deduplicating or changing values keeps it exact, while
    a function that makes new index labels (``reset_index``, ``groupby().agg``, ``merge``) is
    refused when it runs. Every output column may depend on every input column and every row.
    """

    def __init__(self, child: Node, function: Any, columns: Sequence[str], name: str):
        columns = tuple(columns)
        if not all(isinstance(c, str) and c for c in columns):
            raise PlanError(f"pipe({name}): column names must be non-empty strings, got {list(columns)}")
        if len(set(columns)) != len(columns):
            raise PlanError(f"pipe({name}): a column is named twice in {list(columns)}")
        reserved = [c for c in columns if c.startswith(PROVENANCE_PREFIX)]
        if reserved:
            raise PlanError(f"pipe({name}): column names may not start with {PROVENANCE_PREFIX!r}: {reserved}")
        self.children = (child,)
        self.function = function
        self.name = name
        self._inherit(child)
        self.columns = columns
        everything = frozenset().union(*child.lineage.values()) if child.lineage else frozenset()
        self.lineage = {c: everything for c in columns}
        self.reads = child.columns

    def describe(self) -> str:
        return f"Pipe {self.name} -> [{', '.join(self.columns)}]"
