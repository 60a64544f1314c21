"""A DSL SQL expression is one expression over the frame's columns, never a way into SQL.

A pipeline module may have been written by an LLM; it is validated in a sandbox but then runs
unconfined (``lester run``), so every text given to ``filter``/``project`` is checked when the
step is created: a subquery, a table or file function, a statement smuggled past the wrapper's
parenthesis or a system function is refused before any engine sees it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import lester as lt

HOSTNAME = Path("/etc/hostname")


@pytest.fixture
def orders() -> lt.Frame:
    return lt.from_pandas(pd.DataFrame({
        "order_id": [1, 2, 3, 4, 5],
        "shop": ["north", "south", "north", "east", None],
        "amount": [12.5, 3.0, 40.0, None, 7.25],
        "note": ["  Card  declined", "thanks", "REFUND please", "", None],
        "placed": pd.to_datetime(["2021-03-01", "2022-01-05", "2023-07-09", "2022-12-31", "2020-02-29"]),
        "tags": [[1, 5], [], [7], None, [2, 9, 11]],
    }), name="orders", key="order_id")


def _refused(build, text: str, what: str) -> lt.SqlExpressionError:
    with pytest.raises(lt.SqlExpressionError) as raised:
        build()
    message = str(raised.value)
    assert repr(text) in message, message
    assert what.lower() in message.replace(repr(text), "").lower(), message
    return raised.value


# --- attacks ------------------------------------------------------------------------------


@pytest.mark.skipif(not HOSTNAME.exists(), reason="needs a file everyone can read")
@pytest.mark.parametrize("text", [
    f"(SELECT content FROM read_text('{HOSTNAME}'))",
    f"CAST((SELECT content FROM read_text('{HOSTNAME}')) AS INTEGER)",  # the content in a cast error
    f"note || (FROM read_text('{HOSTNAME}') SELECT content)",
    f"(WITH f AS (SELECT content FROM read_text('{HOSTNAME}')) SELECT content FROM f)",
])
def test_a_file_read_through_a_subquery_is_refused_and_shows_nothing(orders, text):
    error = _refused(lambda: orders.project("x", text), text, "subquery")
    content = HOSTNAME.read_text().strip()
    assert not content or content not in str(error).replace(text, "")


@pytest.mark.parametrize("text, what", [
    ("1=1) UNION ALL SELECT * FROM read_csv('x') --", "set operation (UNION ALL)"),
    ("1=1) UNION ALL SELECT * FROM read_csv('x') /*", "comment"),
    ("1=1) EXCEPT SELECT 1 --", "set operation (EXCEPT)"),
    ("amount > 1) FROM __t UNION SELECT 1 --", "set operation (UNION)"),
])
def test_a_union_smuggled_past_the_parenthesis_is_refused(orders, text, what):
    _refused(lambda: orders.filter(text), text, what)


@pytest.mark.parametrize("text", [
    "1=1); COPY (SELECT 1) TO 'leak.csv'; SELECT (1",
    "amount > 1); SELECT 42 --",
    "amount > 1;",
    "1=1); SET enable_external_access = true; SELECT (1",
])
def test_statements_after_a_semicolon_are_refused(orders, text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refused(lambda: orders.filter(text), text, ";")
    _refused(lambda: orders.project("x", text), text, ";")
    assert not (tmp_path / "leak.csv").exists()


@pytest.mark.parametrize("text, what", [
    ("1) FROM read_text('/etc/hostname') --", "from"),
    ("1) FROM __t, read_text('/etc/hostname') --", "from"),
    ("amount) FROM __t WHERE amount > 1 --", "where"),
    ("amount) FROM __t WHERE amount > 1 /* ", "comment"),
    ("amount) FROM __t GROUP BY amount --", "group by"),
    ("amount) FROM __t ORDER BY amount --", "order by"),
    ("amount) FROM __t QUALIFY true --", "qualify"),
    ("amount) FROM __t LIMIT 1 --", "limit"),
    ("amount) AS x, (amount", "one expression"),
])
def test_clauses_on_the_wrapper_are_refused(orders, text, what):
    _refused(lambda: orders.project("x", text), text, what)


@pytest.mark.parametrize("text, function", [
    ("getenv('HOME')", "getenv"),
    ("current_setting('enable_external_access')", "current_setting"),
    ("getvariable('x')", "getvariable"),
    ("version()", "version"),
    ("sleep_ms(1)", "sleep_ms"),
    ("read_text('/etc/hostname')", "read_text"),
    ("read_csv('/etc/passwd')", "read_csv"),
    ("read_blob('/etc/hostname')", "read_blob"),
    ("unnest(tags)", "unnest"),
])
def test_file_system_and_table_functions_are_refused(orders, text, function):
    _refused(lambda: orders.project("x", text), text, f"function {function}")
    _refused(lambda: orders.filter(f"{text} IS NOT NULL"), f"{text} IS NOT NULL", f"function {function}")


def test_getenv_leaks_nothing(orders, monkeypatch):
    monkeypatch.setenv("LESTER_SECRET_PROBE", "s3cr3t-value")
    error = _refused(lambda: orders.project("home", "getenv('LESTER_SECRET_PROBE')"),
                     "getenv('LESTER_SECRET_PROBE')", "function getenv")
    assert "s3cr3t-value" not in str(error)


@pytest.mark.parametrize("text, what", [
    ("sum(amount)", "function sum"),  # one value for all rows: no row-wise column
    ("count(*) > 0", "function count"),
    ("main.lower(note)", "qualified"),
    ("amount = ?", "parameter"),
    ("COLUMNS(*)", "star"),
    ("list_transform(tags, lambda x: (SELECT 1))", "subquery"),
])
def test_what_is_not_one_row_wise_value_is_refused(orders, text, what):
    _refused(lambda: orders.project("x", text), text, what)


@pytest.mark.parametrize("text", [
    "row_number() OVER (ORDER BY order_id)",
    "count(*) OVER (PARTITION BY shop)",
    "getenv('HOME') OVER ()",
])
def test_a_window_is_refused(orders, text):
    # Besides reading other rows, a window's values come back in DuckDB's order, not the
    # rows': the pandas engine would pair them with the wrong rows.
    _refused(lambda: orders.project("x", text), text, "window")
    _refused(lambda: orders.filter(f"{text} > 1"), f"{text} > 1", "window")


def test_the_check_runs_before_any_engine(orders, monkeypatch):
    # Creating the step is enough: nothing is executed, so no engine could have run the text.
    from lester.frame.engines import duckdb_engine, pandas_engine

    def forbidden(*args, **kwargs):
        raise AssertionError("an engine ran")

    monkeypatch.setattr(duckdb_engine.DuckDBEngine, "execute", forbidden)
    monkeypatch.setattr(pandas_engine.PandasEngine, "execute", forbidden)
    with pytest.raises(lt.SqlExpressionError):
        orders.project("x", "(SELECT 1)")


def test_an_expression_built_without_parse_is_checked_too():
    from lester.frame.expressions import SqlExpr

    with pytest.raises(lt.SqlExpressionError, match="subquery"):
        SqlExpr("(SELECT content FROM read_text('/etc/hostname'))", ())
    assert SqlExpr("amount + 1", ("amount",)).text == "amount + 1"


def test_check_expression_returns_the_one_expression():
    from lester.frame.expressions import check_expression

    node = check_expression("year(placed) + 1")
    assert node["class"] == "FUNCTION" and node["function_name"] == "+"


def test_the_allow_list_holds_scalars_only():
    from lester.frame.expressions import allowed_functions

    names = allowed_functions()
    assert {"lower", "year", "regexp_matches", "list_transform", "strftime", "repeat"} <= names
    assert not names & {"getenv", "read_text", "read_csv", "sum", "count", "unnest", "current_setting"}


# --- what still works ---------------------------------------------------------------------


def _plain(value: object) -> object:
    """A result cell as a Python value: lists as lists, any missing value as None."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if pd.isna(value) else value


