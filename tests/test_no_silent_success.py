"""No silent success (issue 14): a request that names a column, source or id that does not
exist, or a predicate that would touch (nearly) every row, is an error, never exit 0."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import lester as lt
from lester.errors import LesterError
from lester.ivm import RequestError, forget, redact

PIPELINE = Path(__file__).parent / "data" / "mails_pipeline.py"

# The same pipeline reading customers without a key column: its rows are named by position.
POSITIONAL_PIPELINE = PIPELINE.read_text().replace(
    'customers = lt.read_csv(customers, key="customer_id")', "customers = lt.read_csv(customers)")

# Data preparation alone: the run stores prepared rows and provenance, no labels or model.
DATAPREP_ONLY = '''
import lester as lt


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    mails = lt.read_csv(mails, key="mail_id")
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    joined = joined.project("text_length", "length(mail_text)")
    return joined[["customer_id", "country", "mail_text", "text_length"]]
'''

N_CUSTOMERS = 40


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    rng = np.random.default_rng(1)
    n_mails = 200
    customers = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(1, N_CUSTOMERS + 1)],
        "customer_email": [f"c{i}@x.org" for i in range(1, N_CUSTOMERS + 1)],
        "country": rng.choice(["DE", "FR", "NL"], N_CUSTOMERS),
        "is_premium": rng.random(N_CUSTOMERS) < 0.4,
    })
    words = ["thanks", "great", "broken", "slow", "card 4111 2222", "ok"]
    mails = pd.DataFrame({
        "mail_id": np.arange(1000, 1000 + n_mails),
        "email": [f"c{i}@x.org" for i in rng.integers(1, N_CUSTOMERS + 1, n_mails)],
        "mail_date": "2022-06-01",
        "mail_text": [" ".join(rng.choice(words, 2)) for _ in range(n_mails)],
    })
    customers.to_csv(tmp_path / "customers.csv", index=False)
    mails.to_csv(tmp_path / "mails.csv", index=False)
    (tmp_path / "pipeline.py").write_text(PIPELINE.read_text())
    (tmp_path / "positional.py").write_text(POSITIONAL_PIPELINE)
    (tmp_path / "dataprep_only.py").write_text(DATAPREP_ONLY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")
    return tmp_path


def _run(workdir: Path, pipeline: str = "pipeline.py") -> lt.RunResult:
    return lt.run(workdir / pipeline, store=workdir / ".lester", cache=False,
                  sources={"customers": str(workdir / "customers.csv"), "mails": str(workdir / "mails.csv")})


def _cli(*args: str):
    from lester.cli import main

    return CliRunner().invoke(main, list(args))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _runs(workdir: Path) -> int:
    return len(lt.runs(workdir / ".lester"))


def _exit_2(result, *expected: str) -> str:
    """The CLI failed through its error exit (no traceback) and said each of ``expected``."""
    message = _flat(result.output)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    for text in expected:
        assert text in message, message
    return message


# -- unknown column -----------------------------------------------------------------------


def test_redact_of_an_unknown_column_lists_the_columns(workdir):
    _run(workdir)
    store = workdir / ".lester"
    with pytest.raises(RequestError, match=r"mails has no column 'mail_txt'.*'mail_text'") as caught:
        redact("mails", "mail_txt", "mail_id = 1001", store=store)
    assert isinstance(caught.value, LesterError)
    message = _exit_2(_cli("redact", "--source", "mails", "--column", "mail_txt", "--where", "mail_id = 1001"),
                      "mail_txt")
    assert all(column in message for column in ("mail_id", "email", "mail_date", "mail_text"))
    assert _runs(workdir) == 1


def test_redact_of_an_existing_column_no_artifact_uses_still_says_so(workdir):
    # not a typo: the column exists, nothing derives from it, and the report says that
    (workdir / "mails.csv").write_text(
        pd.read_csv(workdir / "mails.csv").assign(mail_subject="hi").to_csv(index=False))
    _run(workdir)
    report = redact("mails", "mail_subject", "mail_id = 1001", store=workdir / ".lester")
    assert report.changes == [] and "no artifact of any run uses the column mails.mail_subject" in report.message


# -- unknown source -----------------------------------------------------------------------


def test_an_unknown_source_lists_the_sources(workdir):
    old = _run(workdir)
    store = workdir / ".lester"
    for call in (lambda: forget("orders", ["1"], store=store),
                 lambda: redact("orders", "x", "true", store=store),
                 lambda: forget("orders", ["1"], run=old.run_id, store=store)):
        with pytest.raises(RequestError, match=r"'orders'.*\['customers', 'mails'\]"):
            call()
    _exit_2(_cli("forget", "--source", "orders", "--id", "1"), "'orders'", "customers", "mails")
    _exit_2(_cli("forget", "--source", "orders", "--id", "1", "--run", old.run_id), "'orders'", "customers", "mails")
    _exit_2(_cli("redact", "--source", "orders", "--column", "x", "--where", "true"), "'orders'", "customers", "mails")
    assert _runs(workdir) == 1


def test_trace_of_an_unknown_source_lists_the_sources(workdir):
    _run(workdir)
    with pytest.raises(LesterError, match=r"'orders'.*customers.*mails"):
        lt.trace("orders", 1, store=workdir / ".lester")
    _exit_2(_cli("trace", "--source", "orders", "--id", "1"), "'orders'", "customers", "mails")


# -- ids that match nothing -----------------------------------------------------------------


def test_unknown_ids_of_a_keyed_source_are_an_error_without_listing_ids(workdir):
    _run(workdir)
    store = workdir / ".lester"
    with pytest.raises(RequestError, match=r"customers") as caught:
        forget("customers", ["C99999"], store=store)
    message = str(caught.value)
    assert f"{N_CUSTOMERS} ids" in message and "customer_id" in message
    assert "A99999" in message  # the ids' format, not their values
    assert "C00001" not in message and "c1@x.org" not in message
    # one typo among known ids is an error too: nothing is forgotten in part
    with pytest.raises(RequestError, match=r"1 of the 2 ids"):
        forget("customers", ["C00001", "C0001"], store=store)
    _exit_2(_cli("forget", "--source", "customers", "--id", "C99999"), f"{N_CUSTOMERS} ids", "A99999")
    assert _runs(workdir) == 1


def test_ids_of_a_positional_source_are_positions_and_the_error_says_so(workdir):
    _run(workdir, "positional.py")
    store = workdir / ".lester"
    for wrong in (["C00100"], [N_CUSTOMERS + 5], ["-1"]):
        with pytest.raises(RequestError, match=r"customers has no key column.*position.*--where"):
            forget("customers", wrong, store=store)
    message = _exit_2(_cli("forget", "--source", "customers", "--id", "C00100"),
                      "customers has no key column", "--where")
    assert "nothing to forget" not in message
    assert f"0 to {N_CUSTOMERS - 1}" in message
    # a position that exists still works
    report = forget("customers", [3], store=store)
    assert report.new_runs


def test_a_known_id_already_forgotten_is_reported_not_an_error(workdir):
    # idempotent: the id exists in the source, the newest version no longer holds its rows
    old = _run(workdir)
    who = str(old.train["customer_id"].iloc[0])
    assert forget("customers", [who], store=workdir / ".lester").new_runs
    again = forget("customers", [who], store=workdir / ".lester")
    assert again.changes == [] and "nothing to forget" in again.message


# -- predicates that match (nearly) every row ---------------------------------------------------


def test_a_predicate_matching_every_row_needs_all_rows(workdir):
    _run(workdir)
    store = workdir / ".lester"
    with pytest.raises(RequestError, match=rf"matches {N_CUSTOMERS} of the {N_CUSTOMERS} rows of customers") as caught:
        forget("customers", where="1=1", store=store)
    assert "all_rows=True" in str(caught.value) and "--all-rows" in str(caught.value)
    assert re.search(r"\d+ stored rows?", str(caught.value))
    with pytest.raises(RequestError, match="all_rows=True"):
        redact("mails", "mail_text", "mail_id >= 0", store=store)
    # more than the safety share (half the rows) is refused too
    with pytest.raises(RequestError, match="all_rows=True"):
        forget("customers", where="customer_id <> 'C00001'", store=store)
    _exit_2(_cli("forget", "--source", "customers", "--where", "1=1"),
            f"matches {N_CUSTOMERS} of the {N_CUSTOMERS} rows", "--all-rows")
    assert _runs(workdir) == 1
    # a dry run writes nothing, so it reports what the request would do, and says what confirms it
    dry = forget("customers", where="1=1", dry_run=True, store=store)
    assert dry.changes and "all_rows=True" in dry.message
    # confirmed, it works (forgetting every customer would leave the model no training row,
    # which is the unlearning's own error: the confirmed request keeps some)
    report = forget("customers", where="customer_id > 'C00015'", all_rows=True, store=store)
    assert report.new_runs and _runs(workdir) == 2
    done = redact("mails", "mail_text", "mail_id >= 0", all_rows=True, store=store)
    assert done.new_runs or done.changes


def test_cli_all_rows_confirms(workdir):
    _run(workdir)
    result = _cli("forget", "--source", "customers", "--where", "customer_id > 'C00015'", "--all-rows")
    assert result.exit_code == 0, result.output
    assert _runs(workdir) == 2


# -- a data-preparation-only run (no labels, no model) --------------------------------------------


def test_forget_and_redact_on_a_dataprep_only_run(workdir):
    old = _run(workdir, "dataprep_only.py")
    assert old.model is None
    store = workdir / ".lester"
    who = str(old.train["customer_id"].iloc[0])
    report = forget("customers", [who], store=store)
    (new_id,) = report.new_runs
    new = store / "runs" / new_id
    prepared = pd.concat([pd.read_parquet(new / "train.parquet"), pd.read_parquet(new / "test.parquet")])
    assert who not in set(prepared["customer_id"]) and len(prepared) < len(old.train) + len(old.test)
    assert new_id not in set(lt.trace("customers", who, store=store)["run_id"])
    kept = str(pd.read_parquet(new / "train.parquet")["customer_id"].iloc[0])
    assert new_id in set(lt.trace("customers", kept, store=store)["run_id"])
    assert report.changes[0].strategy == "no model"
    redacted = redact("mails", "mail_text", "mail_text LIKE '%4111%'", "[redacted]", store=store)
    (newer,) = redacted.new_runs
    rows = pd.concat([pd.read_parquet(store / "runs" / newer / f"{s}.parquet") for s in ("train", "test")])
    assert not rows["mail_text"].str.contains("4111").any() and (rows["mail_text"] == "[redacted]").any()
    assert set(rows["prov:mails"]) == set(prepared["prov:mails"])
    result = _cli("forget", "--source", "customers", "--id", str(rows["customer_id"].iloc[0]))
    assert result.exit_code == 0, result.output


def test_ids_checked_without_the_pipeline_when_it_is_gone(workdir):
    # a deletion from a linear plan needs the stored run only: known ids still work, and ids
    # no stored row holds are an error that says the source could not be checked
    old = _run(workdir)
    (workdir / "pipeline.py").rename(workdir / "moved.py")
    store = workdir / ".lester"
    with pytest.raises(RequestError, match="none of the 1 ids matches a row stored.*could not be read"):
        forget("customers", ["C99999"], store=store)
    who = str(old.train["customer_id"].iloc[0])
    report = forget("customers", [who, "C99999"], store=store)
    assert report.new_runs and "1 of the 2 ids match no stored row" in report.message
