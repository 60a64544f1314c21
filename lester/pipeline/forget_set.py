"""The forget set, the redaction set and the audit log: what every derivation must honour.

These three tables live in the store's ``catalog.duckdb`` beside the index tables, but unlike
them they are *durable*: they are written here directly (under the store's writer lock), never
rebuilt from run folders, and never touched by :meth:`lester.pipeline.catalog.Catalog.sync`.
Deleting run folders by hand does not lose them. No table holds an identifier in clear: a
subject (a source row) is named by an HMAC-SHA256 keyed hash, keyed by the store's secret
``keys/subject.key`` (32 random bytes, mode 0600, created once with the store; see
:func:`lester.pipeline.store.ensure_subject_key`). Without the key the hashes cannot be
recomputed from the data, so the tables cannot be reversed by enumerating candidate ids.

``forget_set`` (tombstones; one row per forgotten source row):

* ``seq`` BIGINT: the request's sequence number (one counter shared with ``redaction_set``;
  increasing in registration order);
* ``source`` VARCHAR: the source's name, as the catalog's ``sources.name`` holds it;
* ``id_hash`` VARCHAR: hex HMAC-SHA256 of ``"<source>\\x1f<id as text>"`` (:func:`subject_hash`);
  for a keyed source the id is the key value, for a source without a key the row position;
* ``id_kind`` VARCHAR: ``key`` or ``position``;
* ``fingerprint`` VARCHAR: for ``position``, the source file's content fingerprint the position
  refers to (NULL for keys);
* ``row_hash`` VARCHAR: for ``position``, hex HMAC-SHA256 of the row's values
  (:func:`row_hash`), which finds the row again in a changed file (NULL for keys);
* ``entry_id`` VARCHAR: the request (``audit_log.entry_id`` of its entries);
* ``created`` TIMESTAMP (UTC).

``redaction_set``: the same columns, plus ``column`` VARCHAR (the redacted source column) and
``value`` JSON (the replacement, as given: not personal by construction). Applied in ``seq``
order: the last redaction of a cell wins.

``audit_log`` (append-only; one row per version a request wrote, or one row for a request
that wrote none): ``entry_id``, ``created``, ``action`` (forget | redact), ``request`` (JSON:
``ids`` as ``hmac-sha256:<hex>`` hashes, every literal of ``where`` likewise), ``run_id`` (the
version maintained, NULL when none), ``new_run_id`` (the version written, NULL when none),
``rows_removed``, ``strategy``, ``seconds``, ``source``, ``id_kind`` (key | position) and
``subjects`` (how many source rows the request named).

Every derivation applies both sets to every source it reads, by name: ``lester run`` (which
reports how many rows it dropped, see :func:`apply_to_frame`), the re-derivation of a request,
the retrain of ``--verify``; and the stage cache key of the data preparation includes the
sets' sequence number (:attr:`Sets.seq`), so that no cache entry built before a request is
used after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from lester.errors import LesterError
from lester.pipeline.catalog import borrowed_database, insert_rows

CATALOG_FILE = "catalog.duckdb"
HASH_SCHEME = "hmac-sha256"

_SUBJECT = (("seq", "BIGINT"), ("source", "VARCHAR"), ("id_hash", "VARCHAR"), ("id_kind", "VARCHAR"),
            ("fingerprint", "VARCHAR"), ("row_hash", "VARCHAR"), ("entry_id", "VARCHAR"),
            ("created", "TIMESTAMP"))
# name -> (column, DuckDB type); created by the catalog with its index tables
DURABLE_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "forget_set": _SUBJECT,
    "redaction_set": (*_SUBJECT, ("column", "VARCHAR"), ("value", "JSON")),
    "audit_log": (("entry_id", "VARCHAR"), ("created", "TIMESTAMP"), ("action", "VARCHAR"),
                  ("request", "JSON"), ("run_id", "VARCHAR"), ("new_run_id", "VARCHAR"),
                  ("rows_removed", "BIGINT"), ("strategy", "VARCHAR"), ("seconds", "DOUBLE"),
                  ("source", "VARCHAR"), ("id_kind", "VARCHAR"), ("subjects", "BIGINT")),
}
# How long a reader or writer of the sets waits for another process to let go of the database
# (it is held for milliseconds at a time; a run must not go ahead without the sets).
DATABASE_WAIT = 60.0


class ForgetSetError(LesterError, RuntimeError):
    """The forget set could not be read or written (the catalog is busy or unwritable)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_tables(con: duckdb.DuckDBPyConnection, schema: str = "main") -> None:
    """Create the durable tables where missing, and add columns an older store lacks."""
    flags = getattr(con, "flags", None)  # a connection held for a whole request: once is enough
    if flags is not None and flags.get(f"durable:{schema}"):
        return
    present: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_catalog = current_database()", [schema]).fetchall():
        present.setdefault(table, set()).add(column)
    for name, columns in DURABLE_TABLES.items():
        body = ", ".join(f"{_quote(c)} {t}" for c, t in columns)
        if name not in present:
            con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{name} ({body})")
            continue
        for column, kind in columns:  # a store made before these columns existed
            if column not in present[name]:
                con.execute(f"ALTER TABLE {schema}.{name} ADD COLUMN IF NOT EXISTS {_quote(column)} {kind}")
    if flags is not None:
        flags[f"durable:{schema}"] = True


