"""How a plan's output rows and columns depend on its sources, read off the plan alone.

Incremental maintenance asks two questions of a data preparation plan, and both are answered
here without touching data, so that the runner can record the answers with a run and a later
deletion need not rebuild the plan:

* is the plan *linear* in a source (filters, projections, inner joins, unions, explode, sort:
  every output row comes from at most one row of the source, and depends on nothing but its
  own input rows)? Then deleting source rows just deletes the rows derived from them;
* which source columns does the plan read or compute its output from? A redaction of any
  other column cannot change an artifact.
"""

from __future__ import annotations

import re
from typing import Any

from lester.frame import plan as p
from lester.frame.expressions import PyFunc, SqlExpr
from lester.frame.frame import Frame

_WINDOW = re.compile(r"\bover\s*\(", re.IGNORECASE)


def _row_local(expression: Any) -> bool:
    """Whether an expression's value for a row depends on that row only."""
    if isinstance(expression, PyFunc):
        return not expression.vectorized  # a vectorized function sees whole columns
    if isinstance(expression, SqlExpr):
        return not _WINDOW.search(expression.text)
    return False


def _degree(node: p.Node, source: str) -> float:
    """How many times a row of ``source`` can enter one output row (inf: not linear)."""
    if isinstance(node, p.Scan):
        return 1.0 if node.source.name == source else 0.0
    degrees = [_degree(child, source) for child in node.children]
    if not any(degrees):
        return 0.0
    if isinstance(node, (p.Filter, p.Project)):
        return degrees[0] if _row_local(node.predicate if isinstance(node, p.Filter) else node.expression) else float("inf")
    if isinstance(node, (p.Select, p.Rename, p.Explode, p.Sort)):
        return degrees[0]
    if isinstance(node, p.Union):
        return max(degrees)
    if isinstance(node, p.Join):
        if node.how == "left" and degrees[1]:
            return float("inf")  # removing right rows turns matched left rows into unmatched ones
        return degrees[0] + degrees[1]
    return float("inf")  # Aggregate, Distinct, Limit, and anything new


def linear_in(frame: Frame, source: str) -> bool:
    """True when every output row of ``frame`` derives from at most one row of the source
    named ``source`` and each output row depends on nothing but its own input rows.

    Example:
        >>> import pandas as pd, lester as lt
        >>> people = lt.from_pandas(pd.DataFrame({"id": [1, 2]}), name="people", key="id")
        >>> linear_in(people.filter("id > 1"), "people"), linear_in(people.distinct(), "people")
        (True, False)
    """
    return _degree(frame.plan, source) <= 1


def source_columns_read(frame: Frame) -> set[tuple[str, str]]:
    """The ``(source, column)`` pairs that any step of the plan reads or that any output column
    is computed from (a filter or join key counts: changing it can change which rows exist).

    Example:
        >>> import pandas as pd, lester as lt
        >>> mails = lt.from_pandas(pd.DataFrame({"id": [1], "text": ["hi"], "spam": [0]}), name="mails", key="id")
        >>> sorted(source_columns_read(mails.filter("spam = 0")[["text"]]))
        [('mails', 'spam'), ('mails', 'text')]
    """
    found: set[tuple[str, str]] = set().union(*frame.plan.lineage.values())
    for node in frame.plan.walk():
        for child in node.children:
            for column in node.reads:
                found |= child.lineage.get(column, frozenset())
    return found


def reads_source_column(frame: Frame, source: str, column: str) -> bool:
    """Whether the plan reads, or computes an output column from, ``source.column``."""
    return (source, column) in source_columns_read(frame)
