"""Deletion vectors (issue 13): a forget that only removes rows shares its parent's chunks and
records the deleted positions; every reader applies them; purge rewrites the chunks; a
request or purge killed half-way leaves the catalog and every version consistent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import Ridge

import lester as lt
from lester.ivm.versions import StoredRun
from lester.pipeline.catalog import Catalog
from lester.pipeline.store import load_matrix, load_row_provenance, load_rows
from tests.erasure_case import PIPELINE, sources, write_case

RIDGE_PIPELINE = PIPELINE.read_text().replace(
    "from sklearn.linear_model import LogisticRegression", "from sklearn.linear_model import Ridge"
).replace("return LogisticRegression(C=C)", "return Ridge(alpha=C)").replace(
    'return prepared["is_premium"].astype(int).to_numpy()', 'return prepared["is_premium"].astype(float).to_numpy()')


@pytest.fixture
def case(tmp_path: Path) -> Path:
    write_case(tmp_path, customers=300, mails=3000)
    (tmp_path / "ridge.py").write_text(RIDGE_PIPELINE)
    return tmp_path


def _base(case: Path) -> lt.RunResult:
    return lt.run(case / "ridge.py", sources=sources(case), store=case / ".lester", cache=False)


def _customer(result: lt.RunResult, index: int = 0) -> str:
    both = pd.concat([result.train, result.test])
    return str(both["customer_id"].value_counts().index[index])


def _forget(case: Path, ids: list[str], run: str, **kwargs):
    (change,) = lt.forget("customers", ids, run=run, store=case / ".lester", **kwargs).changes
    return change


def _live(folder: Path, split: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rows = load_rows(folder, split)
    X = load_matrix(folder, f"X_{split}")[rows.index.to_numpy()]
    y = np.load(folder / f"y_{split}.npy")[rows.index.to_numpy()]
    return rows, X, y


def test_a_forget_writes_deletion_vectors_and_an_exact_model_without_rewriting_chunks(case):
    base = _base(case)
    gone = _customer(base)
    change = _forget(case, [gone], base.run_id)
    new = case / ".lester" / "runs" / change.new_run_id
    info = json.loads((new / "run.json").read_text())
    held = {split: int((getattr(base, split)["customer_id"] == gone).sum()) for split in ("train", "test")}
    assert {split: len(info["deleted"][split]) for split in ("train", "test")} == held
    # the chunks are the parent's, shared by one link per folder: nothing was rewritten
    for name in ("train.parquet", "test.parquet", "X_train", "X_test", "row_provenance"):
        assert (new / name).is_symlink() and (new / name).resolve() == (base.folder / name).resolve()
    assert change.strategy == "gram_downdate" and change.exact
    rows, X, y = _live(new, "train")
    assert gone not in set(rows["customer_id"].astype(str))
    model = StoredRun(change.new_run_id, new).model
    refit = Ridge(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(model.coef_, refit.coef_, atol=1e-9)
    assert info["metrics"]["test"]["r2"] == pytest.approx(
        lt.run(case / "ridge.py", sources=sources(case), store=case / ".lester", capture=False,
               cache=False).metrics["test"]["r2"], abs=1e-9)
    assert "train" not in info["metrics"] and "purge" in info["train_metrics"]


def test_the_catalog_trace_and_show_apply_deletion_vectors(case):
    from lester.cli import main

    base = _base(case)
    gone = _customer(base)
    change = _forget(case, [gone], base.run_id)
    catalog = Catalog(case / ".lester" / "catalog.duckdb")
    hits = catalog.trace_source_row("customers", gone)
    assert set(hits["run_id"]) == {base.run_id}  # the version hides its rows
    live = catalog.query("SELECT split, count(*) AS n FROM row_provenance WHERE run_id = ? AND source = 'mails' "
                         "GROUP BY split", [change.new_run_id]).set_index("split")["n"].to_dict()
    assert live == {split: len(getattr(base, split)) - change.rows_removed[split] for split in ("train", "test")}
    shown = CliRunner().invoke(main, ["show", change.new_run_id, "--store", str(case / ".lester"), "--json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.output)
    assert document["train_rows"] == live["train"] and document["test_rows"] == live["test"]
    traced = CliRunner().invoke(main, ["trace", "--source", "customers", "--id", gone, "--store",
                                       str(case / ".lester"), "--json"])
    assert {hit["run_id"] for hit in json.loads(traced.output)["hits"]} == {base.run_id}


def test_the_store_readers_apply_deletion_vectors(case):
    base = _base(case)
    gone = _customer(base)
    change = _forget(case, [gone], base.run_id)
    new = case / ".lester" / "runs" / change.new_run_id
    for split in ("train", "test"):
        rows = load_rows(new, split)
        assert len(rows) == len(getattr(base, split)) - change.rows_removed[split]
        assert gone not in set(rows["customer_id"].astype(str))
    provenance = load_row_provenance(new).to_pandas()
    assert gone not in set(provenance.loc[provenance["source"] == "customers", "source_id"])
    assert len(provenance[provenance["source"] == "mails"]) == sum(len(load_rows(new, s)) for s in ("train", "test"))


def test_the_next_request_applies_deletion_vectors(case):
    base = _base(case)
    first, second = _customer(base, 0), _customer(base, 1)
    change = _forget(case, [first], base.run_id)
    again = lt.forget("customers", [first], run=change.new_run_id, store=case / ".lester")
    assert again.new_runs == [] and "no stored row derives" in again.message
    later = _forget(case, [second], change.new_run_id)
    new = case / ".lester" / "runs" / later.new_run_id
    info = json.loads((new / "run.json").read_text())
    parent = json.loads((case / ".lester" / "runs" / change.new_run_id / "run.json").read_text())
    for split in ("train", "test"):
        assert set(parent["deleted"][split]) < set(info["deleted"][split]) or not later.rows_removed[split]
    # links point at the folder that holds the chunks, never at another link
    assert os.readlink(new / "train.parquet") == os.path.join("..", base.run_id, "train.parquet")
    rows, X, y = _live(new, "train")
    assert not {first, second} & set(rows["customer_id"].astype(str))
    np.testing.assert_allclose(StoredRun(later.new_run_id, new).model.coef_, Ridge().fit(X, y).coef_, atol=1e-9)


def test_verification_compares_the_live_rows(case):
    base = _base(case)
    change = _forget(case, [_customer(base)], base.run_id, verify=True)
    assert change.verification.test_rows_unmatched == 0
    assert change.verification.agreement == 1.0 and abs(change.verification.metric_delta) < 1e-6


def test_a_version_written_in_full_drops_the_deletion_vectors_physically(case):
    base = _base(case)
    gone = _customer(base)
    change = _forget(case, [gone], base.run_id)
    (redaction,) = lt.redact("mails", "mail_text", "mail_text LIKE '%great%'", "[redacted]", run=change.new_run_id,
                             store=case / ".lester").changes
    new = case / ".lester" / "runs" / redaction.new_run_id
    info = json.loads((new / "run.json").read_text())
    assert "deleted" not in info and not (new / "train.parquet").is_symlink()
    for split in ("train", "test"):
        rows = pd.read_parquet(new / f"{split}.parquet")  # physically: no deletion vector left to apply
        assert gone not in set(rows["customer_id"].astype(str))
        assert load_matrix(new, f"X_{split}").shape[0] == len(rows) == len(np.load(new / f"y_{split}.npy"))
    rows, X, y = _live(new, "train")
    np.testing.assert_allclose(StoredRun(redaction.new_run_id, new).model.coef_, Ridge().fit(X, y).coef_, atol=1e-8)


def test_purge_rewrites_the_chunks_that_carry_deletion_vectors(case):
    base = _base(case)
    gone = _customer(base)
    change = _forget(case, [gone], base.run_id)
    before = lt.verify_erasure("customers", [gone], store=case / ".lester")
    assert not before.clean  # the shared chunks still hold the rows until purge
    report = lt.purge(case / ".lester")
    (rewrite,) = [a for a in report.actions if a.kind == "rewrite deleted rows"]
    assert rewrite.run_id == change.new_run_id and rewrite.chunks >= 1 and rewrite.error is None
    assert report.remaining == []
    head = case / ".lester" / "runs" / rewrite.new_run_id
    assert not (head / "train.parquet").is_symlink() and "deleted" not in json.loads((head / "run.json").read_text())
    assert sorted(p.name for p in (case / ".lester" / "runs").iterdir()) == [rewrite.new_run_id]
    assert lt.verify_erasure("customers", [gone], store=case / ".lester").clean
    info = json.loads((head / "run.json").read_text())
    assert set(info["metrics"]) == {"train", "test"}  # purge recomputes the train metrics
    # the rewritten head is audited (a purge's rewrite is no interrupted request to roll back)
    later = _forget(case, [_customer(base, 1)], rewrite.new_run_id)
    assert later.run_id == rewrite.new_run_id and (case / ".lester" / "runs" / rewrite.new_run_id).is_dir()


CRASHING_REQUEST = textwrap.dedent("""
    import os, sys
    import lester as lt
    os.environ["LESTER_REQUEST_CRASH_AT"] = "registered"
    lt.forget("customers", [sys.argv[2]], run=sys.argv[3], store=sys.argv[1])