# -- keyed hashes ----------------------------------------------------------------------------
def subject_hash(key: bytes, source: str, value: Any) -> str:
    """The keyed hash (hex HMAC-SHA256) naming one source row: ``value`` is its id (key value
    or position), compared as text as the catalog compares ids (``str(7) == "7"``)."""
    return hmac.digest(key, f"{source}\x1f{value}".encode(), "sha256").hex()


def subject_hashes(key: bytes, source: str, values: Iterable[Any]) -> list[str]:
    prefix = f"{source}\x1f"
    return [hmac.digest(key, (prefix + str(v)).encode(), "sha256").hex() for v in values]


def row_hashes(key: bytes, source: str, rows: pd.DataFrame) -> list[str]:
    """One keyed hash per row of its values (column name and text of each value), which
    finds a row named by position again after other rows were inserted before it."""
    if not len(rows):
        return []
    # by column name, not position: a file whose columns were reordered still finds the row
    columns = [[f"{c}={v}" for v in rows[c].tolist()] for c in sorted(map(str, rows.columns))]
    prefix = f"{source}\x1e"
    return [hmac.digest(key, (prefix + "\x1f".join(parts)).encode(), "sha256").hex()
            for parts in zip(*columns, strict=True)]


def row_hash(key: bytes, source: str, row: pd.DataFrame) -> str:
    return row_hashes(key, source, row)[0]


_LITERAL = re.compile(r"'((?:[^']|'')*)'|(?<![\w.])(-?\d+(?:\.\d+)?)(?![\w.])")


def private_where(key: bytes, where: str) -> str:
    """``where`` with every string and number literal replaced by its keyed hash: the audit
    log records which predicate was applied without re-recording the e-mail address or id it
    named (an unsalted hash of a small literal is reversed by enumeration; a keyed one is not
    without the store's key)."""
    def hashed(match: re.Match) -> str:
        text = match.group(1).replace("''", "'") if match.group(1) is not None else match.group(2)
        return f"'{HASH_SCHEME}:{hmac.digest(key, text.encode(), 'sha256').hex()}'"

    return _LITERAL.sub(hashed, where)


# -- the sets as read ----------------------------------------------------------------------
@dataclass
class SourceSet:
    """The forget and redaction entries of one source."""

    keys: set[str] = field(default_factory=set)  # id hashes of rows forgotten by key
    positions: dict[str, set[str]] = field(default_factory=dict)  # fingerprint -> id hashes
    row_hashes: set[str] = field(default_factory=set)  # rows forgotten by position, by content
    # (seq, id_kind, id_hash, fingerprint, row_hash, column, value), in seq order
    redactions: list[tuple[int, str, str, str | None, str | None, str, Any]] = field(default_factory=list)
    seq: int = 0  # the newest entry's
    seqs: set[int] = field(default_factory=set)  # every entry's

    @property
    def forgets(self) -> int:
        return len(self.keys) + sum(len(p) for p in self.positions.values())

    @property
    def empty(self) -> bool:
        return not self.keys and not self.positions and not self.redactions


