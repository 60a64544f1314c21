"""The opaque fallback obtains the script's outputs from memory, as the sandbox captures them.

A script kept as one opaque step used to be readable only through ``out/X.npy`` and
``out/y.npy``: a script that saves nothing, or a prep-only one, failed with ``KeyError: '_y'``.
The module now runs the script instrumented (``capture.run_script``) and its stages run under
``lester run`` and in the sandbox alike.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lester.pipeline.runner import run
from lester.rewrite.analysis import analyze_path
from lester.rewrite.comparison import compare_outputs
from lester.rewrite.rules.opaque import opaque_program
from lester.rewrite.rules.program import RulesUnsupported
from lester.rewrite.sampling import sample_inputs
from lester.rewrite.sandbox import run_candidate, run_original

ROWS = 90

SAVES_NOTHING = """
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    df = pd.read_csv("data/people.csv")
    df["age"] = df["age"].fillna(df["age"].median())
    X = pd.get_dummies(df[["age", "income", "city"]], columns=["city"])
    y = df["label"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=1)
    LogisticRegression(C=0.3, max_iter=500).fit(X_train, y_train)
"""

PREP_ONLY = """
    import os
    import pandas as pd

    df = pd.read_csv("data/people.csv")
    df = df[df["income"] > 45]
    os.makedirs("out", exist_ok=True)
    df.to_csv("out/prepared.csv", index=False)
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    (tmp_path / "data").mkdir()
    age = rng.integers(18, 90, ROWS).astype(float)
    age[::7] = np.nan
    pd.DataFrame({
        "id": range(ROWS), "age": age, "city": rng.choice(["Oslo", "Rome", "Lima"], ROWS),
        "income": rng.normal(50, 10, ROWS).round(2), "label": rng.integers(0, 2, ROWS),
    }).to_csv(tmp_path / "data" / "people.csv", index=False)
    return tmp_path


def _opaque(folder: Path, source: str) -> tuple[Path, str]:
    script = folder / "messy.py"
    script.write_text(textwrap.dedent(source))
    cause = RulesUnsupported("dataprep", (1, 2), "kept opaque by the test", "messy.py")
    code = opaque_program(script.read_text(), "messy.py", cause).code
    (folder / "pipeline.py").write_text(code)
    return script, code


def _validate(folder: Path, script: Path, code: str):
    analysis = analyze_path(script)
    plan = sample_inputs(analysis, folder, rows=1000)
    original = run_original(script, analysis, plan, timeout=60)
    assert original.status == "ok", original.describe_error()
    candidate = run_candidate(code, plan, script_dir=folder, timeout=60)
    assert candidate.status == "ok", candidate.describe_error()
    return original, candidate, compare_outputs(original, candidate)


def test_a_script_that_saves_nothing_is_validated_through_its_fit(folder: Path) -> None:
    script, code = _opaque(folder, SAVES_NOTHING)
    original, candidate, report = _validate(folder, script, code)
    assert report.valid, report.text()
    checks = {c.what: c.status for c in report.checks}
    assert checks == {"prepared": "match", "X": "match", "y": "match", "model": "match"}
    assert candidate.model["class"] == "LogisticRegression" and candidate.model["params"]["C"] == 0.3
    assert len(candidate.y) == ROWS  # all rows given to the split, not its training part


def test_the_opaque_module_runs_under_lester_run_with_model_parameters(folder: Path, monkeypatch) -> None:
    _opaque(folder, SAVES_NOTHING)
    monkeypatch.chdir(folder)
    result = run("pipeline.py", store=folder / ".lester", cache=False, capture=False)
    assert type(result.model).__name__ == "LogisticRegression" and result.model.C == 0.3
    assert len(result.y_train) + len(result.y_test) == ROWS
    changed = run("pipeline.py", overrides=["model.C=0.5"], store=folder / ".lester", cache=False, capture=False)
    assert changed.model.C == 0.5 and changed.model.max_iter == 500


def test_the_estimator_is_found_again_when_dataprep_comes_from_the_cache(folder: Path, monkeypatch) -> None:
    _opaque(folder, SAVES_NOTHING)
    monkeypatch.chdir(folder)
    run("pipeline.py", store=folder / ".lester", capture=False)
    import sys

    for name in [n for n in sys.modules if n.startswith("lester_pipeline_")]:
        del sys.modules[name]  # a new process: nothing of the first run is in memory
    again = run("pipeline.py", overrides=["model.C=0.7"], store=folder / ".lester", capture=False)
    assert again.cached["dataprep"] and again.model.C == 0.7


def test_a_prep_only_script_is_a_data_preparation_pipeline(folder: Path, monkeypatch) -> None:
    script, code = _opaque(folder, PREP_ONLY)
    _, candidate, report = _validate(folder, script, code)
    assert report.valid, report.text()
    assert [c.what for c in report.checks] == ["prepared"]
    assert candidate.X is None and candidate.model is None
    monkeypatch.chdir(folder)
    result = run("pipeline.py", store=folder / ".lester", cache=False, capture=False)
    kept = (pd.read_csv("data/people.csv")["income"] > 45).sum()
    assert result.model is None and len(result.train) + len(result.test) == kept


def test_a_script_that_saves_x_and_y_but_fits_nothing_has_no_model(folder: Path, monkeypatch) -> None:
    script, code = _opaque(folder, """
        import os
        import numpy as np
        import pandas as pd

        df = pd.read_csv("data/people.csv").dropna()
        os.makedirs("out", exist_ok=True)
        np.save("out/X.npy", df[["age", "income"]].to_numpy())
        np.save("out/y.npy", df["label"].to_numpy())
    """)
    _, candidate, report = _validate(folder, script, code)
    assert report.valid, report.text()
    assert {c.what for c in report.checks} == {"X", "y"} and candidate.model is None
