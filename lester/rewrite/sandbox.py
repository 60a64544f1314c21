"""Run the original script and a candidate pipeline in separate sandboxed subprocesses.

Each run gets its own temporary folder holding the sample inputs at the relative paths the
script uses, a time limit (the whole process group is killed when it runs over), an
environment without API keys, and a non-interactive plotting backend. What a run produced
comes back as :class:`Outputs`: files written, prepared data, X, y and the model's class and
parameters.

Example:
    >>> original = run_original("messy.py", analysis, plan, timeout=30)   # doctest: +SKIP
    >>> candidate = run_candidate(code, plan, timeout=30)                  # doctest: +SKIP
    >>> original.prepared.shape, candidate.X.shape                         # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lester.rewrite.analysis import ScriptAnalysis
from lester.rewrite.sampling import SamplePlan

CAPTURE = ".lester-capture"
CANDIDATE_FILE = "lester_candidate_pipeline.py"
_TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".json", ".jsonl", ".pkl")
_SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")


@dataclass
class Outputs:
    """What one sandboxed run produced. ``status`` is ``ok``, ``error`` or ``timeout``."""

    status: str
    seconds: float
    error: dict[str, Any] | None = None
    prepared: pd.DataFrame | None = None
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    model: dict[str, Any] | None = None
    files: dict[str, int] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)  # role -> "file out/X.npy" / "variable X"
    log: str = ""

    def describe_error(self) -> str:
        if self.status == "timeout":
            return f"did not finish within the time limit of {self.seconds:.0f} s (killed)"
        if not self.error:
            return ""
        where = "; ".join(self.error.get("where") or [])
        stage = f"{self.error['stage']}(): " if self.error.get("stage") else ""
        text = f"{stage}{self.error['type']}: {self.error['message']}"
        return f"{text} ({where})" if where else text


def safe_environment() -> dict[str, str]:
    """The current environment without anything that looks like a credential."""
    env = {
        name: value for name, value in os.environ.items()
        if not any(marker in name.upper() for marker in _SECRET_MARKERS)
        and not name.upper().startswith(("OPENAI_", "AZURE_OPENAI"))
    }
    env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


def run_original(
    script: str | os.PathLike,
    analysis: ScriptAnalysis,
    plan: SamplePlan,
    *,
    timeout: float = 60,
) -> Outputs:
    """Run the user's script (a notebook's code cells as one script) on the sample inputs."""
    script = Path(script)
    with tempfile.TemporaryDirectory(prefix="lester-original-") as folder:
        sandbox = Path(folder)
        _copy_local_modules(script.parent, sandbox)
        name = script.name if script.suffix == ".py" else f"{script.stem}_cells.py"
        (sandbox / name).write_text(analysis.source, encoding="utf-8")
        plan.copy_into(sandbox)
        before = _snapshot(sandbox)
        roles = json.dumps(analysis.roles)
        outputs = _run(["original", name, CAPTURE, roles], sandbox, timeout)
        outputs.files = _changed(before, _snapshot(sandbox))
        if outputs.status != "timeout":
            _collect_original(outputs, sandbox, analysis)
        return outputs


def run_candidate(
    code: str,
    plan: SamplePlan,
    *,
    script_dir: str | os.PathLike | None = None,
    timeout: float = 60,
) -> Outputs:
    """Run a candidate pipeline module's stages on the sample inputs (its default paths)."""
    with tempfile.TemporaryDirectory(prefix="lester-candidate-") as folder:
        sandbox = Path(folder)
        if script_dir is not None:
            _copy_local_modules(Path(script_dir), sandbox)
        (sandbox / CANDIDATE_FILE).write_text(code, encoding="utf-8")
        plan.copy_into(sandbox)
        outputs = _run(["candidate", CANDIDATE_FILE, CAPTURE], sandbox, timeout)
        if outputs.status != "timeout":
            _collect_captured(outputs, sandbox / CAPTURE, label="candidate")
        return outputs


