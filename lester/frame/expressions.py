"""The two kinds of expression a plan holds: DuckDB SQL text and Python functions.

Both know exactly which columns they read, which is what makes column provenance exact and
unknown-column errors possible before anything runs.

A SQL text is also checked to be one row-wise expression (:func:`check_expression`) when it
enters a plan: the engines paste it into queries, and a pipeline module may come from an LLM
and later run outside any sandbox, so text that escaped the expression's parentheses, a
subquery, a table or file function or a system function must never reach an engine.
``lester forget --where`` uses the same check.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import duckdb

from lester.errors import ColumnNotFoundError, PlanError, SqlExpressionError

# The parser only ever reads text (passed as a parameter, never run), but it is locked like
# the --where sandbox anyway: the function list below is read off it, and it should list no
# more than built-in functions.
_PARSER_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "lock_configuration": True,
}
_parser_lock = threading.Lock()
_parser: duckdb.DuckDBPyConnection | None = None
_functions: frozenset[str] | None = None

_NO_LOCATION = 2**64 - 1  # DuckDB's "no position" in a serialized tree

# Expression kinds a row-wise expression is made of; anything else (SUBQUERY, WINDOW, STAR,
# PARAMETER, DEFAULT, POSITIONAL_REFERENCE, ...) either reads beyond the row or changes how
# many rows come back. Windows are refused in the DSL too: the pandas engine would pair a
# window's values, which come back in DuckDB's order, with the wrong rows.
_EXPRESSION_CLASSES = frozenset({
    "BETWEEN", "CASE", "CAST", "COLLATE", "COLUMN_REF", "COMPARISON", "CONJUNCTION", "CONSTANT",
    "FUNCTION", "LAMBDA", "OPERATOR", "TYPE",
})
_FINDINGS = {
    "SUBQUERY": "a subquery", "WINDOW": "a window function", "STAR": "a star (*, COLUMNS(...))",
    "PARAMETER": "a parameter placeholder", "DEFAULT": "DEFAULT",
    "POSITIONAL_REFERENCE": "a positional reference (#n)",
}
# Scalar functions that report on or change the database, its session or its settings, or
# only stall: none of them says anything about a row.
_DENIED_FUNCTIONS = frozenset({
    "current_connection_id", "current_database", "current_query", "current_query_id",
    "current_schema", "current_schemas", "current_setting", "current_transaction_id", "currval",
    "combine", "finalize", "getenv", "getvariable", "in_search_path", "json_deserialize_sql",
    "json_serialize_plan", "json_serialize_sql", "nextval", "parse_duckdb_log_message",
    "setseed", "setval", "sleep_ms", "stats", "to_aggregate_state", "txid_current", "version",
    "write_log",
})
# Built-in macros that are plain scalar expressions (others hide subqueries or aggregates).
_SCALAR_MACROS = frozenset({
    "ago", "array_append", "array_pop_back", "array_pop_front", "array_prepend",
    "array_push_back", "array_push_front", "array_reverse", "array_to_string", "date_add",
    "days_in_month", "fdiv", "if", "json", "list_append", "list_prepend", "list_reverse",
    "nullif", "pg_typeof", "split_part",
})
# Scalars that share their name with a table function. A call inside an expression binds the
# scalar (a table function is only reachable from a FROM, which the check refuses), so
# ``repeat('ab', 2)`` or ``range(3)`` is as harmless as any other scalar.
_SCALARS_NAMED_LIKE_TABLES = frozenset({"generate_series", "range", "repeat"})
_MODIFIERS = {
    "ORDER_MODIFIER": "an ORDER BY clause", "LIMIT_MODIFIER": "a LIMIT clause",
    "LIMIT_PERCENT_MODIFIER": "a LIMIT clause", "DISTINCT_MODIFIER": "a DISTINCT",
}


def quote(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def select_wrapper(expression: str) -> str:
    """The query ``_parse_sql`` parses ``expression`` in: one value per row of a table ``__t``.

    Whoever runs a checked expression runs this very text, so that what was checked is what runs.
    """
    return f"SELECT ({expression}) FROM __t"


_PREFIX = select_wrapper("").index("(") + 1  # where the text starts inside the wrapper


def _connection() -> duckdb.DuckDBPyConnection:
    """The parser connection; call with ``_parser_lock`` held."""
    global _parser
    if _parser is None:
        _parser = duckdb.connect(":memory:", config=dict(_PARSER_CONFIG))
    return _parser


def _parse_sql(expression: str) -> dict:
    with _parser_lock:
        row = _connection().execute(
            "SELECT json_serialize_sql(?)", [select_wrapper(expression)]
        ).fetchall()[0][0]
    return json.loads(row)


def allowed_functions() -> frozenset[str]:
    """Names of the functions an expression may call: DuckDB's scalar functions that exist only
    as scalars (not also as table, aggregate or window functions), less the denied ones and
    the internal ones, plus the scalar built-in macros.

    Examples
    --------
    >>> {"lower", "year", "regexp_matches"} <= allowed_functions()
    True
    >>> {"getenv", "read_text", "sum"} & allowed_functions()
    set()
    """
    global _functions
    with _parser_lock:
        if _functions is None:
            con = _connection()
            kinds = con.execute(
                "SELECT function_name, list(DISTINCT function_type) FROM duckdb_functions() "
                "WHERE NOT starts_with(function_name, '__') GROUP BY ALL"
            ).fetchall()
            list_macros = con.execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'macro' "
                "AND regexp_full_match(macro_definition, 'list_aggr\\(l, ''\\w+''\\)')"
            ).fetchall()
            scalar = {name for name, types in kinds if types == ["scalar"]}
            scalar |= {name for name, types in kinds if sorted(types) == ["scalar", "table"]} & _SCALARS_NAMED_LIKE_TABLES
            scalar = {name for name in scalar if not name.startswith("read_")} - _DENIED_FUNCTIONS
            _functions = frozenset(scalar | _SCALAR_MACROS | {name for (name,) in list_macros})
        return _functions


class ExpressionRefused(Exception):
    """Why a text is not one row-wise expression; each caller words its own error from it.

    ``finding`` names what was found (``"a subquery"``), ``at`` where (``" at position 3
    ('(SELECT 1)')"`` or ``""``), ``why`` what is allowed instead (may be empty). When the text
    does not parse, ``parse_error`` holds the parser's message and ``finding`` is empty.
    """

    def __init__(self, finding: str = "", at: str = "", why: str = "", parse_error: str | None = None):
        self.finding, self.at, self.why, self.parse_error = finding, at, why, parse_error
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        if self.parse_error is not None:
            return self.parse_error
        return f"found {self.finding}{self.at}{self.why and '; ' + self.why}"


def _fail(text: str, finding: str, node: dict | None = None, why: str = "") -> NoReturn:
    at = ""
    location = (node or {}).get("query_location", _NO_LOCATION)
    if location != _NO_LOCATION and location >= _PREFIX:
        start = location - _PREFIX
        length = (node or {}).get("query_location_length") or 1
        at = f" at position {start} ({text[start:start + length]!r})"
    raise ExpressionRefused(finding, at, why)


def _tokens(text: str) -> list[tuple[int, Any]]:
    try:
        return duckdb.tokenize(text)
    except duckdb.Error:  # the parser then says what is wrong
        return []


def _statement_separator(text: str) -> int | None:
    """Where a ``;`` outside strings and comments is, if anywhere."""
    for position, kind in _tokens(text):
        if kind == duckdb.token_type.operator and text.startswith(";", position):
            return position
    return None


def _comment_runs_on(text: str) -> bool:
    """Whether a comment in ``text`` would also swallow the wrapper's closing text."""
    for position, kind in _tokens(text):
        rest = text[position:]
        if kind == duckdb.token_type.comment and (
                (rest.startswith("--") and "\n" not in rest) or (rest.startswith("/*") and "*/" not in rest[2:])):
            return True
    return False


def _parse_error(text: str, tree: dict) -> ExpressionRefused:
    message = tree.get("error_message", "syntax error")
    if "Only SELECT statements" in message:  # json_serialize_sql met another kind of statement
        message = "a statement where an expression belongs"
    if _comment_runs_on(text):
        message += "; a comment (-- or /*) there runs past the end of the expression"
    return ExpressionRefused(parse_error=message)


def _check_query(text: str, statements: list[dict[str, Any]], rows: str) -> dict:
    """The one select-list expression, if the statements are exactly ``SELECT (expr) FROM __t``."""
    if len(statements) != 1:
        _fail(text, f"{len(statements)} statements")
    node = statements[0]["node"]
    if node.get("type") == "SET_OPERATION_NODE":
        operation = f"{node.get('setop_type', '')}{' ALL' if node.get('setop_all') else ''}"
        _fail(text, f"a set operation ({operation}) that adds other rows")
    if node.get("type") != "SELECT_NODE":
        _fail(text, f"a query of kind {node.get('type')}")
    if statements[0].get("named_param_map"):
        _fail(text, "a parameter placeholder")
    clauses = {
        "a WITH clause": (node.get("cte_map") or {}).get("map"),
        "a WHERE clause": node.get("where_clause"),
        "a GROUP BY clause": node.get("group_expressions") or node.get("group_sets")
        or node.get("aggregate_handling") != "STANDARD_HANDLING",
        "a HAVING clause": node.get("having"),
        "a QUALIFY clause": node.get("qualify"),
        "a SAMPLE clause": node.get("sample"),
    }
    for modifier in node.get("modifiers") or []:
        clauses[_MODIFIERS.get(modifier.get("type"), f"a {modifier.get('type')}")] = True
    for finding, present in clauses.items():
        if present:
            _fail(text, finding)
    if not _is_the_rows(node.get("from_table") or {}):
        _fail(text, "a FROM clause", why=f"the expression reads {rows} and nothing else")
    select = node.get("select_list") or []
    if len(select) != 1:
        _fail(text, f"{len(select)} expressions, not one expression")
    if select[0].get("alias"):
        _fail(text, f"an alias ({select[0]['alias']!r})")
    return select[0]


def _is_the_rows(table: dict) -> bool:
    return (table.get("type") == "BASE_TABLE" and table.get("table_name") == "__t"
            and not table.get("schema_name") and not table.get("catalog_name")
            and not table.get("alias") and not table.get("sample") and not table.get("at_clause")
            and not table.get("column_name_alias"))


def _check_tree(text: str, tree: Any, functions: frozenset[str]) -> None:
    """Every expression anywhere in ``tree`` is of a row-wise kind and calls allowed functions."""
    if isinstance(tree, list):
        for item in tree:
            _check_tree(text, item, functions)
        return
    if not isinstance(tree, dict):
        return
    kind = tree.get("class")
    if kind is not None and kind not in _EXPRESSION_CLASSES:
        _fail(text, _FINDINGS.get(kind, f"a {kind.lower().replace('_', ' ')} expression"), tree)
    if kind == "FUNCTION":
        _check_function(text, tree, functions)
    for value in tree.values():
        if isinstance(value, dict | list):
            _check_tree(text, value, functions)


def _check_function(text: str, node: dict, functions: frozenset[str]) -> None:
    name = node.get("function_name", "")
    if node.get("schema") or node.get("catalog"):
        _fail(text, f"a qualified function name ({node.get('catalog') or node.get('schema')}.{name})", node)
    # DuckDB folds only ASCII letters: a non-ASCII name must not pass as an allowed ASCII one
    folded = name.lower() if name.isascii() else name
    if folded not in functions:
        _fail(text, f"the function {name}", node,
              "only row-wise scalar functions are allowed: no file, system, table or aggregate functions")
    if node.get("filter") or (node.get("order_bys") or {}).get("orders") or node.get("distinct"):
        _fail(text, f"an aggregate's FILTER, ORDER BY or DISTINCT on {name}", node)


def check_expression(text: str, *, subject: str = "an expression", rows: str = "its input's rows") -> dict:
    """Refuse ``text`` unless it is one row-wise expression over a table's columns.

    Row-wise: its value for a row depends on that row alone, and it gives one value per row.
    DuckDB's parser reads the text inside :func:`select_wrapper`, and the parsed tree must be
    exactly that query: one statement, no set operation, clause, alias or FROM of its own (text
    that escaped the parentheses shows up as one), and within the expression no subquery,
    window, star, placeholder or function outside :func:`allowed_functions`.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"year(mail_date) >= 2022"``; not empty.
    subject, rows : str
        How the refusal names the text (``"--where"``) and the rows it reads
        (``"the source's rows"``).

    Returns
    -------
    dict
        The expression's serialized DuckDB tree.

    Raises
    ------
    ExpressionRefused
        Naming what in the text is not allowed, or why it does not parse.

    Examples
    --------
    >>> check_expression("lower(name) LIKE 'a%'")["class"]
    'FUNCTION'
    >>> check_expression("1=1) UNION ALL SELECT 5 --")
    Traceback (most recent call last):
    ...
    lester.frame.expressions.ExpressionRefused: found a set operation (UNION ALL) that adds other rows
    """
    if "\x00" in text:  # C strings end there: the parser and the binding could read different texts
        _fail(text, "a NUL character")
    separator = _statement_separator(text)
    if separator is not None:
        _fail(text, f"';' at position {separator}", why=f"{subject} takes one expression, not statements")
    tree = _parse_sql(text)
    if tree.get("error"):
        raise _parse_error(text, tree)
    expression = _check_query(text, tree.get("statements") or [], rows)
    _check_tree(text, expression, allowed_functions())
    return expression


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
    """A DuckDB SQL scalar expression such as ``"year(mail_date) >= 2022"``.

    :meth:`parse` admits only one row-wise expression (see :func:`check_expression`), so the
    engines can paste ``text`` into their queries.
    """

    text: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        # The engines trust ``text``: one built directly, bypassing parse(), is checked too.
        if not isinstance(self.text, str) or not self.text.strip():
            raise SqlExpressionError("SqlExpr", str(self.text), "the expression is empty")
        try:
            check_expression(self.text, subject="SqlExpr", rows="the frame's rows")
        except ExpressionRefused as refused:
            raise SqlExpressionError("SqlExpr", self.text, refused.detail) from None

    @classmethod
    def parse(cls, text: str, available: Sequence[str], operation: str) -> SqlExpr:
        if not isinstance(text, str) or not text.strip():
            raise SqlExpressionError(operation, str(text), "the expression is empty")
        try:
            expression = check_expression(text, subject=operation.split("(", 1)[0], rows="the frame's rows")
        except ExpressionRefused as refused:
            raise SqlExpressionError(operation, text, refused.detail) from None
        refs = _column_refs(expression)
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
