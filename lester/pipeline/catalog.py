"""The DuckDB catalog of runs: what ran, on which data, and where every row came from.

Tables (all keyed by ``run_id``):

* ``runs``: one row per run (pipeline, created, folder, resolved config, parent run);
* ``sources``: the sources a run read (label, path, content fingerprint, rows, key column);
* ``row_provenance``: for every train/test row, the source ids it was derived from;
* ``column_provenance``: for every prepared column, the source columns it was computed from;
* ``matrix_provenance``: for every feature-matrix column, the prepared columns it encodes;
* ``metrics``: evaluation metrics per split;
* ``row_chunks``: the row chunks a run's per-row files are stored in (split, part, first row,
  rows), which turn a chunk's row numbers into positions in the split;
* ``audit_log``, ``forget_set``, ``redaction_set``: the *durable* tables of
  :mod:`lester.pipeline.forget_set` (deletions and redactions requested, as keyed hashes),
  which are written there directly and are never rebuilt from, or dropped with, run folders.

A run folder is the unit of registration. The store writes everything of a run into a hidden
staging folder, including ``catalog.json`` (the run's record and its small catalog tables) and ``row_provenance.parquet``, then renames the folder into ``runs/``: a run
is registered exactly when its folder is there, whole or not at all, and capturing a run costs
no database transaction. Apart from its durable tables, ``catalog.duckdb`` is an index over the folders, brought up to date in
one transaction whenever it is opened (:meth:`Catalog.sync`); ``row_provenance``, the one large
table, stays in the run folders and is read through a view. Readers open it read-only; only a
holder of the store's writer lock (:class:`StoreLock`) writes it; whoever cannot have it in
time (a writer holds it, it is damaged, the store is read-only) answers from the run folders,
so no query fails because another process is busy. Its ``runs.folder`` is relative to the
store (``runs/<run_id>``).

Source ids are stored as text so that integer and string keys share one column.

A run's record also holds the digests of its pickles (``artifact_digests``: ``{"model.pkl":
"hmac-sha256:..."}``), written with the run and checked before the files are unpickled (see
:func:`lester.pipeline.store.load_verified_pickle`); they are not copied into the database.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lester.errors import LesterError, StoreLockedError, StoreReadOnlyError

# The record file that makes a folder under runs/ a registered run.
RECORD_FILE = "catalog.json"
# The record's entry of pickle digests: {file name in the run folder: digest}.
ARTIFACT_DIGESTS = "artifact_digests"

# Catalog tables: name -> (column, DuckDB type). All but row_provenance are stored in the
# database; row_provenance is a view over the run folders' Parquet files.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "runs": (("run_id", "VARCHAR"), ("created", "TIMESTAMP"), ("pipeline", "VARCHAR"),
             ("folder", "VARCHAR"), ("config", "JSON"), ("parent_run", "VARCHAR"),
             ("model", "VARCHAR"), ("train_rows", "BIGINT"), ("test_rows", "BIGINT"),
             ("seconds", "DOUBLE")),
    "sources": (("run_id", "VARCHAR"), ("label", "VARCHAR"), ("name", "VARCHAR"),
                ("path", "VARCHAR"), ("fingerprint", "VARCHAR"), ("rows", "BIGINT"),
                ("key_column", "VARCHAR")),
    "column_provenance": (("run_id", "VARCHAR"), ("column", "VARCHAR"), ("source", "VARCHAR"),
                          ("source_column", "VARCHAR")),
    "matrix_provenance": (("run_id", "VARCHAR"), ("matrix_column", "BIGINT"),
                          ("feature", "VARCHAR"), ("transformer", "VARCHAR"),
                          ("prepared_column", "VARCHAR")),
    "metrics": (("run_id", "VARCHAR"), ("split", "VARCHAR"), ("name", "VARCHAR"),
                ("value", "DOUBLE")),
    "row_chunks": (("run_id", "VARCHAR"), ("split", "VARCHAR"), ("part", "VARCHAR"),
                   ("first_row", "BIGINT"), ("rows", "BIGINT")),
    # a version's deletion vectors: stored rows (positions in the split's chunks) that the
    # version no longer has, until ``lester purge`` rewrites their chunks
    "deleted_rows": (("run_id", "VARCHAR"), ("split", "VARCHAR"), ("row", "BIGINT")),
}
ROW_PROVENANCE: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR"), ("split", "VARCHAR"), ("row", "BIGINT"), ("source", "VARCHAR"),
    ("source_id", "VARCHAR"),
)
# Tables a run brings in its catalog.json (its runs row comes from its record).
RUN_TABLES = ("sources", "column_provenance", "matrix_provenance", "metrics", "row_chunks", "deleted_rows")
# Columns of a row provenance chunk file (run, split and the chunk's first row come from
# row_chunks: a chunk file is shared, hard-linked, by the versions that did not change it).
CHUNK_PROVENANCE = ("row", "source", "source_id")


def chunk_provenance_path(folder: Path, split: str, part: str) -> Path:
    return folder / "row_provenance" / f"{split}-{part}.parquet"


def write_provenance_chunk(folder: Path, split: str, part: str, chunk: pa.Table) -> None:
    """Write one chunk of a run's row provenance (``row`` counts from the chunk's first row)."""
    # no dictionary: source ids are mostly distinct, and trying one costs more than the write
    pq.write_table(chunk.select(list(CHUNK_PROVENANCE)), chunk_provenance_path(folder, split, part),
                   compression="none", use_dictionary=False, write_statistics=False)


def write_row_provenance(folder: Path, chunks: dict[tuple[str, str], pa.Table]) -> None:
    """Write a run's row provenance into its (staging) folder: ``{(split, part): table}``
    chunks (runs stored before chunking have one ``row_provenance.parquet``; readers accept
    both)."""
    (folder / "row_provenance").mkdir(exist_ok=True)
    for (split, part), chunk in chunks.items():
        write_provenance_chunk(folder, split, part, chunk)


def write_record(folder: Path, record: dict[str, Any], tables: dict[str, Sequence[dict[str, Any]]],
                 audit: Sequence[dict[str, Any]] = (), digests: Mapping[str, str] | None = None) -> None:
    """Write ``catalog.json``: the run's ``runs`` row, its small tables (lists of row dicts)
    and the digests of its pickles (``{file name: digest}``). ``audit`` must be empty: the
    audit log is a durable catalog table (:mod:`lester.pipeline.forget_set`), never kept in
    run folders, whose deletion would lose it."""
    if audit:
        raise ValueError("audit entries go to the catalog's audit_log (lester.pipeline.forget_set.append_audit)")
    unknown = set(tables) - set(RUN_TABLES)
    if unknown:
        raise ValueError(f"unknown catalog tables {sorted(unknown)}; expected {list(RUN_TABLES)}")
    payload = {
        "run": {column: record.get(column) for column, _ in TABLES["runs"] if column != "folder"},
        "tables": {
            name: [[row.get(column) for column, _ in TABLES[name][1:]] for row in tables[name]]
            for name in RUN_TABLES if name in tables
        },
        ARTIFACT_DIGESTS: dict(digests or {}),
    }
    (folder / RECORD_FILE).write_text(json.dumps(payload, default=_json_value))


def recorded_digest(payload: Mapping[str, Any], name: str) -> str | None:
    """The digest a run's record (the parsed ``catalog.json``) holds for its file ``name``.

    Parameters
    ----------
    payload : mapping
        The run's record, as :func:`write_record` wrote it.
    name : str
        A file of the run folder, e.g. ``model.pkl``.

    Returns
    -------
    str or None
        The digest; None when none was recorded (a run stored before pickles were signed).
    """
    digests = payload.get(ARTIFACT_DIGESTS)
    digest = digests.get(name) if isinstance(digests, Mapping) else None
    return digest if isinstance(digest, str) else None


def _json_value(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


class CatalogError(LesterError, LookupError):
    """A catalog lookup found nothing (an unknown run, say)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class StoreWarning(UserWarning):
    """Something in the store was damaged and worked around (a run folder skipped, the index
    rebuilt); the message names the path."""


