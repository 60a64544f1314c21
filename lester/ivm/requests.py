"""Requests and the runs they affect.

A request names a source (as the catalog's ``sources`` table names it, e.g. ``customers``) and
its rows, by id or by a SQL predicate over the source's columns. The predicate is evaluated
with DuckDB on the source exactly as the run's pipeline reads it (same file, same parsing),
so ``customer_email = 'a@b.c'`` finds the ids the run's row provenance recorded.

Only the newest version of each lineage is maintained: a run that already has a derived
version (a child) is superseded, and its rows stay as they were, since run folders are
immutable. The report lists such older versions that still hold the rows. A request that
names a superseded run (``--run``) is refused with the head's id: a version derived from an
older one would undo every request applied since.

Ids are of one of two kinds, and the report says which: a source's key values, or, for a
source without a key column, row positions, which name the same rows only in the file the
run read; a positional id is refused when the file changed since (its fingerprint differs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lester.errors import LesterError
from lester.ivm.dataprep_delta import build_frame, source_paths, source_rows
from lester.ivm.versions import StoredRun
from lester.pipeline.catalog import RECORD_FILE
from lester.pipeline.store import ArtifactStore, find_row_ids


class RequestError(LesterError, ValueError):
    """A deletion or redaction request is malformed or names something that does not exist."""


@dataclass
class AffectedRun:
    """A run that read the request's source, and the source ids of the request in it."""

    run: StoredRun
    labels: list[str]  # provenance labels under which the source appears in the run
    ids: set[str]  # the request's source ids (as text, like the catalog's)
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # split -> stored row positions
    notes: list[str] = field(default_factory=list)
    source_rows: int | None = None  # rows of the source file a predicate was evaluated on

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def row_count(self) -> int:
        return int(sum(len(r) for r in self.rows.values()))


