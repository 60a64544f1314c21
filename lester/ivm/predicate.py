"""A user's ``--where`` text as a safe evaluation over a source's rows.

``lester forget --where`` and ``lester redact --where`` take a predicate someone typed. It is
accepted only as one row-wise boolean expression over the source's columns: DuckDB's own parser
reads it inside ``SELECT (<where>) FROM __t`` and the parsed tree must be exactly that query, with
no subquery, window, star, placeholder or function outside an allow-list of scalar functions.
That very text then runs, alone, on a connection that cannot reach files, the network,
extensions or settings, and sees nothing but the rows. Text that escaped the parentheses
(``1=1) UNION ALL SELECT 5 --``) changes the parsed tree and is refused; the sandbox is the
second wall should the check ever miss something.
"""

from __future__ import annotations

import threading
from typing import Any, NoReturn

import duckdb
import numpy as np
import pandas as pd

from lester.frame.expressions import _parse_sql, select_wrapper
from lester.ivm.requests import RequestError

REFUSAL = "--where must be one boolean expression over the source's columns"

_PREFIX = select_wrapper("").index("(") + 1  # where the text starts inside the wrapper
_NO_LOCATION = 2**64 - 1  # DuckDB's "no position" in a serialized tree

# Expression kinds a row-wise predicate is made of; anything else (SUBQUERY, WINDOW, STAR,
# PARAMETER, DEFAULT, POSITIONAL_REFERENCE, ...) either reads beyond the row or changes how
# many rows come back.
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
_MODIFIERS = {
    "ORDER_MODIFIER": "an ORDER BY clause", "LIMIT_MODIFIER": "a LIMIT clause",
    "LIMIT_PERCENT_MODIFIER": "a LIMIT clause", "DISTINCT_MODIFIER": "a DISTINCT",
}
_SANDBOX_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "preserve_insertion_order": True,  # the i-th result is the i-th row's
    "lock_configuration": True,  # last: nothing the predicate runs can turn the rest back on
}

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None
_functions: frozenset[str] | None = None


def sandbox() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's in-memory evaluation database (close it after use).

    The database has nothing attached and cannot read or write files, load extensions or
    change its settings. Opening one costs ~20 ms, so it is opened once; each evaluation gets
    its own connection, whose registered rows no other connection sees.

    Examples
    --------
    >>> con = sandbox()
    >>> con.execute("SELECT 1 + 1").fetchone()
    (2,)
    >>> con.close()
    """
    global _database
    with _lock:
        if _database is None:
            _database = duckdb.connect(":memory:", config=dict(_SANDBOX_CONFIG))
        return _database.cursor()


def allowed_functions() -> frozenset[str]:
    """Names of the functions a predicate may call: DuckDB's scalar functions that exist only
    as scalars (not also as table, aggregate or window functions), less the denied ones and
    the internal ones, plus the scalar built-in macros."""
    global _functions
    if _functions is None:
        con = sandbox()
        try:
            kinds = con.execute(
                "SELECT function_name, list(DISTINCT function_type) FROM duckdb_functions() "
                "WHERE NOT starts_with(function_name, '__') GROUP BY ALL"
            ).fetchall()
            list_macros = con.execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'macro' "
                "AND regexp_full_match(macro_definition, 'list_aggr\\(l, ''\\w+''\\)')"
            ).fetchall()
        finally:
            con.close()
        scalar = {name for name, types in kinds if types == ["scalar"]}
        scalar = {name for name in scalar if not name.startswith("read_")} - _DENIED_FUNCTIONS
        _functions = frozenset(scalar | _SCALAR_MACROS | {name for (name,) in list_macros})
    return _functions


def _refuse(where: str, finding: str, node: dict | None = None, why: str = "") -> RequestError:
    at = ""
    location = (node or {}).get("query_location", _NO_LOCATION)
    if location != _NO_LOCATION and location >= _PREFIX:
        start = location - _PREFIX
        length = node.get("query_location_length") or 1
        at = f" at position {start} ({where[start:start + length]!r})"
    return RequestError(f"{REFUSAL}; found {finding}{at} in --where {where!r}{why and '; ' + why}")


def _tokens(where: str) -> list[tuple[int, Any]]:
    try:
        return duckdb.tokenize(where)
    except duckdb.Error:  # the parser then says what is wrong
        return []


def _statement_separator(where: str) -> int | None:
    """Where a ``;`` outside strings and comments is, if anywhere."""
    for position, kind in _tokens(where):
        if kind == duckdb.token_type.operator and where.startswith(";", position):
            return position
    return None


def _comment_runs_on(where: str) -> bool:
    """Whether a comment in ``where`` would also swallow the wrapper's closing text."""
    for position, kind in _tokens(where):
        rest = where[position:]
        if kind == duckdb.token_type.comment and (
                (rest.startswith("--") and "\n" not in rest) or (rest.startswith("/*") and "*/" not in rest[2:])):
            return True
    return False


