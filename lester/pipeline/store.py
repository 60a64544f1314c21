"""The artifact store: one immutable folder per run under ``.lester/runs/``, plus the catalog.

A run folder holds ``train.parquet`` and ``test.parquet`` (prepared rows with their
provenance columns ``prov:<source>``), ``X_train``/``X_test`` (feature matrices),
``y_train.npy``, ``y_test.npy``, ``predictions.npy``, ``encoder.pkl``, ``model.pkl``,
``config.toml``, ``run.json``, ``row_provenance`` and ``catalog.json`` (the run's catalog
record: see :mod:`lester.pipeline.catalog`).

Per-row artifacts are stored in row chunks of :data:`CHUNK_ROWS` rows: ``train.parquet`` is a
folder of ``part-00000.parquet``, ... (``pd.read_parquet`` reads the folder as one table),
``X_train`` a folder of ``part-00000.npy`` (``.npz`` when sparse) and ``row_provenance`` a folder
of ``train-part-00000.parquet``, ... whose ``row`` is the position within the chunk (the
catalog adds the chunk's first row). A new version of a run (``lester forget``) rewrites only
the chunks that hold changed rows and hard-links the others. ``run.json`` lists the chunks
(``chunks``); ``row_ids_<split>.npy`` holds each row's source ids (one column per provenance
label) for finding rows without reading the Parquet files. Read them with :func:`load_rows`,
:func:`load_matrix` and :func:`load_row_provenance`; runs stored before chunking (single
files) read the same way.

A run is written into a hidden staging folder and moved into place with one rename, which is
what registers it: an interrupted run leaves nothing registered, and nothing that was there
before is touched.

Several processes can share a store. The staging folder is flushed to the disk (every file,
then the folder) before the rename, and the rename is done under the store's writer lock
(``lock``, an ``flock`` that says who holds it: see :class:`~lester.pipeline.catalog.StoreLock`),
so a crash never registers a folder with lost files and writers never interleave. Readers
take no lock (see :class:`~lester.pipeline.catalog.Catalog`). A staging folder or partial
cache file that an interrupted writer left is removed by the next process that opens the
store, unless its writer still holds it. A full disk or a read-only store is a
:class:`~lester.errors.StoreFullError` or :class:`~lester.errors.StoreReadOnlyError` that
says what to do, and registers nothing. Commands that only read open the store with
:func:`open_store` (``create=False``), so a mistyped ``--store`` is a
:class:`~lester.errors.StoreNotFoundError` instead of a new empty store.

Stored pickles (a run's ``model.pkl`` and ``encoder.pkl``, the stage cache's entries) are
signed: unpickling a file runs whatever code its author put into it, so a file that anyone
but lester wrote must never be loaded. Each pickle is written with an HMAC-SHA256 of its
bytes, keyed by the store's secret ``keys/pickle.key`` (32 random bytes, mode 0600, created
with the store); a run's digests are part of its catalog record (``artifact_digests`` in
``catalog.json``), a cache entry's sit beside it (``<key>.sig``). :func:`load_verified_pickle`,
the one place a stored pickle is read, checks the digest before it unpickles.

What this protects against: someone who can write into the store but not read its key (a
shared or synced folder, a restored backup, a compromised job that writes artifacts) cannot
make lester run code by replacing a pickle, and rewriting the digest in ``catalog.json`` does
not help, because a valid digest needs the key. What it does not protect against: whoever can
read ``keys/pickle.key`` can sign anything (keep the key as private as the store's owner
account, and out of backups and copies that others can read); a writer can still swap in
another pickle that lester itself signed with the same key (a cache entry is bound to its
cache key, a run's digests to its own record, so this yields lester-made objects only); and
the pickles are not encrypted. A pipeline's own code runs anyway, so a malicious pipeline is
out of scope. Pickles stored before signing have no digest and are refused, unless
``LESTER_TRUST_UNVERIFIED_PICKLES=1`` is set (see :func:`load_verified_pickle`).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import hmac
import json
import os
import pickle
import secrets
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
import scipy.sparse as sp

from lester.errors import (
    LesterError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    StoreNotFoundError,
    StoreReadOnlyError,
)
from lester.pipeline.catalog import (
    Catalog,
    StoreLock,
    StoreWarning,
    _command_line,
    write_record,
    write_row_provenance,
)

# StoreError, StoreLockedError and StoreWarning are imported here too so that callers find
# every store error beside the store.
_REEXPORTED = (StoreError, StoreLockedError, StoreWarning)


# When this process started (near enough: when lester's store was first imported). Staging
# folders and partial files older than this cannot be this process's, and unless another
# process holds them locked, nobody is writing them any more.
PROCESS_STARTED = time.time()
GITIGNORE = "*\n"
FSYNC_VARIABLE = "LESTER_FSYNC"
NO_STORE_HINT = "runs are stored by `lester run` in ./.lester by default"


def _store_write_error(error: OSError, root: Path) -> OSError:
    """A store error that says what happened and what to do, for an ``OSError`` met while
    writing the store; other errors are returned as they are."""
    where = error.filename or root
    if error.errno in (errno.ENOSPC, errno.EDQUOT) or (error.errno is None and _nearly_full(root)):
        # numpy's short write ("3162 requested and 1008 written") is an OSError without errno
        return StoreFullError(root, (
            f"no space left on the device of the store {root} (writing {where}): nothing was "
            "registered and the partial run was removed; free some space (or give --store a "
            "folder on another disk) and run the command again"))
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnlyError(root, (
            f"the store {root} is read-only ({error.strerror}: {where}); this command writes the "
            "store: make it writable, or give --store a folder you can write"))
    return error


def _nearly_full(root: Path) -> bool:
    try:
        return shutil.disk_usage(root).free < 64 * 1024
    except OSError:
        return False


def _fsync_enabled() -> bool:
    return os.environ.get(FSYNC_VARIABLE, "1").strip().lower() not in ("0", "false", "no")


def _fsync_path(path: str | os.PathLike, directory: bool = False) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` (the folder itself last) to the disk, so
    that the rename that registers a run never makes a folder whose files a crash can lose.
    ``LESTER_FSYNC=0`` turns this off (for throwaway stores on slow disks)."""
    if not _fsync_enabled():
        return
    for top, folders, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(top, name)
            # a hard link to a committed run's file: its bytes are on the disk already, and the
            # new name is flushed with its folder
            if os.lstat(path).st_nlink == 1:
                _fsync_path(path)
        for name in folders:
            path = os.path.join(top, name)
            if not os.path.islink(path):  # a link to a committed run's folder: the same
                _fsync_path(path, directory=True)
    _fsync_path(folder, directory=True)


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class ArtifactStore:
    """A folder (default ``.lester``) of run folders, a stage cache, ``catalog.duckdb``, the
    writer lock ``lock`` and the key its pickles are signed with (``keys/pickle.key``).

    Parameters
    ----------
    root : path
        The store folder.
    create : bool
        Create the store when there is none (what commands that write do). With False (what
        commands that only read should do) a folder without a store is a
        :class:`~lester.errors.StoreNotFoundError` and nothing is created.
    lock_timeout : float, optional
        Seconds a writer waits for the store's lock (default ``$LESTER_LOCK_TIMEOUT`` or
        30).

    Opening a store whose folders can be written removes what interrupted writers left:
    ``runs/.incomplete-*`` staging folders (which hold personal data) and the stage cache's
    ``*.partial`` files, when they are older than this process and no process holds them.
    A new store gets a ``.gitignore`` of ``*``: it holds personal data.
    """

    def __init__(self, root: str | os.PathLike = ".lester", *, create: bool = True,
                 lock_timeout: float | None = None):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.cache_dir = self.root / "cache"
        if create:
            self._create()
        elif not self.runs_dir.is_dir():
            raise StoreNotFoundError(self.root, (
                f"no lester store at {self.root}; {NO_STORE_HINT} (give --store the folder "
                "that holds the runs)"))
        self._pickle_key: bytes | None = ensure_pickle_key(self.root) if create else read_pickle_key(self.root)
        self.lock = StoreLock(self.root, timeout=lock_timeout)
        self.catalog = Catalog(self.root / "catalog.duckdb", self.runs_dir, lock=self.lock)
        self.clean()

    def _create(self) -> None:
        if self.runs_dir.is_dir():
            return
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            gitignore = self.root / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text(GITIGNORE)
        except OSError as error:
            raise _store_write_error(error, self.root) from error

    @property
    def pickle_key(self) -> bytes:
        """The store's signing key (created when a store opened with ``create=False`` is
        first written to)."""
        if self._pickle_key is None:
            self._pickle_key = ensure_pickle_key(self.root)
        return self._pickle_key

    @property
    def subject_key(self) -> bytes:
        """The secret of the keyed hashes in the forget set and the audit log (created on
        first use: see :func:`ensure_subject_key`)."""
        return ensure_subject_key(self.root)

    def forget_sets(self) -> Any:
        """The store's forget and redaction sets (:class:`lester.pipeline.forget_set.Sets`),
        read from the catalog now."""
        from lester.pipeline.forget_set import read_sets

        key = read_subject_key(self.root)
        return read_sets(self.root, key)

    def write_lock(self, command: str | None = None, timeout: float | None = None) -> Any:
        """The store's writer lock, as a context manager: hold it around anything that
        must not interleave with another writer (registering a run, a deletion that reads the
        current versions and writes new ones).

        Parameters
        ----------
        command : str, optional
            What the holder is doing, shown to a writer that times out waiting (default: this
            process's command line).
        timeout : float, optional
            Seconds to wait (default: the store's ``lock_timeout``).

        Raises
        ------
        StoreLockedError
            Another process held the lock for the whole timeout; the message names it.
        StoreReadOnlyError
            The store cannot be written.
        """
        return self.lock.hold(command=command, timeout=timeout)

    def clean(self) -> list[Path]:
        """Remove staging folders and partial cache files that interrupted writers left
        (older than this process, and not locked by a writer still at work).

        Returns
        -------
        list of Path
            What was removed (nothing in a store that cannot be written).
        """
        removed: list[Path] = []
        candidates: list[tuple[Path, bool]] = []
        for folder, prefix, directory in ((self.runs_dir, ".incomplete-", True),
                                          (self.cache_dir, None, False)):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if directory and entry.name.startswith(prefix):
                    candidates.append((Path(entry.path), True))
                elif not directory and entry.name.endswith((".partial", ".sig-partial")):
                    candidates.append((Path(entry.path), False))
        for path, directory in candidates:
            try:
                if path.lstat().st_mtime >= PROCESS_STARTED:
                    continue
                descriptor = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
            except OSError:
                continue
            try:
                if not _try_lock(descriptor):  # its writer is still at work
                    continue
                if directory:
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
            except OSError:  # a read-only store keeps them; nothing else depends on it
                pass
            finally:
                os.close(descriptor)
        return removed

    def run_folder(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def write_run(
        self,
        run_id: str,
        write_files: Callable[[Path], Mapping[str, str] | None],
        record: dict[str, Any],
        tables: dict[str, Any],
        audit: Sequence[dict[str, Any]] = (),
        precondition: Callable[[], None] | None = None,
    ) -> Path:
        """Write a run's files with ``write_files(folder)``, its catalog ``tables``
        (``row_provenance`` and the small per-run tables) and ``audit`` entries, flush them to
        the disk, then register the run by renaming its folder into place, under the store's
        writer lock: it appears whole or not at all. The database index is not touched (the
        next open, or :meth:`Catalog.sync`, catches up).

        ``precondition`` is called under the writer lock just before the rename and may raise
        to refuse the registration (a new version checks that its parent is still the head
        of its lineage; a run that its sources' forget set did not change meanwhile).

        ``write_files`` returns the digests of the pickles it stored (``{"model.pkl":
        digest}``, as :func:`save_pickle` returns them), which go into the run's record; a
        pickle without one is refused when it is loaded.

        Raises
        ------
        StoreFullError
            The disk filled up; nothing was registered.
        StoreReadOnlyError
            The store cannot be written.
        StoreLockedError
            Another writer held the store's lock for the whole lock timeout.
        """
        staging = self.runs_dir / f".incomplete-{run_id}"
        final = self.run_folder(run_id)
        if final.exists():
            raise FileExistsError(f"{final}: a run with this id exists already")
        try:
            staging.mkdir(parents=True)
            # held while the folder is written: a cleaner in another process leaves it alone
            guard = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            raise _store_write_error(error, self.root) from error
        try:
            fcntl.flock(guard, fcntl.LOCK_EX)
            digests = write_files(staging) or {}
            small = {name: table for name, table in tables.items() if name != "row_provenance"}
            if "row_provenance" in tables:
                write_row_provenance(staging, tables["row_provenance"])
            write_record(staging, record, small, audit, digests=digests)
            fsync_tree(staging)
            with self.write_lock(command=f"{_command_line()} (registering run {run_id})"):
                if final.exists():
                    raise FileExistsError(f"{final}: a run with this id exists already")
                if precondition is not None:
                    precondition()
                os.replace(staging, final)
                if _fsync_enabled():
                    _fsync_path(self.runs_dir, directory=True)
        except OSError as error:
            translated = _store_write_error(error, self.root)  # before the space is freed again
            shutil.rmtree(staging, ignore_errors=True)
            if translated is error:
                raise
            raise translated from error
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            os.close(guard)
        return final

    # -- stage cache ----------------------------------------------------------------------
    def cache_get(self, key: str) -> Any | None:
        """The cached value of a stage, or None on a miss.

        An entry whose signature is missing or wrong (written before entries were signed,
        torn, or tampered with) is a miss: it is deleted, never unpickled, and the stage is
        recomputed. So is a validly signed entry stored under another key."""
        path = self.cache_dir / f"{key}.pkl"
        signature = path.with_suffix(".sig")
        if not path.exists():
            return None
        try:
            stored_key, value = load_verified_pickle(path, signature.read_text().strip(), self.pickle_key)
        except Exception:  # noqa: BLE001 - a stale, torn or forged entry is recomputed
            stored_key, value = None, None
        if stored_key != key:
            for stale in (path, signature):
                try:
                    stale.unlink(missing_ok=True)
                except OSError:  # a read-only store: the entry stays a miss
                    pass
            return None
        return value

    def cache_put(self, key: str, value: Any) -> None:
        """Store a stage's value, signed; the key is pickled with it, so that an entry copied
        onto another key is a miss. The cache is an optimisation: a store that cannot be
        written (read-only, or its disk full) just keeps no entry."""
        path = self.cache_dir / f"{key}.pkl"
        partial = path.with_suffix(".partial")
        signature = path.with_suffix(".sig-partial")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as handle:
                # locked while written: a cleaner in another process leaves it alone
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                digest = _dump_signed(handle, (key, value), self.pickle_key)
            signature.write_text(digest)
            # a reader between the two renames sees a pickle and a signature that disagree: a miss
            os.replace(partial, path)
            os.replace(signature, path.with_suffix(".sig"))
        except OSError as error:
            for stale in (partial, signature):
                try:
                    stale.unlink(missing_ok=True)
                except OSError:
                    pass
            if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
                raise


def new_run_id() -> tuple[str, datetime]:
    """A new run's id (its creation time in UTC, then 6 random hex digits: ids sort by time)
    and that time; the one place run ids are made, for first runs and versions alike.

    Example:
        >>> run_id, created = new_run_id()
        >>> run_id.startswith(f"{created:%Y%m%d-%H%M%S}-") and len(run_id) == 22
        True
    """
    created = datetime.now(timezone.utc).replace(tzinfo=None)
    return f"{created:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}", created


def open_store(path: str | os.PathLike = ".lester", create: bool = False,
               lock_timeout: float | None = None) -> ArtifactStore:
    """Open a store, by default one that must exist already: what commands that only read
    (``runs``, ``show``, ``trace``) use, so that a mistyped ``--store`` is an error rather
    than a new empty store.

    Parameters
    ----------
    path : path
        The store folder.
    create : bool
        Create it when there is none (default False).
    lock_timeout : float, optional
        Seconds a writer waits for the store's lock (default ``$LESTER_LOCK_TIMEOUT`` or 30).

    Returns
    -------
    ArtifactStore
        The store.

    Raises
    ------
    StoreNotFoundError
        With ``create=False``, when ``path`` holds no store ("no lester store at PATH; runs
        are stored by `lester run` in ./.lester by default").
    """
    return ArtifactStore(path, create=create, lock_timeout=lock_timeout)


def save_frame(path: Path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet; converted on one thread, as the thread pool pandas
    would start costs more than it saves on the frames of one run."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False, nthreads=1), path)


# Rows per chunk: small enough that deleting a few rows rewrites little, large enough that
# the per-file cost of reading a 100k-row run stays small.
CHUNK_ROWS = 4096


def chunk_sizes(n: int, size: int = CHUNK_ROWS) -> list[int]:
    """Row counts of the chunks ``n`` rows are stored in (one empty chunk for no rows)."""
    if n == 0:
        return [0]
    return [size] * (n // size) + ([n % size] if n % size else [])


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def chunk_manifest(folder: Path) -> dict[str, list[list[Any]]] | None:
    """``{split: [[part, rows], ...]}`` from ``run.json``; None for a run stored unchunked."""
    path = folder / "run.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("chunks")


def save_matrix(folder: Path, name: str, matrix: Any, sizes: Sequence[int] | None = None) -> None:
    """Save a feature matrix: one file, or with ``sizes`` a folder of row chunks."""
    if sizes is None:
        if sp.issparse(matrix):
            sp.save_npz(folder / f"{name}.npz", sp.csr_matrix(matrix))
        else:
            np.save(folder / f"{name}.npy", np.asarray(matrix), allow_pickle=False)
        return
    (folder / name).mkdir()
    matrix = sp.csr_matrix(matrix) if sp.issparse(matrix) else np.asarray(matrix)
    start = 0
    for index, rows in enumerate(sizes):
        save_matrix_part(folder / name / part_name(index), matrix[start:start + rows])
        start += rows


def save_matrix_part(path_stem: Path, matrix: Any) -> None:
    if sp.issparse(matrix):
        sp.save_npz(path_stem.with_suffix(".npz"), sp.csr_matrix(matrix))
    else:
        np.save(path_stem.with_suffix(".npy"), np.asarray(matrix), allow_pickle=False)


def matrix_part_path(folder: Path, name: str, part: str) -> Path:
    path = folder / name / f"{part}.npy"
    return path if path.exists() else folder / name / f"{part}.npz"


def load_matrix_part(path: Path) -> Any:
    if path.suffix == ".npz":
        return sp.load_npz(path)
    return np.load(path, allow_pickle=False, mmap_mode="r")


def load_matrix(folder: Path, name: str) -> Any:
    """A feature matrix saved by :func:`save_matrix`, whole (chunks concatenated)."""
    folder = Path(folder)
    if (folder / f"{name}.npz").exists():
        return sp.load_npz(folder / f"{name}.npz")
    if (folder / f"{name}.npy").exists():
        return np.load(folder / f"{name}.npy", allow_pickle=False)
    files = sorted((folder / name).iterdir())
    if all(f.suffix == ".npy" for f in files):
        return _read_dense_parts(files)
    parts = [load_matrix_part(p) for p in files]
    if any(sp.issparse(p) for p in parts):
        return sp.vstack(parts, format="csr") if len(parts) > 1 else parts[0]
    return np.concatenate(parts) if len(parts) > 1 else np.array(parts[0])


def _read_dense_parts(files: Sequence[Path]) -> np.ndarray:
    """Dense chunks read straight into one array: a single copy, no memory maps."""
    headers = []
    for path in files:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            headers.append((shape, fortran, dtype, handle.tell()))
    shape, _, dtype, _ = headers[0]
    if any(h[1] or h[2] != dtype or h[0][1:] != shape[1:] or dtype.hasobject for h in headers):
        parts = [np.load(p, allow_pickle=False) for p in files]
        return np.concatenate(parts)
    out = np.empty((sum(h[0][0] for h in headers), *shape[1:]), dtype=dtype)
    at = 0
    for path, (part_shape, _, _, offset) in zip(files, headers, strict=True):
        n = part_shape[0]
        with open(path, "rb") as handle:
            handle.seek(offset)
            handle.readinto(memoryview(out[at:at + n]).cast("B"))
        at += n
    return out


def save_rows(folder: Path, split: str, table: pa.Table, sizes: Sequence[int]) -> None:
    """Write a split's prepared rows as ``<split>.parquet/part-NNNNN.parquet`` chunks."""
    (folder / f"{split}.parquet").mkdir()
    start = 0
    for index, rows in enumerate(sizes):
        save_rows_part(folder, split, part_name(index), table.slice(start, rows))
        start += rows


def save_rows_part(folder: Path, split: str, part: str, rows: pa.Table) -> None:
    """Write one chunk of a split's prepared rows."""
    pq.write_table(rows, folder / f"{split}.parquet" / f"{part}.parquet", **FAST_PARQUET)


def deleted_rows(folder: Path, split: str) -> np.ndarray:
    """The stored positions of ``split`` that the run's deletion vectors hide (``deleted`` in
    ``run.json``: a ``lester forget`` that shares its parent's chunks records them there, and
    ``lester purge`` rewrites the chunks without them); empty for most runs."""
    path = Path(folder) / "run.json"
    if not path.exists():
        return np.zeros(0, np.int64)
    return np.asarray(json.loads(path.read_text()).get("deleted", {}).get(split, []), dtype=np.int64)


def load_rows(folder: Path, split: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A split's prepared rows (``train`` or ``test``) as one DataFrame, in stored order,
    without the rows the run's deletion vectors hide (their index is their stored position)."""
    table = pq.read_table(Path(folder) / f"{split}.parquet", columns=columns)
    deleted = deleted_rows(folder, split)
    if not len(deleted):
        return table.to_pandas()
    live = np.setdiff1d(np.arange(table.num_rows), deleted, assume_unique=True)
    return table.take(pa.array(live)).to_pandas().set_axis(live)


def load_row_provenance(folder: Path) -> pa.Table:
    """A run's row provenance (``split``, ``row``, ``source``, ``source_id``), with ``row``
    the position in the split, as the catalog's ``row_provenance`` gives it."""
    folder = Path(folder)
    single = folder / "row_provenance.parquet"
    columns = ["split", "row", "source", "source_id"]
    if single.exists():
        table = pq.read_table(single)
        return table.select(columns)
    parts = []
    for split, chunks in (chunk_manifest(folder) or {}).items():
        first = 0
        for part, rows in chunks:
            table = pq.read_table(folder / "row_provenance" / f"{split}-{part}.parquet")
            parts.append(pa.table({
                "split": pa.array([split] * table.num_rows, pa.string()),
                "row": pa.compute.add(table.column("row"), pa.scalar(first, pa.int64())),
                "source": table.column("source").cast(pa.string()),
                "source_id": table.column("source_id").cast(pa.string()),
            }))
            first += rows
    if not parts:
        return pa.table({c: pa.array([], pa.int64() if c == "row" else pa.string()) for c in columns})
    table = pa.concat_tables(parts)
    for split in ("train", "test"):  # rows the run's deletion vectors hide
        deleted = deleted_rows(folder, split)
        if len(deleted):
            hidden = pa.compute.and_(pa.compute.equal(table.column("split"), split),
                                     pa.compute.is_in(table.column("row"), pa.array(deleted)))
            table = table.filter(pa.compute.invert(hidden))
    return table


def save_row_ids(folder: Path, split: str, ids: np.ndarray | None) -> None:
    """Save each row's source ids, and beside them their index: per provenance label, the
    ids sorted (``row_ids_<split>.sorted.npy``, one row per label) and the stored positions
    in that order (``row_ids_<split>.order.npy``), so that finding the rows of k ids is
    k binary searches in memory-mapped files, not a pass over every row."""
    if ids is None:
        return
    np.save(folder / f"row_ids_{split}.npy", ids, allow_pickle=False)
    if ids.ndim != 2 or ids.dtype.kind not in "iuU":
        return
    order = np.argsort(ids, axis=0, kind="stable").T.copy()
    np.save(folder / f"row_ids_{split}.order.npy", order, allow_pickle=False)
    np.save(folder / f"row_ids_{split}.sorted.npy", np.take_along_axis(ids.T, order, axis=1), allow_pickle=False)


def load_row_ids(folder: Path, split: str) -> np.ndarray | None:
    """Each row's source ids, one column per provenance label (None when not stored),
    memory-mapped: a request reads the rows it names only."""
    path = Path(folder) / f"row_ids_{split}.npy"
    return np.load(path, allow_pickle=False, mmap_mode="r") if path.exists() else None


def find_row_ids(folder: Path, split: str, column: int, values: np.ndarray) -> np.ndarray | None:
    """The stored positions (increasing) of the split's rows whose ids in provenance
    ``column`` are among ``values`` (of the ids' own type), from the index
    :func:`save_row_ids` wrote; None for a run stored without one."""
    folder = Path(folder)
    sorted_path, order_path = folder / f"row_ids_{split}.sorted.npy", folder / f"row_ids_{split}.order.npy"
    if not sorted_path.exists() or not order_path.exists():
        return None
    ordered = np.load(sorted_path, allow_pickle=False, mmap_mode="r")[column]
    order = np.load(order_path, allow_pickle=False, mmap_mode="r")[column]
    if ordered.dtype.kind == "U":  # a longer text would be cut to the stored width and match wrongly
        values = [v for v in np.asarray(values).tolist() if len(str(v)) <= ordered.dtype.itemsize // 4]
    values = np.unique(np.asarray(values, dtype=ordered.dtype))
    low, high = np.searchsorted(ordered, values, "left"), np.searchsorted(ordered, values, "right")
    hits = [np.asarray(order[a:b]) for a, b in zip(low.tolist(), high.tolist(), strict=True) if b > a]
    return np.sort(np.concatenate(hits)).astype(np.int64) if hits else np.zeros(0, np.int64)


# Uncompressed and without dictionaries: chunks are written often (every new version) and
# encoding dominates writing them.
FAST_PARQUET = {"compression": "none", "use_dictionary": False, "write_statistics": False}


# -- signed pickles (see the module docstring for what the signature does and does not cover)
KEY_FILE = Path("keys") / "pickle.key"
SUBJECT_KEY_FILE = Path("keys") / "subject.key"
DIGEST_SCHEME = "hmac-sha256"
TRUST_UNVERIFIED_VARIABLE = "LESTER_TRUST_UNVERIFIED_PICKLES"


class PickleIntegrityError(LesterError, RuntimeError):
    """A stored pickle was not loaded: its digest is missing or does not match.

    ``path`` is the refused file; the message says why and what to do.
    """

    def __init__(self, path: Path, detail: str):
        self.path = Path(path)
        super().__init__(f"refusing to load {path}: {detail}")


def ensure_pickle_key(root: str | os.PathLike) -> bytes:
    """The store's pickle signing key, created (32 random bytes, mode 0600, in a folder of
    mode 0700) when the store has none.

    Parameters
    ----------
    root : path
        The store folder (``.lester``).

    Returns
    -------
    bytes
        The key.
    """
    return _ensure_key(Path(root) / KEY_FILE)


def ensure_subject_key(root: str | os.PathLike) -> bytes:
    """The store's subject key ``keys/subject.key`` (32 random bytes, mode 0600, created
    once): the secret of the keyed hashes that name forgotten and redacted rows in the forget
    set and the audit log (see :mod:`lester.pipeline.forget_set`). A key of its own, not the
    pickle key: whoever may check an erasure need not be able to sign pickles."""
    return _ensure_key(Path(root) / SUBJECT_KEY_FILE)


def read_subject_key(root: str | os.PathLike) -> bytes | None:
    """The store's subject key, or None when it has none (nothing is created)."""
    try:
        return (Path(root) / SUBJECT_KEY_FILE).read_bytes()
    except FileNotFoundError:
        return None


def _ensure_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}-{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            # a link, unlike a rename, never replaces a key another process created meanwhile
            # (replacing it would orphan whatever that process has signed or hashed with it)
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes()


def read_pickle_key(root: str | os.PathLike) -> bytes | None:
    """The store's pickle signing key, or None when it has none (nothing is created).

    Parameters
    ----------
    root : path
        The store folder (``.lester``).
    """
    try:
        return (Path(root) / KEY_FILE).read_bytes()
    except FileNotFoundError:
        return None


def run_pickle_key(folder: str | os.PathLike) -> bytes | None:
    """The signing key of the store a run folder (``<store>/runs/<run>``, registered or
    staging) belongs to, or None when the store has none."""
    return read_pickle_key(Path(folder).parent.parent)


class _SigningWriter:
    """A binary file that feeds what is written to it into an HMAC: the pickle is signed as
    it is written, without reading it back."""

    def __init__(self, handle: Any, mac: hmac.HMAC):
        self._handle = handle
        self._mac = mac

    def write(self, data: Any) -> int:
        self._mac.update(data)
        return self._handle.write(data)


def _new_mac(key: bytes, data: bytes = b"") -> hmac.HMAC:
    return hmac.new(key, data, hashlib.sha256)


def _dump_signed(target: Path | Any, value: Any, key: bytes) -> str:
    """Pickle ``value`` into ``target`` (a path, or a binary file open for writing), signed."""
    mac = _new_mac(key)
    if not isinstance(target, (str, os.PathLike)):
        pickle.dump(value, _SigningWriter(target, mac), protocol=pickle.HIGHEST_PROTOCOL)
        return f"{DIGEST_SCHEME}:{mac.hexdigest()}"
    with open(target, "wb") as handle:
        pickle.dump(value, _SigningWriter(handle, mac), protocol=pickle.HIGHEST_PROTOCOL)
    return f"{DIGEST_SCHEME}:{mac.hexdigest()}"


def save_pickle(path: Path, value: Any) -> str:
    """Pickle ``value`` into ``path``, a file of a run folder, signed with its store's key.

    Parameters
    ----------
    path : Path
        The file, in a run folder (``<store>/runs/<run>/``, or the run's staging folder).
    value : object
        What to pickle.

    Returns
    -------
    str
        The digest (``hmac-sha256:<hex>``) to record in the run's record, which
        :func:`load_verified_pickle` checks the file against.
    """
    path = Path(path)
    return _dump_signed(path, value, ensure_pickle_key(path.parent.parent.parent))


def _trust_unverified() -> bool:
    return os.environ.get(TRUST_UNVERIFIED_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def load_verified_pickle(path: str | os.PathLike, expected_digest: str | None, key: bytes | None) -> Any:
    """Unpickle a stored file, but only once its HMAC-SHA256 matches the recorded digest.

    Every pickle lester reads from a store goes through here. The file is read once; its
    bytes are checked and then unpickled from memory, so the file cannot change in between.

    This stops a store writer who cannot read ``keys/pickle.key`` from running code through
    a replaced pickle, even one who also rewrites the recorded digest. It does not stop
    anyone who can read the key: they can sign whatever they like (see the module
    docstring).

    Parameters
    ----------
    path : path
        The pickle.
    expected_digest : str or None
        The digest recorded when the file was written (``hmac-sha256:<hex>``, as
        :func:`save_pickle` returns it); None for a file stored before pickles were
        signed, which is refused unless the environment sets
        ``LESTER_TRUST_UNVERIFIED_PICKLES=1`` (the default refuses: such a file may be
        anyone's, and the only way to tell is to trust whoever could write the store).
    key : bytes or None
        The store's signing key (:func:`read_pickle_key`); None when the store has none.

    Returns
    -------
    object
        The unpickled value.

    Raises
    ------
    PickleIntegrityError
        The digest is missing (and not trusted), does not match, or cannot be checked.
    """
    return pickle.loads(_verified_bytes(Path(path), expected_digest, key))


def check_pickle(path: str | os.PathLike, expected_digest: str | None, key: bytes | None) -> None:
    """Check a stored pickle as :func:`load_verified_pickle` does, without unpickling it:
    for a file that is passed on (hard-linked into a new run version) rather than loaded.

    Raises
    ------
    PickleIntegrityError
        As :func:`load_verified_pickle`.
    """
    _verified_bytes(Path(path), expected_digest, key)


def _verified_bytes(path: Path, expected_digest: str | None, key: bytes | None) -> bytes:
    if expected_digest is None:
        if not _trust_unverified():
            raise PickleIntegrityError(path, (
                "no digest was recorded for it (its run was stored before lester signed its "
                "pickles), so nothing shows that it is the file lester wrote; re-run the pipeline "
                "to capture a signed run, or, if nobody but you can write to this store, set "
                f"{TRUST_UNVERIFIED_VARIABLE}=1 to load it unverified"))
        warnings.warn(f"using {path} unverified ({TRUST_UNVERIFIED_VARIABLE} is set)", stacklevel=3)
        return path.read_bytes()
    scheme, _, expected = expected_digest.partition(":")
    if scheme != DIGEST_SCHEME or not expected:
        raise PickleIntegrityError(path, (
            f"its recorded digest {expected_digest[:24]!r} is not a {DIGEST_SCHEME} digest lester "
            "writes (the run's record was modified); re-run the pipeline"))
    if key is None:
        raise PickleIntegrityError(path, (
            f"the store's signing key {KEY_FILE} is missing, so its digest cannot be checked; "
            "re-run the pipeline"))
    data = path.read_bytes()
    if not hmac.compare_digest(_new_mac(key, data).hexdigest(), expected):
        raise PickleIntegrityError(path, (
            "its digest does not match the one recorded when the run was captured (the file was "
            f"modified, or the store's key {KEY_FILE} was replaced); re-run the pipeline"))
    return data


def save_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=str))