def _run(arguments: list[str], sandbox: Path, timeout: float) -> Outputs:
    started = time.perf_counter()
    launched = _warm_run(arguments, sandbox, timeout)
    if launched is None:
        launched = _cold_run(arguments, sandbox, timeout)
    status, text, seconds = launched
    if status == "timeout":
        return Outputs("timeout", timeout)
    seconds = seconds if seconds is not None else time.perf_counter() - started
    text = text[-4000:]
    result_file = sandbox / CAPTURE / "result.json"
    if not result_file.exists():
        return Outputs("error", seconds, {"type": "SandboxError", "message": f"the run ended with exit "
                       f"status {status} before reporting: {text[-800:]}", "where": []}, log=text)
    result = json.loads(result_file.read_text())
    outputs = Outputs(result["status"], seconds, result.get("error"), log=text)
    return outputs


def _cold_run(arguments: list[str], sandbox: Path, timeout: float) -> tuple[Any, str, float | None]:
    """A fresh interpreter for the run: (exit status or "timeout", log, None)."""
    # run the runner as a file: the original script should not pay for importing lester
    command = [sys.executable, str(Path(__file__).with_name("sandbox_runner.py")), *arguments]
    process = subprocess.Popen(
        command, cwd=sandbox, env=safe_environment(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        log, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # the script may have started children of its own: end the whole group
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return "timeout", "", None
    return process.returncode, log.decode("utf-8", "replace"), None


class _WarmParent:
    """The client side of ``sandbox_zygote.py``: one warm process per lester process, started
    on first use, whose forked children run the sandboxes."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sandbox_zygote.py"))],
            env=safe_environment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1,
        )
        self.lock = threading.Lock()
        self.replies: dict[str, queue.Queue] = {}
        self.ready = threading.Event()
        self.alive = True
        threading.Thread(target=self._read, daemon=True).start()
        atexit.register(self.close)

    def _read(self) -> None:
        for line in self.process.stdout:
            message = json.loads(line)
            if message.get("ready"):
                self.ready.set()
                continue
            with self.lock:
                box = self.replies.get(message["id"])
            if box is not None:
                box.put(message)
        self.alive = False
        self.ready.set()
        with self.lock:
            for box in self.replies.values():
                box.put({"gone": True})

    def run(self, arguments: list[str], sandbox: Path, timeout: float) -> tuple[Any, str, float] | None:
        """(exit status or "timeout", log, seconds), or None when the warm parent is gone."""
        if not self.alive:
            return None
        job_id = uuid.uuid4().hex
        box: queue.Queue = queue.Queue()
        with self.lock:
            self.replies[job_id] = box
        handle, name = tempfile.mkstemp(prefix="lester-sandbox-", suffix=".log")
        os.close(handle)
        log = Path(name)  # outside the sandbox, so it is not taken for a file the run wrote
        job = {"id": job_id, "args": arguments, "cwd": str(sandbox), "env": safe_environment(),
               "log": str(log)}
        try:
            try:
                with self.lock:
                    self.process.stdin.write(json.dumps(job) + "\n")
                    self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                self.alive = False
                return None
            started = box.get()  # the child's pid: the time limit runs from its start
            if "pid" not in started:
                return None
            begun = time.perf_counter()
            try:
                ended = box.get(timeout=timeout)
            except queue.Empty:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(started["pid"], signal.SIGKILL)
                box.get()  # its exit, reported once the group is gone
                return "timeout", "", timeout
            if "exit" not in ended:
                return None
            text = log.read_text("utf-8", "replace") if log.exists() else ""
            return ended["exit"], text, time.perf_counter() - begun
        finally:
            with self.lock:
                self.replies.pop(job_id, None)
            log.unlink(missing_ok=True)

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)


_warm_parent: _WarmParent | None = None
_warm_lock = threading.Lock()


def _warm_run(arguments: list[str], sandbox: Path, timeout: float) -> tuple[Any, str, float] | None:
    """Run through the warm parent unless ``LESTER_SANDBOX=cold``; None falls back to cold."""
    global _warm_parent
    if os.environ.get("LESTER_SANDBOX", "warm") == "cold" or not hasattr(os, "fork"):
        return None
    with _warm_lock:
        if _warm_parent is None or not _warm_parent.alive:
            _warm_parent = _WarmParent()
    return _warm_parent.run(arguments, sandbox, timeout)


def _collect_captured(outputs: Outputs, capture: Path, label: str) -> None:
    if (capture / "prepared.pkl").exists():
        outputs.prepared = pd.read_pickle(capture / "prepared.pkl")
        outputs.found.setdefault("prepared", f"{label} dataprep()" if label == "candidate" else "variable")
    for role in ("X", "y"):
        if (capture / f"{role}.npy").exists() and getattr(outputs, role) is None:
            setattr(outputs, role, np.load(capture / f"{role}.npy", allow_pickle=True))
            outputs.found.setdefault(role, f"{label} {role}")
    if (capture / "model.json").exists():
        outputs.model = json.loads((capture / "model.json").read_text())


def _collect_original(outputs: Outputs, sandbox: Path, analysis: ScriptAnalysis) -> None:
    """Results from the files the script wrote, else from its final variables."""
    written = [Path(p) for p in outputs.files]
    tables = [p for p in written if p.suffix.lower() in _TABLE_SUFFIXES and _role_of(p) is None]
    preferred = [p for p in tables if "prepared" in p.stem.lower()] or tables
    if preferred:
        path = preferred[0]
        try:
            outputs.prepared = _read_table(sandbox / path)
            outputs.found["prepared"] = f"file {path}"
        except Exception as exc:  # noqa: BLE001 - an unreadable output is reported, not fatal
            outputs.found["prepared"] = f"file {path} (unreadable: {exc})"
    for path in written:
        role = _role_of(path)
        if role and getattr(outputs, role) is None:
            try:
                setattr(outputs, role, _read_array(sandbox / path))
                outputs.found[role] = f"file {path}"
            except Exception as exc:  # noqa: BLE001
                outputs.found[role] = f"file {path} (unreadable: {exc})"
    capture = sandbox / CAPTURE
    if capture.exists():
        for role, name in (("prepared", analysis.roles.get("prepared")), ("X", analysis.roles.get("X")),
                           ("y", analysis.roles.get("y"))):
            if getattr(outputs, role) is None and (capture / ("prepared.pkl" if role == "prepared" else f"{role}.npy")).exists():
                if role == "prepared":
                    outputs.prepared = pd.read_pickle(capture / "prepared.pkl")
                else:
                    setattr(outputs, role, np.load(capture / f"{role}.npy", allow_pickle=True))
                outputs.found[role] = f"variable {name}"
        if (capture / "model.json").exists():
            outputs.model = json.loads((capture / "model.json").read_text())
            outputs.found["model"] = f"variable {analysis.roles.get('model')}"


def _role_of(path: Path) -> str | None:
    stem = path.stem.lower()
    if stem in ("x", "x_all", "features", "x_full"):
        return "X"
    if stem in ("y", "y_all", "labels", "label", "target", "y_full"):
        return "y"
    return None


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix == ".pkl":
        return pd.read_pickle(path)
    if suffix in (".json", ".jsonl"):
        return pd.read_json(path, lines=suffix == ".jsonl")
    return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")


def _read_array(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=True)
    if suffix == ".npz":
        with np.load(path, allow_pickle=True) as archive:
            if {"data", "indices", "indptr", "shape"} <= set(archive.files):
                import scipy.sparse

                return scipy.sparse.load_npz(path).toarray()
            return archive[archive.files[0]]
    return pd.read_csv(path, header=None).to_numpy()


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    state = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and relative.parts[0] not in (CAPTURE, "__pycache__"):
            stat = path.stat()
            state[str(relative)] = (stat.st_size, stat.st_mtime_ns)
    return state


def _changed(before: dict, after: dict) -> dict[str, int]:
    return {path: size for path, (size, mtime) in sorted(after.items())
            if before.get(path) != (size, mtime)}


def _copy_local_modules(folder: Path, sandbox: Path) -> None:
    """The script's sibling modules, so ``from helpers import clean`` works in the sandbox."""
    for module in folder.glob("*.py"):
        shutil.copy2(module, sandbox / module.name)