def _warn(message: str) -> None:
    warnings.warn(message, StoreWarning, stacklevel=4)


# -- the writer lock ------------------------------------------------------------------------
LOCK_FILE = "lock"
LOCK_TIMEOUT_VARIABLE = "LESTER_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0
# Locks this process holds, by lock file: flock locks belong to an open file, so a second
# open in the same process would wait on itself; nested holders share the first one.
_HELD: dict[str, list[Any]] = {}
_HELD_GUARD = threading.Lock()

_WRITE_REFUSED = (errno.EROFS, errno.EACCES, errno.EPERM)


def lock_timeout(timeout: float | None = None) -> float:
    """The writer lock's timeout in seconds: ``timeout``, else ``$LESTER_LOCK_TIMEOUT``, else
    :data:`DEFAULT_LOCK_TIMEOUT`."""
    if timeout is not None:
        return float(timeout)
    try:
        return float(os.environ.get(LOCK_TIMEOUT_VARIABLE, DEFAULT_LOCK_TIMEOUT))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


def _command_line() -> str:
    words = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    text = " ".join(words)
    return text if len(text) <= 200 else text[:197] + "..."


class StoreLock:
    """The writer lock of a store, ``<store>/lock``: an exclusive ``flock`` that writers take
    before they change what is registered or the index, and that the kernel releases when its
    holder dies (so a killed writer never leaves the store locked). The holder writes its pid,
    command and start time into the file, which is what a waiting writer's timeout error
    quotes.

    Parameters
    ----------
    root : path
        The store folder.
    timeout : float, optional
        Seconds to wait for the lock (default: :func:`lock_timeout`).
    """

    def __init__(self, root: str | os.PathLike, timeout: float | None = None):
        self.root = Path(root)
        self.path = self.root / LOCK_FILE
        self.timeout = timeout

    def holder(self) -> dict[str, Any]:
        """What the current holder wrote into the lock file (empty when unreadable)."""
        try:
            value = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    @contextmanager
    def hold(self, command: str | None = None, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock for the ``with`` block, waiting up to ``timeout`` seconds.

        Raises
        ------
        StoreLockedError
            Another process held it for the whole timeout; the message says who.
        StoreReadOnlyError
            The lock file cannot be created or opened for writing.
        """
        key = os.path.abspath(self.path)
        with _HELD_GUARD:
            held = _HELD.get(key)
            if held is not None and held[2] == threading.get_ident():
                held[1] += 1
        if held is not None and held[2] == threading.get_ident():
            try:
                yield
            finally:
                with _HELD_GUARD:
                    held[1] -= 1
            return
        descriptor = self._open()
        try:
            self._acquire(descriptor, lock_timeout(self.timeout if timeout is None else timeout))
            entry = [descriptor, 1, threading.get_ident()]
            with _HELD_GUARD:
                _HELD[key] = entry
            try:
                since = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
                text = json.dumps({"pid": os.getpid(), "command": command or _command_line(),
                                   "since": since, "host": socket.gethostname()}).encode()
                try:
                    os.ftruncate(descriptor, 0)
                    os.pwrite(descriptor, text, 0)
                except OSError:  # who holds it is a courtesy: a full disk must not stop a write
                    pass
                yield
            finally:
                with _HELD_GUARD:
                    _HELD.pop(key, None)
                try:
                    os.ftruncate(descriptor, 0)
                except OSError:
                    pass
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            if error.errno in _WRITE_REFUSED or error.errno == errno.ENOENT:
                raise StoreReadOnlyError(self.root, (
                    f"the store {self.root} is read-only or missing ({error.strerror}: {self.path}); "
                    "this command writes the store: make it writable, or give --store a folder "
                    "you can write")) from error
            raise

    def _acquire(self, descriptor: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pause = 0.01
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
                pause = min(pause * 2, 0.2)
        holder = self.holder()
        who = (f"pid {holder.get('pid')} ({holder.get('command')!r} on {holder.get('host')}) since "
               f"{holder.get('since')}") if holder else "another process (it wrote nothing into the lock file)"
        raise StoreLockedError(self.root, (
            f"the store {self.root} is being written by {who}; waited {timeout:g} s for its lock "
            f"{self.path}. Run the command again when that one has finished, or wait longer with "
            f"{LOCK_TIMEOUT_VARIABLE}=<seconds>"), holder)


# -- the catalog ----------------------------------------------------------------------------
# How long a reader waits for a writer to finish with catalog.duckdb before it reads the run
# folders directly, and how long a writer waits for readers to let go of it.
READER_WAIT = 2.0
WRITER_WAIT = 5.0


def _is_lock_error(error: BaseException) -> bool:
    return "lock" in str(error).lower()


def _is_unwritable_error(error: BaseException) -> bool:
    """Whether a DuckDB error says the file cannot be written (as opposed to damaged)."""
    text = str(error).lower()
    return any(words in text for words in ("read-only", "read only", "permission denied",
                                            "no space left", "disk quota", "disk is full"))


def run_folder_problem(folder: Path) -> str | None:
    """Why ``folder`` (a folder under ``runs/``) is not a usable run, or None when it is.

    Only what a ``stat`` tells is checked (the record, ``run.json`` and the row provenance
    must be there); whether the record parses is checked when the run is indexed.
    """
    if not (folder / RECORD_FILE).is_file():
        return f"it has no {RECORD_FILE} (it was not registered by lester, or the file was deleted)"
    if not (folder / "run.json").is_file():
        return "its run.json is missing"
    if not (folder / "row_provenance").is_dir() and not (folder / "row_provenance.parquet").is_file():
        return "its row_provenance/ is missing"
    return None


def _read_record(folder: Path) -> dict[str, Any]:
    try:
        payload = json.loads((folder / RECORD_FILE).read_text())
    except (OSError, ValueError) as error:
        raise CatalogError(f"{folder / RECORD_FILE}: unreadable run record ({error})") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("run"), dict):
        raise CatalogError(f"{folder / RECORD_FILE}: not a run record (no 'run' entry)")
    return payload


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[tuple[str, str]],
                rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (lists in the order of ``columns``, (name, DuckDB type) pairs) into
    ``table`` with one statement over an Arrow table: ``executemany`` costs about 1 ms a row
    on a busy machine, and a version of a 1M-row run lists hundreds of chunks."""
    if not rows:
        return
    if len(rows) <= 16:  # a few rows: parameters cost less than registering a table
        marks = "(" + ", ".join("?" * len(columns)) + ")"
        con.execute(f"INSERT INTO {table} VALUES {', '.join([marks] * len(rows))}",
                    [value for row in rows for value in row])
        return
    data = pa.table({name: pa.array([row[i] for row in rows]) if any(row[i] is not None for row in rows)
                     else pa.nulls(len(rows)) for i, (name, _) in enumerate(columns)})
    con.register("_lester_rows", data)
    try:
        casts = ", ".join(f"CAST({_quote(c)} AS {t})" for c, t in columns)
        con.execute(f"INSERT INTO {table} SELECT {casts} FROM _lester_rows")
    finally:
        con.unregister("_lester_rows")


_HELD_DATABASES: dict[str, list[Any]] = {}  # database path -> [connection, depth, thread, flags]


class _Borrowed:
    """The connection a :func:`held_database` block holds, lent to one caller: closing it, or
    leaving its ``with`` block, leaves it open for the next caller of the block."""

    def __init__(self, con: duckdb.DuckDBPyConnection, flags: dict[str, Any]):
        self._con = con
        self.flags = flags  # what the block's users did once for all of it (tables created)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def close(self) -> None:
        pass

    def __enter__(self) -> _Borrowed:  # noqa: PYI034 - a proxy, not a subclass
        return self

    def __exit__(self, *exc: object) -> bool:
        return False


def borrowed_database(path: str | os.PathLike) -> _Borrowed | None:
    """The connection to the database ``path`` that a :func:`held_database` block of this
    thread holds, or None."""
    held = _HELD_DATABASES.get(os.path.abspath(path))
    if held is None or held[2] != threading.get_ident():
        return None
    # the views an earlier borrower made (``runs`` shadows ``main.runs``) go with it
    if held[3].pop("views", False):
        for view in ("runs", "row_provenance"):
            held[0].execute(f"DROP VIEW IF EXISTS temp.main.{view}")
    return _Borrowed(held[0], held[3])


@contextmanager
def held_database(path: str | os.PathLike) -> Iterator[None]:
    """Open the database ``path`` once for the ``with`` block: every catalog, forget-set and
    audit access of this thread inside it uses that one connection. Opening a DuckDB file
    costs 10-40 ms on a busy machine, several times what a deletion-vector request does, and
    a request would otherwise open it five times. The caller holds the store's writer lock
    (readers in other processes answer from the run folders meanwhile)."""
    key = os.path.abspath(path)
    held = _HELD_DATABASES.get(key)
    if held is not None and held[2] == threading.get_ident():
        held[1] += 1
        try:
            yield
        finally:
            held[1] -= 1
        return
    con = duckdb.connect(key)
    _HELD_DATABASES[key] = [con, 1, threading.get_ident(), {}]
    try:
        yield
    finally:
        _HELD_DATABASES.pop(key, None)
        con.close()


class Catalog:
    """The catalog database ``<store>/catalog.duckdb``; opened per call, never held open,
    so that several processes can take turns on one store.

    Readers open it read-only, which any number of processes can do at once. When it lags
    behind the run folders (a run was registered since), the reader brings it up to date
    under the store's writer lock (:class:`StoreLock`) if it can get that at once, and
    otherwise, or when a writer holds the database, or when it is damaged or cannot be
    written, answers from the run folders directly (an in-memory index): the folders are
    the truth, the database is only an index. A damaged database is rebuilt, with a warning.

    Folders are stored relative to the store (``runs/<run_id>``), so that a store opened by
    an absolute path from anywhere, or copied elsewhere, works; queries see ``runs.folder``
    as the folder in the store that was opened (``<runs_dir>/<run_id>``), whatever the file
    holds.

    ``runs_dir`` is the folder of run folders the catalog indexes (default: ``runs`` beside
    the database); ``lock`` the store's writer lock (default: ``lock`` beside the database).
    """

    def __init__(self, path: str | Path, runs_dir: str | Path | None = None, lock: StoreLock | None = None):
        self.path = Path(path)
        self.root = self.path.parent
        self.runs_dir = Path(runs_dir) if runs_dir is not None else self.root / "runs"
        self.lock = lock or StoreLock(self.root)

    # -- opening ----------------------------------------------------------------------------
    def _connect(self, views: bool = True) -> duckdb.DuckDBPyConnection:
        on_disk = self._scan()
        con, damaged = self._open_read_only(READER_WAIT)
        finish = self._with_views if views else (lambda c: c)
        if con is not None:
            if self._current(con, on_disk):
                return finish(con)
            con.close()
        if self._sync_locked(on_disk, lock_wait=0.0, open_wait=1.0):
            con, damaged = self._open_read_only(READER_WAIT)
            if con is not None:
                if self._current(con, on_disk):
                    return finish(con)
                con.close()
        if damaged is not None:
            _warn(f"{self.path} is damaged ({damaged}) and could not be rebuilt now (the store is "
                  "read-only or busy); answering from the run folders. Any lester command run with "
                  "write access to the store rebuilds it (e.g. `lester runs --store "
                  f"{self.root}`)")
        return self._in_memory(on_disk)

    def _scan(self) -> dict[str, Path]:
        """The usable run folders, by run id; damaged ones are skipped with a warning."""
        found: dict[str, Path] = {}
        if not self.runs_dir.is_dir():
            return found
        for entry in os.scandir(self.runs_dir):
            # staging folders (and anything hidden) start with a dot
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            folder = Path(entry.path)
            problem = run_folder_problem(folder)
            if problem is not None:
                _warn(f"skipping run folder {folder}: {problem}; remove the folder, or restore "
                      "the file from a backup")
                continue
            found[entry.name] = folder
        return found

    def _current(self, con: duckdb.DuckDBPyConnection, on_disk: dict[str, Path]) -> bool:
        """Whether the index holds exactly the usable runs on disk (a new run whose record
        does not parse is dropped from ``on_disk`` with a warning, so that it is not retried
        on every open)."""
        try:
            known = {run_id for (run_id,) in con.execute("SELECT run_id FROM runs").fetchall()}
        except duckdb.Error:  # a database without tables yet
            return False
        for run_id in sorted(set(on_disk) - known):
            try:
                _read_record(on_disk[run_id])
            except CatalogError as error:
                _warn(f"skipping run folder {on_disk.pop(run_id)}: {error}")
        return known == set(on_disk)

    def _open_read_only(self, wait: float) -> tuple[duckdb.DuckDBPyConnection | None, str | None]:
        """A read-only connection, waiting up to ``wait`` s for a writer to let go; None when
        there is no database, it stays locked, or it is damaged (then the error's text)."""
        lent = borrowed_database(self.path)
        if lent is not None:
            return lent, None
        deadline = time.monotonic() + wait
        pause = 0.01
        while True:
            if not self.path.exists():
                return None, None
            try:
                return duckdb.connect(str(self.path), read_only=True), None
            except duckdb.Error as error:
                if not _is_lock_error(error):
                    return None, str(error)
                if time.monotonic() >= deadline:
                    return None, None
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _open_writable(self, wait: float) -> duckdb.DuckDBPyConnection | None:
        """A read-write connection (the caller holds the writer lock), waiting up to ``wait``
        s for readers to let go; a damaged database is replaced by an empty one, which the
        sync then fills from the run folders. None when it cannot be had in time or the
        store cannot be written."""
        lent = borrowed_database(self.path)
        if lent is not None:
            return lent
        deadline = time.monotonic() + wait
        pause = 0.01
        rebuilt = False
        while True:
            try:
                con = duckdb.connect(str(self.path))
                if rebuilt:
                    _warn(f"{self.path} was damaged ({rebuilt}); rebuilt it from the run folders")
                return con
            except duckdb.Error as error:
                if _is_unwritable_error(error):
                    return None
                if not _is_lock_error(error):
                    if rebuilt:  # it failed on a fresh file too: not the file's fault
                        _warn(f"{self.path} could not be rebuilt ({str(error).splitlines()[0]}); "
                              "answering from the run folders")
                        return None
                    # the index is rebuilt from the run folders; the durable tables (forget set,
                    # audit log) cannot be, so the damaged file is kept aside, never deleted
                    aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
                    for stale in (self.path, self.path.with_name(self.path.name + ".wal")):
                        if stale.exists():
                            os.replace(stale, aside if stale == self.path else aside.with_name(aside.name + ".wal"))
                    rebuilt = (f"{str(error).splitlines()[0]}; the damaged file is kept as {aside}: its "
                               "forget set, redaction set and audit log are not in the rebuilt catalog "
                               "until restored from it or a backup")
                    continue
                if time.monotonic() >= deadline:
                    return None
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _sync_locked(self, on_disk: dict[str, Path], lock_wait: float, open_wait: float) -> bool:
        """Bring the database up to date under the writer lock; False when that was not
        possible now (lock or database busy, store read-only, disk full): the run folders
        stay the truth, and the next command tries again."""
        try:
            with self.lock.hold(command=f"{_command_line()} (catalog sync)", timeout=lock_wait):
                con = self._open_writable(open_wait)
                if con is None:
                    return False
                with con:
                    self._create_tables(con)
                    self._sync(con, on_disk)
                return True
        except (StoreLockedError, StoreReadOnlyError):
            return False
        except (OSError, duckdb.IOException) as error:
            _warn(f"could not update {self.path} ({error}); answering from the run folders")
            return False

    def _in_memory(self, on_disk: dict[str, Path]) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        try:
            self._create_tables(con)
            self._sync(con, on_disk)
            self._copy_durable(con)
        except BaseException:
            con.close()
            raise
        return self._with_views(con)

    @staticmethod
    def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
        from lester.pipeline.forget_set import create_tables

        for name, columns in TABLES.items():
            body = ", ".join(f"{_quote(c)} {t}" for c, t in columns)
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")
        create_tables(con)

    def _copy_durable(self, con: duckdb.DuckDBPyConnection) -> None:
        """Copy the durable tables (audit log, forget and redaction sets) into an in-memory
        index when the database can be read; when it cannot (a writer holds it), they read
        as empty here, and only here: the sets themselves are read by
        :func:`lester.pipeline.forget_set.read_sets`, which waits for the database."""
        from lester.pipeline.forget_set import DURABLE_TABLES

        if not self.path.exists():
            return
        try:
            con.execute(f"ATTACH '{_sql_string(self.path)}' AS durable (READ_ONLY)")
        except duckdb.Error:
            return
        try:
            for name in DURABLE_TABLES:
                try:
                    con.execute(f"INSERT INTO main.{name} BY NAME SELECT * FROM durable.{name}")
                except duckdb.Error:  # a database from before the table existed
                    continue
        finally:
            con.execute("DETACH durable")

    def _with_views(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """Temporary views (a read-only connection may create them): ``runs`` with absolute
        folders of this store, whatever the database holds, and ``row_provenance`` over the
        run folders' Parquet files."""
        try:
            # named as the store was (relative or absolute): paths shown to the user read as
            # the --store they gave, and are valid from this process's directory either way
            runs_dir = self.runs_dir
            (database,) = con.execute("SELECT current_database()").fetchall()[0]
            prefix = _sql_string(str(runs_dir) + os.sep)
            if isinstance(con, _Borrowed):
                con.flags["views"] = True
            con.execute(f"CREATE OR REPLACE TEMP VIEW runs AS SELECT * REPLACE ('{prefix}' || run_id AS folder) "
                        f"FROM {_quote(database)}.main.runs")
            select = ", ".join(f"CAST({_quote(c)} AS {t}) AS {_quote(c)}" for c, t in ROW_PROVENANCE)
            files = [str(runs_dir / run_id / "row_provenance.parquet") for (run_id,) in
                     con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]
            files = [f for f in files if os.path.exists(f)]  # runs stored before row chunks
            bodies = []
            if files:
                listed = ", ".join(f"'{_sql_string(f)}'" for f in files)
                bodies.append(f"SELECT {select} FROM read_parquet([{listed}], union_by_name=true)")
            chunks = con.execute("SELECT run_id, split, part FROM row_chunks ORDER BY ALL").fetchall()
            # a chunk file deleted by hand would fail every query; its rows are just not there
            paths = [str(chunk_provenance_path(runs_dir / r, s, p)) for r, s, p in chunks]
            paths = [p for p in paths if os.path.exists(p)]
            if paths:
                listed = ", ".join(f"'{_sql_string(p)}'" for p in paths)
                bodies.append(
                    "SELECT CAST(c.run_id AS VARCHAR) AS run_id, CAST(c.split AS VARCHAR) AS split, "
                    "CAST(c.first_row + p.row AS BIGINT) AS row, CAST(p.source AS VARCHAR) AS source, "
                    "CAST(p.source_id AS VARCHAR) AS source_id "
                    f"FROM read_parquet([{listed}], filename=true) p JOIN row_chunks c ON p.filename = "
                    f"'{prefix}' || c.run_id || '{os.sep}row_provenance{os.sep}' || c.split || '-' || c.part || '.parquet' "
                    # a version's deletion vectors hide the rows its shared chunks still hold
                    "ANTI JOIN deleted_rows d ON d.run_id = c.run_id AND d.split = c.split "
                    "AND d.row = c.first_row + p.row"
                )
            if bodies:
                body = " UNION ALL ".join(bodies)
            else:
                nulls = ", ".join(f"NULL AS {_quote(c)}" for c, _ in ROW_PROVENANCE)
                body = f"SELECT {select} FROM (SELECT {nulls}) WHERE false"
            con.execute(f"CREATE OR REPLACE TEMP VIEW row_provenance AS {body}")
        except BaseException:
            con.close()
            raise
        return con

    def sync(self, wait: float | None = None) -> bool:
        """Bring the database up to date with the run folders, under the store's writer lock.

        Queries do this themselves when they can (and answer from the run folders when they
        cannot), so calling it is never needed for correct answers; it keeps
        ``catalog.duckdb`` current for tools that read the file directly.

        Parameters
        ----------
        wait : float, optional
            Seconds to wait for the lock and for readers to let go of the database (default
            :data:`WRITER_WAIT`).

        Returns
        -------
        bool
            Whether the database is now up to date; False when it was busy or the store is
            read-only (nothing is lost: the next command that can, catches up).
        """
        wait = WRITER_WAIT if wait is None else wait
        return self._sync_locked(self._scan(), lock_wait=wait, open_wait=wait)

    def _sync(self, con: duckdb.DuckDBPyConnection, on_disk: dict[str, Path] | None = None) -> None:
        on_disk = self._scan() if on_disk is None else on_disk
        known = {run_id for (run_id,) in con.execute("SELECT run_id FROM main.runs").fetchall()}
        added, removed = sorted(set(on_disk) - known), sorted(known - set(on_disk))
        if not added and not removed:
            return
        con.execute("BEGIN TRANSACTION")
        try:
            for run_id in removed:  # a run folder deleted (or damaged) by hand leaves the index
                for name in ("runs", *RUN_TABLES):
                    con.execute(f"DELETE FROM main.{name} WHERE run_id = ?", [run_id])
            for run_id in added:
                self._insert_run(con, run_id)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _insert_run(self, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
        folder = self.runs_dir / run_id
        try:
            payload = _read_record(folder)
        except CatalogError as error:
            _warn(f"skipping run folder {folder}: {error}")
            return
        # relative to the store: a store opened from elsewhere, or copied, stays valid
        relative = Path(os.path.relpath(folder, self.root)).as_posix()
        run = {**payload["run"], "run_id": run_id, "folder": relative}
        columns = [c for c, _ in TABLES["runs"]]
        run["config"] = json.dumps(run.get("config") or {})
        con.execute(f"INSERT INTO main.runs VALUES ({', '.join('?' * len(columns))})",
                    [run.get(c) for c in columns])
        for name, rows in payload.get("tables", {}).items():
            if rows and name in TABLES:
                insert_rows(con, f"main.{name}", TABLES[name], [[run_id, *row] for row in rows])

    def query(self, sql: str, parameters: Sequence[Any] = (), *, views: bool = True) -> pd.DataFrame:
        """Run a read query against the catalog and return the result (``views=False``: of
        the tables only, without building the ``row_provenance`` view over the run folders,
        which lists every chunk file of every run)."""
        with self._connect(views) as con:
            return con.execute(sql, list(parameters)).df()

    def runs(self) -> pd.DataFrame:
        """All runs, newest first, with their headline metrics."""
        return self.query(
            """
            SELECT r.run_id, r.created, r.pipeline, r.model, r.train_rows, r.test_rows,
                   r.seconds, r.parent_run,
                   (SELECT list(m.name || '=' || round(m.value, 4) ORDER BY m.name)
                      FROM metrics m WHERE m.run_id = r.run_id AND m.split = 'test') AS test_metrics
            FROM runs r ORDER BY r.created DESC, r.run_id DESC
            """
        )

    def run(self, run_id: str) -> dict[str, Any]:
        """One run's record, with its sources and metrics; ``run_id`` may be a unique prefix."""
        matches = self.query("SELECT * FROM runs WHERE starts_with(run_id, ?)", [run_id])
        if len(matches) != 1:
            known = self.query("SELECT run_id FROM runs ORDER BY created DESC LIMIT 5")["run_id"].tolist()
            what = "no run" if len(matches) == 0 else f"{len(matches)} runs"
            raise CatalogError(f"{what} matches {run_id!r}; recent runs: {known}")
        record = matches.iloc[0].to_dict()
        record["config"] = json.loads(record["config"]) if record["config"] else {}
        rid = record["run_id"]
        record["sources"] = self.query("SELECT * EXCLUDE (run_id) FROM sources WHERE run_id = ?", [rid])
        record["metrics"] = self.query("SELECT * EXCLUDE (run_id) FROM metrics WHERE run_id = ?", [rid])
        return record

    def trace_source_row(self, source: str, source_id: Any) -> pd.DataFrame:
        """Every run, split and row derived from one source row.

        Raises
        ------
        CatalogError
            No stored run read a source of that name: a typo would otherwise look like a row
            that no run used. The message lists the sources the stored runs read.
        """
        with self._connect() as con:
            hits = con.execute(
                """
                SELECT p.run_id, p.split, p.row, r.model, r.folder
                FROM row_provenance p JOIN runs r USING (run_id)
                WHERE p.source = ? AND p.source_id = ?
                ORDER BY r.created, p.run_id, p.split, p.row
                """,
                [source, str(source_id)],
            ).df()
            if len(hits):
                return hits
            known = con.execute("SELECT DISTINCT label, name FROM sources ORDER BY label").fetchall()
        if any(source in pair for pair in known):
            return hits
        labels = sorted({label for label, _ in known})
        listed = ", ".join(labels) if labels else "none (the store holds no runs)"
        raise CatalogError(f"no stored run read a source {source!r}; the sources of the stored runs: {listed}")

    def trace_run_row(self, run_id: str, split: str, row: int) -> pd.DataFrame:
        """The source rows one train/test row was derived from."""
        rid = self.run(run_id)["run_id"]
        return self.query(
            """
            SELECT p.source, p.source_id, s.path, s.fingerprint
            FROM row_provenance p LEFT JOIN sources s ON s.run_id = p.run_id AND s.label = p.source
            WHERE p.run_id = ? AND p.split = ? AND p.row = ?
            ORDER BY p.source, p.source_id
            """,
            [rid, split, int(row)],
        )


def _sql_string(value: Any) -> str:
    return str(value).replace("'", "''")
