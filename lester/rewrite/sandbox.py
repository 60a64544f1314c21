"""Run the original script and a candidate pipeline in separate sandboxed subprocesses.

Each run gets a folder of its own (``<tmp>/lester-sandbox-<pid>-*/box/work``) holding the
sample inputs at the relative paths the script uses, an environment without secrets, a
non-interactive plotting backend, and the confinement of :mod:`lester.rewrite.confinement`
(namespaces, Landlock, resource limits; what was enforced comes back in
:attr:`Outputs.protections`). At the time limit, on Ctrl-C (:func:`stop_all`) and when lester
itself dies, the whole process tree is killed and the folder removed.

What a run produced comes back as :class:`Outputs`: files written, prepared data, X, y and the
model's class and parameters. The run writes them in formats that carry no code (Parquet, NumPy
arrays without pickles, JSON), read here without following links the run may have planted.

Example:
    >>> original = run_original("messy.py", analysis, plan, timeout=30)   # doctest: +SKIP
    >>> candidate = run_candidate(code, plan, timeout=30)                  # doctest: +SKIP
    >>> original.prepared.shape, candidate.X.shape                         # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import queue
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lester import secrets
from lester.rewrite.analysis import ScriptAnalysis
from lester.rewrite.confinement import (
    PROTECTIONS,
    PROTECTIONS_FILE,
    Limits,
    pid_alive,
    remove_cgroup,
    sweep_cgroups,
)
from lester.rewrite.sampling import SamplePlan

CAPTURE = ".lester-capture"
CANDIDATE_FILE = "lester_candidate_pipeline.py"
_FOLDER_PREFIX = "lester-sandbox-"
_CAPTURE_LIMIT = 1 << 30  # bytes of one output file read back from a run


class SandboxWarning(UserWarning):
    """A protection of the sandbox is not available on this machine."""


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
    read: list[str] = field(default_factory=list)  # files the script opened for reading, found or not
    name_lists: dict[str, list[str]] = field(default_factory=dict)  # module-level lists of names, as they ended
    log: str = ""
    protections: dict[str, str] = field(default_factory=dict)  # protection -> "on: ..." / "off: why"

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
    """The current environment without secrets (:func:`lester.secrets.safe_environment`),
    with the settings every sandboxed run gets."""
    env = secrets.safe_environment()
    env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


@dataclass(frozen=True)
class _RunFolder:
    """``root/box`` is all the run may write (``work`` its current folder, ``tmp`` its
    ``TMPDIR`` and ``HOME``); ``root`` itself holds the log and the protections record."""

    root: Path

    @property
    def box(self) -> Path:
        return self.root / "box"

    @property
    def work(self) -> Path:
        return self.box / "work"

    @property
    def log(self) -> Path:
        return self.root / "log"

    def environment(self) -> dict[str, str]:
        tmp = str(self.box / "tmp")
        return {**safe_environment(), "HOME": tmp, "TMPDIR": tmp, "MPLCONFIGDIR": tmp}


_swept = False


@contextlib.contextmanager
def _run_folder(kind: str) -> Iterator[_RunFolder]:
    global _swept
    if not _swept:  # what a lester killed with SIGKILL left behind
        _swept = True
        _sweep_folders()
        with contextlib.suppress(OSError):
            sweep_cgroups()
    root = Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-{kind}-"))
    run = _RunFolder(root)
    try:
        (run.box / "tmp").mkdir(parents=True)
        run.work.mkdir()
        yield run
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _sweep_folders() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*"):
        owner = folder.name[len(_FOLDER_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not pid_alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def run_original(
    script: str | os.PathLike,
    analysis: ScriptAnalysis,
    plan: SamplePlan,
    *,
    timeout: float = 60,
) -> Outputs:
    """Run the user's script (a notebook's code cells as one script) on the sample inputs."""
    script = Path(script)
    with _run_folder("original") as run:
        _copy_local_modules(script.parent, run.work)
        name = script.name if script.suffix == ".py" else f"{script.stem}_cells.py"
        (run.work / name).write_text(analysis.source, encoding="utf-8")
        plan.copy_into(run.work)
        outputs = _run(["original", name, CAPTURE, json.dumps(analysis.roles)], run, timeout)
        if outputs.status != "timeout":
            _collect(outputs, run)
        return outputs


def run_candidate(
    code: str,
    plan: SamplePlan,
    *,
    script_dir: str | os.PathLike | None = None,
    timeout: float = 60,
) -> Outputs:
    """Run a candidate pipeline module on the sample inputs (its default paths) exactly as
    ``lester run`` runs it: split, encoder fitted on the training rows, model fitted, with the
    default configuration's parameters. Its X comes back over all prepared rows, its encoder
    fitted on them, to compare with the script's (captured the same way)."""
    with _run_folder("candidate") as run:
        if script_dir is not None:
            _copy_local_modules(Path(script_dir), run.work)
        (run.work / CANDIDATE_FILE).write_text(code, encoding="utf-8")
        plan.copy_into(run.work)
        outputs = _run(["candidate", CANDIDATE_FILE, CAPTURE, "{}"], run, timeout)
        if outputs.status != "timeout":
            _collect(outputs, run)
            for role, what in (("prepared", "candidate dataprep()"), ("X", "candidate X"), ("y", "candidate y")):
                if getattr(outputs, role) is not None:
                    outputs.found[role] = what
        return outputs


