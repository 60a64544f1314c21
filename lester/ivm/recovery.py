"""Recovery from a request killed between registering its version and writing its audit row.

A request commits in three steps under the store's writer lock: its subjects join the forget
(or redaction) set, its version is registered (one rename), its audit row is appended. A
``kill -9`` between the last two leaves a version that no audit row accounts for: the caller
never heard that it was written. The next request that reaches that lineage (and ``lester
purge``) finds it, since a version's ``run.json`` names its audit entry
(``derived_by.entry_id``), and rolls it back: the folder is expired as purge expires one (an
atomic rename to a hidden staging name, then deletion), and an audit row of action
``interrupted`` records the request, its ids as the keyed hashes the forget set holds. The
parent is the head again; the request's rows stay in the forget set, so no later derivation
brings them back, and ``lester purge`` rewrites the parent without them (the request is
pending until then, with its deadline).

Test hook: ``LESTER_REQUEST_CRASH_AT=registered`` makes a request kill itself with SIGKILL
after its version is registered and before its audit row is written.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Sequence
from datetime import datetime, timezone

from lester.ivm.versions import StoredRun
from lester.pipeline.forget_set import HASH_SCHEME, _connect, append_audit
from lester.pipeline.store import ArtifactStore, fsync_tree

__all__ = ["CRASH_VARIABLE", "crash_point", "roll_back_unaudited", "version_heads"]

CRASH_VARIABLE = "LESTER_REQUEST_CRASH_AT"


def crash_point(point: str) -> None:
    """The test hook: die here, as ``kill -9`` would, when asked to."""
    if os.environ.get(CRASH_VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _audited(store: ArtifactStore, entry_ids: Sequence[str]) -> set[str]:
    con = _connect(store.root, write=False)
    if con is None:
        return set()
    try:
        marks = ", ".join("?" * len(entry_ids))
        return {e for (e,) in con.execute(f"SELECT entry_id FROM audit_log WHERE entry_id IN ({marks})",
                                          list(entry_ids)).fetchall()}
    finally:
        con.close()


def version_heads(store: ArtifactStore) -> list[StoredRun]:
    """The heads of the store's lineages that are versions (have a parent)."""
    found = store.catalog.query(
        "SELECT run_id FROM runs r WHERE parent_run IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM runs c WHERE c.parent_run = r.run_id) ORDER BY run_id", views=False)
    return [StoredRun(run_id, store.run_folder(run_id)) for run_id in found["run_id"]]


def roll_back_unaudited(store: ArtifactStore, heads: Sequence[StoredRun] | None = None) -> list[str]:
    """Roll back those of ``heads`` that are versions without their audit row (the caller
    holds the writer lock; default: every lineage's head); returns their run ids. One query
    for all of them."""
    heads = version_heads(store) if heads is None else heads
    # versions of requests only: a purge's rewrite is audited by the purge that made it
    derived = [(s, s.info.get("derived_by", {})) for s in heads if s.info.get("parent_run")]
    derived = [(s, d["entry_id"]) for s, d in derived if d.get("entry_id") and d.get("action") in ("forget", "redact")]
    if not derived:
        return []
    audited = _audited(store, [e for _, e in derived])
    rolled = []
    for stored, entry_id in derived:
        if entry_id in audited:
            continue
        _expire(store, stored)
        _record(store, stored, entry_id)
        rolled.append(stored.run_id)
    return rolled


def _expire(store: ArtifactStore, stored: StoredRun) -> None:
    hidden = store.runs_dir / f".incomplete-expired-{stored.run_id}"
    os.replace(stored.folder, hidden)  # from here on it is not registered
    fsync_tree(store.runs_dir)
    shutil.rmtree(hidden, ignore_errors=True)


def _record(store: ArtifactStore, stored: StoredRun, entry_id: str) -> None:
    """The interrupted request's audit row: what its version's ``run.json`` and the forget
    set say about it (ids as keyed hashes)."""
    con = _connect(store.root, write=False)
    hashes: list[str] = []
    source = None
    if con is not None:
        try:
            for table in ("forget_set", "redaction_set"):
                rows = con.execute(f"SELECT source, id_hash FROM {table} WHERE entry_id = ?", [entry_id]).fetchall()
                hashes += [f"{HASH_SCHEME}:{h}" for _, h in rows]
                source = source or (rows[0][0] if rows else None)
        finally:
            con.close()
    derived = stored.info.get("derived_by", {})
    append_audit(store.root, [{
        "entry_id": entry_id, "created": datetime.now(timezone.utc).replace(tzinfo=None),
        "action": "interrupted",
        "request": {"action": derived.get("action"), "source": source, "ids": hashes,
                    "rolled_back": stored.run_id},
        "run_id": stored.info.get("parent_run"), "new_run_id": None, "rows_removed": 0,
        "strategy": derived.get("strategy"), "seconds": 0.0, "source": source, "id_kind": None,
        "subjects": len(hashes),
    }])
