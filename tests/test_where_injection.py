"""``--where`` is one boolean expression over a source's columns, never a way into SQL.

Each attack below once worked against the DSL's shared DuckDB connection: it wrote a file,
read one, emptied the catalog's audit log or made lester forget ids nobody asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.ivm import RequestError, forget
from lester.ivm.requests import _evaluate
from lester.pipeline.catalog import Catalog

PIPELINE = Path(__file__).parent / "data" / "mails_pipeline.py"
HOSTNAME = Path("/etc/hostname")
REFUSED = "--where must be one boolean expression over the source's columns"


@pytest.fixture
def rows() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(1, 7)],
        "customer_email": ["a@b.c", "bob@x.org", "cid@x.org", None, "FooBar@y.org", "eve@x.org"],
        "country": ["DE", "FR", "DE", "NL", "FR", None],
        "signup": pd.to_datetime(["2021-03-01", "2022-01-05", "2023-07-09", "2020-12-31", "2022-06-01", None]),
        "age": [34, 17, 51, None, 40, 66],
    })


def _match(rows: pd.DataFrame, where: str) -> set[str]:
    return _evaluate(rows, rows["customer_id"].to_numpy(), where, "customers.csv")


def _refused(rows: pd.DataFrame, where: str, what: str = "") -> str:
    with pytest.raises(RequestError) as raised:
        _match(rows, where)
    message = str(raised.value)
    assert REFUSED in message and repr(where) in message, message
    assert what.lower() in message.replace(repr(where), "").lower(), message
    return message


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """One stored run with one forget already in its audit log."""
    workdir = tmp_path_factory.mktemp("where_injection")
    rng = np.random.default_rng(0)
    n_customers, n_mails = 40, 200
    pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "customer_email": [f"c{i}@x.org" for i in range(1, n_customers + 1)],
        "country": rng.choice(["DE", "FR", "NL"], n_customers),
        "is_premium": rng.random(n_customers) < 0.4,
    }).to_csv(workdir / "customers.csv", index=False)
    pd.DataFrame({
        "mail_id": np.arange(1000, 1000 + n_mails),
        "email": [f"c{i}@x.org" for i in rng.integers(1, n_customers + 1, n_mails)],
        "mail_date": np.where(rng.random(n_mails) < 0.2, "2021-06-01", "2022-06-01"),
        "mail_text": [" ".join(rng.choice(["thanks", "great", "slow", "ok"], 3)) for _ in range(n_mails)],
    }).to_csv(workdir / "mails.csv", index=False)
    sources = {"customers": str(workdir / "customers.csv"), "mails": str(workdir / "mails.csv")}
    old = lt.run(PIPELINE, sources=sources, store=workdir / ".lester", cache=False)
    forget("customers", [int(old.train["customer_id"].iloc[0])], store=workdir / ".lester")
    return workdir / ".lester"


def _audit(store: Path) -> pd.DataFrame:
    return Catalog(store / "catalog.duckdb").query("SELECT * FROM audit_log")


# --- attacks ------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [
    "customer_id = 'C00001'); COPY (SELECT 1) TO '{file}'; SELECT (1",
    "1=1); COPY (SELECT 1) TO '{file}' --",
    "1=1); COPY (SELECT 1) TO '{file}' /*",
])
def test_copy_after_a_semicolon_writes_no_file(rows, tmp_path, template):
    file = tmp_path / "x.csv"
    _refused(rows, template.format(file=file))
    assert not file.exists()


@pytest.mark.skipif(not HOSTNAME.exists(), reason="needs a file everyone can read")
@pytest.mark.parametrize("where", [
    f"length((SELECT content FROM read_text('{HOSTNAME}'))) > 0",
    f"customer_id IN (FROM read_text('{HOSTNAME}') SELECT content)",
    f"CAST((SELECT content FROM read_text('{HOSTNAME}')) AS INTEGER) = 1",  # the content in the error
])
def test_a_file_read_through_a_subquery_is_refused(rows, where):
    message = _refused(rows, where, "subquery")
    content = HOSTNAME.read_text().strip()
    assert not content or content not in message.replace(where, "")


@pytest.mark.parametrize("where, function", [
    ("read_text('/etc/hostname') IS NOT NULL", "read_text"),
    ("read_blob('/etc/hostname') IS NOT NULL", "read_blob"),
    ("read_csv('/etc/passwd') IS NOT NULL", "read_csv"),
    ("current_setting('enable_external_access')", "current_setting"),
    ("getvariable('x') IS NULL", "getvariable"),
])
def test_file_and_system_functions_are_refused(rows, where, function):
    _refused(rows, where, f"function {function}")


def test_getenv_is_refused(rows):
    message = _refused(rows, "getenv('HOME') IS NOT NULL", "function getenv")
    assert "HOME" not in message.replace("getenv('HOME')", "")


@pytest.mark.parametrize("template", [
    "1=1); ATTACH '{catalog}' AS c; DELETE FROM c.audit_log; SELECT (1",
    "1=1); ATTACH '{catalog}' AS c; DROP TABLE c.audit_log; SELECT (1",
    "1=1); ATTACH '{catalog}' AS c; DELETE FROM c.audit_log --",
])
def test_attaching_the_catalog_leaves_the_audit_log_intact(store, template):
    before = _audit(store)
    assert len(before) == 1
    where = template.format(catalog=store / "catalog.duckdb")
    with pytest.raises(RequestError, match=REFUSED):
        forget("customers", where=where, dry_run=True, store=store)
    pd.testing.assert_frame_equal(_audit(store), before)


@pytest.mark.parametrize("where, what", [
    ("customer_id = 'C00001') UNION ALL SELECT 'C00099' --", "set operation (UNION ALL)"),
    ("customer_id = 'C00001') EXCEPT SELECT 'C00001' --", "set operation (EXCEPT)"),
    ("customer_id = 'C00001') UNION SELECT 'C00099' /* ", "comment"),
    ("customer_id = 'C00001') FROM __t UNION ALL SELECT 'C00099' --", "set operation (UNION ALL)"),
])
def test_a_union_matches_no_id_nobody_asked_for(rows, where, what):
    _refused(rows, where, what)


def test_a_union_through_forget_forgets_nothing(store):
    runs = lt.runs(store)
    with pytest.raises(RequestError, match=REFUSED):
        forget("customers", where="customer_id = 2) UNION ALL SELECT 3 --", dry_run=True, store=store)
    assert len(lt.runs(store)) == len(runs)


@pytest.mark.parametrize("where", [
    "customer_id IN (SELECT customer_id FROM source_rows)",
    "customer_id IN (SELECT 'C00001')",
    "EXISTS (SELECT 1)",
    "customer_id = ANY (SELECT 'C00002')",
])
def test_a_subquery_is_refused(rows, where):
    _refused(rows, where, "subquery")


@pytest.mark.parametrize("where", [
    "1=1); SELECT 42; SELECT (1",
    "customer_id = 'C00001'; DROP TABLE x",
    "customer_id = 'C00001');",
    "1=1); SET enable_external_access = true; SELECT (1",
])
def test_statements_after_a_semicolon_are_refused(rows, where):
    _refused(rows, where, ";")


@pytest.mark.parametrize("where, what", [
    ("1) FROM read_text('/etc/hostname') --", "from"),
    ("1) FROM __t, read_text('/etc/hostname') --", "from"),
    ("1) FROM __t WHERE (1 --", "where"),
    ("1) FROM __t LIMIT 1 --", "limit"),
    ("count(*) > 0", "function count"),
    ("count(*) OVER () > 0", "window"),
    ("customer_id = ?", "parameter"),
    ("customer_id = $1", "parameter"),
    ("customer_id IN (unnest(['C00001']))", "function unnest"),
    ("COLUMNS(*) IS NOT NULL", "star"),
    ("customer_id = 'C00001') AS x, (1", "one expression"),
    ("main.lower(country) = 'de'", "qualified"),
    ("customer_id = 'C00001'\x00) UNION ALL SELECT 'C00099' --", "NUL"),
    ("sleep_ms(1) IS NULL", "function sleep_ms"),
    ("list_transform([1], lambda x: (SELECT 1)) IS NOT NULL", "subquery"),
    ("count(customer_id) FILTER (WHERE true) > 0", "function count"),
    ("pg_sleep(0.001) IS NULL", "function pg_sleep"),
    ("\u212Aount(*) > 0", "function"),
])
def test_anything_but_one_row_wise_expression_is_refused(rows, where, what):
    _refused(rows, where, what)


def test_cli_refuses_an_injected_where_with_exit_2(store, monkeypatch):
    from click.testing import CliRunner

    from lester.cli import main

    monkeypatch.chdir(store.parent)
    monkeypatch.setenv("COLUMNS", "250")
    where = "customer_id = 2) UNION ALL SELECT 3 --"
    result = CliRunner().invoke(main, ["forget", "--source", "customers", "--where", where, "--dry-run"])
    assert result.exit_code == 2, result.output
    assert REFUSED in result.output and "UNION" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    result = CliRunner().invoke(main, ["redact", "--source", "mails", "--column", "mail_text", "--where",
                                       "getenv('HOME') IS NOT NULL", "--dry-run"])
    assert result.exit_code == 2 and "the function getenv" in result.output, result.output
    assert "Traceback" not in result.output


# --- what still works ---------------------------------------------------------------------


@pytest.mark.parametrize("where, expected", [
    ("customer_email = 'a@b.c'", {"C00001"}),
    ("customer_email LIKE '%@x.org'", {"C00002", "C00003", "C00006"}),
    ("country IN ('DE', 'NL')", {"C00001", "C00003", "C00004"}),
    ("year(signup) >= 2022", {"C00002", "C00003", "C00005"}),
    ("lower(customer_email) LIKE '%foo%'", {"C00005"}),
    ("NOT (country = 'DE')", {"C00002", "C00004", "C00005"}),
    ("age BETWEEN 30 AND 50", {"C00001", "C00005"}),
    ("customer_email IS NULL", {"C00004"}),
    ("CASE WHEN country = 'FR' THEN age > 20 ELSE false END", {"C00005"}),
    ("coalesce(country, 'XX') = 'XX' OR age < 18", {"C00002", "C00006"}),
    ("regexp_matches(customer_email, '^[a-c]') AND signup::DATE < DATE '2022-01-01'", {"C00001"}),
    ("list_contains(['DE', 'FR'], country) AND age > 20", {"C00001", "C00003", "C00005"}),
    ("len(list_filter([age, 1], lambda x: x > 50)) > 0", {"C00003", "C00006"}),
    ("customer_id = 'C00001' -- a comment\n", {"C00001"}),
    ("customer_id = 'C00001' /* a comment */", {"C00001"}),
    ("country = 'XX'", set()),
    ("NULL", set()),
])
def test_ordinary_predicates_still_work(rows, where, expected):
    assert _match(rows, where) == expected


def test_integer_ids_come_back_as_their_text():
    rows = pd.DataFrame({"customer_id": np.arange(1, 6), "score": [0.1, 0.9, 0.5, 0.7, 0.2]})
    assert _evaluate(rows, rows["customer_id"].to_numpy(), "score > 0.4", "c.csv") == {"2", "3", "4"}


def test_an_unknown_column_names_the_sources_columns(rows):
    with pytest.raises(RequestError, match=r"--where 'nope = 1' on customers.csv: .*nope.*the source has the "
                                           r"columns \['customer_id', 'customer_email', 'country', 'signup', 'age'\]"):
        _match(rows, "nope = 1")


def test_a_type_error_says_what_duckdb_said(rows):
    with pytest.raises(RequestError, match=r"--where \"age = 'old'\" on customers.csv: Conversion Error"):
        _match(rows, "age = 'old'")


def test_a_predicate_that_is_not_boolean_is_refused(rows):
    with pytest.raises(RequestError, match=r"gives VARCHAR values, not true/false"):
        _match(rows, "customer_email")


def test_a_syntax_error_is_a_request_error(rows):
    with pytest.raises(RequestError, match=r"--where 'country = ' .*syntax error"):
        _match(rows, "country = ")


def test_the_evaluation_connection_cannot_reach_files(tmp_path):
    import duckdb

    from lester.ivm.predicate import sandbox

    con = sandbox()
    try:
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'y.csv'}'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
        assert con.execute("SELECT count(*) FROM duckdb_databases() WHERE NOT internal").fetchone()[0] == 1
    finally:
        con.close()
    assert not (tmp_path / "y.csv").exists()


def test_rows_keep_their_order_on_many_rows():
    from lester.ivm.predicate import select_matching

    n = 300_000
    rows = pd.DataFrame({"k": np.arange(n) * 7 % n, "v": np.arange(n) % 13})
    ids = np.arange(n) + 10
    found = select_matching(rows, ids, "v = 3 AND k % 2 = 0", "big.csv")
    expected = ids[(rows["v"] == 3).to_numpy() & (rows["k"] % 2 == 0).to_numpy()]
    assert found == {str(i) for i in expected}