""")


def test_a_request_killed_between_its_version_and_its_audit_row_is_rolled_back(case):
    base = _base(case)
    first, second = _customer(base, 0), _customer(base, 1)
    store = case / ".lester"
    killed = subprocess.run([sys.executable, "-c", CRASHING_REQUEST, str(store), first, base.run_id],
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert killed.returncode == -9, killed.stderr
    orphan = [p.name for p in (store / "runs").iterdir() if p.name != base.run_id]
    assert len(orphan) == 1  # registered, and no audit row says so
    # the next request (on the version the caller knew) rolls it back and goes ahead
    change = _forget(case, [second], base.run_id)
    runs = lt.runs(store)
    assert set(runs["run_id"]) == {base.run_id, change.new_run_id}
    audit = Catalog(store / "catalog.duckdb").query("SELECT action, new_run_id, request FROM audit_log ORDER BY created")
    assert audit["action"].tolist() == ["interrupted", "forget"]
    assert json.loads(audit["request"].iloc[0])["rolled_back"] == orphan[0]
    # the interrupted request's rows stay forgotten: a new run leaves them out
    again = lt.run(case / "ridge.py", sources=sources(case), store=store, capture=False, cache=False)
    assert not {first, second} & set(pd.concat([again.train, again.test])["customer_id"].astype(str))
    # and purge makes it physical: the head is rewritten without the first customer too
    lt.purge(store)
    assert lt.verify_erasure("customers", [first, second], store=store).clean


CRASHING_PURGE = textwrap.dedent("""
    import os, sys
    import lester as lt
    os.environ["LESTER_PURGE_CRASH_AT"] = "vectors-rewritten"
    lt.purge(sys.argv[1])
""")


def test_a_purge_killed_after_rewriting_deletion_vectors_leaves_one_head_and_finishes_when_run_again(case):
    base = _base(case)
    gone = _customer(base)
    change = _forget(case, [gone], base.run_id)
    store = case / ".lester"
    killed = subprocess.run([sys.executable, "-c", CRASHING_PURGE, str(store)], capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert killed.returncode == -9, killed.stderr
    runs = lt.runs(store)
    heads = set(runs["run_id"]) - set(runs["parent_run"].dropna())
    assert len(heads) == 1 and heads != {change.new_run_id}  # the rewritten version is the head
    (head,) = heads
    assert "deleted" not in json.loads((store / "runs" / head / "run.json").read_text())
    # every registered version still reads whole (the DV version's links point at its parent)
    for run_id in runs["run_id"]:
        assert len(load_rows(store / "runs" / run_id, "train")) > 0
    report = lt.purge(store)
    assert report.remaining == [] and lt.verify_erasure("customers", [gone], store=store).clean