def _run(arguments: list[str], run: _RunFolder, timeout: float) -> Outputs:
    started = time.perf_counter()
    arguments = [*arguments, json.dumps(asdict(Limits.for_timeout(timeout)))]
    launched = _warm_run(arguments, run, timeout)
    if launched is None:
        launched = _cold_run(arguments, run, timeout)
    status, seconds = launched
    protections = _read_protections(run)
    if status == "timeout":
        return Outputs("timeout", timeout, protections=protections)
    seconds = seconds if seconds is not None else time.perf_counter() - started
    text = secrets.mask(_tail(run.log, 4000))
    try:
        result = json.loads(_read_output(run, "result.json"))
    except (OSError, ValueError) as exc:
        why = f"the run ended with exit status {status} before reporting"
        if status == -signal.SIGKILL or status == 128 + signal.SIGKILL:
            why = "the run was killed (out of memory or over a limit of the sandbox)"
        return Outputs("error", seconds, {"type": "SandboxError", "message": f"{why}: {text[-800:] or exc}",
                                          "where": []}, log=text, protections=protections)
    if not isinstance(result, dict):
        result = {"status": "error", "error": {"type": "SandboxError", "message": "unreadable result", "where": []}}
    outputs = Outputs(str(result.get("status")), seconds, result.get("error"), log=text, protections=protections)
    outputs.files = {str(k): int(v) for k, v in (result.get("files") or {}).items() if isinstance(v, int)}
    outputs.found = {str(k): str(v)[:300] for k, v in (result.get("found") or {}).items()}
    outputs.read = [str(p) for p in (result.get("read") or []) if isinstance(p, str)][:1000]
    lists = result.get("name_lists") or {}
    outputs.name_lists = {str(k): [str(i) for i in v] for k, v in lists.items() if isinstance(v, list)}
    return outputs


