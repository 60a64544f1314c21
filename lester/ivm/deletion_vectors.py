"""Deletion vectors: a deletion whose cost does not grow with the run.

A request that only removes rows (``lester forget`` through a plan linear in the source)
writes a version that shares every chunk of its parent unchanged and records, per split, the
stored positions it no longer has (``deleted`` in ``run.json``, ``deleted_rows`` in the
catalog), as Delta Lake's deletion vectors do. Its model is updated from the statistics
stored with the parent and the removed rows alone (:mod:`lester.models.downdate`), its test
metrics from the stored test matrix; the training rows are never read. Writing it is O(1) in
the run's size: the parent's chunk folders are linked into the version by one relative
symbolic link each (to the folder that really holds them, never a chain), the small per-run
files by hard links, and the new model, statistics, predictions and records are written as
for any version, registered by one rename under the writer lock (:meth:`ArtifactStore.write_run`).

Every reader applies the vectors: the catalog's ``row_provenance`` view (``lester trace``,
``show``), the next request (:func:`lester.ivm.requests.matching_rows`, which never matches a
deleted row, and :func:`lester.ivm.versions.build_version`, which drops them physically when
it writes a version), verification against a retrain (the version's live rows only), and
``lester purge``, which rewrites the chunks that carry deletion vectors (:func:`materialise`)
with an exact refresh of the model, and expires the versions that shared them.

Train metrics are not recomputed by such a request (that needs the training rows): the
version records none, and says so in ``run.json`` (``train_metrics``); purge recomputes them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lester.ivm.versions import (
    DELETED_KEY,
    SPLITS,
    STATE_FILE,
    SplitDelta,
    StoredRun,
    _link_or_copy,
    inherited_info,
    load_matrix_part_of,
    still_head,
)
from lester.models.downdate import RefreshNeeded, downdate, downdate_applies
from lester.models.metrics import evaluate, predictions_and_scores
from lester.models.unlearning import ModelUpdate, UnlearningError, single_blas_thread
from lester.pipeline.catalog import recorded_digest
from lester.pipeline.forget_set import append_audit
from lester.pipeline.store import (
    ArtifactStore,
    check_pickle,
    load_matrix,
    new_run_id,
    run_pickle_key,
    save_json,
    save_pickle,
)

__all__ = ["DVVersion", "build_dv_version", "dv_applies", "materialise"]

# the folders of per-row chunk files a version shares with its parent as they are
SHARED_FOLDERS = ("train.parquet", "test.parquet", "X_train", "X_test", "row_provenance")
# small per-run files shared by hard links (unchanged by a deletion vector)
SHARED_FILES = ("y_train.npy", "y_test.npy", "encoder.pkl", "config.toml",
                *(f"row_ids_{split}{kind}.npy" for split in SPLITS for kind in ("", ".sorted", ".order")))
TRAIN_METRICS_NOTE = ("not recomputed by a deletion-vector request (it reads no training rows); "
                      "lester purge recomputes them")


@dataclass
class DVVersion:
    """A version that differs from its parent by deletion vectors and a model update."""

    parent: StoredRun
    removed: dict[str, np.ndarray]  # stored positions this request deletes
    deleted: dict[str, np.ndarray]  # every deleted position of the version (parent's too)
    update: ModelUpdate
    predictions: np.ndarray  # one per stored test row, deleted ones included
    metrics: dict[str, dict[str, float]]
    seconds: dict[str, float]

    def live(self, split: str) -> np.ndarray:
        return np.setdiff1d(np.arange(self.parent.stored_rows(split)), self.deleted[split], assume_unique=True)

    def size(self, split: str) -> int:
        return self.parent.stored_rows(split) - len(self.deleted[split])

    def table(self, split: str) -> pa.Table:
        """The split's live prepared rows (what a reader of the version sees)."""
        return self.parent.rows(split).take(pa.array(self.live(split)))

    def matrix(self, split: str) -> Any:
        X = self.parent.matrix(split)
        return X[self.live(split)]

    def labels(self, split: str) -> np.ndarray:
        return self.parent.labels(split)[self.live(split)]

    def live_predictions(self) -> np.ndarray:
        return self.predictions[self.live("test")]


def dv_applies(stored: StoredRun, deltas: Mapping[str, SplitDelta]) -> bool:
    """Whether a request's ``deltas`` on ``stored`` can be a deletion-vector version: rows
    removed only, a chunked run with a model that has an update from stored statistics."""
    if any(d.n_added for d in deltas.values()) or not stored.chunked or not (stored.folder / "model.pkl").exists():
        return False
    if any(not part for split in SPLITS for part, _ in stored.chunks(split)):
        return False
    live = stored.stored_rows("train") - len(stored.deleted("train"))
    return downdate_applies(stored.model, stored.state(), live) is not None


