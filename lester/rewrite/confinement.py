"""Confine a sandboxed run with what the operating system offers.

Code lester did not write (the user's script, a module an LLM proposed) runs as the last of
three processes, each a fork of the one before:

``supervisor``
    a session of its own (the parent kills the group at the time limit); joins a fresh
    ``pids`` cgroup where one can be made (a limit on processes that holds for root too, and a
    list of everything the run started); then new user, mount, network, IPC and UTS
    namespaces, so the run has no network device and its children start in a new PID
    namespace.
``init``
    PID 1 of that namespace, with a fresh ``/proc`` that shows the run's processes only (no
    ``/proc/<lester>/environ``) and a private ``/dev/shm``. When it exits, the kernel kills
    everything left in the namespace: children started with ``setsid`` included.
``run``
    resource limits (address space, CPU time, processes, file size), no new privileges, and a
    Landlock domain: writes only beneath the run's folder, no TCP, no signals to processes
    outside the run. Then the untrusted code.

Each layer that is not available (no user namespaces, an old kernel, not Linux) is recorded
as off with the reason; the others still apply. What was enforced is written by the
supervisor, which never runs untrusted code, to ``protections.json`` beside the run's folder.

Example:
    >>> from lester.rewrite.confinement import Limits
    >>> Limits(memory=2 << 30).describe()["memory"]
    '2.0 GiB address space per process'
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROTECTIONS_FILE = "protections.json"
PROTECTIONS = ("processes", "network", "filesystem", "memory", "cpu", "process_count", "tree_kill")

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38

# Landlock (linux/landlock.h); the syscall numbers are the same on every architecture
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS_WRITE_FILE, _FS_REMOVE_DIR, _FS_REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_FS_MAKE = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_FS_REFER, _FS_TRUNCATE = 1 << 13, 1 << 14
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run.

    ``memory`` is the address space of each process in bytes, ``cpu_seconds`` the CPU time of
    each process, ``processes`` how many processes the run may have at once, ``file_size`` the
    largest file it may write.
    """

    memory: int = 4 << 30
    cpu_seconds: int = 120
    processes: int = 512  # threads count too: DuckDB starts one per core
    file_size: int = 1 << 30

    @classmethod
    def for_timeout(cls, timeout: float) -> Limits:
        """The default limits for a run with ``timeout`` seconds of wall time;
        ``LESTER_SANDBOX_MEMORY`` (bytes, or with a K/M/G suffix) changes the memory limit."""
        memory = _parse_size(os.environ.get("LESTER_SANDBOX_MEMORY", "")) or cls.memory
        return cls(memory=memory, cpu_seconds=int(timeout) + 5)

    def describe(self) -> dict[str, str]:
        return {"memory": f"{self.memory / (1 << 30):.1f} GiB address space per process",
                "cpu": f"{self.cpu_seconds} s of CPU time per process",
                "process_count": f"at most {self.processes} processes"}


def _parse_size(text: str) -> int | None:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    if not text:
        return None
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1], 1)
    try:
        return int(float(text.rstrip("KMGT")) * scale)
    except ValueError:
        return None