def _parse_error(where: str, tree: dict) -> RequestError:
    message = tree.get("error_message", "syntax error")
    if "Only SELECT statements" in message:  # json_serialize_sql met another kind of statement
        message = "a statement where an expression belongs"
    if _comment_runs_on(where):
        message += "; a comment (-- or /*) there runs past the end of the expression"
    return RequestError(f"{REFUSAL}; --where {where!r} does not parse as one: {message}")


def _check_query(where: str, statements: list[dict[str, Any]]) -> dict:
    """The one select-list expression, if the statements are exactly ``SELECT (expr) FROM __t``."""
    if len(statements) != 1:
        _fail(where, f"{len(statements)} statements")
    node = statements[0]["node"]
    if node.get("type") == "SET_OPERATION_NODE":
        operation = f"{node.get('setop_type', '')}{' ALL' if node.get('setop_all') else ''}"
        _fail(where, f"a set operation ({operation}) that adds other rows")
    if node.get("type") != "SELECT_NODE":
        _fail(where, f"a query of kind {node.get('type')}")
    if statements[0].get("named_param_map"):
        _fail(where, "a parameter placeholder")
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
            _fail(where, finding)
    if not _is_the_rows(node.get("from_table") or {}):
        _fail(where, "a FROM clause", why="the expression reads the source's rows and nothing else")
    select = node.get("select_list") or []
    if len(select) != 1:
        _fail(where, f"{len(select)} expressions, not one expression")
    if select[0].get("alias"):
        _fail(where, f"an alias ({select[0]['alias']!r})")
    return select[0]


def _is_the_rows(table: dict) -> bool:
    return (table.get("type") == "BASE_TABLE" and table.get("table_name") == "__t"
            and not table.get("schema_name") and not table.get("catalog_name")
            and not table.get("alias") and not table.get("sample") and not table.get("at_clause")
            and not table.get("column_name_alias"))


def _fail(where: str, finding: str, node: dict | None = None, why: str = "") -> NoReturn:
    raise _refuse(where, finding, node, why)


def _check_expression(where: str, tree: Any, functions: frozenset[str]) -> None:
    """Every expression anywhere in ``tree`` is of a row-wise kind and calls allowed functions."""
    if isinstance(tree, list):
        for item in tree:
            _check_expression(where, item, functions)
        return
    if not isinstance(tree, dict):
        return
    kind = tree.get("class")
    if kind is not None and kind not in _EXPRESSION_CLASSES:
        _fail(where, _FINDINGS.get(kind, f"a {kind.lower().replace('_', ' ')} expression"), tree)
    if kind == "FUNCTION":
        _check_function(where, tree, functions)
    for value in tree.values():
        if isinstance(value, dict | list):
            _check_expression(where, value, functions)


def _check_function(where: str, node: dict, functions: frozenset[str]) -> None:
    name = node.get("function_name", "")
    if node.get("schema") or node.get("catalog"):
        _fail(where, f"a qualified function name ({node.get('catalog') or node.get('schema')}.{name})", node)
    # DuckDB folds only ASCII letters: a non-ASCII name must not pass as an allowed ASCII one
    folded = name.lower() if name.isascii() else name
    if folded not in functions:
        _fail(where, f"the function {name}", node,
              "only row-wise scalar functions are allowed: no file, system, table or aggregate functions")
    if node.get("filter") or (node.get("order_bys") or {}).get("orders") or node.get("distinct"):
        _fail(where, f"an aggregate's FILTER, ORDER BY or DISTINCT on {name}", node)


