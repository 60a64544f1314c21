"""lester verify-erasure: a subject's key and identifying values found in every kind of file of
a real store (Parquet chunks, arrays, signed pickles, the DuckDB catalog, JSON, temporary
files), nothing personal printed, and a clean bill after purge."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import lester as lt
from lester.ivm.erasure import ErasureError, verify_erasure
from lester.ivm.purge import purge
from tests.erasure_case import busiest_customer, email_of, run, write_case


@pytest.fixture
def case(tmp_path: Path) -> Path:
    return write_case(tmp_path)


def _lester(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lester.cli", *arguments], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def test_finds_the_old_version_and_the_cache_before_purge_and_nothing_after(case):
    original = run(case)
    customer = busiest_customer(original)
    other = next(c for c in pd.concat([original.train, original.test])["customer_id"].unique() if c != customer)
    report = lt.forget("customers", [customer], store=case / ".lester")
    (head,) = report.new_runs

    before = verify_erasure("customers", [customer], store=case / ".lester")
    assert not before.clean and before.exit_code == 1
    places = before.places()
    # the original version's prepared rows, provenance and row ids still hold the customer
    old = f"runs/{original.run_id}/"
    assert f"{old}train.parquet/part-00000.parquet" in places
    rows = [f for f in before.findings if f.path == f"{old}train.parquet/part-00000.parquet"
            and f.where.startswith("column 'prov:customers'")]
    mine = int((original.train["customer_id"] == customer).sum())
    assert rows and rows[0].count == mine and rows[0].what == "key"
    assert any(p.startswith(f"{old}row_provenance/") for p in places)
    # the stage cache's pickle of the prepared rows holds the customer's id
    cached = [f for f in before.findings if f.path.startswith("cache/") and f.kind == "pickle"]
    assert cached and any("['prepared']" in f.where and f.category == "cache" for f in cached)
    # the new head's data holds nothing of them
    assert not [f for f in before.findings if f.path.startswith(f"runs/{head}/") and f.category == "data"]

    purged = purge(case / ".lester")
    assert not purged.remaining, purged.remaining
    after = verify_erasure("customers", [customer], store=case / ".lester")
    assert after.clean and after.exit_code == 0, [(f.path, f.where) for f in after.findings]
    assert after.files > 10  # the head's files were scanned, not skipped
    # the scan still sees people who were not forgotten: clean above is not blindness
    kept = verify_erasure("customers", [other], store=case / ".lester")
    assert not kept.clean and any(p.startswith(f"runs/{head}/") for p in kept.places())


def test_encoder_categories_and_feature_names_hold_raw_values(case):
    result = run(case, "email_pipeline.py", cache=False)
    customer = busiest_customer(result)
    report = verify_erasure("customers", [customer], store=case / ".lester")
    assert report.searched[customer] == ["key", "customers.customer_email"]
    encoder = [f for f in report.findings if f.path.endswith("encoder.pkl")]
    assert encoder and all(f.what == "customers.customer_email" for f in encoder)
    assert any("categories_" in f.where for f in encoder)
    # the one-hot column's name is the address too: in the catalog's matrix provenance
    assert any(f.kind == "catalog" and "matrix_provenance" in f.where for f in report.findings)
    # nothing personal in the report but the id that was asked about
    text = json.dumps(report.to_dict())
    assert email_of(case, customer) not in text and "example.org" not in text


def test_noise_rule_searches_only_values_no_one_else_holds(case):
    run(case, cache=False)
    frame = pd.read_csv(case / "customers.csv")
    customer = str(frame["customer_id"].iloc[0])
    report = verify_erasure("customers", [customer], store=case / ".lester")
    # a name three customers share and a two-letter country are not searched
    assert report.searched[customer] == ["key", "customers.customer_email"]
    # give the first customer a name of their own: now it identifies them, and it is searched
    frame.loc[0, "name"] = "Zoltan Quist"
    frame.to_csv(case / "customers.csv", index=False)
    report = verify_erasure("customers", [customer], store=case / ".lester")
    assert report.searched[customer] == ["key", "customers.customer_email", "customers.name"]


def test_subjects_chosen_by_where_are_not_named_and_short_ids_match_only_id_columns(tmp_path):
    from tests.mails_case import write_mails_case

    folder = write_mails_case(tmp_path)  # integer keys 1..6: "2" is everywhere as a number
    lt.run(folder / "pipeline.py", sources={"customers": str(folder / "customers.csv"),
                                           "mails": str(folder / "mails.csv")}, store=folder / ".lester")
    report = verify_erasure("customers", where="customer_email = 'c2@x.org'", store=folder / ".lester")
    assert report.subjects == ["match 1"]
    assert report.findings and {f.what for f in report.findings} <= {"key", "customers.customer_email"}
    # a short key is matched where ids are kept, never as a number in a matrix or a label array
    assert all(not Path(f.path).name.startswith(("X_", "y_", "predictions")) for f in report.findings)
    assert all("prov:" in f.where or "customer_id" in f.where or "source_id" in f.where
               for f in report.findings if f.what == "key")
    with pytest.raises(ErasureError, match="matched no row"):
        verify_erasure("customers", where="customer_email = 'nobody@x.org'", store=folder / ".lester")
    with pytest.raises(ErasureError, match="not both"):
        verify_erasure("customers", ["2"], where="customer_id = 2", store=folder / ".lester")


class _Trap:
    """A pickle that would write a file when unpickled."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (Path(self.path), "unpickled"))


