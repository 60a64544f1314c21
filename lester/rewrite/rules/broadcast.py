"""A statistic of the data used in a per-row expression: joined onto every row.

``avg = sum(values) / len(values)`` before a loop, then ``resp / avg`` inside it: the value is
one number computed from many rows (possibly other rows than the loop's, e.g. before a filter).
In the plan it is a one-row aggregate joined onto each row of the loop, so each output row's
provenance names the rows the statistic summarised, and forgetting any of them changes it, as
it changes the script's number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst
import libcst.matchers as m

from lester.rewrite.rules.expressions import ColumnB
from lester.rewrite.rules.plan import identifier
from lester.rewrite.rules.values import Stat

if TYPE_CHECKING:
    from lester.rewrite.rules.dataflow import Ctx, ScriptReader

# the reader's statistics the DSL aggregates compute the same way (std1: ddof=1, as stddev_samp)
_AGGREGATES = {"mean": "mean", "sum": "sum", "min": "min", "max": "max", "std1": "std"}


def broadcast_statistics(reader: ScriptReader, ctx: Ctx, node: cst.BaseExpression, line_node: Any) -> None:
    """Bind every module-level statistic that ``node`` reads to a column of ``ctx``'s rows."""
    if ctx.rs is None:
        return
    for name in sorted({n.value for n in m.findall(node, m.Name())}):
        stat = reader.env.get(name)
        if name in ctx.names or not isinstance(stat, Stat) or stat.kind not in _AGGREGATES:
            continue
        if stat.vec.scaler or stat.vec.stage:
            continue
        line = reader.line(line_node)
        column = reader.plan.fresh_column(ctx.rs, identifier(name) or "statistic")
        key = reader.plan.fresh_column(ctx.rs, "_statistic_key", taken={column})
        aggregate = reader.plan.raw(
            stat.vec.rs, "{rs}.aggregate(" + f"{column}=({stat.vec.column!r}, {_AGGREGATES[stat.kind]!r})"
            + f").project({key!r}, '1')", line, f"{name}: the {stat.kind} of {stat.vec.column}",
            columns={column: "float", key: "int"}, same_rows=False)
        keyed = reader.plan.raw(ctx.rs, "{rs}.project(" + f"{key!r}, '1')", line,
                                "a key every row shares", columns={**ctx.rs.columns, key: "int"})
        ctx.rs = reader.plan.join(keyed, aggregate, [key], [key], "inner", line, f"{name} on every row")
        ctx.names[name] = ColumnB(column, "float")
