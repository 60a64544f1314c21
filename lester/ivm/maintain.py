"""Incremental maintenance of stored runs for one request: the steps ``forget`` and ``redact``
share (find the affected runs, derive the row changes, build and register new versions,
verify, report)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lester.frame.dependence import linear_in, reads_source_column
from lester.ivm.dataprep_delta import (
    build_frame,
    prepare_through,
    provenance_columns,
    source_paths,
)
from lester.ivm.deletion_vectors import build_dv_version, dv_applies
from lester.ivm.recovery import crash_point, roll_back_unaudited
from lester.ivm.requests import (
    AffectedRun,
    RequestError,
    check_ids_exist,
    choose_runs,
    id_kind,
    id_mask,
    loaded_source,
    matching_rows,
    private_request,
    resolve,
)
from lester.ivm.verify import SourceChange, Verification, compare, retrain
from lester.ivm.versions import (
    SPLITS,
    SplitDelta,
    StoredRun,
    VersionError,
    _added_ids,
    _arrow_rows,
    _keep_mask,
    _link_or_copy,
    _provenance_of,
    build_version,
    inherited_info,
    row_keys,
    still_head,
    write_version,
)
from lester.models.unlearning import strategy_for
from lester.pipeline.catalog import chunk_provenance_path, held_database, write_provenance_chunk
from lester.pipeline.config import RunConfig
from lester.pipeline.forget_set import Sets, Subject, append_audit, register, row_hashes
from lester.pipeline.split import split_mask
from lester.pipeline.store import (
    ArtifactStore,
    new_run_id,
    part_name,
    save_json,
    save_row_ids,
    save_rows_part,
)

NO_MODEL = "no model"  # the strategy of a data-preparation run's versions: nothing to update


@dataclass
class RunChange:
    """What a request did (or, in a dry run, would do) to one run."""

    run_id: str
    new_run_id: str | None
    rows_removed: dict[str, int]
    rows_added: dict[str, int]
    strategy: str
    exact: bool | None
    detail: str
    dataprep: str  # "none", "affected rows only" or "full (reason)"
    seconds: dict[str, float]
    metrics_before: dict[str, float]
    metrics_after: dict[str, float]
    verification: Verification | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class MaintenanceReport:
    """The outcome of one ``forget`` or ``redact`` request.

    ``changes`` has one entry per affected run; ``message`` says in words what happened,
    including when nothing matched; ``superseded`` lists older versions that still hold the
    rows (run folders are immutable).
    """

    action: str
    request: dict[str, Any]
    changes: list[RunChange]
    message: str
    dry_run: bool
    seconds: float
    superseded: list[str] = field(default_factory=list)
    id_kind: str = "key"  # how the request named the source rows: "key" or "position"

    @property
    def new_runs(self) -> list[str]:
        return [c.new_run_id for c in self.changes if c.new_run_id]

    def __repr__(self) -> str:
        return f"<MaintenanceReport {self.action}: {self.message}>"

    def _repr_html_(self) -> str:
        """A small table for notebooks: one row per affected run (values escaped)."""
        from html import escape

        def cell(value: Any) -> str:
            return f"<td>{escape(str(value))}</td>"

        verified = any(c.verification is not None for c in self.changes)
        head = ["run", "new version", "rows removed", "rows added", "data prep", "model update", "seconds"]
        head += ["agreement", "retrain seconds"] if verified else []
        rows = []
        for c in self.changes:
            cells = [c.run_id, c.new_run_id or "-",
                     ", ".join(f"{k} {v}" for k, v in c.rows_removed.items()) or "0",
                     ", ".join(f"{k} {v}" for k, v in c.rows_added.items()) or "0",
                     c.dataprep, f"{c.strategy}{' (exact)' if c.exact else ''}: {c.detail}",
                     f"{c.seconds.get('total', float('nan')):.3f}"]
            if verified:
                v = c.verification
                cells += ["-", "-"] if v is None else [f"{100 * v.agreement:.2f}%", f"{v.retrain_seconds:.3f}"]
            rows.append("<tr>" + "".join(cell(x) for x in cells) + "</tr>")
        title = f"{self.action}{' (dry run)' if self.dry_run else ''}: {self.message}"
        return (f"<div><strong>{escape(title)}</strong><table><thead><tr>"
                + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>"
                + "".join(rows) + "</tbody></table></div>")


def _split_of_new_rows(stored: StoredRun, rows: pd.DataFrame, old: dict[str, list[str]], prov: list[str]) -> np.ndarray:
    """Which split each re-derived row joins: the split of the stored row with the same
    provenance if there is one, else the run's split rule (which hashes ids or groups)."""
    keys = _keys(rows, prov)
    side = {key: split for split, split_keys in old.items() for key in split_keys}
    settings = stored.config.split
    if settings.kind == "time":
        fresh = np.zeros(len(rows), dtype=bool)  # time splits are by quantile: new rows train
    else:
        fresh = split_mask(rows, prov, kind=settings.kind, test_size=settings.test_size,
                           seed=settings.seed, group=settings.group, time_column=settings.time_column)
    return np.array([side[k] == "test" if k in side else bool(f) for k, f in zip(keys, fresh, strict=True)],
                    dtype=bool)


