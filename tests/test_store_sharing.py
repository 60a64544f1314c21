"""A store several processes share: read-only readers, serialised writers, paths relative to
the store, cleaning of what interrupted writers left, and clear errors for damage and faults."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import lester as lt
from lester.errors import LesterError
from lester.pipeline.store import ArtifactStore, StoreLockedError, StoreNotFoundError, open_store
from tests.mails_case import write_mails_case

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return write_mails_case(tmp_path)


def _sources(workdir: Path) -> dict[str, str]:
    return {"customers": str(workdir / "customers.csv"), "mails": str(workdir / "mails.csv")}


def _run(workdir: Path, store: Path | None = None, **kwargs):
    return lt.run(workdir / "pipeline.py", sources=_sources(workdir), store=store or workdir / ".lester",
                  cache=False, **kwargs)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "COLUMNS": "200"}


READER = textwrap.dedent("""
    import json, sys, time, traceback
    import lester as lt
    store, until = sys.argv[1], float(sys.argv[2])
    done, failures = 0, []
    while time.time() < until:
        try:
            lt.runs(store)
            lt.trace("customers", 1, store=store)
            done += 1
        except Exception:
            failures.append(traceback.format_exc())
        time.sleep(0.01)
    print(json.dumps({"done": done, "failures": failures[:3], "failed": len(failures)}))
""")


def test_ten_readers_and_two_writers_share_a_store(workdir):
    store = workdir / ".lester"
    _run(workdir, store)  # something to read from the start
    until = time.time() + 20
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(store), str(until)], cwd=workdir,
                                env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(8)]
    # two of the readers are the command line, polling as a script would
    cli_readers = [subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import subprocess, sys, time, json
            failed, done = [], 0
            while time.time() < {until}:
                for args in (["runs"], ["trace", "--source", "customers", "--id", "1"]):
                    p = subprocess.run([sys.executable, "-m", "lester.cli", *args, "--store", {str(store)!r}],
                                       capture_output=True, text=True)
                    done += 1
                    if p.returncode != 0 or "Traceback" in p.stderr:
                        failed.append(p.stderr[-2000:])
            print(json.dumps({{"done": done, "failed": len(failed), "failures": failed[:3]}}))
        """)], cwd=workdir, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)]
    stored: list[str] = []
    writer_failures: list[str] = []

    def start_writer() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "lester.cli", "run", str(workdir / "pipeline.py"), "--store", str(store),
             "--no-cache", "--source", f"customers={workdir / 'customers.csv'}",
             "--source", f"mails={workdir / 'mails.csv'}"],
            cwd=workdir, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    writers = [start_writer(), start_writer()]
    while writers:
        for process in list(writers):
            if process.poll() is None:
                continue
            out, err = process.communicate()
            writers.remove(process)
            if process.returncode != 0 or "Traceback" in err:
                writer_failures.append(out[-1000:] + err[-3000:])
            else:
                stored += [word for line in out.splitlines() if "stored in" in line
                           for word in line.split()[1:2]]
            if time.time() < until:
                writers.append(start_writer())
        time.sleep(0.1)
    results = []
    for process in readers + cli_readers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert not writer_failures, writer_failures[0]
    for result in results:
        assert result["failed"] == 0, result["failures"][0]
        assert result["done"] > 0
    assert len(stored) >= 2
    listed = set(lt.runs(store)["run_id"])
    assert set(stored) <= listed, "a run reported stored is missing from the catalog"
    assert len(listed) == len(stored) + 1


def test_a_reader_is_not_blocked_by_a_writer_holding_the_catalog(workdir):
    import duckdb

    store = workdir / ".lester"
    first = _run(workdir, store)
    lt.runs(store)  # builds catalog.duckdb
    second = _run(workdir, store)
    # another process holds the database for writing (a sync in progress)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(store / 'catalog.duckdb')!r})
        print("held", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(store / "catalog.duckdb"), read_only=True).close()
        started = time.time()
        assert set(lt.runs(store)["run_id"]) == {first.run_id, second.run_id}
        assert set(lt.trace("customers", 1, store=store)["run_id"]) == {first.run_id, second.run_id}
        assert time.time() - started < 20
    finally:
        holder.kill()
        holder.wait()


