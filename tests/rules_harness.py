"""Run a messy script and its compiled pipeline side by side and compare what they produce.

Used by the rules-engine tests and, as a script, to measure the rules engine on a corpus:

    python tests/rules_harness.py benchmarks/rewrite_corpus [ROWS] [CASE ...]
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from lester.pipeline.definition import load_pipeline
from lester.rewrite.rules import compile_script


def run_original(script: Path, folder: Path, timeout: float = 60) -> dict:
    """Run ``script`` with cwd ``folder``; return the outputs it wrote under out/."""
    shutil.copy(script, folder / "messy.py")
    (folder / "out").mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "messy.py"], cwd=folder, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the original script failed:\n{done.stderr[-2000:]}")
    return read_outputs(folder / "out")


def read_outputs(out: Path) -> dict:
    found = {}
    if (out / "prepared.csv").exists():
        found["prepared"] = pd.read_csv(out / "prepared.csv")
    for name in ("X", "y"):
        if (out / f"{name}.npy").exists():
            found[name] = np.load(out / f"{name}.npy", allow_pickle=False)
    return found


def run_pipeline(code: str, folder: Path, outputs: dict) -> dict:
    """Import the generated module in ``folder`` and compute what the original produced."""
    path = folder / "pipeline_rules.py"
    path.write_text(code)
    here = os.getcwd()
    os.chdir(folder)
    try:
        pipeline = load_pipeline(path)
        prepared = pipeline.dataprep().to_pandas()
        result = {"prepared": prepared}
        if "X" in outputs:
            result["X"] = np.asarray(pipeline.encode_features().fit_transform(prepared), dtype=float)
        if "y" in outputs:
            result["y"] = np.asarray(pipeline.extract_label(prepared))
        return result
    finally:
        os.chdir(here)


def _canonical(value):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        if isinstance(value, (float, np.floating)) and math.isnan(value):
            return None
        return float(f"{float(value):.9g}")
    if isinstance(value, str):
        if value in ("True", "False"):
            return 1.0 if value == "True" else 0.0
        if value == "":
            return None
        try:
            return float(f"{float(value):.9g}")
        except ValueError:
            return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _keys(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(_canonical(v) for v in row) for row in frame[columns].itertuples(index=False, name=None)]


def compare(original: dict, candidate: dict) -> list[str]:
    """Differences between the outputs (empty when equivalent)."""
    problems: list[str] = []
    order = None
    if "prepared" in original:
        theirs = original["prepared"]
        mine = candidate["prepared"]
        missing = [c for c in theirs.columns if c not in mine.columns]
        if missing:
            return [f"prepared: missing columns {missing} (has {list(mine.columns)})"]
        cols = list(theirs.columns)
        a, b = _keys(theirs, cols), _keys(mine, cols)
        if Counter(a) != Counter(b):
            extra = list((Counter(b) - Counter(a)).elements())[:2]
            lost = list((Counter(a) - Counter(b)).elements())[:2]
            return [f"prepared: {len(a)} vs {len(b)} rows; missing e.g. {lost}; extra e.g. {extra}"]
        positions: dict[tuple, list[int]] = {}
        for i, key in enumerate(b):
            positions.setdefault(key, []).append(i)
        order = [positions[key].pop(0) for key in a]
    for name in ("X", "y"):
        if name not in original:
            continue
        theirs = np.asarray(original[name])
        mine = np.asarray(candidate[name])
        if order is not None and len(mine) == len(order):
            mine = mine[order]
        if theirs.shape[0] != mine.shape[0]:
            problems.append(f"{name}: {theirs.shape} vs {mine.shape}")
            continue
        if name == "y":
            if not np.allclose(theirs.astype(float), mine.astype(float), equal_nan=True):
                problems.append(f"y: {int((theirs != mine).sum())} labels differ")
            continue
        theirs2 = theirs.reshape(len(theirs), -1).astype(float)
        mine2 = mine.reshape(len(mine), -1).astype(float)
        if theirs2.shape[1] != mine2.shape[1]:
            problems.append(f"X: {theirs2.shape[1]} vs {mine2.shape[1]} columns")
            continue
        used = set()
        for j in range(theirs2.shape[1]):
            match = next((k for k in range(mine2.shape[1]) if k not in used and np.allclose(
                theirs2[:, j], mine2[:, k], rtol=1e-6, atol=1e-8, equal_nan=True)), None)
            if match is None:
                problems.append(f"X: column {j} matches no column of the pipeline's X")
                break
            used.add(match)
    return problems


def check_case(case: Path, rows: int = 1000, keep: bool = False) -> dict:
    """Compile ``case/messy.py``, run both on ``rows`` generated rows, and compare."""
    folder = Path(tempfile.mkdtemp(prefix=f"rules-{case.name}-"))
    try:
        subprocess.run([sys.executable, str(case / "make_data.py"), str(folder / "data"), str(rows)],
                       check=True, capture_output=True, timeout=120)
        original = run_original(case / "messy.py", folder)
        start = time.perf_counter()
        program = compile_script((case / "messy.py").read_text(), filename="messy.py")
        compiled = time.perf_counter() - start
        candidate = run_pipeline(program.code, folder, original)
        elapsed = time.perf_counter() - start
        problems = compare(original, candidate)
        return {"case": case.name, "ok": not problems, "problems": problems, "opaque": bool(program.opaque_steps),
                "seconds": elapsed, "compile_seconds": compiled, "program": program}
    except Exception as exc:  # reported per case
        return {"case": case.name, "ok": False, "problems": [f"{type(exc).__name__}: {exc}"], "opaque": None,
                "seconds": 0.0, "program": None}
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    corpus = Path(argv[0])
    rows = int(argv[1]) if len(argv) > 1 else 1000
    only = set(argv[2:])
    results = []
    for case in sorted(p for p in corpus.iterdir() if (p / "messy.py").exists()):
        if only and case.name not in only:
            continue
        result = check_case(case, rows)
        results.append(result)
        status = "OK " if result["ok"] else "BAD"
        kind = "opaque" if result["opaque"] else ("declarative" if result["opaque"] is False else "-")
        print(f"{status} {case.name:34s} {kind:12s} {result['seconds']:.2f}s  {'; '.join(result['problems'])[:300]}")
        if result["opaque"] and result["program"]:
            print("     ", result["program"].notes[0][:300])
    ok = sum(r["ok"] for r in results)
    declarative = sum(r["ok"] and r["opaque"] is False for r in results)
    print(f"{ok}/{len(results)} equivalent, {declarative} without an opaque step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