@dataclass
class Sets:
    """The store's forget and redaction sets, per source name; ``seq`` is the newest entry's
    sequence number (0 for none), which a version records as what it has applied."""

    by_source: dict[str, SourceSet] = field(default_factory=dict)
    seq: int = 0
    key: bytes | None = None

    def of(self, source: str) -> SourceSet | None:
        found = self.by_source.get(source)
        return found if found is not None and not found.empty else None

    def newer_than(self, seq: int, sources: Iterable[str], ignore: Iterable[int] = ()) -> bool:
        """Whether an entry newer than ``seq`` (other than those in ``ignore``) concerns any
        of ``sources``."""
        skip = set(ignore)
        return any(q > seq and q not in skip for s in sources if s in self.by_source
                   for q in self.by_source[s].seqs)


def _connect(root: Path, write: bool, wait: float = DATABASE_WAIT) -> duckdb.DuckDBPyConnection | None:
    """A connection to the catalog for the sets; None for reading a store without one yet.
    Waits for another process to let go of the file (the index sync holds it briefly)."""
    path = Path(root) / CATALOG_FILE

    lent = borrowed_database(path)
    if lent is not None:
        return lent
    if not write and not path.exists():
        return None
    deadline = time.monotonic() + wait
    pause = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=not write)
        except duckdb.Error as error:
            text = str(error).lower()
            if "lock" not in text or time.monotonic() >= deadline:
                verb = "record the request in" if write else "read the forget set from"
                raise ForgetSetError(
                    f"could not {verb} {path} ({str(error).splitlines()[0]}); nothing was changed. "
                    "Another lester process may hold it: run the command again when it has finished"
                ) from error
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def read_sets(root: str | os.PathLike | None, key: bytes | None) -> Sets:
    """The forget and redaction sets of the store at ``root`` (empty for None, a store without
    a catalog yet, or one whose catalog predates the sets)."""
    if root is None:
        return Sets(key=key)
    damaged = sorted(Path(root).glob(f"{CATALOG_FILE}.damaged-*"))
    if damaged and key is not None:
        # a rebuilt catalog has an empty forget set: deriving now could bring rows back
        raise ForgetSetError(
            f"the store's catalog was damaged and is kept as {damaged[-1]}; the forget set, redaction set and "
            "audit log it held are not in the rebuilt catalog, so nothing is derived until they are back: "
            f"restore {Path(root) / CATALOG_FILE} from a backup (or repair the kept file and move it back), then "
            "delete the kept file")
    con = _connect(Path(root), write=False)
    if con is None:
        return Sets(key=key)
    try:
        tables = {name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        forgets = con.execute("SELECT seq, source, id_hash, id_kind, fingerprint, row_hash FROM forget_set "
                              "ORDER BY seq").fetchall() if "forget_set" in tables else []
        redactions = con.execute(
            "SELECT seq, source, id_hash, id_kind, fingerprint, row_hash, \"column\", value FROM redaction_set "
            "ORDER BY seq").fetchall() if "redaction_set" in tables else []
    finally:
        con.close()
    sets = Sets(key=key)
    for seq, source, digest, kind, fingerprint, content in forgets:
        mine = sets.by_source.setdefault(source, SourceSet())
        if kind == "position":
            mine.positions.setdefault(fingerprint, set()).add(digest)
            if content:
                mine.row_hashes.add(content)
        else:
            mine.keys.add(digest)
        mine.seq = max(mine.seq, int(seq))
        mine.seqs.add(int(seq))
        sets.seq = max(sets.seq, int(seq))
    for seq, source, digest, kind, fingerprint, content, column, value in redactions:
        mine = sets.by_source.setdefault(source, SourceSet())
        mine.redactions.append((int(seq), kind, digest, fingerprint, content, column, json.loads(value)))
        mine.seq = max(mine.seq, int(seq))
        mine.seqs.add(int(seq))
        sets.seq = max(sets.seq, int(seq))
    if sets.seq and key is None:
        raise ForgetSetError(
            f"the store {root} has a forget set but its subject key {Path(root) / 'keys' / 'subject.key'} "
            "is missing, so forgotten rows cannot be recognised; restore the key from a backup of the "
            "store (nothing was derived)")
    return sets


# -- applying them ------------------------------------------------------------------------
@dataclass
class Applied:
    """What applying the sets to one source did."""

    rows: pd.DataFrame
    ids: np.ndarray
    dropped: int
    redacted: int
    file_rows: int


def apply_to_rows(sets: Sets, source: str, rows: pd.DataFrame, ids: np.ndarray, *, keyed: bool,
                  fingerprint: str | None) -> Applied:
    """``rows`` (with their provenance ``ids``) without the forgotten rows and with the
    redactions applied, in registration order."""
    ids = np.asarray(ids)
    mine = sets.of(source)
    if mine is None or sets.key is None:
        return Applied(rows, ids, 0, 0, len(rows))
    key = sets.key
    id_hashes = np.array(subject_hashes(key, source, ids.tolist()), dtype=object) if len(ids) else np.zeros(0, object)
    content: np.ndarray | None = None

    def hits(kind: str, digests: set[str], fingerprints: Mapping[str | None, set[str]] | None,
             contents: set[str]) -> np.ndarray:
        nonlocal content
        if keyed:
            return np.isin(id_hashes, list(digests)) if digests else np.zeros(len(ids), bool)
        exact = (fingerprints or {}).get(fingerprint, set())
        found = np.isin(id_hashes, list(exact)) if exact else np.zeros(len(ids), bool)
        others = any(f != fingerprint and v for f, v in (fingerprints or {}).items())
        if others and contents:  # positions of another version of the file: found by content
            if content is None:
                content = np.array(row_hashes(key, source, rows), dtype=object)
            found |= np.isin(content, list(contents))
        return found

    forgotten = hits("forget", mine.keys, mine.positions, mine.row_hashes)
    redacted_count = 0
    out = rows
    if mine.redactions:
        changed = rows.copy()
        touched = np.zeros(len(rows), bool)
        # Consecutive entries that blank one column with one value (a request's rows) are one
        # mask: an entry at a time is O(entries · rows), hours for a redaction of 50k mails.
        groups: list[tuple[tuple[str, str, str], list[tuple]]] = []
        for entry in mine.redactions:
            _, kind, _, _, _, column, value = entry
            same = (kind, column, json.dumps(value, sort_keys=True, default=str))
            if groups and groups[-1][0] == same:
                groups[-1][1].append(entry)
            else:
                groups.append((same, [entry]))
        for (kind, column, _), entries in groups:
            value = entries[0][6]
            if column not in changed.columns:
                continue
            if kind == "position" and not keyed:
                fingerprints: dict[str | None, set[str]] = {}
                for _, _, digest, entry_fingerprint, _, _, _ in entries:
                    fingerprints.setdefault(entry_fingerprint, set()).add(digest)
                # a row's content finds it again only in another version of the file
                mask = hits("redact", set(), fingerprints, {e[4] for e in entries if e[4] and e[3] != fingerprint})
            else:
                mask = np.isin(id_hashes, [e[2] for e in entries])
            if mask.any():
                if changed[column].dtype != object and not isinstance(value, (int, float)):
                    changed[column] = changed[column].astype(object)
                changed.loc[mask, column] = value
                touched |= mask
        redacted_count = int(np.count_nonzero(touched & ~forgotten))
        out = changed
    keep = ~forgotten
    return Applied(out[keep].reset_index(drop=True), ids[keep], int(np.count_nonzero(forgotten)),
                   redacted_count, len(rows))


def apply_to_frame(frame: Any, sets: Sets, replaced: Mapping[str, tuple[pd.DataFrame, np.ndarray]] | None = None,
                   ) -> dict[str, Applied]:
    """Make every source of ``frame`` (a lester Frame, not yet executed) read its rows through
    the sets; ``replaced`` gives rows to use instead of a source's file (name -> rows, ids),
    which go through the sets as well. Returns what was applied, per source name, for the
    sources the sets (or ``replaced``) concern."""
    done: dict[str, Applied] = {}
    seen: set[int] = set()
    for origin in list(frame.sources.values()):
        if id(origin) in seen:
            continue
        seen.add(id(origin))
        name = origin.name
        if sets.of(name) is None and not (replaced and name in replaced):
            continue
        if name not in done:
            if replaced and name in replaced:
                rows, ids = replaced[name]
            else:
                rows = origin.load()
                ids = np.asarray(origin.ids(rows))
            fingerprint = origin.fingerprint() if origin.key is None else None
            done[name] = apply_to_rows(sets, name, rows, ids, keyed=origin.key is not None, fingerprint=fingerprint)
        applied = done[name]
        # only this plan's Source object is patched: dataprep() built it a moment ago
        origin.load = lambda applied=applied: applied.rows  # type: ignore[method-assign]
        origin.ids = lambda frame, applied=applied: applied.ids  # type: ignore[method-assign]
    return done


# -- writing them ------------------------------------------------------------------------
@dataclass
class Subject:
    """One source row a request names: its id as text, and for a row named by position the
    file fingerprint and the row's content hash."""

    id_text: str
    fingerprint: str | None = None
    content_hash: str | None = None


def register(root: str | os.PathLike, key: bytes, *, action: str, source: str, id_kind: str,
             subjects: Sequence[Subject], entry_id: str, column: str | None = None,
             value: Any = None) -> int:
    """Add a request's subjects to the forget set (``action="forget"``) or the redaction set
    (``"redact"``) in one transaction; returns the request's sequence number. The caller
    holds the store's writer lock (requests serialise on it)."""
    created = datetime.now(timezone.utc).replace(tzinfo=None)
    con = _connect(Path(root), write=True)
    try:
        create_tables(con)
        con.execute("BEGIN TRANSACTION")
        try:
            (seq,) = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM (SELECT seq FROM forget_set "
                                 "UNION ALL SELECT seq FROM redaction_set)").fetchall()[0]
            hashes = subject_hashes(key, source, [s.id_text for s in subjects])
            rows = [[seq, source, digest, id_kind, s.fingerprint, s.content_hash, entry_id, created]
                    for digest, s in zip(hashes, subjects, strict=True)]
            if action == "forget":
                known = {d for (d,) in con.execute("SELECT id_hash FROM forget_set WHERE source = ?", [source]).fetchall()}
                rows = [r for r in rows if r[2] not in known]  # a row is forgotten once
                insert_rows(con, "forget_set", DURABLE_TABLES["forget_set"], rows)
            else:
                text = json.dumps(value)
                insert_rows(con, "redaction_set", DURABLE_TABLES["redaction_set"], [[*r, column, text] for r in rows])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return int(seq)


def append_audit(root: str | os.PathLike, entries: Sequence[Mapping[str, Any]]) -> None:
    """Append rows to the audit log (the caller holds the store's writer lock)."""
    if not entries:
        return
    columns = [c for c, _ in DURABLE_TABLES["audit_log"]]
    con = _connect(Path(root), write=True)
    try:
        create_tables(con)
        insert_rows(con, "audit_log", DURABLE_TABLES["audit_log"],
                    [[json.dumps(e.get(c)) if c == "request" else e.get(c) for c in columns] for e in entries])
    finally:
        con.close()


def audit_digest(sets: Sets) -> str:
    """A short digest of the sets' state, for stage-cache keys."""
    return hashlib.sha256(f"forget-set:{sets.seq}".encode()).hexdigest()[:16]