class _Libc:
    """The few C library calls Python's ``os`` module does not offer (on 3.10/3.11)."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(None, use_errno=True)
        self.lib.syscall.restype = ctypes.c_long

    def check(self, result: int, what: str) -> int:
        if result < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"{what}: {os.strerror(code)}")
        return result

    def unshare(self, flags: int) -> None:
        self.check(self.lib.unshare(ctypes.c_int(flags)), "unshare")

    def mount(self, source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
        self.check(self.lib.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                                  ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")

    def prctl(self, option: int, value: int) -> None:
        self.check(self.lib.prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")

    def syscall(self, number: int, *args) -> int:
        return self.check(self.lib.syscall(ctypes.c_long(number), *args), f"syscall {number}")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def run_confined(box: Path, limits: Limits, work: Callable[[], int], report: Path) -> int:
    """Run ``work`` (in this process's forks) confined to writing beneath ``box``; return its
    exit status. Called in the supervisor: a process that has not run untrusted code yet and
    has one thread. ``report`` receives what was enforced, as JSON."""
    enforced: dict[str, str] = {}
    if not hasattr(os, "fork"):  # Windows: no confinement beyond the environment and the time limit
        report.write_text(json.dumps({name: f"off: {sys.platform} is not supported" for name in PROTECTIONS}))
        return int(work() or 0)
    _die_with_parent(signal.SIGTERM, os.getppid())
    cgroup = _join_pids_cgroup(limits.processes, enforced)
    namespaces = _enter_namespaces(enforced) if sys.platform.startswith("linux") else False
    if not sys.platform.startswith("linux"):
        for name in ("processes", "network", "filesystem"):
            enforced[name] = f"off: {sys.platform} has no Linux namespaces or Landlock"
    reader, writer = os.pipe()
    # a child's view of its parent's pid: 0 across a PID namespace, the pid itself otherwise
    me = 0 if namespaces else os.getpid()
    child = os.fork()
    if child == 0:  # the namespace's init (or, without namespaces, a plain intermediate)
        os.close(reader)
        os._exit(_init(box, limits, work, writer, namespaces, me))
    os.close(writer)

    def stop(signum, frame):  # lester (or the warm parent) is gone: nobody will read the run
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
        shutil.rmtree(report.parent, ignore_errors=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    with os.fdopen(reader, "r") as channel:
        reported = json.loads(channel.read() or "{}")  # closed by the run before its code starts
    tcp = reported.pop("tcp", None)
    enforced.update(reported)
    if tcp and namespaces:
        enforced["network"] += f"; {tcp}"
    elif tcp:
        enforced["network"] = f"partial: {tcp} (no network namespace: UDP and Unix sockets stay open)"
    enforced.setdefault("tree_kill", "on: PID namespace (its init's exit kills every process in it)"
                        if namespaces else "partial: the process group only")
    if cgroup is not None:
        enforced["tree_kill"] += "; pids cgroup"
    report.write_text(json.dumps({name: enforced.get(name, "off: not attempted") for name in PROTECTIONS}))
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


def _die_with_parent(signum: int, parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            _libc().prctl(_PR_SET_PDEATHSIG, signum)
        if os.getppid() != parent:  # the parent died before the call took effect
            os._exit(1)


def _enter_namespaces(enforced: dict[str, str]) -> bool:
    """New user, mount, network, IPC, UTS namespaces for this process, a new PID namespace
    for its children. False (with the reason recorded) when the kernel refuses."""
    uid, gid = os.getuid(), os.getgid()
    try:
        _libc().unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID | _CLONE_NEWIPC | _CLONE_NEWUTS)
    except OSError as exc:
        reason = (f"off: the kernel refused new namespaces ({exc.strerror}); unprivileged user namespaces "
                  "may be disabled (sysctl kernel.unprivileged_userns_clone, "
                  "kernel.apparmor_restrict_unprivileged_userns)")
        enforced.update(processes=reason, network=reason)
        return False
    # the same ids inside, so files keep their owners; capabilities hold only in the namespace
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    enforced["network"] = "on: network namespace without interfaces (no connection, local or remote)"
    return True


def _init(box: Path, limits: Limits, work: Callable[[], int], channel: int, namespaces: bool,
          parent: int) -> int:
    """PID 1 of the run's namespace: mounts, then the run itself in a child, then its status."""
    enforced: dict[str, str] = {}
    shm = False
    try:
        _die_with_parent(signal.SIGKILL, parent)
        if namespaces:
            libc = _libc()
            libc.mount("none", "/", None, _MS_REC | _MS_PRIVATE)
            libc.mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
            enforced["processes"] = "on: PID namespace with its own /proc (no other process visible)"
            with contextlib.suppress(OSError):  # joblib and multiprocessing need a writable /dev/shm
                libc.mount("tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=256m,mode=1777")
                shm = True
        me = os.getpid()
        run = os.fork()
        if run == 0:
            os._exit(_run(box, limits, work, channel, enforced, shm, me))
        os.close(channel)
        while True:  # as PID 1 it also reaps whatever the run orphans
            pid, status = os.wait()
            if pid == run:
                return os.waitstatus_to_exitcode(status) & 0xFF
    except ChildProcessError:
        return 1
    except BaseException as exc:  # noqa: BLE001 - reported to the supervisor, the run never starts
        with contextlib.suppress(OSError):
            os.write(channel, json.dumps({"processes": f"off: {exc}"}).encode())
        return 1


def _run(box: Path, limits: Limits, work: Callable[[], int], channel: int,
         enforced: dict[str, str], shm: bool, parent: int) -> int:
    try:
        _die_with_parent(signal.SIGKILL, parent)
        _set_limits(limits, enforced)
        _restrict_filesystem(box, shm, enforced)
    except BaseException as exc:  # noqa: BLE001 - no untrusted code runs half-confined
        enforced["filesystem"] = f"off: {exc}"
        os.write(channel, json.dumps(enforced).encode())
        os.close(channel)
        return 1
    os.write(channel, json.dumps(enforced).encode())
    os.close(channel)  # from here on nothing the run says reaches the report of protections
    try:
        return int(work() or 0)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)


