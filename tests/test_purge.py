"""lester purge: superseded versions, stale cache entries, temporary files and other heads'
forgotten rows removed; deadlines from [compliance] purge_within; a dry run that changes
nothing; and a real purge process killed with SIGKILL at each step leaving every kept version
and the catalog consistent."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

import lester as lt
from lester.ivm.erasure import verify_erasure
from lester.ivm.purge import PurgeError, purge
from lester.pipeline.catalog import Catalog, recorded_digest, run_folder_problem
from lester.pipeline.store import load_verified_pickle, read_pickle_key
from tests.erasure_case import busiest_customer, run, write_case

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def forgotten(tmp_path: Path) -> tuple[Path, str, str, str]:
    """A store whose one run had a customer forgotten: (folder, customer, original run, head)."""
    folder = write_case(tmp_path)
    original = run(folder)
    customer = busiest_customer(original)
    report = lt.forget("customers", [customer], store=folder / ".lester")
    return folder, customer, original.run_id, report.new_runs[0]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "lock"}


def _registered(store: Path) -> dict[str, Path]:
    return {p.name: p for p in (store / "runs").iterdir()
            if not p.name.startswith(".") and run_folder_problem(p) is None}


def _heads(store: Path) -> set[str]:
    runs = _registered(store)
    parents = {json.loads((p / "catalog.json").read_text())["run"].get("parent_run") for p in runs.values()}
    return set(runs) - parents


def _lester(*arguments: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lester.cli", *arguments], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})}, check=False)


def test_dry_run_lists_what_would_go_and_changes_nothing(forgotten):
    folder, _, original, head = forgotten
    store = folder / ".lester"
    Catalog(store / "catalog.duckdb").sync()  # the index catching up is not the purge's doing
    before = _digest(store)
    report = purge(store, dry_run=True)
    assert report.dry_run and _digest(store) == before
    kinds = {(a.kind, a.run_id) for a in report.actions}
    assert ("expire version", original) in kinds
    assert not any(a.run_id == head for a in report.actions)  # the head is kept
    cache = [a for a in report.actions if a.kind == "expire cache entry"]
    assert cache and all(a.path.startswith("cache/") for a in cache)
    assert [p.action for p in report.pending] == ["forget"]


def test_purge_removes_old_versions_and_cache_and_is_idempotent(forgotten):
    folder, customer, original, head = forgotten
    store = folder / ".lester"
    head_files = _digest(store / "runs" / head)
    report = purge(store)
    assert not report.remaining and not report.failed
    assert not (store / "runs" / original).exists()
    assert _digest(store / "runs" / head) == head_files  # the kept version is untouched
    assert not list((store / "cache").glob("*.pkl"))
    catalog = Catalog(store / "catalog.duckdb")
    assert catalog.query("SELECT run_id FROM runs")["run_id"].tolist() == [head]
    # a purge entry in the audit log names the completed request, nothing personal
    audit = catalog.query("SELECT action, request FROM audit_log ORDER BY created")
    assert audit["action"].tolist()[-1] == "purge"
    assert json.loads(audit["request"].iloc[-1])["purged"] == report.purged_requests != []
    assert customer not in audit.to_string()
    again = purge(store)
    assert not [a for a in again.actions if a.kind != "compact catalog"] and not again.pending
    # the model still loads and the head still serves: lester trace answers from it
    assert verify_erasure("customers", [customer], store=store).clean


def test_a_head_of_another_pipeline_that_holds_the_rows_is_rewritten(tmp_path):
    folder = write_case(tmp_path)
    (folder / "other.py").write_text((folder / "pipeline.py").read_text().replace("def make_model(C=1.0)",
                                                                                    "def make_model(C=0.5)"))
    first = run(folder)
    other = run(folder, "other.py")
    customer = busiest_customer(first)
    lt.forget("customers", [customer], run=first.run_id, store=folder / ".lester")
    planned = purge(folder / ".lester", dry_run=True)
    assert [(a.kind, a.run_id) for a in planned.actions if a.kind == "rewrite version"] == \
        [("rewrite version", other.run_id)]
    report = purge(folder / ".lester")
    assert not report.remaining, report.remaining
    (rewrite,) = [a for a in report.actions if a.kind == "rewrite version"]
    assert rewrite.new_run_id and not (folder / ".lester" / "runs" / other.run_id).exists()
    assert len(_heads(folder / ".lester")) == 2  # one head per lineage, both without the customer
    assert verify_erasure("customers", [customer], store=folder / ".lester").clean


def test_deadlines_from_purge_within(forgotten):
    folder = forgotten[0]
    (folder / "lester.toml").write_text('[compliance]\npurge_within = "24h"\n')
    soon = purge(folder / ".lester", dry_run=True, config=folder / "lester.toml")
    (pending,) = soon.pending
    received = datetime.fromisoformat(pending.received)
    assert datetime.fromisoformat(pending.deadline) - received == timedelta(hours=24) and not pending.overdue
    late = purge(folder / ".lester", dry_run=True, config=folder / "lester.toml",
                 now=received + timedelta(hours=25))
    assert late.pending[0].overdue and "past their deadline" in late.message
    # on the command line, with a deadline that has passed by the time it runs
    (folder / "lester.toml").write_text('[compliance]\npurge_within = "1s"\n')
    time.sleep(1.2)
    shown = _lester("purge", "--dry-run", "--json", "--store", ".lester", cwd=folder)
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["purge_within"] == "1s" and document["pending"][0]["overdue"] is True
    (folder / "lester.toml").write_text('[compliance]\npurge_within = "soon"\n')
    bad = _lester("purge", "--dry-run", "--store", ".lester", cwd=folder)
    assert bad.returncode == 2 and "lester.toml" in bad.stderr and "Traceback" not in bad.stderr
    with pytest.raises(PurgeError):
        from lester.ivm.purge import parse_duration

        parse_duration("-3h")


def test_temporary_files_of_interrupted_writers_are_removed(forgotten):
    folder, customer, original, _ = forgotten
    store = folder / ".lester"
    staging = store / "runs" / ".incomplete-20990101-000000-abcdef"
    staging.mkdir()
    (staging / "train.parquet").write_bytes((store / "runs" / original / "train.parquet" / "part-00000.parquet").read_bytes())
    (store / "cache" / "0123.partial").write_bytes(b"half an entry")
    assert any(f.category == "temporary" for f in verify_erasure("customers", [customer], store=store).findings)
    report = purge(store)
    removed = {a.path for a in report.actions if a.kind == "remove temporary"}
    assert {"runs/.incomplete-20990101-000000-abcdef", "cache/0123.partial"} <= removed
    assert not staging.exists()


_PURGE = "import sys; from lester.ivm.purge import purge; purge(sys.argv[1])"


@pytest.mark.parametrize("point", ["expire-renamed", "expired", "cache", "compact-written", "compacted"])
def test_kill_9_during_purge_leaves_the_store_consistent(forgotten, point):
    folder, customer, _, head = forgotten
    store = folder / ".lester"
    kept = _digest(store / "runs" / head)
    with duckdb.connect(str(store / "catalog.duckdb"), read_only=True) as con:
        (forget_rows,) = con.execute("SELECT count(*) FROM forget_set").fetchone()
        (audit_rows,) = con.execute("SELECT count(*) FROM audit_log").fetchone()
    killed = subprocess.run([sys.executable, "-c", _PURGE, str(store)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "LESTER_PURGE_CRASH_AT": point}, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    # every registered run is whole, its pickles verify, and the lineage still has one head
    registered = _registered(store)
    assert head in registered and _digest(store / "runs" / head) == kept
    key = read_pickle_key(store)
    for run_folder in registered.values():
        record = json.loads((run_folder / "catalog.json").read_text())
        for name in ("model.pkl", "encoder.pkl"):
            load_verified_pickle(run_folder / name, recorded_digest(record, name), key)
    assert _heads(store) == {head}
    # the catalog opens, indexes exactly the registered runs, and lost no durable row
    catalog = Catalog(store / "catalog.duckdb")
    assert set(catalog.query("SELECT run_id FROM runs")["run_id"]) == set(registered)
    with duckdb.connect(str(store / "catalog.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM forget_set").fetchone()[0] == forget_rows
        assert con.execute("SELECT count(*) FROM audit_log WHERE action <> 'purge'").fetchone()[0] == audit_rows
    # what the crash interrupted, the next purge finishes
    again = purge(store)
    assert not again.remaining, again.remaining
    assert verify_erasure("customers", [customer], store=store).clean
    assert _digest(store / "runs" / head) == kept


def test_lester_audit_shows_the_requests_pending_purge_with_their_deadlines(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from lester.cli import main

    write_case(tmp_path)
    result = run(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lester.toml").write_text('[compliance]\npurge_within = "2h"\n')
    store = str(tmp_path / ".lester")
    lt.forget("customers", [busiest_customer(result)], store=store)
    shown = CliRunner().invoke(main, ["audit", "--store", store, "--json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.output)
    (pending,) = document["pending_purges"]
    assert document["purge_within"] == "2h" and pending["action"] == "forget" and not pending["overdue"]
    received = datetime.fromisoformat(pending["received"])
    assert datetime.fromisoformat(pending["deadline"]) - received == timedelta(hours=2)
    table = CliRunner().invoke(main, ["audit", "--store", store])
    assert "requests pending purge (purge_within = 2h)" in table.output
    lt.purge(store)
    after = json.loads(CliRunner().invoke(main, ["audit", "--store", store, "--json"]).output)
    assert after["pending_purges"] == []