def _tail(path: Path, size: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read_output(run: _RunFolder, name: str) -> bytes:
    """A file of the run's capture folder, opened without following any link the run made
    (it may have replaced its folders by links to elsewhere) and only if it is a plain file."""
    fds = []
    try:
        fds.append(os.open(run.box, os.O_RDONLY | os.O_DIRECTORY))
        for part in ("work", CAPTURE):
            fds.append(os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fds[-1])
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _CAPTURE_LIMIT:
            raise OSError(f"{name} is not a plain file of at most {_CAPTURE_LIMIT} bytes")
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(_CAPTURE_LIMIT + 1)
    finally:
        for fd in fds:
            os.close(fd)


def _read_protections(run: _RunFolder) -> dict[str, str]:
    try:
        recorded = json.loads((run.root / PROTECTIONS_FILE).read_text())
    except (OSError, ValueError):
        recorded = {}
    protections = {name: str(recorded.get(name, "unknown: the run did not report")) for name in PROTECTIONS}
    _warn_once(protections)
    return protections


_warned: set[str] = set()


def _warn_once(protections: dict[str, str]) -> None:
    """Say once per process, loudly, which protection this machine cannot give."""
    for name, state in protections.items():
        if not state.startswith("on") and name not in _warned:
            _warned.add(name)
            warnings.warn(f"lester sandbox: {name} is not fully enforced on this machine ({state}); "
                          "the other protections still apply", SandboxWarning, stacklevel=3)


def _cold_run(arguments: list[str], run: _RunFolder, timeout: float) -> tuple[Any, float | None]:
    """A fresh interpreter for the run: (exit status or "timeout", None)."""
    # run the runner as a file: the original script should not pay for importing lester
    command = [sys.executable, str(Path(__file__).with_name("sandbox_runner.py")), *arguments]
    with open(run.log, "wb") as log:
        # output goes to a file: a pipe would keep lester waiting on anything that inherited it
        process = subprocess.Popen(command, cwd=run.work, env=run.environment(), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    _live[process.pid] = run
    try:
        process.wait(timeout=timeout)
        return process.returncode, None
    except subprocess.TimeoutExpired:
        return "timeout", None
    finally:
        _kill_group(process.pid)
        process.wait()
        _live.pop(process.pid, None)
        remove_cgroup(process.pid)


_live: dict[int, _RunFolder] = {}  # supervisor pid -> its run, for stop_all


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop_all() -> None:
    """Kill every sandboxed run of this process (on Ctrl-C: no run outlives the request)."""
    for pid in list(_live):
        _kill_group(pid)


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

    def run(self, arguments: list[str], run: _RunFolder, timeout: float) -> tuple[Any, float] | None:
        """(exit status or "timeout", seconds), or None when the warm parent is gone."""
        if not self.alive:
            return None
        job_id = uuid.uuid4().hex
        box: queue.Queue = queue.Queue()
        with self.lock:
            self.replies[job_id] = box
        job = {"id": job_id, "args": arguments, "cwd": str(run.work), "env": run.environment(),
               "log": str(run.log), "folder": str(run.root)}
        started: dict = {}
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
            _live[started["pid"]] = run
            begun = time.perf_counter()
            try:
                ended = box.get(timeout=timeout)
            except queue.Empty:
                _kill_group(started["pid"])
                box.get()  # its exit, reported once the group is gone
                return "timeout", timeout
            except BaseException:  # Ctrl-C: the run goes with the request
                _kill_group(started["pid"])
                raise
            if "exit" not in ended:
                return None
            return ended["exit"], time.perf_counter() - begun
        finally:
            with self.lock:
                self.replies.pop(job_id, None)
            _live.pop(started.get("pid"), None)

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


def _warm_run(arguments: list[str], run: _RunFolder, timeout: float) -> tuple[Any, float] | None:
    """Run through the warm parent unless ``LESTER_SANDBOX=cold``; None falls back to cold."""
    global _warm_parent
    if os.environ.get("LESTER_SANDBOX", "warm") == "cold" or not hasattr(os, "fork"):
        return None
    with _warm_lock:
        if _warm_parent is None or not _warm_parent.alive:
            _warm_parent = _WarmParent()
    return _warm_parent.run(arguments, run, timeout)


def _collect(outputs: Outputs, run: _RunFolder) -> None:
    """The outputs the run left in its capture folder (formats that cannot carry code)."""
    readers = {"prepared": ("prepared.parquet", lambda data: pd.read_parquet(io.BytesIO(data))),
               "X": ("X.npy", lambda data: np.load(io.BytesIO(data), allow_pickle=False)),
               "y": ("y.npy", lambda data: np.load(io.BytesIO(data), allow_pickle=False)),
               "model": ("model.json", json.loads)}
    for role, (name, read) in readers.items():
        try:
            value = read(_read_output(run, name))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            outputs.found[role] = f"{outputs.found.get(role, name)} (unreadable: {exc})"
            continue
        if role == "model" and not isinstance(value, dict):
            continue
        setattr(outputs, role, value)


def _copy_local_modules(folder: Path, sandbox: Path) -> None:
    """The script's sibling modules, so ``from helpers import clean`` works in the sandbox."""
    for module in folder.glob("*.py"):
        shutil.copy2(module, sandbox / module.name)
