"""The command line as scripts use it: --json, -q/-v, LESTER_STORE, full run ids, plain
output when not a terminal, `lester audit`, a fast --help, notebook displays (issue 14)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from lester.cli import main

HEAVY = ("pandas", "numpy", "sklearn", "duckdb", "libcst", "scipy", "pyarrow", "rich.table")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """One demo store for the module (the demo takes seconds); a long folder name so that a
    suggested command is longer than rich's 80 columns."""
    workdir = tmp_path_factory.mktemp("scripting") / ("a-rather-long-folder-name-for-the-demo-" * 2)
    # --keep-history: these tests explore every version, which the demo's purge would remove
    result = CliRunner().invoke(main, ["demo", "--customers", "200", "--workdir", str(workdir), "--keep-history"])
    assert result.exit_code == 0, result.output
    results = json.loads((workdir / "demo_results.json").read_text())
    return {"workdir": workdir, "store": workdir / ".lester", "output": result.output, "results": results}


def _invoke(args: list[str], env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _json(args: list[str], env: dict[str, str] | None = None):
    return json.loads(_invoke(args, env).stdout)


def _stored_runs(store: Path) -> set[str]:
    return {p.name for p in (store / "runs").iterdir() if not p.name.startswith(".")}


def _modules_imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh ``python -m lester.cli ARGS`` imports (from ``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "lester.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)}


# -- a fast --help and completion --------------------------------------------------------
@pytest.mark.parametrize("args", [["--help"], ["runs", "--help"], ["forget", "--help"], ["audit", "--help"],
                                  ["--version"]])
def test_help_imports_no_heavy_module(args):
    modules = _modules_imported(*args)
    assert "click" in modules
    assert not _heavy(modules), sorted(_heavy(modules))


def test_shell_completion_imports_no_heavy_module():
    script = Path(sys.executable).parent / "lester"
    if not script.exists():
        pytest.skip("the lester console script is not installed beside this Python")
    env = {**os.environ, "_LESTER_COMPLETE": "bash_complete", "COMP_WORDS": "lester ", "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-X", "importtime", str(script)], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.split(",")[-1] for line in done.stdout.splitlines()}
    assert {"runs", "show", "trace", "forget", "redact", "audit", "rewrite", "demo"} <= names
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    assert not _heavy(modules), sorted(_heavy(modules))


def test_import_lester_is_lazy_and_the_api_still_works():
    code = ("import sys, lester as lt; heavy = [m for m in ('pandas', 'sklearn', 'duckdb', 'libcst') "
            "if m in sys.modules]; assert not heavy, heavy; "
            "from lester import Frame, read_csv, forget, LesterError; "
            "assert lt.read_csv is read_csv and callable(lt.rewrite) and callable(lt.runs); "
            "import lester.pipeline as p, lester.ivm as i; assert p.RunResult and i.MaintenanceReport; "
            "print(lt.__version__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_lazy_commands_have_their_real_short_help():
    from lester.cli import _LAZY_COMMANDS

    ctx = main.make_context("lester", ["runs"], resilient_parsing=True)
    for name, (_module, _attribute, short_help) in _LAZY_COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.get_short_help_str(limit=300) == short_help


# -- plain output, full run ids, pandas 3 ------------------------------------------------
def test_suggested_commands_stay_on_one_line_when_not_a_terminal(demo):
    store = demo["store"]
    assert len(f"store:   {store}  (try: lester runs --store {store})") > 80
    (line,) = [line for line in demo["output"].splitlines() if line.startswith("store:")]
    assert f"(try: lester runs --store {store})" in line
    assert "\x1b[" not in demo["output"]  # no colours


def test_runs_on_a_store_with_forget_and_redact_versions(demo):
    # under pandas 3 a version's missing values reached rich as floats and crashed it
    result = _invoke(["runs", "--store", str(demo["store"])])
    for run_id in (demo["results"]["run"], *(r["new_run"] for r in demo["results"]["requests"])):
        assert re.search(rf"(^|\s){run_id}(\s|$)", result.output, re.MULTILINE), result.output


def test_runs_json_and_quiet(demo):
    store = str(demo["store"])
    document = _json(["runs", "--store", store, "--json"])
    runs = {r["run_id"]: r for r in document["runs"]}
    assert set(runs) == _stored_runs(demo["store"])
    original = demo["results"]["run"]
    forgot = demo["results"]["requests"][0]["new_run"]
    assert runs[forgot]["parent_run"] == original and runs[original]["parent_run"] is None
    assert isinstance(runs[original]["test_metrics"]["accuracy"], float)
    quiet = _invoke(["runs", "--store", store, "-q"]).output.split()
    assert set(quiet) == _stored_runs(demo["store"])
    assert _invoke(["-q", "runs", "--store", store]).output.split() == quiet  # as a global option
    assert _json(["--json", "runs", "--store", store]) == document


def test_lester_store_variable_is_the_default_store(demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    document = _json(["runs", "--json"], env={"LESTER_STORE": str(demo["store"])})
    assert {r["run_id"] for r in document["runs"]} == _stored_runs(demo["store"])
    assert "LESTER_STORE" in _invoke(["runs", "--help"]).output


def test_show_has_configuration_parent_metrics_and_audit(demo):
    store = str(demo["store"])
    forgot = demo["results"]["requests"][0]
    text = _invoke(["show", forgot["new_run"], "--store", store]).output
    assert "test_size" in text and "configuration" in text
    assert f"parent {demo['results']['run']}" in text
    assert "accuracy" in text and "forget" in text and demo["results"]["run"] in text
    # a prefix: two runs may start in the same second, so it keeps some of the random part
    document = _json(["show", forgot["new_run"][:-2], "--store", store, "--json"])
    assert document["run_id"] == forgot["new_run"] and document["parent_run"] == demo["results"]["run"]
    assert document["config"]["split"]["test_size"] == 0.2
    assert {m["name"] for m in document["metrics"]} >= {"accuracy"}
    (entry,) = [e for e in document["audit"] if e["new_run_id"] == forgot["new_run"]]
    assert entry["action"] == "forget" and entry["run_id"] == demo["results"]["run"]
    assert entry["entry_id"] in text
    assert _invoke(["show", forgot["new_run"], "--store", store, "-q"]).output.strip() == forgot["new_run"]


def test_audit_lists_the_log(demo):
    store = str(demo["store"])
    document = _json(["audit", "--store", store, "--json"])
    actions = {e["action"]: e for e in document["entries"]}
    assert {"forget", "redact"} <= set(actions)
    assert actions["redact"]["new_run_id"] == demo["results"]["requests"][1]["new_run"]
    assert actions["redact"]["request"]["column"] == "mail_text"
    text = _invoke(["audit", "--store", store]).output
    assert actions["forget"]["entry_id"] in text and actions["redact"]["new_run_id"] in text
    assert set(_invoke(["audit", "--store", store, "-q"]).output.split()) == {e["entry_id"] for e in document["entries"]}


def test_trace_json_both_ways(demo):
    store = str(demo["store"])
    run_id = demo["results"]["run"]
    back = _json(["trace", "--run", run_id[:-2], "--train-row", "0", "--store", store, "--json"])
    assert back["run_id"] == run_id and back["split"] == "train" and back["origins"]
    origin = next(o for o in back["origins"] if o["source"] == "customers")
    forward = _json(["trace", "--source", "customers", "--id", origin["source_id"], "--store", store, "--json"])
    assert run_id in {h["run_id"] for h in forward["hits"]}
    assert all(len(h["run_id"]) == len(run_id) for h in forward["hits"])


def test_forget_and_redact_json_quiet_and_full_ids(demo):
    store = demo["store"]
    latest = demo["results"]["requests"][1]["new_run"]
    customer = str(pd.read_parquet(store / "runs" / latest / "train.parquet")["customer_id"].iloc[0])
    dry = _json(["redact", "--source", "mails", "--column", "mail_text", "--where", "mail_text LIKE '%a%'",
                 "--run", latest, "--dry-run", "--json", "--store", str(store)])
    assert dry["action"] == "redact" and dry["dry_run"] and dry["changes"][0]["run_id"] == latest

    before = _stored_runs(store)
    # the demo's customers have no key column: rows are named by a predicate
    report = _json(["forget", "--source", "customers", "--where", f"customer_id = '{customer}'", "--run", latest, "--json",
                    "--store", str(store)])
    (new,) = _stored_runs(store) - before
    assert report["action"] == "forget" and report["new_runs"] == [new]
    assert report["changes"][0]["run_id"] == latest and report["changes"][0]["rows_removed"]["train"] >= 1

    # as text the full new id is there to copy; quietly, only the new id
    customer = str(pd.read_parquet(store / "runs" / new / "train.parquet")["customer_id"].iloc[0])
    text = _invoke(["forget", "--source", "customers", "--where", f"customer_id = '{customer}'", "--run", new,
                    "--store", str(store)]).output
    (newer,) = _stored_runs(store) - before - {new}
    assert newer in text and "…" not in text
    customer = str(pd.read_parquet(store / "runs" / newer / "train.parquet")["customer_id"].iloc[0])
    quiet = _invoke(["forget", "--source", "customers", "--where", f"customer_id = '{customer}'", "--run", newer, "-q",
                     "--store", str(store)]).output
    (newest,) = _stored_runs(store) - before - {new, newer}
    assert quiet.strip() == newest


def test_run_json_and_quiet(demo):
    workdir, store = demo["workdir"], str(demo["store"])
    sources = ["--source", f"customers={workdir / 'data' / 'customers.csv'}",
               "--source", f"mails={workdir / 'data' / 'mails.csv'}"]
    document = _json(["run", str(workdir / "pipeline.py"), *sources, "--store", store, "--json"])
    assert document["run_id"] in _stored_runs(demo["store"])
    assert 0 <= document["metrics"]["test"]["accuracy"] <= 1
    quiet = _invoke(["run", str(workdir / "pipeline.py"), *sources, "--store", store, "-q"]).output
    assert quiet.strip() in _stored_runs(demo["store"]) and len(quiet.strip().splitlines()) == 1


def test_plain_output_through_a_pipe(demo):
    """Not through CliRunner: the real program, its stdout a pipe."""
    store = demo["store"]
    done = subprocess.run([sys.executable, "-m", "lester.cli", "runs", "--store", str(store)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "60"}, check=False)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout and "…" not in done.stdout
    for run_id in _stored_runs(store):
        assert run_id in done.stdout


def test_read_commands_refuse_a_missing_store_and_unknown_sources(demo, tmp_path):
    for command in (["runs"], ["audit"], ["show", "x"], ["trace", "--source", "customers", "--id", "1"]):
        result = CliRunner().invoke(main, [*command, "--store", str(tmp_path / "typo"), "--json"])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert not (tmp_path / "typo").exists()
    result = CliRunner().invoke(main, ["trace", "--source", "orders", "--id", "1", "--store", str(demo["store"])])
    assert result.exit_code == 2 and "'orders'" in result.output and "customers" in result.output


def test_rewrite_prints_its_report_as_json(tmp_path, monkeypatch):
    import shutil

    from tests.test_rewrite_llm import DATA

    shutil.copytree(DATA / "orders", tmp_path / "orders")
    monkeypatch.chdir(tmp_path / "orders")
    result = CliRunner().invoke(main, ["--json", "rewrite", "messy.py", "--timeout", "30"])
    report = json.loads(result.stdout)
    # its one-hot comprehension keeps the rules to one opaque step: the outputs match, but the
    # rows have no provenance through it, so it is "reproduced" (exit 3), never "valid"
    assert result.exit_code == 3 and report["status"] == "reproduced" and not report["valid"]
    assert report["output"].endswith("pipeline.py") and report["opaque_steps"]
    assert "REPRODUCED, NOT VALID" in Path("pipeline.py").read_text()
    assert set(report["sandbox"]) >= {"network", "filesystem", "processes"}


# -- formatting ---------------------------------------------------------------------------
def _report(retrain_seconds: float = 0.33):
    from lester.ivm.maintain import MaintenanceReport, RunChange
    from lester.ivm.verify import Verification

    verification = Verification(agreement=1.0, metric="accuracy", metric_incremental=0.9, metric_retrain=0.9,
                                metric_delta=0.0, parameter_distance=0.01, old_parameter_distance=0.2,
                                retrain_seconds=retrain_seconds, test_rows_compared=10, test_rows_unmatched=0)
    change = RunChange(run_id="20261201-182305-abcdef", new_run_id="20261201-182306-fedcba",
                       rows_removed={"train": 1}, rows_added={}, strategy="newton_step", exact=False,
                       detail="<script>alert(1)</script>", dataprep="affected rows only",
                       seconds={"total": 1.0}, metrics_before={"accuracy": 0.9}, metrics_after={"accuracy": 0.9},
                       verification=verification)
    return MaintenanceReport(action="forget", request={"source": "customers", "ids": ["C1"]}, changes=[change],
                             message="forget: 1 run(s) affected", dry_run=False, seconds=1.0)


def test_speedups_keep_their_precision():
    from rich.console import Console

    from lester.ivm.cli import print_report

    console = Console(record=True, width=300)
    print_report(_report(0.33), console)
    assert "0.33x" in console.export_text()


def test_notebook_displays_escape_their_values():
    import numpy as np

    from lester.pipeline.runner import RunResult

    html = _report()._repr_html_()
    assert "<table" in html and "20261201-182306-fedcba" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    result = RunResult(run_id="20261201-182305-abcdef", folder=Path("/tmp/<x>"), train=pd.DataFrame({"a": [1, 2]}),
                       test=pd.DataFrame({"a": [3]}), X_train=None, X_test=None, y_train=np.array([0, 1]),
                       y_test=np.array([1]), predictions=None, encoder=None, model=None,
                       metrics={"test": {"accuracy": 0.5}}, seconds={"total": 1.5})
    html = result._repr_html_()
    assert "<table" in html and "20261201-182305-abcdef" in html and "0.5000" in html
    assert "/tmp/&lt;x&gt;" in html