def _keys(rows: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    return row_keys(rows, list(columns))


def _stored_rows(stored: StoredRun, positions: dict[str, np.ndarray]) -> dict[str, pd.DataFrame]:
    return {split: stored.rows_at(split, np.asarray(positions[split], dtype=np.int64)).to_pandas() for split in SPLITS}


def _rebuilt_plan(stored: StoredRun) -> Any:
    """The run's data preparation plan, rebuilt from its pipeline: for a run stored before
    the plan facts (:mod:`lester.frame.dependence`) were recorded with it."""
    definition = stored.pipeline
    return build_frame(definition, source_paths(definition, stored.config.sources))


def _plan_is_linear(stored: StoredRun, source: str) -> bool:
    recorded = stored.linear_in(source)
    return recorded if recorded is not None else linear_in(_rebuilt_plan(stored), source)


def _plan_reads(stored: StoredRun, source: str, column: str) -> bool:
    recorded = stored.reads_source_column(source, column)
    return recorded if recorded is not None else reads_source_column(_rebuilt_plan(stored), source, column)


def _row_deltas(
    stored: StoredRun,
    affected: AffectedRun,
    source: str,
    change: SourceChange,
    cache: dict,
    sets: Sets,
    own: set[int],
) -> tuple[dict[str, SplitDelta], str]:
    """Per split: the stored rows the change removes and the re-derived rows it adds.

    Every re-derivation reads every source through the store's forget and redaction ``sets``
    (``own``: the sequence numbers of this request's entries), so that no row forgotten and no
    value redacted by an earlier request comes back. A version that predates entries of the
    sets other than this request's (a head of another lineage, or a run stored before the
    requests) is re-derived in full, which applies them all."""
    linear = _plan_is_linear(stored, source)
    read = [s["name"] for s in stored.table("sources")]
    stale = sets.newer_than(int(stored.info.get("forget_set_seq", 0)), read, ignore=own)
    if linear and not stale and change.action == "forget":  # the plan need not even be loaded
        return {split: SplitDelta(affected.rows[split]) for split in SPLITS}, "none"
    definition = stored.pipeline
    paths = source_paths(definition, stored.config.sources)
    prov = stored.provenance_columns
    name = (stored.source_record(source) or {}).get("name", source)
    if linear and not stale:
        rows, ids, _ = loaded_source(stored, source, cache)
        hit = id_mask(ids, change.ids)
        new_rows = prepare_through(definition, paths, sets,
                                   {name: (rows[hit].reset_index(drop=True), np.asarray(ids)[hit])})
        old = _stored_rows(stored, affected.rows)
        how = "affected rows only"
    else:
        reason = ("the version predates earlier requests, which are applied with this one" if stale else
                  "the plan aggregates, limits or left-joins this source")
        new_rows = prepare_through(definition, paths, sets)
        everything = {split: stored.live(split) for split in SPLITS}  # deletion vectors applied
        old = _stored_rows(stored, everything)
        how = f"full ({reason})"
    columns = stored.data_columns + prov
    new_rows = new_rows[[c for c in columns if c in new_rows.columns]]
    new_keys = _keys(new_rows, columns)
    remaining = pd.Series(new_keys).value_counts().to_dict() if new_keys else {}
    deltas = {}
    positions = affected.rows if how == "affected rows only" else everything
    for split in SPLITS:
        old_keys = _keys(old[split], columns)
        removed = []
        for position, key in zip(positions[split], old_keys, strict=True):
            if remaining.get(key, 0) > 0:  # an identical row is re-derived: nothing changes
                remaining[key] -= 1
            else:
                removed.append(position)
        deltas[split] = SplitDelta(np.asarray(removed, dtype=np.int64))
    kept = np.zeros(len(new_keys), dtype=bool)
    for i, key in enumerate(new_keys):  # new rows no stored row matched are the added ones
        if remaining.get(key, 0) > 0:
            remaining[key] -= 1
            kept[i] = True
    added = new_rows[kept].reset_index(drop=True) if len(new_rows) else new_rows
    if len(added):
        old_prov = {split: _keys(old[split], prov) for split in SPLITS}
        is_test = _split_of_new_rows(stored, added, old_prov, prov)
        for split, mask in (("train", ~is_test), ("test", is_test)):
            if mask.any():
                deltas[split].added = added[mask].reset_index(drop=True)
    return deltas, how


def _verification_config(stored: StoredRun) -> RunConfig:
    paths = source_paths(stored.pipeline, stored.config.sources)
    raw = stored.config.to_dict()
    raw["sources"] = {name: os.path.abspath(path) for name, path in paths.items()}
    raw["pipeline"] = stored.record["run"].get("pipeline")
    return RunConfig.from_dict(raw, where=f"run {stored.run_id}")


def lineage_changes(stored: StoredRun) -> list[SourceChange]:
    """The changes a version stored before the forget set recorded in its ``run.json``
    (``ivm_changes``, ids in clear), oldest first; versions written since record none: their
    lineage's changes are the store's forget and redaction sets."""
    return [SourceChange(**c) for c in stored.info.get("ivm_changes", [])]


SAFETY_SHARE = 0.5  # a predicate matching more than this share of a source's rows needs all_rows


def _check_column(candidates: Sequence[AffectedRun], source: str, column: str | None, cache: dict) -> None:
    """Refuse a column the source does not have: a typo would otherwise read as "no artifact
    uses the column" and exit 0. The source was loaded by the predicate already (cached)."""
    columns: list[str] = []
    for candidate in candidates:
        _, _, origin = loaded_source(candidate.run, source, cache)
        if column in origin.columns:
            return
        columns.extend(c for c in origin.columns if c not in columns)
    runs = [c.run_id for c in candidates]
    raise RequestError(f"redact: the source {source} has no column {column!r} (as read by run(s) {runs}); "
                       f"its columns are {columns}")


def _needs_all_rows(action: str, candidates: Sequence[AffectedRun], affected: Sequence[AffectedRun],
                    source: str, dry_run: bool) -> str:
    """Refuse a predicate that matches every row of the source, or more than SAFETY_SHARE of
    them, unless confirmed: ``1=1`` or a negation typed the wrong way round would otherwise
    forget or redact everything without a question. A dry run writes nothing, so it is
    answered, with a note saying what the real request needs; returns that note."""
    stored = sum(a.row_count for a in affected)
    if not stored:
        return ""
    shares = [(len(c.ids), c.source_rows) for c in candidates if c.source_rows]
    broad = [(matched, total) for matched, total in shares if matched > SAFETY_SHARE * total]
    if not broad:
        return ""
    matched, total = max(broad, key=lambda pair: pair[0] / pair[1])
    every = "every row" if matched == total else f"more than {SAFETY_SHARE:.0%} of the rows"
    text = (f"the predicate matches {matched} of the {total} rows of {source} ({every}); the {action} would "
            f"remove or re-derive {stored} stored row{'s' if stored != 1 else ''} in run(s) "
            f"{[a.run_id for a in affected]}; pass all_rows=True (--all-rows) to confirm")
    if dry_run:
        return f"a real {action} needs confirmation: {text}"
    raise RequestError(f"{action} refused: {text}")


def apply_request(
    action: str,
    *,
    source: str,
    ids: Sequence[Any] | None,
    where: str | None,
    column: str | None = None,
    value: Any = None,
    run: str | None,
    all_runs: bool,
    verify: bool,
    dry_run: bool,
    store: str | os.PathLike | ArtifactStore,
    all_rows: bool = False,
) -> MaintenanceReport:
    """Apply one request, holding the store's writer lock from start to end (a dry run takes
    none): requests serialise, so each one reads the heads the previous one wrote."""
    artifacts = store if isinstance(store, ArtifactStore) else ArtifactStore(store)
    if dry_run:
        return _apply(action, artifacts, source=source, ids=ids, where=where, column=column, value=value,
                      run=run, all_runs=all_runs, verify=verify, dry_run=dry_run, all_rows=all_rows)
    with artifacts.write_lock(command=f"lester {action} --source {source}"), \
            held_database(artifacts.catalog.path):
        return _apply(action, artifacts, source=source, ids=ids, where=where, column=column, value=value,
                      run=run, all_runs=all_runs, verify=verify, dry_run=dry_run, all_rows=all_rows)


def _subjects(candidates: Sequence[AffectedRun], source: str, cache: dict) -> list[tuple[str, str, list[Subject]]]:
    """The source rows a request names, as the forget set records them: per (source name,
    id kind), the ids as text, and for positions the file's fingerprint and each row's content
    hash (which finds the row again if rows are later inserted before it)."""
    grouped: dict[tuple[str, str], dict[str, Subject]] = {}
    for candidate in candidates:
        recorded = candidate.run.source_record(source) or {"name": source}
        name = recorded["name"]
        if recorded.get("key_column") or not candidate.ids:
            kind = "key"
            subjects = {i: Subject(i) for i in candidate.ids}
        else:
            kind = "position"
            rows, _, origin = loaded_source(candidate.run, source, cache)
            key = cache["__subject_key__"]
            positions = sorted(int(i) for i in candidate.ids)
            contents = row_hashes(key, name, rows.iloc[positions].reset_index(drop=True))
            fingerprint = origin.fingerprint()
            subjects = {str(p): Subject(str(p), fingerprint, c) for p, c in zip(positions, contents, strict=True)}
        grouped.setdefault((name, kind), {}).update(subjects)
    return [(name, kind, list(found.values())) for (name, kind), found in grouped.items() if found]


def _apply(
    action: str,
    artifacts: ArtifactStore,
    *,
    source: str,
    ids: Sequence[Any] | None,
    where: str | None,
    column: str | None,
    value: Any,
    run: str | None,
    all_runs: bool,
    verify: bool,
    dry_run: bool,
    all_rows: bool,
) -> MaintenanceReport:
    started = time.perf_counter()
    key = artifacts.subject_key
    request = {"source": source, "ids": None if ids is None else [str(i) for i in ids], "where": where,
               "run": run, "all_runs": all_runs}
    if all_rows:
        request["all_rows"] = True
    if action == "redact":
        request.update({"column": column, "with": value})
    private = private_request(request, key)
    cache: dict = {"__subject_key__": key}
    t0 = time.perf_counter()
    if not dry_run:  # a version a killed request registered without its audit row goes first
        roll_back_unaudited(artifacts)
    candidates, older, _ = resolve(artifacts, source, ids=ids, where=where, run=run, all_runs=all_runs, cache=cache)
    kind = id_kind([c.run for c in candidates], source)
    named = "named by key" if kind == "key" else "named by position"
    if action == "redact":
        _check_column(candidates, source, column, cache)
    for candidate in candidates:
        candidate.rows = matching_rows(candidate.run, candidate.labels, candidate.ids)
    id_notes = check_ids_exist(candidates, source, set(request["ids"]), cache) if ids is not None else []
    subjects = _subjects(candidates, source, cache)
    n_subjects = len({s.id_text for _, _, group in subjects for s in group})
    entry_id = uuid.uuid4().hex

    def registered(entries: Sequence[dict[str, Any]]) -> None:
        if not dry_run:  # under the writer lock, after the versions (if any) were registered
            append_audit(artifacts.root, [{**e, "source": source, "id_kind": kind, "subjects": n_subjects}
                                          for e in entries])

    def no_version(message: str) -> MaintenanceReport:
        registered([{"entry_id": entry_id, "created": _now(), "action": action, "request": private,
                     "run_id": None, "new_run_id": None, "rows_removed": 0, "strategy": None,
                     "seconds": time.perf_counter() - started}])
        return MaintenanceReport(action, private, [], message, dry_run, time.perf_counter() - started,
                                 [rid for rid, _ in older], id_kind=kind)

    notes_by_run: dict[str, list[str]] = {}
    users = candidates
    if action == "redact":
        users = []
        for candidate in candidates:
            if _plan_reads(candidate.run, source, column):
                users.append(candidate)
            else:
                notes_by_run[candidate.run_id] = [f"no artifact of this run uses {source}.{column}"]
    resolve_seconds = time.perf_counter() - t0
    affected = choose_runs(users, run, all_runs, source) if users else []
    confirm = "" if all_rows or where is None else _needs_all_rows(action, candidates, affected, source, dry_run)
    # Every check passed: the request joins the forget (or redaction) set before any version
    # is written, so that whatever happens next, no later derivation brings the rows back.
    own: set[int] = set()
    if not dry_run:
        for name, id_type, group in subjects:
            own.add(register(artifacts.root, key, action=action, source=name, id_kind=id_type, subjects=group,
                             entry_id=entry_id, column=column, value=value))
    set_name = "forget set" if action == "forget" else "redaction set"
    kept = "" if dry_run or not subjects else f"; the {n_subjects} row(s) named are in the {set_name} of {source}"
    if action == "redact" and not users:
        message = (f"no artifact of any run uses the column {source}.{column} "
                   f"(runs checked: {[c.run_id for c in candidates]}); nothing to redact{kept}")
        return no_version(message)
    if not affected:
        matched = sorted({i for c in candidates for i in c.ids})
        detail = (f"the predicate matched {len(matched)} {source} rows, but no stored row derives from them"
                  if where is not None and matched else
                  f"no stored row derives from the {len(request['ids'] or [])} {source} id(s) given")
        if where is not None and not matched:
            detail = f"the predicate matched no row of {source}"
        return no_version(f"nothing to {action}: {detail}{kept}")

    sets = artifacts.forget_sets() if not dry_run else None
    changes = []
    entries = []
    for candidate in affected:
        change, entry = _maintain_run(artifacts, action, candidate, source, column, value, private,
                                      verify=verify, dry_run=dry_run, cache=cache, sets=sets, own=own,
                                      entry_id=entry_id, resolve_seconds=resolve_seconds / len(affected))
        changes.append(change)
        if entry is not None:
            entries.append(entry)
    if entries:
        crash_point("registered")
        registered(entries)
    elif not dry_run:
        registered([{"entry_id": entry_id, "created": _now(), "action": action, "request": private,
                     "run_id": None, "new_run_id": None, "rows_removed": 0, "strategy": "unchanged",
                     "seconds": time.perf_counter() - started}])
    older = [rid for rid, folder in older if any(
        len(r) for r in matching_rows(StoredRun(rid, folder), affected[0].labels, affected[0].ids).values())]
    rows = sum(sum(c.rows_removed.values()) for c in changes)
    verb = "would write" if dry_run else "wrote"
    written = [c for c in changes if c.new_run_id or dry_run]
    message = (f"{action} ({n_subjects} {source} row(s) {named}): {len(written)} run(s) affected, {rows} stored "
               f"row(s) removed or re-derived; {verb} {len(written)} new version(s)")
    if older:
        message += f"; older versions {older} still hold these rows (run folders are never modified)"
    for note in [*id_notes, *([confirm] if confirm else [])]:
        message += f"; {note}"
    return MaintenanceReport(action, private, changes, message + kept, dry_run,
                             time.perf_counter() - started, older, id_kind=kind)


def _now() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


def _maintain_run(
    artifacts: ArtifactStore,
    action: str,
    candidate: AffectedRun,
    source: str,
    column: str | None,
    value: Any,
    request: dict[str, Any],
    *,
    verify: bool,
    dry_run: bool,
    cache: dict,
    sets: Sets | None,
    own: set[int],
    entry_id: str,
    resolve_seconds: float,
) -> tuple[RunChange, dict[str, Any] | None]:
    """Maintain one run; returns what changed and the audit entry of the version written
    (None when none was). ``request`` is the request's private form (keyed hashes)."""
    started = time.perf_counter() - resolve_seconds
    stored = candidate.run
    seconds = {"resolve": resolve_seconds}
    change = SourceChange(action, source, sorted(candidate.ids), column, value)  # in memory only
    metrics_before = stored.info.get("metrics", {}).get("test", {})
    prepared_only = _prepared_only(stored)
    if dry_run or sets is None:
        return RunChange(stored.run_id, None, {s: len(r) for s, r in candidate.rows.items()},
                         {s: 0 for s in SPLITS}, NO_MODEL if prepared_only else strategy_for(stored.model), None,
                         "dry run: nothing written", "not run", seconds, metrics_before, {}), None
    t0 = time.perf_counter()
    deltas, how = _row_deltas(stored, candidate, source, change, cache, sets, own)
    seconds["dataprep"] = time.perf_counter() - t0
    if all(d.empty for d in deltas.values()):
        return RunChange(stored.run_id, None, {s: 0 for s in SPLITS}, {s: 0 for s in SPLITS}, "unchanged",
                         True, f"every re-derived row equals the stored one: the run already reflects this {action}",
                         how, seconds, metrics_before, metrics_before), None
    # the version has every entry of the sets applied (this request's too), up to this number
    applied = {"forget_set_seq": sets.seq}
    if prepared_only:
        t0 = time.perf_counter()
        new_id, entry = _write_prepared_version(artifacts, stored, deltas, action=action, request=request,
                                                started=started, how=how, entry_id=entry_id, info=applied)
        seconds["write"] = time.perf_counter() - t0
        seconds["total"] = time.perf_counter() - started
        notes = ["the run has no model: verify has nothing to compare"] if verify else []
        return RunChange(stored.run_id, new_id, {s: len(d.removed) for s, d in deltas.items()},
                         {s: d.n_added for s, d in deltas.items()}, NO_MODEL, True,
                         "prepared rows and provenance updated; the run has no model", how, seconds, {}, {},
                         notes=notes), entry
    fast = dv_applies(stored, deltas)
    vectors = build_dv_version(stored, deltas) if fast else None
    version = vectors or build_version(stored, deltas)
    seconds.update(version.seconds)
    t0 = time.perf_counter()
    new_id, _, entry = write_version(
        artifacts, version, action=action, request=request, started=started,
        extra_info={"dataprep": how}, info_updates=applied, entry_id=entry_id,
    )
    seconds["write"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    detail = version.update.detail
    if fast and vectors is None:
        detail += " (an exact update: the certified bound of a step from stored statistics was over its budget)"
    result = RunChange(
        stored.run_id, new_id, {s: len(d.removed) for s, d in deltas.items()},
        {s: d.n_added for s, d in deltas.items()}, version.update.strategy, version.update.exact,
        detail, how, seconds, metrics_before, version.metrics["test"],
    )
    if vectors is not None:
        result.notes.append("deletion vectors: the chunks are shared with the parent until `lester purge`; "
                            "train metrics are not recomputed")
    if verify:
        # the retrain reads the sources through the whole forget and redaction sets, as the
        # version is meant to: every request so far, on whichever version it was applied
        retrained, retrain_seconds = retrain(stored.pipeline, _verification_config(stored), artifacts)
        if vectors is not None:
            predictions, y_test = vectors.live_predictions(), vectors.labels("test")
        else:
            predictions, y_test = version.predictions, version.y["test"]
        result.verification = compare(
            model=version.update.model, old_model=stored.model, encoder=stored.encoder,
            test_rows=version.table("test"), predictions=predictions, y_test=y_test,
            metrics=version.metrics, provenance_columns=stored.provenance_columns,
            retrained=retrained, retrain_seconds=retrain_seconds, X_test=version.matrix("test"),
        )
    return result, entry


def _prepared_only(stored: StoredRun) -> bool:
    """Whether ``stored`` is a data-preparation run (no model: its pipeline has no
    ``make_model``), whose versions have rows and provenance to update and nothing else."""
    if (stored.folder / "model.pkl").exists():
        return False
    if (stored.folder / "encoder.pkl").exists() or (stored.folder / "y_train.npy").exists():
        # features or labels without a model: the prepared-rows version would drop them
        raise VersionError(
            f"run {stored.run_id} has {'features' if (stored.folder / 'encoder.pkl').exists() else 'labels'} "
            "but no model; forget and redact maintain runs with a model, or data-preparation runs "
            "(no encode_features, extract_label or make_model): run the pipeline again without the rows")
    if not stored.chunked:
        raise VersionError(f"run {stored.run_id} was stored before row chunks were recorded; run its pipeline "
                           "again to maintain it")
    return True


def _write_prepared_version(
    artifacts: ArtifactStore,
    stored: StoredRun,
    deltas: dict[str, SplitDelta],
    *,
    action: str,
    request: dict[str, Any],
    started: float,
    how: str,
    entry_id: str,
    info: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    """Register a new version of a data-preparation run: its prepared rows, row ids and
    provenance without the removed rows and with the re-derived ones (its parent must still be
    the head); returns its id and its audit entry. Unchanged chunks are hard-linked from the parent, as
    :func:`lester.ivm.versions.write_version` does for runs with a model."""
    import pyarrow as pa

    run_id, created = new_run_id()
    prov = stored.provenance_columns
    plans: dict[str, list[tuple[str, int, pa.Table | None, pa.Table | None]]] = {}
    row_ids: dict[str, np.ndarray | None] = {}
    for split in SPLITS:
        delta = deltas.get(split) or SplitDelta()
        removed = np.unique(np.asarray(delta.removed, dtype=np.int64))
        parts = stored.chunks(split)
        starts = np.cumsum([0] + [n for _, n in parts])
        chunks: list[tuple[str, int, pa.Table | None, pa.Table | None]] = []
        for i, (part, size) in enumerate(parts):
            inside = removed[(removed >= starts[i]) & (removed < starts[i + 1])] - starts[i]
            if not len(inside):
                chunks.append((part, size, None, None))  # shared with the parent
                continue
            keep = _keep_mask(size, inside)
            rows = stored.row_part(split, part).filter(pa.array(keep))
            provenance = stored.provenance_part(split, part)
            at = provenance.column("row").to_numpy()
            provenance = provenance.filter(pa.array(keep[at]))
            at = at[keep[at]]
            provenance = provenance.set_column(provenance.schema.get_field_index("row"), "row",
                                               pa.array(at - np.searchsorted(inside, at), pa.int64()))
            if rows.num_rows:  # a chunk left empty is dropped
                chunks.append((part, rows.num_rows, rows, provenance))
        ids = stored.row_ids(split)
        total = int(starts[-1])
        row_ids[split] = ids[_keep_mask(total, removed)] if ids is not None else None
        schema = stored.row_part(split, parts[0][0]).schema
        if delta.n_added:
            numbers = [int(p.rsplit("-", 1)[1]) for p, *_ in chunks]
            chunks.append((part_name(max(numbers, default=-1) + 1), delta.n_added, _arrow_rows(delta.added, schema),
                           _provenance_of(delta.added, split, 0, stored.run_id, prov)))
            if row_ids[split] is not None:
                added = _added_ids(delta.added, prov, row_ids[split])
                row_ids[split] = None if added is None else np.concatenate([row_ids[split], added])
        if not chunks:  # every row of the split went: one empty chunk keeps its columns
            chunks.append((part_name(0), 0, schema.empty_table(),
                           pa.table({"row": pa.array([], pa.int64()), "source": pa.array([], pa.string()),
                                     "source_id": pa.array([], pa.string())})))
        plans[split] = chunks
    manifest = {split: [[part, size] for part, size, *_ in plans[split]] for split in SPLITS}
    rows_removed = int(sum(len(d.removed) for d in deltas.values()))
    rows_added = int(sum(d.n_added for d in deltas.values()))

    def write(folder: Path) -> dict[str, str]:
        (folder / "row_provenance").mkdir()
        for split in SPLITS:
            (folder / f"{split}.parquet").mkdir()
            for part, _, rows, provenance in plans[split]:
                if rows is None:  # unchanged: share the parent's immutable files
                    _link_or_copy(stored.folder / f"{split}.parquet" / f"{part}.parquet",
                                  folder / f"{split}.parquet" / f"{part}.parquet")
                    _link_or_copy(chunk_provenance_path(stored.folder, split, part),
                                  chunk_provenance_path(folder, split, part))
                else:
                    save_rows_part(folder, split, part, rows)
                    write_provenance_chunk(folder, split, part, provenance)
            if row_ids[split] is not None:
                save_row_ids(folder, split, row_ids[split])
        _link_or_copy(stored.folder / "config.toml", folder / "config.toml")
        save_json(folder / "run.json", {
            **inherited_info(stored.info), "run_id": run_id, "metrics": {}, "parent_run": stored.run_id,
            "chunks": manifest,
            "derived_by": {"action": action, "entry_id": entry_id, "strategy": NO_MODEL,
                           "detail": "the run has no model", "rows_removed": rows_removed,
                           "rows_added": rows_added, "dataprep": how},
            **info,
        })
        return {}

    seconds = time.perf_counter() - started
    record = {**stored.record["run"], "run_id": run_id, "created": created, "parent_run": stored.run_id,
              "model": None, "train_rows": sum(n for _, n in manifest["train"]),
              "test_rows": sum(n for _, n in manifest["test"]), "seconds": seconds}
    tables = {name: stored.table(name) for name in ("sources", "column_provenance", "matrix_provenance")}
    tables["metrics"] = []
    tables["row_chunks"] = []
    for split in SPLITS:
        first = 0
        for part, size in manifest[split]:
            tables["row_chunks"].append({"split": split, "part": part, "first_row": first, "rows": size})
            first += size
    entry = {"entry_id": entry_id, "created": created, "action": action, "request": request,
             "run_id": stored.run_id, "new_run_id": run_id, "rows_removed": rows_removed,
             "strategy": NO_MODEL, "seconds": seconds}
    artifacts.write_run(run_id, write, record, tables, precondition=still_head(artifacts, stored.run_id))
    return run_id, entry


__all__ = ["MaintenanceReport", "RequestError", "RunChange", "apply_request", "lineage_changes",
           "provenance_columns"]
