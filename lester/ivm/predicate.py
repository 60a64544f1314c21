"""A user's ``--where`` text as a safe evaluation over a source's rows.

``lester forget --where`` and ``lester redact --where`` take a predicate someone typed. It is
accepted only as one row-wise boolean expression over the source's columns: DuckDB's own parser
reads it inside ``SELECT (<where>) FROM __t`` and the parsed tree must be exactly that query, with
no subquery, window, star, placeholder or function outside an allow-list of scalar functions:
the check every DSL SQL expression passes too (:func:`lester.frame.expressions.check_expression`).
That very text then runs, alone, on a connection that cannot reach files, the network,
extensions or settings, and sees nothing but the rows. Text that escaped the parentheses
(``1=1) UNION ALL SELECT 5 --``) changes the parsed tree and is refused; the sandbox is the
second wall should the check ever miss something.
"""

from __future__ import annotations

import threading

import duckdb
import numpy as np
import pandas as pd

from lester.frame.expressions import (
    ExpressionRefused,
    allowed_functions,
    check_expression,
    select_wrapper,
)
from lester.ivm.requests import RequestError

__all__ = ["REFUSAL", "allowed_functions", "check_predicate", "sandbox", "select_matching"]

REFUSAL = "--where must be one boolean expression over the source's columns"

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
    try:
        check_expression(where, subject="--where", rows="the source's rows")
    except ExpressionRefused as refused:
        if refused.parse_error is not None:
            raise RequestError(f"{REFUSAL}; --where {where!r} does not parse as one: {refused.parse_error}") from None
        why = refused.why and "; " + refused.why
        raise RequestError(f"{REFUSAL}; found {refused.finding}{refused.at} in --where {where!r}{why}") from None


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
