"""``lester purge``: make deletions physical (Delta Lake's ``REORG ... APPLY (PURGE)`` then
``VACUUM``, for a lester store).

A request (``lester forget``/``redact``) is logical first: it adds the rows to the store's forget
or redaction set and writes a new head version of the run it maintains, but older versions,
the stage cache, interrupted writers' temporary files, other lineages' heads and the catalog
database's free space may still hold the rows. ``purge`` finds and removes all of that:

1. **rewrite** kept versions that still hold forgotten rows: a head (the newest version of a
   lineage, which is kept) of another pipeline or an older ``lester run`` that read a source
   before rows of it were forgotten gets a new version without them, through the same
   incremental maintenance as ``lester forget`` (model updated, not retrained); the old head
   is then superseded and expires like any other;
2. **expire** superseded versions (a version with a child is no longer maintained by any
   request: it holds what later requests removed), oldest first, so that a lineage never
   seems to have a second head;
3. **expire** stage-cache entries built before the newest request (they were computed from
   rows since forgotten) and any entry that holds a forgotten id, with everything cached after
   it (later stages may derive from it); entries whose signature does not verify are stale
   anyway and go too;
4. **remove** temporary files: staging folders (``runs/.incomplete-*``) and partial cache files
   that no live writer holds, and this module's own leftovers;
5. **compact** ``catalog.duckdb``: the index drops the expired runs (one transaction), and the
   database is copied into a fresh file that replaces it by one rename, so that deleted rows do
   not linger in the file's free blocks.

Crash safety (``kill -9`` at any point): the whole purge holds the store's writer lock (the
kernel releases it when the process dies). A version is expired by renaming its folder to a
hidden ``runs/.incomplete-expired-<run>`` (one atomic rename, flushed: from then on it is not
registered) and only then deleting the files; whatever a crash leaves of it is a staging
folder that the next process to open the store removes. Cache entries are removed pickle first
(an entry without its pickle is a miss). The catalog copy is written beside the database and
swapped in with one ``os.replace`` after it was flushed; a crash before leaves the old
database, whole. A purge that is interrupted is simply run again.

Retention: ``[compliance] purge_within = "24h"`` in ``lester.toml`` (units s, m, h, d, w;
default 30 days, the GDPR's one month) gives each request a deadline: ``purge`` and ``purge
--dry-run`` list the requests still pending with their deadlines, and which are overdue. A
purge that leaves nothing behind records an ``audit_log`` entry (action ``purge``) naming the
requests it completed (by entry id; nothing personal).

Step 0, before all these: a head with **deletion vectors** (a ``lester forget`` that only
removed rows shares its parent's chunks and records the deleted positions:
:mod:`lester.ivm.deletion_vectors`) gets a version whose chunks that carry them are rewritten
without the rows, with the model refreshed exactly on the remaining rows (the requests'
certified Newton steps end here) and every metric recomputed; the versions that shared the
chunks are then superseded and expire in step 2. A superseded version whose chunk folders a
head still links (its rewrite failed) is kept.

Test hook: ``LESTER_PURGE_CRASH_AT=<point>`` makes the process kill itself with SIGKILL at
that point (``vectors-rewritten``, ``expire-renamed``, ``expired``, ``cache``, ``compact-written``, ``compacted``), so
tests can crash a real purge where they choose.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from lester.errors import LesterError
from lester.pipeline.catalog import RECORD_FILE, run_folder_problem
from lester.pipeline.store import ArtifactStore, open_store

__all__ = [
    "DEFAULT_PURGE_WITHIN",
    "PendingRequest",
    "PurgeAction",
    "PurgeError",
    "PurgeReport",
    "parse_duration",
    "pending_requests",
    "purge",
    "purge_within",
]

DEFAULT_PURGE_WITHIN = "30d"
CRASH_VARIABLE = "LESTER_PURGE_CRASH_AT"
EXPIRED_PREFIX = ".incomplete-expired-"  # a staging-folder name: any later open removes leftovers
COMPACT_PREFIX = ".catalog-compact-"
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")


class PurgeError(LesterError, RuntimeError):
    """A purge could not run (a bad retention setting, an unwritable store)."""


@dataclass
class PurgeAction:
    """One thing purge did (or, in a dry run, would do)."""

    # rewrite deleted rows | rewrite version | expire version | expire cache entry | remove temporary |
    # compact catalog
    kind: str
    path: str  # relative to the store
    reason: str
    bytes: int = 0
    seconds: float | None = None
    run_id: str | None = None
    new_run_id: str | None = None
    error: str | None = None  # set when the action failed (the purge goes on with the others)
    chunks: int | None = None  # rewrite deleted rows: the chunks that carried deletion vectors


@dataclass
class PendingRequest:
    """A request whose data may still be physically present, and its deadline."""

    entry_id: str
    action: str
    source: str
    received: str
    deadline: str | None
    overdue: bool


@dataclass
class PurgeReport:
    """The outcome of :func:`purge`."""

    store: str
    dry_run: bool
    actions: list[PurgeAction]
    pending: list[PendingRequest]  # before the purge
    purge_within: str
    seconds: float
    message: str
    remaining: list[str] = field(default_factory=list)  # what a real purge could not remove
    purged_requests: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[PurgeAction]:
        return [a for a in self.actions if a.error]

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "dry_run": self.dry_run, "message": self.message,
                "purge_within": self.purge_within, "seconds": self.seconds,
                "actions": [asdict(a) for a in self.actions], "pending": [asdict(p) for p in self.pending],
                "remaining": self.remaining, "purged_requests": self.purged_requests}


# ----------------------------------------------------------------------------- settings
def parse_duration(text: str, where: str = "purge_within") -> timedelta:
    """``"24h"``, ``"30d"``, ``"90 min"`` as a timedelta.

    >>> parse_duration("24h"), parse_duration("1.5d")
    (datetime.timedelta(days=1), datetime.timedelta(days=1, seconds=43200))
    """
    found = _DURATION.match(str(text).lower()) if isinstance(text, str) else None
    if not found or found.group(2) not in _UNITS:
        raise PurgeError(f"{where} = {text!r} is not a duration; write a number and a unit (s, m, h, d or w), "
                         'e.g. purge_within = "24h"')
    seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if seconds <= 0:
        raise PurgeError(f"{where} = {text!r} must be longer than nothing")
    return timedelta(seconds=seconds)


def purge_within(config: str | os.PathLike | None = None) -> str:
    """The retention setting ``[compliance] purge_within`` of ``config`` (default:
    ``./lester.toml`` when it exists, with its includes), or :data:`DEFAULT_PURGE_WITHIN`."""
    if config is None and not os.path.exists("lester.toml"):
        return DEFAULT_PURGE_WITHIN
    from lester.pipeline.config import load_config

    resolved = load_config(config if config is not None else "lester.toml")
    value = (getattr(resolved, "compliance", None) or {}).get("purge_within", DEFAULT_PURGE_WITHIN)
    parse_duration(value, f"{config or 'lester.toml'}: [compliance] purge_within")
    return value


def _crash_point(point: str) -> None:
    """The test hook: die here, as ``kill -9`` would, when asked to."""
    if os.environ.get(CRASH_VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)


# ----------------------------------------------------------------------------- the forgotten rows
class Forgotten:
    """Which source rows are forgotten: the store's forget set (keyed hashes, see
    :mod:`lester.pipeline.forget_set`) and, for stores written before it, the ids that the
    versions' lineage records (``ivm_changes`` in ``run.json``)."""

    def __init__(self, store: ArtifactStore, runs: Sequence[_Run]):
        self.sets = None
        self.hash = None
        try:
            from lester.pipeline.forget_set import subject_hashes

            self.sets = store.forget_sets()
            self.hash = subject_hashes
        except (ImportError, AttributeError):  # a lester without the forget set
            pass
        self.clear: dict[str, set[str]] = {}
        for run in runs:
            for change in run.info.get("ivm_changes", []) or []:
                if change.get("action") == "forget":
                    self.clear.setdefault(change["source"], set()).update(str(i) for i in change.get("ids", []))
        self.requests = self._requests(store)

    @property
    def sources(self) -> set[str]:
        names = set(self.clear)
        if self.sets is not None:
            names |= {name for name, s in self.sets.by_source.items() if s.forgets}
        return names

    def mask(self, source: str, ids: np.ndarray, fingerprint: str | None, keyed: bool) -> np.ndarray:
        """Which of ``ids`` (a run's ids of ``source``) are forgotten rows."""
        from lester.ivm.requests import id_mask

        ids = np.asarray(ids)
        out = id_mask(ids, self.clear[source]) if self.clear.get(source) else np.zeros(len(ids), dtype=bool)
        mine = self.sets.of(source) if self.sets is not None else None
        if mine is not None and self.sets.key is not None and len(ids):
            digests = np.array(self.hash(self.sets.key, source, ids.tolist()), dtype=object)
            wanted = set(mine.keys) if keyed else set(mine.positions.get(fingerprint, set()))
            if wanted:
                out |= np.isin(digests, list(wanted))
        return out

    def _requests(self, store: ArtifactStore) -> list[dict[str, Any]]:
        """Requests (entry id, action, source, received), oldest first."""
        try:
            frame = store.catalog.query("SELECT * FROM audit_log ORDER BY created, entry_id")
        except Exception:  # noqa: BLE001 - a store without an audit log yet
            return []
        out: dict[str, dict[str, Any]] = {}
        purged: set[str] = set()
        for row in frame.to_dict(orient="records"):
            request = row.get("request")
            request = json.loads(request) if isinstance(request, str) else (request or {})
            if row.get("action") == "purge":
                purged.update(request.get("purged", []))
                continue
            if row.get("action") not in ("forget", "redact", "interrupted"):  # interrupted: rolled back
                continue
            entry = out.setdefault(str(row["entry_id"]), {
                "entry_id": str(row["entry_id"]), "action": row["action"],
                "source": row.get("source") or request.get("source") or "", "received": row["created"]})
            entry["received"] = min(entry["received"], row["created"])
        return [e for e in out.values() if e["entry_id"] not in purged]

    def newest(self) -> float | None:
        """When the newest request was received (epoch seconds), None when there is none."""
        times = [t for t in (_epoch(r["received"]) for r in self.requests) if t is not None]
        return max(times) if times else None


