"""The rewrite corpus (benchmarks/rewrite_corpus/) is laid out as the contract says and its scripts run.

The tests check every case's layout and run a few cases end to end on 50 rows. To run every
case on 1,000 and on 50 rows (what a corpus author does before committing a case)::

    python tests/test_corpus.py            # all cases
    python tests/test_corpus.py CASE ...   # some cases
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CORPUS = Path(__file__).resolve().parent.parent / "benchmarks" / "rewrite_corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and (p / "expect.json").exists())
OUTPUTS = {"out/prepared.csv", "out/X.npy", "out/y.npy"}
DIFFICULTIES = {"easy", "medium", "hard"}
STYLES = {"corpus", "real-world"}
# One small and quick case of each difficulty, plus the demo's running example.
SMOKE = ["compliance_demo", "sensors_readings_filter", "retail_orders_onehot", "health_labs_partitions"]


def _idiom_vocabulary() -> set[str]:
    """The tags in the corpus README's "Idiom tags" table (rows like ``| `tag` | meaning |``)."""
    section = (CORPUS / "README.md").read_text().split("## Idiom tags", 1)[1].split("\n## ", 1)[0]
    return {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}


def run_case(case: str, rows: int, workdir: Path) -> dict[str, object]:
    """Generate ``rows`` rows of data for ``case`` in a copy under ``workdir`` and run its script.

    Returns the loaded outputs by relative path; raises AssertionError naming the case on failure.
    """
    folder = workdir / case
    shutil.copytree(CORPUS / case, folder, ignore=shutil.ignore_patterns("data", "out", "__pycache__"))
    made = subprocess.run([sys.executable, "make_data.py", "data", str(rows)], cwd=folder, check=False,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, f"{case}: make_data.py data {rows} failed:\n{made.stderr[-3000:]}"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "messy.py"], cwd=folder, check=False, capture_output=True, text=True,
                          timeout=120)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, f"{case} at {rows} rows failed:\n{done.stderr[-3000:]}"
    expect = json.loads((folder / "expect.json").read_text())
    out = folder / "out"
    produced = {str(p.relative_to(folder)) for p in out.iterdir()} if out.is_dir() else set()
    assert produced == set(expect["outputs"]), f"{case}: wrote {sorted(produced)}, expect.json says {expect['outputs']}"
    loaded: dict[str, object] = {"seconds": seconds}
    for name in expect["outputs"]:
        path = folder / name
        loaded[name] = pd.read_csv(path) if name.endswith(".csv") else np.load(path, allow_pickle=False)
    return loaded


def check_outputs(case: str, outputs: dict[str, object]) -> None:
    """Outputs are non-trivial: rows survive, X is a finite float matrix aligned with y and the rows."""
    lengths = set()
    if "out/prepared.csv" in outputs:
        prepared = outputs["out/prepared.csv"]
        assert len(prepared) > 0 and len(prepared.columns) >= 2, f"{case}: empty prepared.csv"
        lengths.add(len(prepared))
    if "out/X.npy" in outputs:
        X = outputs["out/X.npy"]
        assert X.ndim == 2 and X.shape[0] > 0 and X.shape[1] >= 2, f"{case}: X has shape {X.shape}"
        assert X.dtype.kind == "f" and np.isfinite(X).all(), f"{case}: X is not a finite float matrix"
        lengths.add(X.shape[0])
    if "out/y.npy" in outputs:
        y = outputs["out/y.npy"]
        assert y.ndim == 1 and len(np.unique(y)) >= 2, f"{case}: y has fewer than two distinct values"
        lengths.add(len(y))
    assert len(lengths) <= 1, f"{case}: prepared rows, X rows and y disagree in length: {lengths}"


@pytest.mark.parametrize("case", CASES)
def test_case_layout(case: str) -> None:
    folder = CORPUS / case
    assert (folder / "messy.py").is_file() and (folder / "make_data.py").is_file()
    expect = json.loads((folder / "expect.json").read_text())
    assert {"inputs", "outputs", "difficulty", "idioms"} <= set(expect) <= {"inputs", "outputs", "difficulty",
                                                                            "idioms", "style"}
    assert expect["difficulty"] in DIFFICULTIES
    assert expect.get("style", "corpus") in STYLES
    # a case that writes nothing holds X, y and its model in memory: the rewriter captures them
    assert set(expect["outputs"]) <= OUTPUTS and (expect["outputs"] or "no_saved_outputs" in expect["idioms"])
    assert expect["inputs"] and all(p.startswith("data/") for p in expect["inputs"])
    script = (folder / "messy.py").read_text()
    for path in expect["inputs"]:
        # partitioned inputs may be spelled in the script as a name pattern rather than literally
        stem = Path(path).name.split("_")[0]
        assert stem in script, f"{case}: input {path} not visibly read by messy.py"
    unknown = set(expect["idioms"]) - _idiom_vocabulary()
    assert not unknown, f"{case}: idioms not documented in the corpus README: {unknown}"


def test_corpus_covers_every_idiom_and_difficulty() -> None:
    used = set()
    difficulties = []
    for case in CASES:
        expect = json.loads((CORPUS / case / "expect.json").read_text())
        used |= set(expect["idioms"])
        difficulties.append(expect["difficulty"])
    assert _idiom_vocabulary() - used == set()
    assert len(CASES) >= 20 and {d: difficulties.count(d) >= 5 for d in DIFFICULTIES} == dict.fromkeys(DIFFICULTIES, True)


@pytest.mark.parametrize("case", SMOKE)
def test_case_runs_on_a_small_sample(case: str, tmp_path: Path) -> None:
    check_outputs(case, run_case(case, 50, tmp_path))


def test_make_data_is_deterministic(tmp_path: Path) -> None:
    for attempt in ("a", "b"):
        subprocess.run([sys.executable, str(CORPUS / "compliance_demo" / "make_data.py"), str(tmp_path / attempt), "30"],
                       check=True, capture_output=True)
    for name in ("customers.csv", "mails.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def _main(cases: list[str]) -> int:
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            for rows in (1000, 50):
                workdir = Path(tmp) / f"{rows}"
                workdir.mkdir(exist_ok=True)
                try:
                    outputs = run_case(case, rows, workdir)
                    check_outputs(case, outputs)
                except AssertionError as error:
                    failed += 1
                    print(f"FAIL {case} {rows}: {error}")
                    continue
                shapes = {k: (v.shape if hasattr(v, "shape") else v) for k, v in outputs.items() if k != "seconds"}
                print(f"ok   {case:<34} {rows:>5} rows {outputs['seconds']:.2f} s {shapes}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:] or CASES))
