"""Differential validation: the original script and candidates run in sandboxes on sample data,
and the comparison catches what a wrong rewrite gets wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lester.rewrite.analysis import analyze_path
from lester.rewrite.comparison import compare_outputs
from lester.rewrite.sampling import sample_inputs
from lester.rewrite.sandbox import Outputs, run_candidate, run_original

DATA = Path(__file__).parent / "data" / "rewrite"
SCRIPT = DATA / "orders" / "messy.py"
GOOD = (DATA / "candidates" / "orders_good.py").read_text()


def variant(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.fixture(scope="module")
def setting():
    analysis = analyze_path(SCRIPT)
    plan = sample_inputs(analysis, SCRIPT.parent, rows=60)
    original = run_original(SCRIPT, analysis, plan, timeout=30)
    assert original.status == "ok", original.describe_error()
    return analysis, plan, original


def validate(setting, code: str, timeout: float = 30):
    _, plan, original = setting
    candidate = run_candidate(code, plan, script_dir=SCRIPT.parent, timeout=timeout)
    assert candidate.status == "ok", candidate.describe_error()
    return compare_outputs(original, candidate)


def test_the_original_run_captures_files_and_final_variables(setting):
    _, plan, original = setting
    assert {"out/prepared.csv", "out/X.npy", "out/y.npy"} <= set(original.files)
    assert original.found["prepared"] == "file out/prepared.csv"
    assert original.model["class"] == "LogisticRegression" and original.model["params"]["C"] == 0.5
    assert original.X.shape[0] == len(original.prepared) == len(original.y)
    assert any("of 121 rows" in line for line in plan.describe())  # orders were sampled


def test_the_right_rewrite_matches(setting):
    report = validate(setting, GOOD)
    assert report.valid, report.text()
    assert [c.status for c in report.checks] == ["match"] * 4


def test_a_dropped_filter_is_caught_with_the_extra_rows(setting):
    report = validate(setting, variant('orders.filter(f"amount > {MIN_AMOUNT}")', "orders"))
    assert not report.valid
    prepared = next(c for c in report.checks if c.what == "prepared")
    assert prepared.status == "differ" and "0 missing" in prepared.detail
    assert prepared.examples and all(e.startswith("extra row") for e in prepared.examples)
    # every extra row is a small order the script filtered out
    amounts = [float(e.split("amount: ")[1].split(",")[0]) for e in prepared.examples]
    assert all(a <= 10 for a in amounts)


def test_a_left_join_instead_of_an_inner_join_is_caught(setting):
    left = variant('on="customer_id")', 'on="customer_id", how="left")')
    # the labels of unmatched orders are filled, so that the model fits and the rows are compared
    left = left.replace('prepared["premium"].to_numpy()', 'prepared["premium"].fillna(0).to_numpy()')
    report = validate(setting, left)
    prepared = next(c for c in report.checks if c.what == "prepared")
    assert prepared.status == "differ"
    assert "extra row" in prepared.examples[0] and "country: None" in prepared.examples[0]
    assert "X" in {c.what for c in report.differences}  # and the matrix has more rows too


def test_the_candidate_runs_as_lester_run_does_model_fitted(setting):
    # a left join leaves unmatched orders without a label: `lester run` fails fitting the
    # model on them, and so does the sandbox (it used to call make_model() and never fit it)
    _, plan, _ = setting
    left = variant('on="customer_id")', 'on="customer_id", how="left")')
    outputs = run_candidate(left, plan, script_dir=SCRIPT.parent, timeout=30)
    assert outputs.status == "error"
    assert outputs.describe_error().startswith("make_model(): ValueError: Input y contains NaN")


def test_the_candidate_gets_the_stage_parameters_lester_run_passes(setting):
    # a stage that takes keyword parameters is called with the configuration's (none in the
    # sandbox), so its defaults are what is validated; a required one fails as in `lester run`
    _, plan, original = setting
    defaulted = variant("def make_model():\n    return LogisticRegression(C=0.5)",
                        "def make_model(C=0.5):\n    return LogisticRegression(C=C)")
    report = compare_outputs(original, run_candidate(defaulted, plan, script_dir=SCRIPT.parent, timeout=30))
    assert report.valid, report.text()
    required = variant("def make_model():\n    return LogisticRegression(C=0.5)",
                       "def make_model(C):\n    return LogisticRegression(C=C)")
    outputs = run_candidate(required, plan, script_dir=SCRIPT.parent, timeout=30)
    assert outputs.status == "error" and outputs.describe_error().startswith("make_model(): TypeError")


def test_a_mis_encoded_category_and_a_wrong_label_are_caught(setting):
    # one-hot encoding the order category instead of the customer's country: same shape, wrong values
    code = variant('OneHotEncoder(sparse_output=False), ["country"]', 'OneHotEncoder(sparse_output=False), ["category"]')
    code = code.replace('prepared["premium"].to_numpy()', '1 - prepared["premium"].to_numpy()')
    report = validate(setting, code)
    checks = {c.what: c for c in report.checks}
    assert checks["prepared"].status == "match" and checks["model"].status == "match"
    assert checks["X"].status == "differ"
    assert "script columns unmatched" in checks["X"].detail
    assert "matches no candidate column" in checks["X"].examples[0]
    assert checks["y"].status == "differ" and "labels differ" in checks["y"].detail
    assert "for prepared row" in checks["y"].examples[0]


def test_an_infinite_loop_hits_the_time_limit(setting):
    _, plan, _ = setting
    looping = variant("    return text.strip().lower()", "    while True:\n        pass")
    outputs = run_candidate(looping, plan, script_dir=SCRIPT.parent, timeout=4)
    assert outputs.status == "timeout"
    assert "did not finish within the time limit of 4 s" in outputs.describe_error()


def test_a_crashing_candidate_names_the_stage_and_line(setting):
    _, plan, _ = setting
    crashing = variant('return prepared["premium"].to_numpy()', 'return prepared["premium_flag"].to_numpy()')
    outputs = run_candidate(crashing, plan, script_dir=SCRIPT.parent, timeout=30)
    assert outputs.status == "error"
    message = outputs.describe_error()
    assert message.startswith("extract_label(): KeyError") and "lester_candidate_pipeline.py, line" in message


def test_comparison_is_order_insensitive_and_type_tolerant():
    original = Outputs("ok", 0, prepared=pd.DataFrame({"id": [1, 2, 3], "day": ["2024-01-02"] * 3,
                                                     "score": [0.5, 1.0, 2.0]}),
                       X=np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), y=np.array([0, 1, 1]))
    candidate = Outputs("ok", 0, prepared=pd.DataFrame({"score": [2, 0.5, 1], "id": [3.0, 1.0, 2.0],
                                                      "day": pd.to_datetime(["2024-01-02"] * 3),
                                                      "extra": ["a", "b", "c"]}),
                        # rows in the candidate's order, columns swapped
                        X=np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), y=np.array([1, 0, 1]))
    report = compare_outputs(original, candidate)
    assert report.valid, report.text()
    assert "2 in another position" in report.checks[1].detail


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_runs_are_separate_processes_without_secrets_in_either_mode(setting, monkeypatch, tmp_path, mode):
    # warm: forked from a parent that imported the libraries once; cold: a fresh interpreter
    import json
    import os

    _, plan, _ = setting
    monkeypatch.setenv("LESTER_SANDBOX", mode)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-shown")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "also-secret")

    def probe(number: int) -> dict:
        # the run may write nowhere but its own folder: it reports through its output
        code = GOOD.replace("def dataprep(", (
            "import os as _os, json as _json\n"
            "print('PROBE', _json.dumps({'cwd': _os.getcwd(), 'env': dict(_os.environ)}))\n"
            "print('hello from the candidate')\n\n"
            "def dataprep("), 1)
        outputs = run_candidate(code, plan, script_dir=SCRIPT.parent, timeout=30)
        assert outputs.status == "ok", outputs.describe_error()
        assert "hello from the candidate" in outputs.log
        line = next(line for line in outputs.log.splitlines() if line.startswith("PROBE "))
        return json.loads(line.removeprefix("PROBE "))

    first, second = probe(1), probe(2)
    # separate processes in separate folders (inside its PID namespace each run is a low pid)
    assert first["cwd"] != second["cwd"] and not Path(first["cwd"]).exists()  # own folders, removed
    for seen in (first, second):
        assert "OPENAI_API_KEY" not in seen["env"] and "MY_SERVICE_TOKEN" not in seen["env"]
        assert "sk-test-never-shown" not in json.dumps(seen)


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_a_file_the_script_never_closed_is_read_whole(tmp_path, monkeypatch, mode):
    # csv.writer(open(...)) is flushed only when the script's objects go away
    from lester.rewrite.sampling import SamplePlan

    monkeypatch.setenv("LESTER_SANDBOX", mode)
    script = tmp_path / "unclosed.py"
    script.write_text("import csv\nwriter = csv.writer(open('prepared.csv', 'w', newline=''))\n"
                      "writer.writerow(['n', 'text'])\n"
                      "for n in range(5000):\n    writer.writerow([n, 'x' * 20])\n")
    outputs = run_original(script, analyze_path(script), SamplePlan([]), timeout=30)
    assert outputs.status == "ok", outputs.describe_error()
    assert outputs.found["prepared"] == "file prepared.csv" and len(outputs.prepared) == 5000