def _epoch(value: Any) -> float | None:
    """A catalog timestamp (naive UTC) as epoch seconds."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


# ----------------------------------------------------------------------------- the store's runs
@dataclass
class _Run:
    run_id: str
    folder: Path
    parent: str | None
    created: str
    info: dict[str, Any]
    record: dict[str, Any]


def _runs(store: ArtifactStore) -> dict[str, _Run]:
    found: dict[str, _Run] = {}
    if not store.runs_dir.is_dir():
        return found
    for entry in sorted(os.scandir(store.runs_dir), key=lambda e: e.name):
        folder = Path(entry.path)
        if entry.name.startswith(".") or not entry.is_dir() or run_folder_problem(folder) is not None:
            continue
        try:
            record = json.loads((folder / RECORD_FILE).read_text())
            info = json.loads((folder / "run.json").read_text())
        except (OSError, ValueError):
            continue  # a damaged folder: the catalog skips it too, and purge does not guess
        run = record.get("run", {})
        found[entry.name] = _Run(entry.name, folder, run.get("parent_run"), str(run.get("created") or ""),
                                 info, record)
    return found


def _children(runs: dict[str, _Run]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for run in runs.values():
        if run.parent and run.parent in runs:
            children.setdefault(run.parent, []).append(run.run_id)
    return children


def _depth(runs: dict[str, _Run], run_id: str) -> int:
    depth, seen = 0, set()
    while runs[run_id].parent in runs and run_id not in seen:
        seen.add(run_id)
        run_id = runs[run_id].parent
        depth += 1
    return depth


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for top, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(top, name)).st_size
            except OSError:
                pass
    return total


def _rel(store: ArtifactStore, path: Path) -> str:
    return Path(os.path.relpath(path, store.root)).as_posix()


# ----------------------------------------------------------------------------- planning
def _heads_holding(store: ArtifactStore, runs: dict[str, _Run], forgotten: Forgotten) -> list[tuple[_Run, str, list[str], int]]:
    """Heads that still hold forgotten rows: (run, source, ids held as text, rows)."""
    from lester.ivm.requests import matching_rows
    from lester.ivm.versions import StoredRun

    children = _children(runs)
    found = []
    for run in runs.values():
        if run.run_id in children:
            continue
        for record in [dict(zip(("label", "name", "path", "fingerprint", "rows", "key_column"), row, strict=False))
                       for row in run.record.get("tables", {}).get("sources", [])]:
            source = record["name"]
            if source not in forgotten.sources:
                continue
            stored = StoredRun(run.run_id, run.folder)
            column = f"prov:{record['label']}"
            held: set[str] = set()
            for split in ("train", "test"):
                table = stored.row_ids(split)
                if table is None or column not in stored.provenance_columns:
                    continue
                ids = table[:, stored.provenance_columns.index(column)]
                mask = forgotten.mask(source, ids, record.get("fingerprint"), keyed=bool(record.get("key_column")))
                mask[stored.deleted(split)] = False  # deletion vectors: rewritten by step 0
                held.update(str(v) for v in np.unique(ids[mask]).tolist())
            if held:
                rows = matching_rows(stored, [record["label"]], held)
                found.append((run, source, sorted(held), int(sum(len(r) for r in rows.values()))))
    return found


def _superseded(runs: dict[str, _Run]) -> list[_Run]:
    """Versions with a child, oldest first (ancestors before descendants), except those
    whose chunk folders a head still shares (a deletion-vector version links them: it is
    rewritten first, and when that failed its parent's files must stay)."""
    children = _children(runs)
    shared = {owner for run in runs.values() if run.run_id not in children for owner in _owners(run.folder)}
    stale = [runs[r] for r in children if r not in shared]
    return sorted(stale, key=lambda r: (_depth(runs, r.run_id), r.created, r.run_id))


def _owners(folder: Path) -> set[str]:
    """The runs whose chunk folders ``folder`` links to (a deletion-vector version's)."""
    from lester.ivm.deletion_vectors import SHARED_FOLDERS

    found = set()
    for name in SHARED_FOLDERS:
        entry = folder / name
        if entry.is_symlink():
            found.add(Path(os.readlink(entry)).parts[1])
    return found


def _with_vectors(runs: dict[str, _Run]) -> list[tuple[_Run, int]]:
    """Heads with deletion vectors, and how many chunks carry them."""
    from lester.ivm.deletion_vectors import affected_chunks
    from lester.ivm.versions import StoredRun

    children = _children(runs)
    found = []
    for run in runs.values():
        if run.run_id in children or not any(run.info.get("deleted", {}).values()):
            continue
        found.append((run, affected_chunks(StoredRun(run.run_id, run.folder))))
    return found


def _cache_entries(store: ArtifactStore) -> list[Path]:
    if not store.cache_dir.is_dir():
        return []
    return sorted(p for p in store.cache_dir.iterdir() if p.suffix == ".pkl")


def _entry_holds(store: ArtifactStore, path: Path, forgotten: Forgotten, labels: dict[str, set[str]],
                 keys: dict[str, set[str]]) -> bool | None:
    """Whether a cache entry holds a forgotten id (None: it cannot be verified, so it is
    stale). Only an entry whose signature verifies is unpickled (see the store's pickles)."""
    import pandas as pd

    from lester.pipeline.store import load_verified_pickle

    try:
        stored_key, value = load_verified_pickle(path, path.with_suffix(".sig").read_text().strip(), store.pickle_key)
    except Exception:  # noqa: BLE001 - unsigned, torn or forged: a miss for the runner too
        return None
    if stored_key != path.stem:
        return None
    frames = [v for v in (value.values() if isinstance(value, dict) else [value]) if isinstance(v, pd.DataFrame)]
    for frame in frames:
        for source in forgotten.sources:
            for column in [f"prov:{label}" for label in labels.get(source, {source})] + sorted(keys.get(source, ())):
                if column in frame.columns and len(frame):
                    ids = frame[column].to_numpy()
                    if forgotten.mask(source, ids, None, keyed=bool(keys.get(source))).any():
                        return True
    return False


def _temporaries(store: ArtifactStore) -> list[Path]:
    """Leftovers of interrupted writers that no live writer holds (an ``flock`` test)."""
    found: list[Path] = []
    candidates: list[tuple[Path, bool]] = []
    for folder, directory in ((store.runs_dir, True), (store.cache_dir, False), (store.root, False)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if directory and entry.is_dir() and entry.name.startswith(".incomplete-"):
                candidates.append((Path(entry.path), True))
            elif folder == store.cache_dir and entry.name.endswith((".partial", ".sig-partial")):
                candidates.append((Path(entry.path), False))
            elif folder == store.cache_dir and entry.name.endswith(".sig") and \
                    not Path(entry.path).with_suffix(".pkl").exists():
                candidates.append((Path(entry.path), False))  # the half of an entry a crash left
            elif folder == store.root and entry.name.startswith(COMPACT_PREFIX):
                candidates.append((Path(entry.path), False))
    for path, directory in candidates:
        try:
            descriptor = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # its writer is still at work
        finally:
            os.close(descriptor)
        found.append(path)
    return found


# ----------------------------------------------------------------------------- doing
def _expire_folder(store: ArtifactStore, folder: Path) -> None:
    """Unregister a run folder with one rename (flushed), then delete its files."""
    hidden = folder.with_name(f"{EXPIRED_PREFIX}{folder.name}")
    os.replace(folder, hidden)
    fsync_tree_dir(store.runs_dir)
    _crash_point("expire-renamed")
    shutil.rmtree(hidden)


def fsync_tree_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename in it) to the disk, unless ``LESTER_FSYNC=0``."""
    if os.environ.get("LESTER_FSYNC", "1").strip().lower() in ("0", "false", "no"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _compact_catalog(store: ArtifactStore) -> int:
    """Bring the index up to date, then copy the database into a fresh file and swap it in:
    rows deleted from it do not stay behind in free blocks. Returns the bytes reclaimed."""
    import duckdb

    path = store.catalog.path
    store.catalog.sync()
    if not path.exists():
        return 0
    before = path.stat().st_size
    deadline = time.monotonic() + 10.0
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.Error as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise PurgeError(f"could not open {path} to compact it ({str(error).splitlines()[0]}); "
                                 "run `lester purge` again when no other lester process uses the store") from error
            time.sleep(0.05)
    fresh = store.root / f"{COMPACT_PREFIX}{secrets.token_hex(6)}.duckdb"
    try:
        con.execute("CHECKPOINT")
        (database,) = con.execute("SELECT current_database()").fetchone()
        con.execute(f"ATTACH '{str(fresh).replace(chr(39), chr(39) * 2)}' AS fresh")
        con.execute(f'COPY FROM DATABASE "{database}" TO fresh')
        con.execute("DETACH fresh")
    except BaseException:
        con.close()
        fresh.unlink(missing_ok=True)
        raise
    con.close()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():  # changes the copy may lack: keep the old file
        fresh.unlink(missing_ok=True)
        raise PurgeError(f"{wal} remained after a checkpoint; the catalog was not compacted (run purge again)")
    if os.environ.get("LESTER_FSYNC", "1").strip().lower() not in ("0", "false", "no"):
        descriptor = os.open(fresh, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    _crash_point("compact-written")
    os.replace(fresh, path)
    fsync_tree_dir(store.root)
    _crash_point("compacted")
    return before - path.stat().st_size


def _labels(runs: dict[str, _Run]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per source name: its provenance labels and key columns in the store's runs."""
    labels: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    for run in runs.values():
        for row in run.record.get("tables", {}).get("sources", []):
            label, name = row[0], row[1]
            labels.setdefault(name, {name}).add(label)
            if len(row) > 5 and row[5]:
                keys.setdefault(name, set()).add(row[5])
    return labels, keys


def _plan(store: ArtifactStore, runs: dict[str, _Run], forgotten: Forgotten) -> dict[str, list]:
    """What a purge would do now (before the rewrites of heads are applied)."""
    labels, keys = _labels(runs)
    plan: dict[str, list] = {"vectors": _with_vectors(runs), "rewrite": _heads_holding(store, runs, forgotten),
                             "expire": _superseded(runs),
                             "cache": [], "temporary": _temporaries(store)}
    newest = forgotten.newest()
    entries = _cache_entries(store)
    if forgotten.sources or newest is not None:
        holding = False
        stale: list[tuple[Path, str]] = []
        for entry in entries:
            holds = _entry_holds(store, entry, forgotten, labels, keys)
            if holds is None:
                stale.append((entry, "its signature does not verify (stale or foreign)"))
            elif holds:
                holding = True
                stale.append((entry, "it holds forgotten rows"))
            elif newest is not None and entry.stat().st_mtime < newest:
                stale.append((entry, "built before the newest request, from rows since forgotten or redacted"))
        if holding:  # later stages may derive from it without holding an id: the whole cache goes
            named = {p for p, _ in stale}
            stale += [(e, "cached with an entry that holds forgotten rows") for e in entries if e not in named]
        plan["cache"] = sorted(stale)
    return plan


def _pending(forgotten: Forgotten, within: timedelta, now: datetime) -> list[PendingRequest]:
    out = []
    for request in forgotten.requests:
        received = _epoch(request["received"])
        when = datetime.fromtimestamp(received, timezone.utc) if received is not None else None
        deadline = when + within if when is not None else None
        out.append(PendingRequest(request["entry_id"], str(request["action"]), str(request["source"]),
                                  when.isoformat(timespec="seconds") if when else "",
                                  deadline.isoformat(timespec="seconds") if deadline else None,
                                  bool(deadline is not None and now > deadline)))
    return out


def pending_requests(store: str | os.PathLike | ArtifactStore = ".lester", *, config: str | os.PathLike | None = None,
                     now: datetime | None = None) -> tuple[str, list[PendingRequest]]:
    """The requests whose rows ``lester purge`` has not yet made physical, each with its
    deadline (``[compliance] purge_within``, whose text is returned with them).

    Example:
        >>> import tempfile
        >>> from lester.pipeline.store import ArtifactStore
        >>> pending_requests(ArtifactStore(tempfile.mkdtemp()))
        ('30d', [])
    """
    within_text = purge_within(config)
    artifacts = store if isinstance(store, ArtifactStore) else open_store(store, create=False)
    runs = _runs(artifacts)
    return within_text, _pending(Forgotten(artifacts, list(runs.values())), parse_duration(within_text),
                                 now or datetime.now(timezone.utc))


def purge(
    store: str | os.PathLike | ArtifactStore = ".lester",
    *,
    dry_run: bool = False,
    config: str | os.PathLike | None = None,
    now: datetime | None = None,
) -> PurgeReport:
    """Make the store's deletions physical (see the module docstring for what goes, in which
    order, and why a crash at any point leaves the store consistent).

    Parameters
    ----------
    store : path or ArtifactStore
        The store (default ``.lester``); it must exist.
    dry_run : bool
        Only list what would go (and the pending requests with their deadlines).
    config : path, optional
        The ``lester.toml`` holding ``[compliance] purge_within`` (default ``./lester.toml``
        when it exists; else 30 days).
    now : datetime, optional
        The time deadlines are measured against (default: now; for tests and reports).

    Returns
    -------
    PurgeReport
        ``actions`` done (or that would be done), ``pending`` requests before the purge with
        deadlines, ``remaining``: what could not be removed (a real purge that leaves anything
        says so, and records no completed requests).

    Raises
    ------
    PurgeError
        A malformed retention setting, or the catalog could not be compacted.
    StoreNotFoundError, StoreLockedError, StoreReadOnlyError
        As the store's own operations.
    """
    started = time.perf_counter()
    within_text = purge_within(config)
    within = parse_duration(within_text)
    now = now or datetime.now(timezone.utc)
    artifacts = store if isinstance(store, ArtifactStore) else open_store(store, create=False)
    if dry_run:
        runs = _runs(artifacts)
        forgotten = Forgotten(artifacts, list(runs.values()))
        plan = _plan(artifacts, runs, forgotten)
        actions = _describe(artifacts, plan, runs)
        pending = _pending(forgotten, within, now)
        message = _message(actions, pending, dry_run=True)
        return PurgeReport(str(artifacts.root), True, actions, pending, within_text,
                           time.perf_counter() - started, message)
    with artifacts.write_lock(command="lester purge"):
        from lester.ivm.recovery import roll_back_unaudited

        roll_back_unaudited(artifacts)  # a version a killed request left without its audit row
        runs = _runs(artifacts)
        forgotten = Forgotten(artifacts, list(runs.values()))
        pending = _pending(forgotten, within, now)
        actions = _execute(artifacts, runs, forgotten)
        # what is left: the same plan, made again on the purged store
        runs_after = _runs(artifacts)
        after = _plan(artifacts, runs_after, Forgotten(artifacts, list(runs_after.values())))
        remaining = [f"{a.kind} {a.path}: {a.reason}" for a in _describe(artifacts, after, runs_after)]
        remaining += [f"{a.kind} {a.path} failed: {a.error}" for a in actions if a.error]
        purged: list[str] = []
        if not remaining and pending:
            purged = [p.entry_id for p in pending]
            _record_purge(artifacts, purged, actions, time.perf_counter() - started)
        compact = _timed(lambda: _compact_catalog(artifacts))
        actions.append(PurgeAction("compact catalog", _rel(artifacts, artifacts.catalog.path),
                                   "drop expired runs from the index and deleted rows from the file's free space",
                                   bytes=max(int(compact[0] or 0), 0), seconds=compact[1], error=compact[2]))
        if compact[2]:
            remaining.append(f"compact catalog failed: {compact[2]}")
    message = _message(actions, pending, dry_run=False, remaining=remaining)
    return PurgeReport(str(artifacts.root), False, actions, pending, within_text, time.perf_counter() - started,
                       message, remaining, purged)


def _timed(step: Any) -> tuple[Any, float, str | None]:
    t0 = time.perf_counter()
    try:
        return step(), time.perf_counter() - t0, None
    except (LesterError, OSError) as error:
        return None, time.perf_counter() - t0, str(error)


def _describe(store: ArtifactStore, plan: dict[str, list], runs: dict[str, _Run]) -> list[PurgeAction]:
    actions = []
    for run, chunks in plan["vectors"]:
        actions.append(PurgeAction("rewrite deleted rows", _rel(store, run.folder),
                                   f"a head whose deletion vectors hide rows in {chunks} chunk(s)", run_id=run.run_id))
    for run, source, _ids, rows in plan["rewrite"]:
        actions.append(PurgeAction("rewrite version", _rel(store, run.folder),
                                   f"a head that still holds {rows} row(s) derived from forgotten {source} rows",
                                   run_id=run.run_id))
    for run in plan["expire"]:
        actions.append(PurgeAction("expire version", _rel(store, run.folder),
                                   "superseded by a newer version of its lineage", bytes=_size(run.folder),
                                   run_id=run.run_id))
    for entry, reason in plan["cache"]:
        size = _size(entry) + (_size(entry.with_suffix(".sig")) if entry.with_suffix(".sig").exists() else 0)
        actions.append(PurgeAction("expire cache entry", _rel(store, entry), reason, bytes=size))
    for path in plan["temporary"]:
        actions.append(PurgeAction("remove temporary", _rel(store, path), "left by an interrupted writer",
                                   bytes=_size(path)))
    return actions


def _execute(store: ArtifactStore, runs: dict[str, _Run], forgotten: Forgotten) -> list[PurgeAction]:
    from lester.ivm.deletion_vectors import materialise
    from lester.ivm.maintain import apply_request
    from lester.ivm.versions import StoredRun

    actions: list[PurgeAction] = []
    plan = _plan(store, runs, forgotten)
    # 0. heads with deletion vectors: the chunks that carry them are rewritten, the model
    # refreshed exactly (the requests' certified steps end here)
    for run, chunks in plan["vectors"]:
        t0 = time.perf_counter()
        action = PurgeAction("rewrite deleted rows", _rel(store, run.folder),
                             f"a head whose deletion vectors hid rows in {chunks} chunk(s)", run_id=run.run_id,
                             chunks=chunks)
        try:
            action.new_run_id = materialise(store, StoredRun(run.run_id, run.folder))
        except LesterError as error:
            action.error = str(error)
        action.seconds = time.perf_counter() - t0
        actions.append(action)
        _crash_point("vectors-rewritten")
    if plan["vectors"]:
        runs = _runs(store)
        plan = _plan(store, runs, forgotten)
    # 1. kept versions that hold forgotten rows get a version without them
    for run, source, ids, rows in plan["rewrite"]:
        t0 = time.perf_counter()
        action = PurgeAction("rewrite version", _rel(store, run.folder),
                             f"a head that still held {rows} row(s) derived from forgotten {source} rows",
                             run_id=run.run_id)
        try:
            report = apply_request("forget", source=source, ids=ids, where=None, run=run.run_id, all_runs=False,
                                   verify=False, dry_run=False, store=store)
            action.new_run_id = next(iter(report.new_runs), None)
        except LesterError as error:
            action.error = str(error)
        action.seconds = time.perf_counter() - t0
        actions.append(action)
    if plan["rewrite"]:
        runs = _runs(store)
        plan = _plan(store, runs, forgotten)
    # 2. superseded versions, oldest first
    for run in plan["expire"]:
        t0 = time.perf_counter()
        size = _size(run.folder)
        action = PurgeAction("expire version", _rel(store, run.folder), "superseded by a newer version of its lineage",
                             bytes=size, run_id=run.run_id)
        try:
            _expire_folder(store, run.folder)
        except OSError as error:
            action.error = f"{error.strerror or error}: {error.filename or run.folder}"
        action.seconds = time.perf_counter() - t0
        actions.append(action)
        _crash_point("expired")
    # 3. the stage cache
    for entry, reason in plan["cache"]:
        t0 = time.perf_counter()
        signature = entry.with_suffix(".sig")
        size = _size(entry) + (_size(signature) if signature.exists() else 0)
        action = PurgeAction("expire cache entry", _rel(store, entry), reason, bytes=size)
        try:
            entry.unlink(missing_ok=True)  # the pickle first: a signature alone is a miss
            _crash_point("cache")
            signature.unlink(missing_ok=True)
        except OSError as error:
            action.error = f"{error.strerror or error}: {entry}"
        action.seconds = time.perf_counter() - t0
        actions.append(action)
    # 4. temporary files (listed again: expiring may have left some on an error)
    for path in _temporaries(store):
        t0 = time.perf_counter()
        action = PurgeAction("remove temporary", _rel(store, path), "left by an interrupted writer", bytes=_size(path))
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except OSError as error:
            action.error = f"{error.strerror or error}: {path}"
        action.seconds = time.perf_counter() - t0
        actions.append(action)
    return actions


def _record_purge(store: ArtifactStore, purged: list[str], actions: Sequence[PurgeAction], seconds: float) -> None:
    """An audit entry saying which requests are now physically complete (nothing personal)."""
    try:
        from lester.pipeline.forget_set import append_audit
    except ImportError:  # a lester without the durable audit log: the report is the record
        return
    counts: dict[str, int] = {}
    for action in actions:
        counts[action.kind] = counts.get(action.kind, 0) + 1
    append_audit(store.root, [{
        "entry_id": uuid.uuid4().hex, "created": datetime.now(timezone.utc).replace(tzinfo=None), "action": "purge",
        "request": {"purged": purged, "actions": counts}, "run_id": None, "new_run_id": None,
        "rows_removed": None, "strategy": None, "seconds": seconds, "source": None, "id_kind": None,
        "subjects": None,
    }])


def _message(actions: Sequence[PurgeAction], pending: Sequence[PendingRequest], *, dry_run: bool,
             remaining: Sequence[str] = ()) -> str:
    counts: dict[str, int] = {}
    for action in actions:
        if action.kind != "compact catalog" and not action.error:
            counts[action.kind] = counts.get(action.kind, 0) + 1
    plural = {"rewrite version": "versions rewritten", "expire version": "versions expired",
              "expire cache entry": "cache entries expired", "remove temporary": "temporary files removed"}
    singular = {"rewrite version": "version rewritten", "expire version": "version expired",
                "expire cache entry": "cache entry expired", "remove temporary": "temporary file removed"}
    done = ", ".join(f"{n} {(plural if n != 1 else singular).get(kind, kind)}" for kind, n in counts.items()) \
        or "nothing to remove"
    overdue = sum(p.overdue for p in pending)
    late = f", {overdue} past their deadline" if overdue else ""
    text = f"{'would purge' if dry_run else 'purged'}: {done}"
    if pending and (dry_run or remaining):
        text += f"; {len(pending)} request(s) pending purge{late}"
    elif pending:
        text += f"; {len(pending)} request(s) now purged{late.replace('their', 'the')}"
    if remaining:
        text += f"; {len(remaining)} thing(s) could not be purged"
    return text