def test_the_writer_lock_says_who_holds_it(workdir):
    store = ArtifactStore(workdir / ".lester")
    with store.write_lock(command="lester forget customers 1"):
        probe = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            from lester.pipeline.store import ArtifactStore, StoreLockedError
            try:
                with ArtifactStore({str(store.root)!r}, lock_timeout=0.5).write_lock():
                    print("acquired")
            except StoreLockedError as error:
                print(error)
        """)], env=_env(), capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    assert f"pid {os.getpid()}" in probe.stdout and "lester forget customers 1" in probe.stdout
    assert "since" in probe.stdout and "acquired" not in probe.stdout
    with store.write_lock():  # released: taken again at once
        pass
    assert issubclass(StoreLockedError, LesterError)


def test_an_absolute_store_path_works_from_any_directory(workdir, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(workdir)
    result = lt.run("pipeline.py", sources={"customers": "customers.csv", "mails": "mails.csv"},
                    store=".lester", cache=False)
    lt.runs(".lester")  # index built from this directory
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    store = workdir / ".lester"
    assert lt.runs(store)["run_id"].tolist() == [result.run_id]
    hits = lt.trace("customers", 1, store=store)
    assert len(hits) > 0 and Path(hits["folder"].iloc[0]) == store / "runs" / result.run_id
    origins = lt.trace(run=result.run_id, train_row=0, store=store)
    assert len(origins) > 0
    assert Path(lt.show(result.run_id, store=store)["folder"]).is_dir()
    import duckdb

    with duckdb.connect(str(store / "catalog.duckdb"), read_only=True) as con:  # what other tools see
        assert con.execute("SELECT folder FROM runs").fetchall() == [(f"runs/{result.run_id}",)]


def test_a_copied_store_works_and_a_forget_in_it_leaves_the_original_alone(workdir, tmp_path_factory):
    from lester.ivm.forget import forget

    original = workdir / ".lester"
    result = _run(workdir, original)
    lt.runs(original)
    copy = tmp_path_factory.mktemp("copy") / ".lester"
    shutil.copytree(original, copy)
    shutil.rmtree(original / "cache", ignore_errors=True)

    def inodes(root: Path) -> dict[str, tuple[int, int]]:
        return {str(p.relative_to(root)): (os.stat(p).st_ino, os.stat(p).st_nlink)
                for p in root.rglob("*") if p.is_file()}

    before = inodes(original)
    assert lt.runs(copy)["run_id"].tolist() == [result.run_id]
    assert {Path(f).resolve().parent.parent for f in lt.trace("customers", 1, store=copy)["folder"]} == \
        {copy.resolve()}
    customer = int(result.train["customer_id"].iloc[0])
    report = forget("customers", [customer], store=copy)
    new = report.changes[0].new_run_id
    assert inodes(original) == before  # no file of the original gained a link
    original_inodes = {ino for ino, _ in before.values()}
    assert not {os.stat(p).st_ino for p in (copy / "runs" / new).rglob("*") if p.is_file()} & original_inodes
    assert set(lt.runs(copy)["run_id"]) == {result.run_id, new}
    assert lt.runs(original)["run_id"].tolist() == [result.run_id]


def test_a_truncated_catalog_is_rebuilt_from_the_run_folders(workdir):
    store = workdir / ".lester"
    result = _run(workdir, store)
    lt.runs(store)
    database = store / "catalog.duckdb"
    database.write_bytes(database.read_bytes()[:5000])
    with pytest.warns(UserWarning, match=r"catalog.duckdb.*rebuilt"):
        assert lt.runs(store)["run_id"].tolist() == [result.run_id]
    assert len(lt.trace("customers", 1, store=store)) > 0
    database.write_bytes(b"not a database at all" * 100)
    with pytest.warns(UserWarning, match="rebuilt"):
        assert lt.show(result.run_id, store=store)["run_id"] == result.run_id


def test_damaged_run_folders_are_skipped_with_a_warning(workdir):
    store = workdir / ".lester"
    good = _run(workdir, store)
    no_info = _run(workdir, store)
    no_provenance = _run(workdir, store)
    bad_record = _run(workdir, store)
    (no_info.folder / "run.json").unlink()
    shutil.rmtree(no_provenance.folder / "row_provenance")
    (bad_record.folder / "catalog.json").write_text("{ torn")
    # indexed runs are not re-read on every open: a torn record shows when it is indexed
    (store / "catalog.duckdb").unlink(missing_ok=True)
    with pytest.warns(UserWarning) as caught:
        listed = lt.runs(store)["run_id"].tolist()
    with pytest.warns(UserWarning):  # the same folders, skipped again
        traced = set(lt.trace("customers", 1, store=store)["run_id"])
    assert listed == [good.run_id] and traced == {good.run_id}
    text = " ".join(str(w.message) for w in caught)
    for damaged in (no_info, no_provenance, bad_record):
        assert damaged.run_id in text


def test_a_version_of_a_run_without_run_json_is_a_clear_error(workdir):
    from lester.ivm.versions import StoredRun, VersionError

    result = _run(workdir)
    (result.folder / "run.json").unlink()
    with pytest.raises(VersionError, match=r"run.json.*missing"):
        _ = StoredRun(result.run_id, result.folder).info


def test_stale_staging_folders_and_partial_files_are_cleaned_at_open(workdir):
    store = ArtifactStore(workdir / ".lester")
    stale = store.runs_dir / ".incomplete-20200101-000000-abcdef"
    stale.mkdir()
    (stale / "train.parquet").write_text("personal data")
    store.cache_dir.mkdir(parents=True, exist_ok=True)
    partial = store.cache_dir / "0123.partial"
    partial.write_text("half a pickle")
    old = time.time() - 3600
    for path in (stale / "train.parquet", stale, partial):
        os.utime(path, (old, old))
    fresh = store.runs_dir / ".incomplete-fresh"  # another process's run, still being written
    fresh.mkdir()
    os.utime(fresh, (time.time() + 60, time.time() + 60))
    ArtifactStore(store.root)
    assert not stale.exists() and not partial.exists()
    assert fresh.exists()


def test_a_staging_folder_being_written_is_not_cleaned(workdir):
    store = ArtifactStore(workdir / ".lester")
    seen = {}

    def write(folder: Path) -> dict:
        old = time.time() - 3600
        os.utime(folder, (old, old))  # looks stale, but its writer holds it
        ArtifactStore(store.root)
        seen["kept"] = folder.exists()
        (folder / "run.json").write_text("{}")
        (folder / "row_provenance").mkdir()
        return {}

    store.write_run("20200101-000000-000000", write, {"run_id": "20200101-000000-000000"}, {})
    assert seen["kept"]


def test_a_full_disk_registers_nothing_and_says_so(workdir):
    store = ArtifactStore(workdir / ".lester")

    def write(folder: Path) -> dict:
        (folder / "train.parquet").write_text("some")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "X_train"))

    with pytest.raises(LesterError, match=r"no space left.*nothing was registered") as caught:
        store.write_run("20200101-000000-aaaaaa", write, {"run_id": "20200101-000000-aaaaaa"}, {})
    assert str(store.root) in str(caught.value)
    assert list(store.runs_dir.iterdir()) == []
    assert lt.runs(store.root).empty


def test_a_really_full_disk_registers_nothing(workdir):
    disk = workdir / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(disk)],
                             capture_output=True, check=False) if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root and the privilege to mount)")
    try:
        n = 2000  # more rows than fit in 120 kB
        pd.DataFrame({"mail_id": range(n), "email": [f"c{1 + i % 6}@x.org" for i in range(n)],
                      "mail_date": ["2022-06-01"] * n, "mail_text": ["thanks great " * 5] * n}
                     ).to_csv(workdir / "mails.csv", index=False)
        store = disk / ".lester"
        with pytest.raises(LesterError, match=r"no space left.*nothing was registered"):
            _run(workdir, store)
        assert list((store / "runs").iterdir()) == []
        assert lt.runs(store).empty
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_committed_run_is_fsynced(workdir, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    result = _run(workdir)
    assert any(s.endswith("model.pkl") for s in synced)
    assert any(s.endswith(f".incomplete-{result.run_id}") for s in synced)  # the folder, before the rename
    assert any(s.endswith("runs") for s in synced)  # the rename itself


def test_a_mistyped_store_is_an_error_for_readers(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    _run(workdir)
    with pytest.raises(StoreNotFoundError, match=r"no lester store at .*\.lestr.*lester run.*\./\.lester"):
        open_store(workdir / ".lestr", create=False)
    with pytest.raises(StoreNotFoundError):
        lt.runs(".lestr")
    with pytest.raises(StoreNotFoundError):
        lt.trace("customers", 1, store=".lestr")
    assert not (workdir / ".lestr").exists()
    assert issubclass(StoreNotFoundError, LesterError)
    assert len(open_store(".lester", create=False).catalog.runs()) == 1


def test_a_new_store_ignores_itself_in_git(workdir):
    store = ArtifactStore(workdir / "new-store")
    assert (store.root / ".gitignore").read_text().strip() == "*"


def _read_only(store: Path):
    """Make ``store`` read-only for this process: a read-only bind mount when running as root
    (root writes through permissions), else permissions; returns how to undo it, or None."""
    if os.geteuid() != 0:
        paths = [store, *store.rglob("*")]
        for path in paths:
            path.chmod(path.stat().st_mode & ~0o222)

        def undo() -> None:
            for path in paths:
                path.chmod(path.stat().st_mode | 0o200)
        return undo
    mounted = subprocess.run(["mount", "--bind", str(store), str(store)], capture_output=True, check=False)
    if mounted.returncode != 0:
        return None
    if subprocess.run(["mount", "-o", "remount,bind,ro", str(store)], capture_output=True,
                      check=False).returncode != 0:
        subprocess.run(["umount", str(store)], check=False)
        return None
    return lambda: subprocess.run(["umount", str(store)], check=True)


def test_a_read_only_store_can_be_read_and_writing_it_is_a_clear_error(workdir):
    store = workdir / ".lester"
    result = _run(workdir, store)
    undo = _read_only(store)
    if undo is None:
        pytest.skip("running as root without the privilege to mount: chmod does not stop root's "
                    "writes, so a read-only store cannot be made here (test_read_only_errors_are_clear "
                    "simulates one)")
    try:
        assert lt.runs(store)["run_id"].tolist() == [result.run_id]
        assert len(lt.trace("customers", 1, store=store)) > 0
        with pytest.raises(LesterError, match=r"read-only") as caught:
            _run(workdir, store)
        assert str(store) in str(caught.value)
        assert lt.runs(store)["run_id"].tolist() == [result.run_id]
    finally:
        undo()


def test_read_only_errors_are_clear(workdir, monkeypatch):
    store = workdir / ".lester"
    result = _run(workdir, store)
    import duckdb

    import lester.pipeline.catalog as catalog_module

    real_connect = duckdb.connect

    def read_only_fs(database, read_only=False, **kwargs):
        if not read_only and database != ":memory:":
            raise duckdb.IOException(f'IO Error: Cannot open file "{database}": Read-only file system')
        return real_connect(database, read_only=read_only, **kwargs)

    monkeypatch.setattr(catalog_module.duckdb, "connect", read_only_fs)
    real_open = os.open

    def no_writes(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_writes)
    # reading works (the run folders are read directly: the index cannot be built)
    assert lt.runs(store)["run_id"].tolist() == [result.run_id]
    lock = ArtifactStore(store).write_lock()
    with pytest.raises(LesterError, match=r"read-only") as caught, lock:
        pass
    assert str(store) in str(caught.value)


def test_concurrent_cli_runs_exit_zero(workdir):
    store = workdir / ".lester"
    processes = [subprocess.Popen(
        [sys.executable, "-m", "lester.cli", "run", "pipeline.py", "--store", str(store), "--no-cache",
         "--source", "customers=customers.csv", "--source", "mails=mails.csv"],
        cwd=workdir, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert len(lt.runs(store)) == 3
