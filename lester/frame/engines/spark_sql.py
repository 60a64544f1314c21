"""DuckDB SQL expressions as Spark SQL, with DuckDB's meaning.

The DSL's SQL expressions are DuckDB SQL (:mod:`lester.frame.expressions` checks them with
DuckDB's parser). SQLGlot translates the syntax; where the two engines give the same syntax
different meanings, the tree is rewritten first, and where no faithful Spark form exists the
expression is refused with :class:`UnsupportedExpression`, so a plan never silently computes
something else on Spark:

* ``l[i]`` (1-based, NULL out of range) becomes ``try_element_at(l, i)``; slices are refused;
* ``len``/``length`` of a list becomes ``size`` (Spark's ``length`` is for strings only);
* ``floor``/``ceil`` of a DOUBLE stay DOUBLE (Spark's return BIGINT);
* ``date_diff(part, a, b)`` counts part boundaries as DuckDB does, not elapsed parts;
* ``regexp_replace`` without the ``'g'`` option (DuckDB: first match only) and functions whose
  results differ by design (``hash``, ``random``...) are refused.

Constructs that both engines spell alike and mean alike (arithmetic, comparisons, ``CASE``,
``CAST``, ``LIKE``, string, date and list functions SQLGlot maps) pass through; a DuckDB
function Spark does not know is refused by Spark's analyser, and the engine reports that too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Functions whose values are not the same on the two engines by design (other hash functions,
# other random streams, other clocks).
_DIFFERENT_BY_DESIGN = frozenset({"hash", "md5_number", "random", "uuid", "gen_random_uuid",
                                  "setseed", "now", "current_timestamp", "current_date",
                                  "get_current_timestamp", "today"})
# expression classes that make lists (sqlglot's names)
_LIST_FUNCTIONS = ("Array", "Split", "RegexpSplit", "ArrayConcat", "ArrayDistinct", "ArraySort",
                   "ArrayFilter", "Transform", "StringToArray")


class UnsupportedExpression(ValueError):
    """A DuckDB expression that has no faithful Spark SQL form; the message says what and why."""


def to_spark_sql(text: str, types: Mapping[str, str]) -> str:
    """The Spark SQL form of a DuckDB SQL expression over columns of the given Spark types.

    Parameters
    ----------
    text : str
        A DuckDB SQL expression as the DSL holds it (already checked to be row-wise).
    types : Mapping[str, str]
        Each input column's Spark type, as ``DataType.simpleString()`` gives it
        (``"bigint"``, ``"array<string>"``...); used where the meaning depends on a type.

    Returns
    -------
    str
        The expression in Spark SQL.

    Raises
    ------
    UnsupportedExpression
        When the expression has no Spark form with DuckDB's meaning.

    Examples
    --------
    >>> import pytest; _ = pytest.importorskip("sqlglot")  # the spark extra
    >>> to_spark_sql('"tags"[1]', {"tags": "array<string>"})
    'TRY_ELEMENT_AT(`tags`, 1)'
    >>> to_spark_sql('len("tags") > 1', {"tags": "array<string>"})
    'SIZE(`tags`) > 1'
    >>> to_spark_sql("CAST(\\"age\\" AS VARCHAR)", {"age": "bigint"})
    'CAST(`age` AS STRING)'
    >>> to_spark_sql("regexp_replace(\\"s\\", 'a', 'b')", {"s": "string"})
    Traceback (most recent call last):
    ...
    lester.frame.engines.spark_sql.UnsupportedExpression: regexp_replace without the 'g' option replaces the first match on DuckDB and every match on Spark
    """
    # sqlglot comes with the spark extra: imported here, so the module loads without it
    import sqlglot

    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        raise UnsupportedExpression(f"SQLGlot cannot read it as DuckDB SQL ({exc})") from None
    lowered = {name.lower(): kind for name, kind in types.items()}
    tree = tree.transform(_rewriter(lowered))
    try:
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        raise UnsupportedExpression(f"SQLGlot cannot write it as Spark SQL ({exc})") from None


def _rewriter(types: Mapping[str, str]) -> Callable[[Any], Any]:
    from sqlglot import exp

    def is_list(node: Any) -> bool:
        if isinstance(node, exp.Paren):
            return is_list(node.this)
        if isinstance(node, exp.Column):
            return types.get(node.name.lower(), "").startswith("array<")
        return type(node).__name__ in _LIST_FUNCTIONS

    def is_double(node: Any) -> bool:
        if isinstance(node, exp.Paren):
            return is_double(node.this)
        if isinstance(node, exp.Column):
            return types.get(node.name.lower(), "") in ("double", "float")
        if isinstance(node, exp.Cast):
            return node.to.this in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)
        return isinstance(node, exp.Literal) and not node.is_string and "." in node.this

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Bracket):
            return _element_at(node)
        if isinstance(node, exp.Length) and is_list(node.this):
            return exp.ArraySize(this=node.this)
        if isinstance(node, (exp.Floor, exp.Ceil)) and is_double(node.this) and not node.args.get("decimals"):
            return exp.Cast(this=node, to=exp.DataType.build("DOUBLE"))
        if isinstance(node, (exp.DateDiff, exp.TimestampDiff)) and node.args.get("date_part_boundary"):
            return _boundary_diff(node)
        if isinstance(node, exp.RegexpReplace):
            modifiers = node.args.get("modifiers")
            if not (isinstance(modifiers, exp.Literal) and "g" in modifiers.this):
                raise UnsupportedExpression(
                    "regexp_replace without the 'g' option replaces the first match on DuckDB "
                    "and every match on Spark")
            if set(modifiers.this) - {"g"}:
                raise UnsupportedExpression(f"regexp_replace options {modifiers.this!r} have no Spark form")
            node = node.copy()
            node.set("modifiers", None)
            return node
        name = (node.name if isinstance(node, exp.Anonymous) else node.key).lower()
        if isinstance(node, exp.Func) and (name in _DIFFERENT_BY_DESIGN or isinstance(node, (exp.Rand, exp.Uuid))):
            raise UnsupportedExpression(f"{name}() gives different values on DuckDB and Spark")
        return node

    return rewrite


def _element_at(node: Any) -> Any:
    """``l[i]`` as ``try_element_at``: 1-based, negative from the end, NULL out of range."""
    from sqlglot import exp

    if len(node.expressions) != 1 or isinstance(node.expressions[0], exp.Slice):
        raise UnsupportedExpression("list slices (l[a:b]) have no Spark form with DuckDB's bounds")
    index = node.expressions[0]
    # SQLGlot reads a literal index 0-based; a computed one it leaves as written (1-based)
    literal = index.this if isinstance(index, exp.Neg) else index
    if isinstance(literal, exp.Literal) and not literal.is_string:
        value = int(literal.this) * (-1 if isinstance(index, exp.Neg) else 1) + 1
        if value == 0:
            return exp.Null()  # DuckDB: l[0] is NULL; Spark's element_at refuses index 0
        index = exp.Literal.number(value)
    else:
        index = exp.Nullif(this=index, expression=exp.Literal.number(0))
    return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[node.this, index])


def _boundary_diff(node: Any) -> Any:
    """DuckDB's ``date_diff``: the part boundaries between the two truncated timestamps."""
    from sqlglot import exp

    unit = node.args.get("unit")
    part = (unit.name if unit is not None else "day").upper()

    def truncated(value: Any) -> Any:
        return exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string(part), value])

    return exp.TimestampDiff(this=truncated(node.this), expression=truncated(node.expression),
                             unit=exp.var(part))
