"""``make_model(**params)``: a rewrite exposes the script's hyper-parameters, so that
``lester run pipeline.py --set model.C=...`` changes the fitted model, through the same
contract the rewrite was validated with (``lester/pipeline/definition.py``)."""

from __future__ import annotations

import inspect
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import lester as lt
from lester.cli import main
from lester.pipeline.definition import load_pipeline

ORDERS = Path(__file__).parent / "data" / "rewrite" / "orders"
CLAIMS = Path(__file__).parent.parent / "benchmarks" / "rewrite_corpus" / "insurance_claims_policies"


def _fitted_model(store: Path):
    runs = sorted((store / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    with open(runs[-1] / "model.pkl", "rb") as handle:
        return pickle.load(handle)  # noqa: S301 - the store this test just wrote


def _case(name: str, tmp_path: Path) -> Path:
    if name == "declarative":  # a corpus case the rules translate whole
        work = tmp_path / CLAIMS.name
        shutil.copytree(CLAIMS, work, ignore=shutil.ignore_patterns("data", "out", "__pycache__"))
        subprocess.run([sys.executable, "make_data.py", "data", "400"], cwd=work, check=True, capture_output=True)
        return work
    work = tmp_path / "orders"  # its one-hot comprehension keeps it one opaque step
    shutil.copytree(ORDERS, work)
    return work


@pytest.mark.parametrize(("kind", "status"), [("declarative", "valid"), ("opaque", "reproduced")])
def test_set_model_parameter_on_a_rewrite_changes_the_fitted_model(kind: str, status: str, tmp_path: Path,
                                                                   monkeypatch) -> None:
    work = _case(kind, tmp_path)
    result = lt.rewrite(work / "messy.py", engine="rules", timeout=60)
    assert result.status == status, result.report.message
    result.write(work / "pipeline.py")
    make_model = load_pipeline(work / "pipeline.py").make_model
    if kind == "declarative":
        # the script's literal C=0.5 is the stage's parameter, with the script's value as default
        assert inspect.signature(make_model).parameters["C"].default == 0.5

    monkeypatch.chdir(work)
    cli = CliRunner()
    plain = cli.invoke(main, ["run", "pipeline.py"])
    assert plain.exit_code == 0, plain.output
    assert _fitted_model(work / ".lester").C == 0.5
    changed = cli.invoke(main, ["run", "pipeline.py", "--set", "model.C=0.05"])
    assert changed.exit_code == 0, changed.output
    fitted = _fitted_model(work / ".lester")
    assert type(fitted).__name__ == "LogisticRegression" and fitted.C == 0.05
