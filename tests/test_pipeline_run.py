"""The runner end to end: artifacts, the catalog's provenance, caching, atomicity."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.pipeline.catalog import Catalog
from lester.pipeline.runner import PipelineRunError, run
from lester.pipeline.store import load_matrix
from tests.mails_case import write_mails_case


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return write_mails_case(tmp_path)


def test_run_stores_artifacts_and_exact_provenance(workdir):
    store = workdir / ".lester"
    result = run(workdir / "pipeline.py", sources={"customers": workdir / "customers.csv",
                                                   "mails": workdir / "mails.csv"}, store=store)
    folder = result.folder
    for name in ("train.parquet", "test.parquet", "X_train", "X_test", "y_train.npy",
                 "y_test.npy", "predictions.npy", "encoder.pkl", "model.pkl", "config.toml", "run.json",
                 "row_provenance"):
        assert (folder / name).exists(), name

    # the expected rows, computed independently of lester: mails from 2022 joined to customers
    mails = pd.read_csv(workdir / "mails.csv")
    customers = pd.read_csv(workdir / "customers.csv")
    recent = mails[mails["mail_date"] >= "2022-01-01"]
    expected = recent.merge(customers, left_on="email", right_on="customer_email")
    expected_pairs = set(zip(expected["mail_id"].astype(str), expected["customer_id"].astype(str)))

    catalog = Catalog(store / "catalog.duckdb")
    rows = catalog.query(
        "SELECT split, row, list(source ORDER BY source) AS s, list(source_id ORDER BY source) AS ids "
        "FROM row_provenance WHERE run_id = ? GROUP BY split, row", [result.run_id])
    assert len(rows) == len(expected) == len(result.train) + len(result.test)
    pairs = {(ids[1], ids[0]) for ids in rows["ids"]}  # sources sorted: customers, mails
    assert pairs == expected_pairs
    # each stored row's provenance matches the row stored in the split's parquet file
    train = pd.read_parquet(folder / "train.parquet")
    for split, row, _, ids in rows[rows["split"] == "train"].itertuples(index=False):
        assert str(train["prov:mails"].iloc[row]) == ids[1]
        assert str(train["customer_id"].iloc[row]) == ids[0]

    lineage = catalog.query("SELECT \"column\", source || '.' || source_column AS origin "
                            "FROM column_provenance WHERE run_id = ? ORDER BY 1, 2", [result.run_id])
    assert dict(zip(lineage["column"], lineage["origin"])) == {
        "country": "customers.country", "customer_id": "customers.customer_id",
        "is_premium": "customers.is_premium", "sentiment": "mails.mail_text",
        "text_length": "mails.mail_text",
    }
    matrix = catalog.query("SELECT matrix_column, prepared_column FROM matrix_provenance "
                           "WHERE run_id = ? ORDER BY 1", [result.run_id])
    assert matrix["prepared_column"].tolist() == ["country"] * 3 + ["sentiment", "text_length"]
    sources = catalog.query("SELECT label, rows, key_column FROM sources WHERE run_id = ? ORDER BY 1",
                            [result.run_id])
    assert sources.values.tolist() == [["customers", 6, "customer_id"], ["mails", 24, "mail_id"]]
    metrics = catalog.query("SELECT split, name FROM metrics WHERE run_id = ?", [result.run_id])
    assert {"accuracy", "f1_macro"} <= set(metrics["name"])
    assert load_matrix(folder, "X_train").shape == (len(result.train), 5)


def test_trace_both_ways(workdir):
    store = workdir / ".lester"
    result = run(workdir / "pipeline.py", sources={"customers": workdir / "customers.csv",
                                                   "mails": workdir / "mails.csv"}, store=store)
    catalog = Catalog(store / "catalog.duckdb")
    hits = catalog.trace_source_row("customers", 1)
    prepared = pd.concat([result.train.assign(split="train"), result.test.assign(split="test")])
    assert len(hits) == int((prepared["customer_id"] == 1).sum()) > 0
    first = hits.iloc[0]
    origins = catalog.trace_run_row(result.run_id, first["split"], first["row"])
    assert set(zip(origins["source"], origins["source_id"])) >= {("customers", "1")}
    # the same from the top-level Python API
    assert len(lt.trace("customers", 1, store=store)) == len(hits)
    back = lt.trace(run=result.run_id, **{f"{first['split']}_row": int(first["row"])}, store=store)
    assert back.equals(origins)
    assert lt.runs(store)["run_id"].tolist() == [result.run_id]
    assert lt.show(result.run_id[:10], store)["run_id"] == result.run_id


def test_split_never_moves_rows_when_others_are_deleted(workdir):
    store = workdir / ".lester"
    sources = {"customers": workdir / "customers.csv", "mails": workdir / "mails.csv"}
    full = run(workdir / "pipeline.py", sources=sources, store=store, capture=False)
    customers = pd.read_csv(workdir / "customers.csv")
    customers[customers["customer_id"] != 3].to_csv(workdir / "customers.csv", index=False)
    reduced = run(workdir / "pipeline.py", sources=sources, store=store, capture=False)
    before = set(full.test["prov:mails"]) - set(full.train["prov:mails"][full.train["customer_id"] == 3])
    after = set(reduced.test["prov:mails"])
    assert after == {m for m in before if m in set(reduced.test["prov:mails"]) | set(reduced.train["prov:mails"])}


def test_group_split_keeps_a_customer_on_one_side(workdir):
    result = run(workdir / "pipeline.py", store=workdir / ".lester", capture=False,
                 sources={"customers": workdir / "customers.csv", "mails": workdir / "mails.csv"},
                 overrides=["split.kind=group", "split.group=customer_id", "split.test_size=0.4"])
    assert not set(result.train["customer_id"]) & set(result.test["customer_id"])


def test_cache_skips_unchanged_stages_and_notices_changes(workdir):
    store = workdir / ".lester"
    sources = {"customers": workdir / "customers.csv", "mails": workdir / "mails.csv"}
    first = run(workdir / "pipeline.py", sources=sources, store=store)
    assert not any(first.cached.values())
    second = run(workdir / "pipeline.py", sources=sources, store=store)
    assert second.cached == {"dataprep": True, "encode_features": True, "make_model": True}
    np.testing.assert_allclose(first.predictions, second.predictions)

    # a changed parameter recomputes the model only
    third = run(workdir / "pipeline.py", sources=sources, store=store, overrides=["model.C=0.1"])
    assert third.cached == {"dataprep": True, "encode_features": True, "make_model": False}

    # a changed helper body recomputes data preparation and everything after it
    code = (workdir / "pipeline.py").read_text()
    (workdir / "pipeline.py").write_text(code.replace('("thanks", "great", "love")', '("thanks",)'))
    fourth = run(workdir / "pipeline.py", sources=sources, store=store)
    assert fourth.cached["dataprep"] is False

    # a changed input file too
    with open(workdir / "mails.csv", "a") as handle:
        handle.write("999,c1@x.org,2023-01-01,great thanks\n")
    fifth = run(workdir / "pipeline.py", sources=sources, store=store)
    assert fifth.cached["dataprep"] is False and len(fifth.train) + len(fifth.test) == len(fourth.train) + len(fourth.test) + 1

    uncached = run(workdir / "pipeline.py", sources=sources, store=store, cache=False)
    assert not any(uncached.cached.values())


@pytest.mark.parametrize("where", ["writing the row provenance", "writing the catalog record"])
def test_an_interrupted_run_leaves_no_trace(workdir, monkeypatch, where):
    store = workdir / ".lester"
    sources = {"customers": workdir / "customers.csv", "mails": workdir / "mails.csv"}
    first = run(workdir / "pipeline.py", sources=sources, store=store)
    catalog = Catalog(store / "catalog.duckdb")
    before = catalog.query("SELECT count(*) AS n FROM row_provenance")["n"].iloc[0]

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "writing the row provenance":
        monkeypatch.setattr("lester.pipeline.store.write_row_provenance", interrupt)
    else:
        monkeypatch.setattr("lester.pipeline.store.write_record", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(workdir / "pipeline.py", sources=sources, store=store, cache=False)
    monkeypatch.undo()
    assert catalog.runs()["run_id"].tolist() == [first.run_id]
    assert catalog.query("SELECT count(*) AS n FROM row_provenance")["n"].iloc[0] == before
    assert [p.name for p in (store / "runs").iterdir()] == [first.run_id]


def test_an_interrupted_catalog_sync_changes_nothing_and_is_completed_later(workdir, monkeypatch):
    store = workdir / ".lester"
    sources = {"customers": workdir / "customers.csv", "mails": workdir / "mails.csv"}
    first = run(workdir / "pipeline.py", sources=sources, store=store)
    second = run(workdir / "pipeline.py", sources=sources, store=store, overrides=["model.C=0.5"])
    # runs are registered by their folders; the database index is built on first open
    assert not (store / "catalog.duckdb").exists()
    real = Catalog._insert_run
    calls = []

    def fail_on_second(self, con, run_id):
        calls.append(run_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(self, con, run_id)

    monkeypatch.setattr(Catalog, "_insert_run", fail_on_second)
    catalog = Catalog(store / "catalog.duckdb")
    with pytest.raises(KeyboardInterrupt):
        catalog.runs()
    monkeypatch.undo()
    import duckdb

    with duckdb.connect(str(store / "catalog.duckdb")) as con:  # raw: no sync on open
        assert con.execute("SELECT count(*) FROM runs").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM metrics").fetchall() == [(0,)]
    assert sorted(catalog.runs()["run_id"]) == sorted([first.run_id, second.run_id])
    shown = catalog.run(second.run_id)
    assert shown["config"]["model"] == {"C": 0.5}
    assert len(catalog.trace_source_row("customers", 1)) > 0


def test_a_deleted_run_folder_leaves_the_catalog(workdir):

    store = workdir / ".lester"
    sources = {"customers": workdir / "customers.csv", "mails": workdir / "mails.csv"}
    first = run(workdir / "pipeline.py", sources=sources, store=store)
    second = run(workdir / "pipeline.py", sources=sources, store=store, cache=False)
    catalog = Catalog(store / "catalog.duckdb")
    assert len(catalog.runs()) == 2
    shutil.rmtree(first.folder)
    assert catalog.runs()["run_id"].tolist() == [second.run_id]
    assert catalog.query("SELECT DISTINCT run_id FROM metrics")["run_id"].tolist() == [second.run_id]
    assert set(catalog.trace_source_row("customers", 1)["run_id"]) == {second.run_id}


def test_a_killed_run_registers_nothing(workdir):
    script = textwrap.dedent(f"""
        import os, signal
        import lester.pipeline.runner as runner
        real = runner.save_pickle
        def die(path, value):
            real(path, value)
            if path.name == "model.pkl":
                os.kill(os.getpid(), signal.SIGKILL)   # mid-write of the run folder
        runner.save_pickle = die
        runner.run({str(workdir / 'pipeline.py')!r}, store={str(workdir / '.lester')!r},
            sources={{"customers": {str(workdir / 'customers.csv')!r}, "mails": {str(workdir / 'mails.csv')!r}}})
    """)
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert process.returncode == -9, process.stderr
    catalog = Catalog(workdir / ".lester" / "catalog.duckdb")
    assert catalog.runs().empty
    assert not [p for p in (workdir / ".lester" / "runs").iterdir() if not p.name.startswith(".incomplete-")]


def test_clear_errors(workdir):
    with pytest.raises(PipelineRunError, match=r"sources \['orders'\] are not parameters of dataprep"):
        run(workdir / "pipeline.py", sources={"orders": "x.csv"}, capture=False, cache=False)
    with pytest.raises(PipelineRunError, match="mails.*no such file"):
        run(workdir / "pipeline.py", sources={"mails": workdir / "nope.csv",
                                              "customers": workdir / "customers.csv"},
            capture=False, cache=False)
    (workdir / "broken.py").write_text("def dataprep(:\n")
    with pytest.raises(lt.LesterError, match=r"broken.py, line 1"):
        run(workdir / "broken.py", capture=False, cache=False)
    (workdir / "nothing.py").write_text("def encode_features():\n    pass\n")
    with pytest.raises(lt.LesterError, match=r"must define dataprep\(\); it is missing"):
        run(workdir / "nothing.py", capture=False, cache=False)
    (workdir / "partial.py").write_text("def dataprep():\n    pass\n")
    with pytest.raises(lt.LesterError, match=r"dataprep\(\) must return a lester Frame, got NoneType"):
        run(workdir / "partial.py", capture=False, cache=False)


def test_a_data_preparation_pipeline_stores_prepared_rows_and_provenance(workdir):
    # a rewrite of a script that computes no features marks the stages it lacks this way
    code = (workdir / "pipeline.py").read_text()
    code = code.replace("def encode_features(scale=True):", "def encode_features(scale=True):\n"
                        "    raise NotImplementedError('the script computes no feature matrix')")
    code = code.replace("def make_model(C=1.0):", "def unused_model(C=1.0):")
    (workdir / "prep_only.py").write_text(code)
    store = workdir / ".lester"
    sources = {"customers": workdir / "customers.csv", "mails": workdir / "mails.csv"}
    result = run(workdir / "prep_only.py", sources=sources, store=store)
    assert result.model is None and result.X_train is None and result.predictions is None
    assert result.y_train is not None and len(result.y_train) == len(result.train)  # labels still
    assert result.metrics == {} and "no model" in repr(result)
    files = {p.name for p in result.folder.iterdir()}
    assert {"train.parquet", "test.parquet", "y_train.npy", "row_provenance"} <= files
    assert not files & {"model.pkl", "encoder.pkl", "X_train", "predictions.npy"}
    catalog = Catalog(store / "catalog.duckdb")
    assert catalog.runs()["model"].isna().all()
    assert len(catalog.trace_source_row("customers", 1)) > 0
    again = run(workdir / "prep_only.py", sources=sources, store=store)  # cached stages too
    assert again.cached["dataprep"] and again.model is None


def test_cli_run_runs_show_trace(workdir, monkeypatch):
    from click.testing import CliRunner

    from lester.cli import main

    monkeypatch.chdir(workdir)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to the terminal width
    (workdir / "lester.toml").write_text('pipeline = "pipeline.py"\n[split]\nseed = 3\n')
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--set", "model.C=0.5"])
    assert result.exit_code == 0, result.output
    assert "dataprep" in result.output and "stored in" in result.output
    runs = runner.invoke(main, ["runs"])
    assert runs.exit_code == 0 and "LogisticRegression" in runs.output
    run_id = Catalog(workdir / ".lester" / "catalog.duckdb").runs()["run_id"].iloc[0]
    shown = runner.invoke(main, ["show", run_id[:12]])
    assert shown.exit_code == 0 and "customers" in shown.output and "country" in shown.output
    traced = runner.invoke(main, ["trace", "--source", "customers", "--id", "1"])
    assert traced.exit_code == 0 and run_id in " ".join(traced.output.split())
    back = runner.invoke(main, ["trace", "--run", run_id, "--train-row", "0"])
    assert back.exit_code == 0 and "mails" in back.output
    missing = runner.invoke(main, ["show", "nope"])
    assert missing.exit_code == 2 and "no run matches 'nope'" in missing.output