def check_predicate(where: str) -> None:
    """Refuse ``where`` unless it is one row-wise expression over a table's columns.

    Parameters
    ----------
    where : str
        The predicate as the user typed it, e.g. ``"customer_email = 'a@b.c'"``.

    Raises
    ------
    RequestError
        Naming the text and what in it is not allowed: more than one statement, a set operation
        or clause that escaped the expression, a subquery, window, star, placeholder, or a
        function outside the allow-list (file, system and table functions among them).

    Examples
    --------
    >>> check_predicate("year(mail_date) >= 2022 AND mail_text LIKE '%card%'")
    >>> check_predicate("1=1) UNION ALL SELECT 5 --")
    Traceback (most recent call last):
    ...
    lester.ivm.requests.RequestError: --where must be one boolean expression over the source's columns; found a set operation (UNION ALL) that adds other rows in --where '1=1) UNION ALL SELECT 5 --'
    """
    if not isinstance(where, str) or not where.strip():
        raise RequestError(f"{REFUSAL}; --where {where!r} is empty")
    if "\x00" in where:  # C strings end there: the parser and the binding could read different texts
        _fail(where, "a NUL character")
    separator = _statement_separator(where)
    if separator is not None:
        _fail(where, f"';' at position {separator}", why="--where takes one expression, not statements")
    tree = _parse_sql(where)
    if tree.get("error"):
        raise _parse_error(where, tree)
    expression = _check_query(where, tree.get("statements") or [])
    _check_expression(where, expression, allowed_functions())


def _is_boolean(type_name: str) -> bool:
    return type_name in ("BOOLEAN", '"NULL"', "NULL")


def select_matching(rows: pd.DataFrame, ids: np.ndarray, where: str, path: str) -> set[str]:
    """The ids (as text) of the rows for which ``where`` is true.

    ``where`` is checked by :func:`check_predicate`, then evaluated on :func:`sandbox`, where
    the rows are the only table. A NULL result does not match, as in SQL's WHERE.

    Parameters
    ----------
    rows : pandas.DataFrame
        The source's rows, as the run's pipeline read them.
    ids : numpy.ndarray
        One id per row of ``rows``.
    where : str
        A boolean SQL expression over the columns of ``rows``.
    path : str
        The source's file, named in error messages.

    Returns
    -------
    set of str
        ``str(id)`` of each matching row.

    Raises
    ------
    RequestError
        If ``where`` is refused, names an unknown column (the message lists the source's
        columns), does not give true/false, or fails in DuckDB.

    Examples
    --------
    >>> rows = pd.DataFrame({"email": ["a@b.c", "x@y.z", None], "year": [2021, 2023, 2024]})
    >>> sorted(select_matching(rows, np.array([7, 8, 9]), "email LIKE '%.c' OR year > 2023", "c.csv"))
    ['7', '9']
    """
    check_predicate(where)
    con = sandbox()
    try:
        con.register("__t", rows)
        try:
            result = con.execute(select_wrapper(where))  # the very text check_predicate parsed
            kind = str(result.description[0][1])
            if not _is_boolean(kind):
                raise RequestError(f"--where {where!r} on {path}: gives {kind} values, not true/false; "
                                   f"{REFUSAL}, e.g. customer_email = 'a@b.c'")
            (values,) = result.fetchnumpy().values()
        except duckdb.Error as error:
            raise RequestError(
                f"--where {where!r} on {path}: {str(error).splitlines()[0]}; the source has the columns "
                f"{list(rows.columns)}"
            ) from None
    finally:
        con.close()
    return _ids_where(np.asarray(ids), values)


def _ids_where(ids: np.ndarray, values: np.ndarray) -> set[str]:
    if len(values) != len(ids):  # the check admits only one value per row; say so if not
        raise RequestError(f"--where gave {len(values)} values for {len(ids)} rows")
    if values.dtype != bool:  # all NULL
        return set()
    mask = np.ma.getdata(values) & ~np.ma.getmaskarray(values)
    return {str(value) for value in ids[mask].tolist()}