@pytest.mark.parametrize("text, expected", [
    ("amount * 2 + 1", [26.0, 7.0, 81.0, None, 15.5]),
    ("CASE WHEN amount > 10 THEN 'big' WHEN amount IS NULL THEN 'none' ELSE 'small' END",
     ["big", "small", "big", "none", "small"]),
    ("lower(trim(note))", ["card  declined", "thanks", "refund please", "", None]),
    ("upper(substr(shop, 1, 1)) || length(shop)::VARCHAR", ["N5", "S5", "N5", "E4", None]),
    ("year(placed)", [2021, 2022, 2023, 2022, 2020]),
    ("note LIKE '%a%'", [True, True, True, False, None]),
    ("regexp_matches(note, '(?i)card|refund')", [True, False, True, False, None]),
    ("coalesce(shop, 'unknown')", ["north", "south", "north", "east", "unknown"]),
    ("CAST(amount AS INTEGER)", [12, 3, 40, None, 7]),
    ("amount::VARCHAR", ["12.5", "3.0", "40.0", None, "7.25"]),
    ("len(list_filter(tags, lambda t: t > 4))", [1, 0, 1, None, 2]),
    ("list_transform(tags, lambda t: t * 10)", [[10, 50], [], [70], None, [20, 90, 110]]),
    ("strftime(placed, '%Y-%m')", ["2021-03", "2022-01", "2023-07", "2022-12", "2020-02"]),
    ("repeat('x', 2)", ["xx"] * 5),
    ("42", [42] * 5),
    ("shop IN ('north', 'east')", [True, False, True, True, None]),
    ("amount BETWEEN 5 AND 20", [True, False, False, None, True]),
    ("order_id -- a comment\n", [1, 2, 3, 4, 5]),
    ("order_id /* a comment */", [1, 2, 3, 4, 5]),
])
def test_ordinary_expressions_still_work(orders, engine, text, expected):
    result = orders.project("x", text).sort("order_id").to_pandas(engine=engine)
    assert [_plain(v) for v in result["x"]] == expected


@pytest.mark.parametrize("text, expected", [
    ("amount > 10", [1, 3]),
    ("year(placed) >= 2022 AND note <> ''", [2, 3]),
    ("regexp_matches(lower(note), 'card') OR shop = 'east'", [1, 4]),
    ("coalesce(amount, 0) < 5", [2, 4]),
    ("list_contains(tags, 7) OR len(tags) > 2", [3, 5]),
    ("NOT (shop LIKE 'n%')", [2, 4]),
])
def test_ordinary_filters_still_work(orders, engine, text, expected):
    result = orders.filter(text).sort("order_id").to_pandas(engine=engine)
    assert result["order_id"].tolist() == expected


def test_an_unknown_column_is_still_a_column_error(orders):
    with pytest.raises(lt.ColumnNotFoundError):
        orders.filter("amout > 1")


def test_a_syntax_error_is_still_a_sql_expression_error(orders):
    with pytest.raises(lt.SqlExpressionError, match="amount > AND 1"):
        orders.filter("amount > AND 1")