def _rows_of(stored: StoredRun, split: str, positions: np.ndarray) -> Any:
    """The feature rows at stored ``positions``, read from the chunks that hold them only."""
    import scipy.sparse as sp

    parts = stored.chunks(split)
    starts = np.cumsum([0] + [n for _, n in parts])
    owner = np.searchsorted(starts, positions, side="right") - 1
    pieces = []
    for i in np.unique(owner):
        part = load_matrix_part_of(stored, split, parts[i][0])
        pieces.append(part[positions[owner == i] - starts[i]])
    if not pieces:
        return np.zeros((0, stored.model.n_features_in_))
    if any(sp.issparse(p) for p in pieces):
        return sp.vstack([sp.csr_matrix(p) for p in pieces], format="csr")
    return np.concatenate([np.asarray(p, dtype=float) for p in pieces])


def build_dv_version(stored: StoredRun, deltas: Mapping[str, SplitDelta]) -> DVVersion | None:
    """The deletion-vector version of ``stored`` without the rows ``deltas`` remove; None when
    the model's certified bound would exceed its budget (the caller then writes a version
    with an exact refresh, :func:`lester.ivm.versions.build_version`)."""
    with single_blas_thread():
        return _build(stored, deltas)


def _build(stored: StoredRun, deltas: Mapping[str, SplitDelta]) -> DVVersion | None:
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    removed = {split: np.unique(np.asarray((deltas.get(split) or SplitDelta()).removed, dtype=np.int64))
               for split in SPLITS}
    deleted = {split: np.union1d(stored.deleted(split), removed[split]) for split in SPLITS}
    seconds["apply"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = stored.model
    if len(removed["train"]):
        y = np.load(stored.folder / "y_train.npy", mmap_mode="r", allow_pickle=False)
        try:
            update = downdate(model, stored.state(), _rows_of(stored, "train", removed["train"]),
                              np.asarray(y[removed["train"]]))
        except RefreshNeeded:
            return None
    else:
        update = ModelUpdate(model, "unchanged", True, stored.state(), 0.0, "no training row changed; the model is kept")
    seconds["update_model"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if update.model is model:
        predictions = np.load(stored.folder / "predictions.npy", allow_pickle=False)
        scores = None
        if "roc_auc" in stored.info.get("metrics", {}).get("test", {}):
            _, scores = predictions_and_scores(model, stored.matrix("test"))
    else:
        predictions, scores = predictions_and_scores(update.model, load_matrix(stored.folder, "X_test"))
    live = np.setdiff1d(np.arange(len(predictions)), deleted["test"], assume_unique=True)
    y_test = stored.labels("test")[live]
    metrics = {"test": evaluate(update.model, None, y_test, predictions[live],
                                scores=None if scores is None else scores[live]) if len(live) else {}}
    seconds["evaluate"] = time.perf_counter() - t0
    return DVVersion(stored, removed, deleted, update, np.asarray(predictions), metrics, seconds)


def _owner_link(parent: Path, name: str) -> str:
    """The relative target of a version's link to ``name``: the folder that holds it (the
    parent's, or where the parent's own link points), so that links never chain."""
    entry = parent / name
    if entry.is_symlink():
        return os.readlink(entry)
    return os.path.join("..", parent.name, name)


def write_dv_version(store: ArtifactStore, version: DVVersion, **options: Any) -> tuple[str, Path, dict[str, Any]]:
    """Register ``version`` (its parent must still be the head of its lineage); called by
    :func:`lester.ivm.versions.write_version`, whose keyword ``options`` it takes, and returns
    what that returns."""
    action, request, started = options["action"], options["request"], options["started"]
    extra_info, info_updates = options.get("extra_info"), options.get("info_updates")
    entry_id = options.get("entry_id")
    parent = version.parent
    run_id, created = new_run_id()
    rows_removed = int(sum(len(r) for r in version.removed.values()))
    store_root = Path(os.path.realpath(store.root))
    entry_id = entry_id or uuid.uuid4().hex

    def write(folder: Path) -> dict[str, str]:
        for name in SHARED_FOLDERS:
            os.symlink(_owner_link(parent.folder, name), folder / name, target_is_directory=True)
        for name in SHARED_FILES:
            if (parent.folder / name).exists():
                _link_or_copy(parent.folder / name, folder / name, store_root)
        digests = {"encoder.pkl": recorded_digest(parent.record, "encoder.pkl")}
        check_pickle(parent.folder / "encoder.pkl", digests["encoder.pkl"], run_pickle_key(parent.folder))
        if version.update.model is parent.model:
            _link_or_copy(parent.folder / "model.pkl", folder / "model.pkl", store_root)
            _link_or_copy(parent.folder / "predictions.npy", folder / "predictions.npy", store_root)
            digests["model.pkl"] = recorded_digest(parent.record, "model.pkl")
        else:
            digests["model.pkl"] = save_pickle(folder / "model.pkl", version.update.model)
            np.save(folder / "predictions.npy", version.predictions, allow_pickle=False)
        if version.update.state is not None:
            np.savez(folder / STATE_FILE, **version.update.state)
        save_json(folder / "run.json", {
            **inherited_info(parent.info), "run_id": run_id, "metrics": version.metrics,
            "train_metrics": TRAIN_METRICS_NOTE, "parent_run": parent.run_id,
            DELETED_KEY: {split: version.deleted[split].tolist() for split in SPLITS},
            "derived_by": {"action": action, "entry_id": entry_id, "strategy": version.update.strategy,
                           "detail": version.update.detail, "rows_removed": rows_removed, "rows_added": 0,
                           "deletion_vectors": True, **(extra_info or {})},
            **(info_updates or {}),
        })
        return {name: digest for name, digest in digests.items() if digest is not None}

    seconds = time.perf_counter() - started
    record = {**parent.record["run"], "run_id": run_id, "created": created, "parent_run": parent.run_id,
              "model": type(version.update.model).__name__, "train_rows": version.size("train"),
              "test_rows": version.size("test"), "seconds": seconds}
    tables = {name: parent.table(name) for name in ("sources", "column_provenance", "matrix_provenance", "row_chunks")}
    tables["metrics"] = [{"split": split, "name": name, "value": value}
                         for split, scores in version.metrics.items() for name, value in scores.items()]
    tables["deleted_rows"] = [{"split": split, "row": int(row)} for split in SPLITS for row in version.deleted[split]]
    entry = {"entry_id": entry_id, "created": created, "action": action, "request": request,
             "run_id": parent.run_id, "new_run_id": run_id, "rows_removed": rows_removed,
             "strategy": version.update.strategy, "seconds": seconds}
    folder = store.write_run(run_id, write, record, tables, precondition=still_head(store, parent.run_id))
    return run_id, folder, entry


def carries_vectors(stored: StoredRun) -> bool:
    """Whether ``stored`` has deletion vectors (rows its shared chunks still hold)."""
    return any(len(stored.deleted(split)) for split in SPLITS)


def affected_chunks(stored: StoredRun) -> int:
    """How many chunks hold rows that ``stored``'s deletion vectors hide."""
    count = 0
    for split in SPLITS:
        parts = stored.chunks(split)
        starts = np.cumsum([0] + [n for _, n in parts])
        count += len(np.unique(np.searchsorted(starts, stored.deleted(split), side="right") - 1))
    return count


def materialise(store: ArtifactStore, stored: StoredRun, *, entry_id: str | None = None) -> str:
    """Write a version of ``stored`` without its deletion vectors: the chunks that carry them
    rewritten (the others hard-linked), the model refreshed exactly on the remaining rows
    (:func:`lester.models.downdate.refresh`) and every metric recomputed. Returns the new run
    id; the caller holds the writer lock (``lester purge`` does)."""
    from lester.ivm.versions import build_version, write_version
    from lester.models.downdate import refresh

    started = time.perf_counter()
    version = build_version(stored, {split: SplitDelta() for split in SPLITS})
    if type(stored.model).__name__ in ("Ridge", "LinearRegression", "LogisticRegression"):
        X = version.matrix("train")
        try:
            refreshed = refresh(stored.model, stored.state(), X, version.y["train"])
        except UnlearningError:
            refreshed = None
        if refreshed is not None:
            version.update = refreshed
            guess, scores = predictions_and_scores(refreshed.model, version.matrix("test"))
            version.predictions = guess
            version.metrics = {
                "train": evaluate(refreshed.model, X, version.y["train"], refreshed.model.predict(X)),
                "test": evaluate(refreshed.model, None, version.y["test"], guess, scores=scores),
            }
    new_id, _, entry = write_version(store, version, action="rewrite", request={"deletion_vectors": stored.run_id},
                                     started=started, extra_info={"dataprep": "none"}, entry_id=entry_id)
    append_audit(store.root, [{**entry, "source": None, "id_kind": None, "subjects": 0}])
    return new_id
