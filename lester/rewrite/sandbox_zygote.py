"""A warm parent for sandbox runs (``python .../sandbox_zygote.py``): not for import.

Importing numpy, pandas, scikit-learn and lester takes a few seconds, which would dominate
every validation run of a rewrite. This process imports them once, then forks one child per
run: each child is still a separate process, in a session of its own (so the whole group can
be killed at the time limit), in its own folder, with its own environment and its output sent
to a log file; it runs ``sandbox_runner.main`` and exits.

When lester goes away (its end of stdin closes) or this process gets SIGTERM, every run still
going is killed and its folder removed.

Protocol, one JSON object per line. In on stdin: ``{"id", "args", "cwd", "env", "log",
"folder"}`` (``folder``: what to remove should the run be abandoned).
Out on stdout: ``{"ready": true}`` once the imports are done, then per job
``{"id", "pid"}`` when the child starts and ``{"id", "exit"}`` when it ends (the exit status,
negative for a signal).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sys
import threading
import traceback
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_PRELOAD = (
    "csv", "datetime", "re", "json", "numpy", "pandas", "pyarrow", "pyarrow.parquet",
    "scipy.sparse", "sklearn.base", "sklearn.compose", "sklearn.preprocessing",
    "sklearn.linear_model", "sklearn.pipeline", "sklearn.impute",
    "sklearn.feature_extraction.text", "sklearn.metrics", "duckdb", "lester", "lester.pipeline.runner",
)


def _load_runner():
    spec = importlib.util.spec_from_file_location("lester_sandbox_runner", _HERE / "sandbox_runner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reply(lock: threading.Lock, message: dict) -> None:
    with lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def _child(job: dict, runner) -> None:
    """In the forked child: become the sandboxed run, then exit without returning."""
    code = 1
    try:
        os.setsid()
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.argv = ["sandbox_runner.py", *job["args"]]
        code = runner.main(job["args"])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported in the run's log; the parent reads the status
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


_running: dict[int, dict] = {}  # pid -> job


def _wait(lock: threading.Lock, job: dict, pid: int, confinement) -> None:
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    confinement.remove_cgroup(pid)
    _running.pop(pid, None)
    _reply(lock, {"id": job["id"], "exit": code})


def _abandon_all(signum=None, frame=None) -> None:
    """Lester is gone: no run may outlive it, and no folder of sample data either."""
    for pid, job in list(_running.items()):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(job.get("folder") or "/nonexistent", ignore_errors=True)
    if signum is not None:
        os._exit(128 + signum)


def main() -> int:
    # this file's folder must not shadow the user's modules (analysis.py, sampling.py, ...)
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != _HERE]
    for name in _PRELOAD:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a module that fails here is imported (or not) by the run
            pass
    runner = _load_runner()
    confinement = runner._sibling("confinement")
    runner._sibling("capture")  # each run forks from here: compile it once
    lock = threading.Lock()
    signal.signal(signal.SIGTERM, _abandon_all)
    _reply(lock, {"ready": True})
    try:
        for line in sys.stdin:
            job = json.loads(line)
            sys.stdout.flush()
            sys.stderr.flush()
            with lock:  # no reply may be half-written when the child inherits stdout
                pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _child(job, runner)
            _running[pid] = job
            _reply(lock, {"id": job["id"], "pid": pid})
            threading.Thread(target=_wait, args=(lock, job, pid, confinement), daemon=True).start()
    finally:
        _abandon_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