def test_foreign_pickles_are_never_unpickled_but_their_bytes_are_scanned(case):
    result = run(case, cache=False)
    customer = busiest_customer(result)
    trap = case / "trap-fired"
    foreign = case / ".lester" / "runs" / result.run_id / "notes.pkl"
    foreign.write_bytes(pickle.dumps({"mail": email_of(case, customer), "trap": _Trap(str(trap))}))
    # a tampered model: its recorded digest no longer matches
    model = case / ".lester" / "runs" / result.run_id / "model.pkl"
    model.write_bytes(model.read_bytes() + b"\0")
    report = verify_erasure("customers", [customer], store=case / ".lester")
    assert not trap.exists()
    unchecked = {u.path: u.reason for u in report.unchecked}
    assert f"runs/{result.run_id}/notes.pkl" in unchecked and "not unpickled" in unchecked[f"runs/{result.run_id}/notes.pkl"]
    assert "digest does not match" in unchecked[f"runs/{result.run_id}/model.pkl"]
    raw = [f for f in report.findings if f.path.endswith("notes.pkl")]
    assert raw and raw[0].kind == "bytes" and raw[0].what == "customers.customer_email"


def test_temporary_files_and_hard_links_are_places_too(case):
    result = run(case, cache=False)
    customer = busiest_customer(result)
    staging = case / ".lester" / "runs" / ".incomplete-20990101-000000-abcdef"
    shutil.copytree(result.folder / "train.parquet", staging / "train.parquet")
    report = verify_erasure("customers", [customer], store=case / ".lester")
    temporary = [f for f in report.findings if f.path.startswith("runs/.incomplete-")]
    assert temporary and {f.category for f in temporary} == {"temporary"}


def test_command_line_exit_codes_json_and_no_personal_values(case):
    result = run(case, cache=False)
    customer = busiest_customer(result)
    email = email_of(case, customer)
    found = _lester("verify-erasure", "--source", "customers", "--where", f"customer_email = '{email}'",
                    "--store", ".lester", cwd=case)
    assert found.returncode == 1, found.stderr
    assert "NOT erased" in found.stdout and "train.parquet" in found.stdout
    assert email not in found.stdout and customer not in found.stdout  # asked by e-mail: no id shown
    document = _lester("verify-erasure", "--source", "customers", "--id", customer, "--json", "--store", ".lester",
                       cwd=case)
    assert document.returncode == 1
    parsed = json.loads(document.stdout)
    assert parsed["clean"] is False and parsed["findings"] and email not in document.stdout
    wrong = _lester("verify-erasure", "--source", "custmers", "--where", "x = 1", "--store", ".lester", cwd=case)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr and "custmers" in wrong.stderr
    missing = _lester("verify-erasure", "--source", "customers", "--id", customer, "--store", "nowhere", cwd=case)
    assert missing.returncode == 2 and "no lester store" in missing.stderr
    helped = _lester("verify-erasure", "--help", cwd=case)
    assert "Exit status" in helped.stdout and "--where" in helped.stdout


def test_a_value_given_as_the_id_of_a_source_without_a_key_is_refused(case):
    (case / "positional.py").write_text((case / "pipeline.py").read_text().replace(
        'lt.read_csv(customers, key="customer_id")', "lt.read_csv(customers)"))
    result = run(case, "positional.py", cache=False)
    customer = busiest_customer(result)
    with pytest.raises(ErasureError, match="no key column.*--where"):
        verify_erasure("customers", [customer], store=case / ".lester")
    # by position it is found, and so it is by the predicate on the value
    position = str(int(customer[1:]) - 1)
    by_position = verify_erasure("customers", [position], store=case / ".lester")
    by_value = verify_erasure("customers", where=f"customer_id = '{customer}'", store=case / ".lester")
    assert by_position.places() == by_value.places() != []