def _set_limits(limits: Limits, enforced: dict[str, str]) -> None:
    import resource  # POSIX only

    described = limits.describe()
    for name, which, value in (("memory", resource.RLIMIT_AS, limits.memory),
                               ("cpu", resource.RLIMIT_CPU, limits.cpu_seconds),
                               (None, resource.RLIMIT_FSIZE, limits.file_size),
                               (None, resource.RLIMIT_CORE, 0)):
        try:
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError) as exc:  # macOS refuses some limits (RLIMIT_AS)
            if name:
                enforced[name] = f"off: the system refused the limit ({exc})"
            continue
        if name:
            enforced[name] = f"on: {described[name]} (rlimit)"
    if os.getuid() != 0:  # the kernel does not count root's processes against RLIMIT_NPROC
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            enforced.setdefault("process_count", f"on: {described['process_count']} (rlimit)")


def _restrict_filesystem(box: Path, shm: bool, enforced: dict[str, str]) -> None:
    """Landlock: writes (create, remove, rename, truncate) only beneath ``box``; no TCP; no
    signals or abstract sockets outside the run. Reads stay open: the run needs Python."""
    if not sys.platform.startswith("linux"):
        enforced["filesystem"] = f"off: {sys.platform} has no Landlock"
        return
    libc = _libc()
    try:
        abi = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    except OSError as exc:
        reason = "not built into this kernel" if exc.errno == errno.ENOSYS else exc.strerror
        enforced["filesystem"] = f"off: Landlock is unavailable ({reason}); the run may write anywhere lester may"
        return
    write = _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE
    write |= (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(write, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    try:
        folders = [box] + ([Path("/dev/shm")] if shm else [])
        files = [Path("/dev/null")]
        for path, allowed in [(f, write) for f in folders] + [(f, _FS_WRITE_FILE | (write & _FS_TRUNCATE)) for f in files]:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneathAttr(allowed, fd)
                libc.syscall(_SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                             ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(fd)
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1)
        libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    enforced["filesystem"] = f"on: Landlock ABI {abi}: writes only beneath the run's folder" + (
        ", no mounts" if abi >= 1 else "")
    if abi >= 4:
        enforced["tcp"] = "Landlock: no TCP bind or connect"
    if abi >= 6:
        enforced["processes"] = enforced.get("processes", "off") + "; Landlock: no signals outside the run"


_LIBC: _Libc | None = None


def _libc() -> _Libc:
    global _LIBC
    if _LIBC is None:
        _LIBC = _Libc()
    return _LIBC


# -- the pids cgroup ----------------------------------------------------------------------------

_CGROUP_PREFIX = "lester-sandbox-"


def _pids_hierarchy() -> Path | None:
    """The folder of this process's cgroup in a hierarchy with the pids controller: cgroup v1's
    ``pids`` mount, or cgroup v2 where the pids controller is enabled for children."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            root = Path("/sys/fs/cgroup/pids")
            return root / path.lstrip("/") if root.is_dir() else None
    for line in lines:
        if line.startswith("0::"):
            here = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
            with contextlib.suppress(OSError):
                if "pids" in (here / "cgroup.subtree_control").read_text().split():
                    return here
    return None


def _join_pids_cgroup(processes: int, enforced: dict[str, str]) -> Path | None:
    """Move this process into a new pids cgroup of at most ``processes`` tasks, where the
    hierarchy lets us; the parent removes it once the run is over (:func:`remove_cgroup`)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = _pids_hierarchy()
    group = parent / f"{_CGROUP_PREFIX}{os.getpid()}" if parent else None
    try:
        if group is None:
            raise OSError("no cgroup hierarchy with the pids controller")
        group.mkdir(exist_ok=True)
        (group / "pids.max").write_text(str(processes))
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as exc:
        if group is not None:
            with contextlib.suppress(OSError):
                group.rmdir()
        if os.getuid() == 0:
            enforced["process_count"] = ("off: no writable pids cgroup "
                                         f"({getattr(exc, 'strerror', None) or exc}); root is exempt from RLIMIT_NPROC")
        return None
    enforced["process_count"] = f"on: at most {processes} processes (pids cgroup)"
    return group


def remove_cgroup(pid: int) -> None:
    """Remove the pids cgroup of the supervisor ``pid`` (killing what is left in it)."""
    parent = _pids_hierarchy()
    if parent is None:
        return
    group = parent / f"{_CGROUP_PREFIX}{pid}"
    for _ in range(50):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            try:
                tasks = [int(t) for t in (group / "cgroup.procs").read_text().split()]
            except OSError:
                return
            for task in tasks:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(task, signal.SIGKILL)
            time.sleep(0.02)


def sweep_cgroups() -> None:
    """Remove cgroups left by supervisors that are gone (lester killed with SIGKILL)."""
    parent = _pids_hierarchy()
    if parent is None or not parent.is_dir():
        return
    for group in parent.glob(f"{_CGROUP_PREFIX}*"):
        pid = group.name.removeprefix(_CGROUP_PREFIX)
        if pid.isdigit() and not pid_alive(int(pid)):
            remove_cgroup(int(pid))


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