def private_request(request: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The request as the audit log keeps it and the report shows it: each id replaced by its
    keyed hash (``hmac-sha256:<hex>``, as the forget set names it) and each literal of the
    predicate (an e-mail address, a customer number) by a keyed hash, so that neither re-records
    what was forgotten; the store's ``key`` keeps the hashes from being reversed by enumeration."""
    from lester.pipeline.forget_set import HASH_SCHEME, private_where, subject_hashes

    kept = dict(request)
    if kept.get("ids") is not None:
        kept["ids"] = [f"{HASH_SCHEME}:{h}" for h in subject_hashes(key, str(kept["source"]), kept["ids"])]
    if kept.get("where"):
        kept["where"] = private_where(key, kept["where"])
    return kept


def lineage_head(store: ArtifactStore, run_id: str) -> str | None:
    """The newest version of ``run_id``'s lineage when ``run_id`` is superseded (has a
    child), else None."""
    catalog = store.catalog
    head, seen = None, {run_id}
    current = run_id
    while True:
        children = catalog.query("SELECT run_id FROM runs WHERE parent_run = ? ORDER BY created DESC, run_id DESC",
                                 [current], views=False)["run_id"].tolist()
        if not children or children[0] in seen:
            return head
        head = current = children[0]
        seen.add(current)


def refuse_superseded(store: ArtifactStore, run_id: str) -> None:
    head = lineage_head(store, run_id)
    if head is not None:
        raise RequestError(
            f"run {run_id} has a newer version, {head} (the newest of its lineage): a request applies to "
            f"the newest version only, as a version derived from an older one would bring back what later "
            f"requests removed; use --run {head}")


def _named_run(store: ArtifactStore, source: str, run: str) -> pd.DataFrame | None:
    """A run named by id (or unique prefix) read from its folder, which is its registration:
    no catalog query. None when the prefix is ambiguous or unknown (the catalog then says so)."""
    found = [p for p in store.runs_dir.glob(f"{run}*") if not p.name.startswith(".")
             and (p / RECORD_FILE).exists()]
    if len(found) != 1:
        return None
    stored = StoredRun(found[0].name, found[0])
    refuse_superseded(store, stored.run_id)
    recorded = stored.table("sources")
    labels = [s["label"] for s in recorded if s["name"] == source or s["label"] == source]
    if not labels:
        raise RequestError(f"run {stored.run_id} did not read the source {source!r}; "
                           f"it read the sources {sorted({s['name'] for s in recorded})}")
    return pd.DataFrame({"run_id": [stored.run_id], "labels": [labels], "folder": [str(found[0])],
                         "superseded": [False]})


def _candidate_runs(store: ArtifactStore, source: str, run: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    if run is not None:
        named = _named_run(store, source, run)
        if named is not None:
            return named, named.iloc[0:0]
    catalog = store.catalog
    using = catalog.query(
        """
        SELECT s.run_id, list(DISTINCT s.label) AS labels, r.folder, r.created,
               EXISTS (SELECT 1 FROM runs c WHERE c.parent_run = s.run_id) AS superseded
        FROM sources s JOIN runs r USING (run_id)
        WHERE s.name = ? OR s.label = ?
        GROUP BY ALL ORDER BY r.created, s.run_id
        """,
        [source, source],
    )
    if using.empty and run is not None:
        # a run named by prefix that no folder matched: the catalog's own error names the runs
        catalog.run(run)
    if using.empty:
        known = catalog.query("SELECT DISTINCT name FROM sources ORDER BY name")["name"].tolist()
        raise RequestError(f"no stored run read a source named {source!r}; the catalog knows the sources {known}")
    if run is not None:
        rid = catalog.run(run)["run_id"]
        chosen = using[using["run_id"] == rid]
        refuse_superseded(store, rid)
        if chosen.empty:
            read = catalog.query("SELECT DISTINCT name FROM sources WHERE run_id = ? ORDER BY name", [rid])
            raise RequestError(f"run {rid} did not read the source {source!r}; "
                               f"it read the sources {read['name'].tolist()}")
        return chosen, using.iloc[0:0]
    return using[~using["superseded"]], using[using["superseded"]]


def loaded_source(stored: StoredRun, source: str, cache: dict) -> tuple[pd.DataFrame, np.ndarray, Any]:
    """The source's rows and ids as ``stored``'s pipeline reads them (cached per file)."""
    plan_key = ("plan", stored.run_id)
    if plan_key not in cache:  # built once per request: only its Source objects are needed here
        cache[plan_key] = build_frame(stored.pipeline, source_paths(stored.pipeline, stored.config.sources))
    frame = cache[plan_key]
    recorded = stored.source_record(source)
    name = recorded["name"] if recorded else source
    for origin in frame.sources.values():
        if origin.name == name:
            key = (origin.path, origin.key, origin.fingerprint())
            if key not in cache:
                cache[key] = source_rows(frame, name)
            return cache[key]
    return source_rows(frame, name)  # raises, naming the sources the pipeline reads


def _where_ids(runs: Iterable[StoredRun], source: str, where: str, cache: dict) -> dict[str, tuple[set[str], int]]:
    """Evaluate ``where`` on the source each run read; per run id, the matching ids as text
    and the number of rows the source has (what the safety share is measured against)."""
    by_file: dict[tuple, tuple[set[str], int]] = {}
    result = {}
    for stored in runs:
        recorded = stored.source_record(source)
        rows, ids, origin = loaded_source(stored, source, cache)
        fingerprint = origin.fingerprint()
        if recorded and fingerprint != recorded["fingerprint"] and origin.key is None:
            raise RequestError(
                f"{origin.path} changed since run {stored.run_id} read it, and its rows have no key "
                "column: positions no longer identify the same rows, so the predicate cannot be applied"
            )
        key = (origin.path, fingerprint)
        if key not in by_file:
            by_file[key] = _evaluate(rows, ids, where, origin.path or source), len(ids)
        result[stored.run_id] = by_file[key]
    return result


def _evaluate(rows: pd.DataFrame, ids: np.ndarray, where: str, path: str) -> set[str]:
    # imported here: lester.ivm.predicate raises this module's RequestError
    from lester.ivm.predicate import select_matching

    return select_matching(rows, ids, where, path)


def _ids_like(ids: Iterable[str], dtype: np.dtype) -> np.ndarray:
    """Request ids (texts) as an array to compare with stored ids of ``dtype``: for integer
    ids, the texts that spell an integer exactly ("7", not "07" or "7.0"), as integers."""
    texts = np.array(sorted(ids), dtype=str)
    if np.dtype(dtype).kind not in "iu":
        return texts
    unsigned = np.char.lstrip(texts, "-")
    numeric = (np.char.isdigit(unsigned) & (np.char.str_len(texts) - np.char.str_len(unsigned) <= 1)
               & (np.char.str_len(texts) < 19))
    try:
        numbers = texts[numeric].astype(np.int64)
    except ValueError:  # digits numpy does not parse (other scripts' digits): one by one
        numbers = np.array([int(t) for t in texts[numeric] if re.fullmatch(r"-?[0-9]+", t)], dtype=np.int64)
        return numbers[np.isin(numbers.astype(str), texts)]
    return numbers[numbers.astype(str) == texts[numeric]]


def id_mask(ids: np.ndarray, texts: Iterable[str]) -> np.ndarray:
    """Which of the source ``ids`` are among the request's ``texts`` (ids compare as text:
    ``str(id)``; integer ids are compared as integers, which is the same and much faster)."""
    ids = np.asarray(ids)
    if ids.dtype.kind in "iu":
        return np.isin(ids, _ids_like(texts, ids.dtype))
    return np.isin(ids.astype(str), np.array(sorted(texts), dtype=str))


def matching_rows(stored: StoredRun, labels: Sequence[str], ids: set[str]) -> dict[str, np.ndarray]:
    """Stored train/test row positions derived from any of ``ids`` under ``labels``."""
    if not ids:
        return {"train": np.zeros(0, np.int64), "test": np.zeros(0, np.int64)}
    found = _matching_row_ids(stored, labels, ids)
    if found is None:
        found = _matching_provenance(stored, labels, ids)
    # rows the version's deletion vectors hide are gone from it already
    return {split: np.setdiff1d(rows, stored.deleted(split), assume_unique=True) for split, rows in found.items()}


def _matching_provenance(stored: StoredRun, labels: Sequence[str], ids: set[str]) -> dict[str, np.ndarray]:
    import pyarrow as pa
    import pyarrow.compute as pc

    provenance = stored.row_provenance
    hit = pc.and_(
        pc.is_in(provenance.column("source").cast(pa.string()), pa.array(list(labels), pa.string())),
        pc.is_in(provenance.column("source_id").cast(pa.string()), pa.array(sorted(ids), pa.string())),
    )
    matched = provenance.filter(hit)
    splits = matched.column("split").cast(pa.string()).to_numpy(zero_copy_only=False)
    rows = matched.column("row").to_numpy()
    return {split: np.unique(rows[splits == split]) for split in ("train", "test")}


def _matching_row_ids(stored: StoredRun, labels: Sequence[str], ids: set[str]) -> dict[str, np.ndarray] | None:
    """The same from the run's ``row_ids`` arrays (one column per provenance label), which
    need no Parquet read; None where the run has none."""
    columns = [f"prov:{label}" for label in labels]
    try:
        at = [stored.provenance_columns.index(c) for c in columns]
    except ValueError:
        return None
    found = {}
    for split in ("train", "test"):
        table = stored.row_ids(split)
        if table is None:
            return None
        if table.dtype.kind in "iuU":
            wanted = _ids_like(ids, table.dtype)
            indexed = [find_row_ids(stored.folder, split, column, wanted) for column in at]
            if all(hits is not None for hits in indexed):
                found[split] = np.unique(np.concatenate(indexed)) if indexed else np.zeros(0, np.int64)
                continue
        hit = np.zeros(len(table), dtype=bool)
        for column in at:
            hit |= id_mask(table[:, column], ids)
        found[split] = np.flatnonzero(hit)
    return found


_POSITION = re.compile(r"0|[1-9][0-9]*")


def check_positions(runs: Sequence[StoredRun], source: str, texts: set[str]) -> None:
    """For a source without a key column, whose ids are row positions: refuse ids that are
    no position of the source in any of ``runs`` (a customer number given where positions are
    meant, say), which would otherwise match nothing and report success."""
    records = [(s, s.source_record(source)) for s in runs]
    positional = [(s, r) for s, r in records if r is not None and not r.get("key_column")]
    if not positional or len(positional) < len(records):
        return  # keyed in some run: its ids are checked against the source (unknown_ids)
    largest = max(int(r["rows"] or 0) for _, r in positional)
    bad = sorted(t for t in texts if not _POSITION.fullmatch(t) or int(t) >= largest)
    if bad:
        name = positional[0][1]["name"]
        span = f"0 to {largest - 1}" if largest else "none: it has no rows"
        raise RequestError(
            f"{name} has no key column: its rows are identified by their position in the file "
            f"({span}), and {len(bad)} of the {len(texts)} ids given are no position of it; "
            f"to name rows by a column's value use --where (where=), e.g. --where \"column = 'value'\""
        )


def check_fingerprints(runs: Sequence[StoredRun], source: str, cache: dict) -> None:
    """For a source without a key column: refuse positions when the file changed since the
    run read it, as they may now name other rows (a row inserted at the top shifts them all)."""
    for stored in runs:
        recorded = stored.source_record(source)
        if recorded is None or recorded.get("key_column"):
            continue
        _, _, origin = loaded_source(stored, source, cache)
        if origin.fingerprint() != recorded["fingerprint"]:
            raise RequestError(
                f"{origin.path} changed since run {stored.run_id} read it, and {recorded['name']} has no key "
                "column: its rows are named by position, and positions may now name other rows, so nothing "
                "was changed. Name the rows by a column's value with --where (e.g. --where \"customer_id = "
                "'C00017'\"), or run the pipeline again and name positions of the new run")


def id_kind(runs: Sequence[StoredRun], source: str) -> str:
    """``key`` when the runs read ``source`` with a key column, else ``position``."""
    records = [r for r in (s.source_record(source) for s in runs) if r is not None]
    return "key" if records and all(r.get("key_column") for r in records) else "position"


def id_format(value: Any) -> str:
    """The shape of an id, not its value (a key may be an e-mail address): letters become
    ``A``/``a``, digits ``9``, other characters stay; ``C00017`` -> ``A99999``."""
    text = str(value)[:40]
    return "".join("9" if c.isdigit() else ("A" if c.isupper() else "a") if c.isalpha() else c for c in text)


def held_ids(stored: StoredRun, labels: Sequence[str], ids: set[str], rows: dict[str, np.ndarray]) -> set[str]:
    """Which of ``ids`` the stored rows at ``rows`` (from :func:`matching_rows`) derive from."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not ids or not any(len(r) for r in rows.values()):
        return set()
    columns = [f"prov:{label}" for label in labels]
    if all(c in stored.provenance_columns for c in columns) and all(
            stored.row_ids(split) is not None for split in ("train", "test")):
        at = [stored.provenance_columns.index(c) for c in columns]
        found: set[str] = set()
        for split in ("train", "test"):
            values = stored.row_ids(split)[np.asarray(rows[split], dtype=np.int64)][:, at]
            found.update(str(v) for v in np.unique(values).tolist())
        return found & ids
    provenance = stored.row_provenance
    hit = pc.and_(
        pc.is_in(provenance.column("source").cast(pa.string()), pa.array(list(labels), pa.string())),
        pc.is_in(provenance.column("source_id").cast(pa.string()), pa.array(sorted(ids), pa.string())),
    )
    return set(provenance.filter(hit).column("source_id").cast(pa.string()).to_pylist())


def check_ids_exist(affected: Sequence[AffectedRun], source: str, ids: set[str], cache: dict) -> list[str]:
    """Refuse ids the source does not have; a typo would otherwise forget nothing (or only
    the other ids) and report success. Ids some stored row derives from exist; the others are
    looked up in the source as the runs' pipelines read it. Returns notes for the report."""
    held = set().union(*(held_ids(a.run, a.labels, ids, a.rows) for a in affected)) if affected else set()
    unmatched = ids - held
    if not unmatched:
        return []
    known: set[str] = set()
    total, example, key = 0, None, None
    for candidate in affected:
        recorded = candidate.run.source_record(source)
        if recorded is not None and not recorded.get("key_column"):
            return []  # positions, already checked against the source's size
        try:
            _, source_ids, origin = loaded_source(candidate.run, source, cache)
        except LesterError as error:
            if held:
                note = (f"{len(unmatched)} of the {len(ids)} ids match no stored row (the source could "
                        f"not be read to check them: {error})")
                return [note]
            raise RequestError(
                f"none of the {len(ids)} ids matches a row stored for run {candidate.run_id} from {source}, "
                f"and the source could not be read to tell whether they exist: {error}"
            ) from error
        source_ids = np.asarray(source_ids)
        known |= {str(v) for v in source_ids[id_mask(source_ids, unmatched)].tolist()}
        total = max(total, len(source_ids))
        key = key or origin.key
        if example is None and len(source_ids):
            example = source_ids[0]
    unknown = unmatched - known
    if unknown:
        kind = "integers" if example is not None and np.asarray(example).dtype.kind in "iu" else "texts"
        shape = f", {kind} like {id_format(example)!r} (A: a letter, 9: a digit)" if example is not None else ""
        raise RequestError(
            f"{len(unknown)} of the {len(ids)} ids given are no id of {source}: its key column "
            f"{key!r} has {total} ids{shape}; nothing was changed"
        )
    return []


def resolve(
    store: ArtifactStore,
    source: str,
    *,
    ids: Sequence[Any] | None,
    where: str | None,
    run: str | None,
    all_runs: bool,
    cache: dict | None = None,
) -> tuple[list[AffectedRun], list[tuple[str, Path]], dict[str, set[str]]]:
    """The runs to maintain with the request's ids in each, and the ids of superseded runs that
    also hold the rows. Runs whose rows the request does not touch are included with no rows
    (a redaction may still add rows to them)."""
    if (ids is None) == (where is None):
        raise RequestError("give the source rows either by id (ids=/--id) or by a predicate (where=/--where), not both")
    if ids is not None and len(ids) == 0:
        raise RequestError("ids is empty: name at least one source row")
    if run is not None and all_runs:
        raise RequestError("give either a run (--run) or --all-runs, not both")
    heads, superseded = _candidate_runs(store, source, run)
    if heads.empty:
        raise RequestError(f"every run that read {source!r} already has a newer version; nothing to maintain")
    stored = [StoredRun(row.run_id, Path(row.folder)) for row in heads.itertuples()]
    totals: dict[str, int | None] = {s.run_id: None for s in stored}
    if where is not None:
        evaluated = _where_ids(stored, source, where, {} if cache is None else cache)
        per_run = {rid: matched for rid, (matched, _) in evaluated.items()}
        totals.update({rid: total for rid, (_, total) in evaluated.items()})
    else:
        text = {str(i) for i in ids}
        check_positions(stored, source, text)
        check_fingerprints(stored, source, {} if cache is None else cache)
        per_run = {s.run_id: text for s in stored}
    affected = []
    for s, row in zip(stored, heads.itertuples(), strict=True):
        affected.append(AffectedRun(s, list(row.labels), per_run[s.run_id], source_rows=totals[s.run_id]))
    older = [(row.run_id, Path(row.folder)) for row in superseded.itertuples()]
    return affected, older, per_run


def choose_runs(affected: list[AffectedRun], run: str | None, all_runs: bool, source: str) -> list[AffectedRun]:
    """Without --run or --all-runs a request may only touch one run: say which ones it would."""
    hit = [a for a in affected if a.row_count or a.notes]
    if run is None and not all_runs and len(hit) > 1:
        raise RequestError(
            f"{len(hit)} runs hold rows derived from these {source} rows: "
            f"{[a.run_id for a in hit]}; pass --run RUN for one of them or --all-runs for every one"
        )
    return hit
