"""Stored runs as inputs, and new run versions as outputs, of incremental maintenance.

A deletion or redaction becomes, per split, a set of stored rows to remove and a (small) set of
new prepared rows to append. :func:`build_version` turns that into the new version's data:
the stored Parquet rows, feature matrices and labels without the removed rows, the appended
rows encoded with the stored (fitted) encoder, the model updated by :mod:`lester.models.unlearning`,
fresh predictions and metrics, and the row provenance renumbered. :func:`write_version`
registers it as a new run whose ``parent_run`` is the old one, provided the old one is still
the head of its lineage (checked under the store's writer lock); the old folder is never
written to. The version's ``run.json`` records what was done (action, strategy, counts, the
audit entry's id), never which rows: the request, as keyed hashes, is in the catalog's audit
log only (:mod:`lester.pipeline.forget_set`). Files that do not change are hard-linked from the parent (a run folder is
immutable, so sharing them is safe), which keeps a version of a 100k-row run cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import scipy.sparse as sp

from lester.errors import LesterError
from lester.frame.frame import PROVENANCE_COLUMN_PREFIX
from lester.models.metrics import evaluate, predictions_and_scores
from lester.models.unlearning import (
    ModelUpdate,
    initial_state,
    single_blas_thread,
    stack_rows,
    update_model,
)
from lester.pipeline.catalog import (
    CHUNK_PROVENANCE,
    RECORD_FILE,
    chunk_provenance_path,
    recorded_digest,
    write_provenance_chunk,
)
from lester.pipeline.config import RunConfig
from lester.pipeline.definition import Pipeline, load_pipeline
from lester.pipeline.store import (
    ArtifactStore,
    check_pickle,
    chunk_sizes,
    load_matrix,
    load_row_ids,
    load_row_provenance,
    load_verified_pickle,
    matrix_part_path,
    new_run_id,
    part_name,
    run_pickle_key,
    save_json,
    save_matrix_part,
    save_pickle,
    save_row_ids,
    save_rows_part,
)

SPLITS = ("train", "test")
STATE_FILE = "ivm_state.npz"
DELETED_KEY = "deleted"  # run.json: {split: [stored positions]}, the version's deletion vectors


class VersionError(LesterError, RuntimeError):
    """A stored run cannot be read or a new version cannot be built from it."""


@dataclass
class StoredRun:
    """One registered run folder, read lazily."""

    run_id: str
    folder: Path
    # arrays read more than once per request (row ids: to find the rows, then to keep them)
    _arrays: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def _array(self, name: str, load: Any) -> Any:
        if name not in self._arrays:
            self._arrays[name] = load()
        return self._arrays[name]

    @cached_property
    def record(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / RECORD_FILE).read_text())
        except (OSError, ValueError) as error:
            raise VersionError(f"{self.folder / RECORD_FILE}: unreadable run record ({error})") from error

    @cached_property
    def info(self) -> dict[str, Any]:
        path = self.folder / "run.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError as error:
            raise VersionError(f"{path} is missing: the run folder {self.folder} is damaged, and "
                               "no version can be built from it; run the pipeline again (`lester run`) "
                               "to store a whole run") from error
        except (OSError, ValueError) as error:
            raise VersionError(f"{path}: unreadable ({error}); the run folder {self.folder} is "
                               "damaged; run the pipeline again (`lester run`)") from error

    @property
    def data_columns(self) -> list[str]:
        return list(self.info["data_columns"])

    @property
    def provenance_columns(self) -> list[str]:
        return list(self.info["provenance_columns"])

    def source_record(self, source: str) -> dict[str, Any] | None:
        """The run's ``sources`` row for ``source``, named by its name or its label."""
        return next((s for s in self.table("sources") if source in (s["name"], s["label"])), None)

    def _source_name(self, source: str) -> str:
        recorded = self.source_record(source)
        return recorded["name"] if recorded else source

    def linear_in(self, source: str) -> bool | None:
        """Whether the run's data preparation is linear in ``source`` (see
        :func:`lester.frame.dependence.linear_in`), as recorded when the run was captured;
        None for a run stored before such facts were recorded."""
        linear = self.info.get("linear_sources")
        return None if linear is None else self._source_name(source) in linear

    def reads_source_column(self, source: str, column: str) -> bool | None:
        """Whether the run's data preparation reads ``source.column``, as recorded at capture
        (None for a run stored before such facts were recorded)."""
        read = self.info.get("source_columns_read")
        return None if read is None else [self._source_name(source), column] in read

    @cached_property
    def config(self) -> RunConfig:
        return RunConfig.from_dict(self.record["run"].get("config") or {}, where=f"run {self.run_id}")

    def table(self, name: str) -> list[dict[str, Any]]:
        """One of the run's small catalog tables, as row dicts."""
        from lester.pipeline.catalog import TABLES

        columns = [c for c, _ in TABLES[name][1:]]
        return [dict(zip(columns, row, strict=True)) for row in self.record["tables"].get(name, [])]

    @cached_property
    def pipeline(self) -> Pipeline:
        path = self.record["run"].get("pipeline")
        if not path or not Path(path).exists():
            raise VersionError(f"run {self.run_id}: its pipeline file {path} is gone; it is needed to re-derive rows")
        return load_pipeline(path)

    def rows(self, split: str) -> pa.Table:
        return pq.read_table(self.folder / f"{split}.parquet")

    @property
    def chunked(self) -> bool:
        return "chunks" in self.info

    def chunks(self, split: str) -> list[tuple[str, int]]:
        """The split's row chunks, (part, rows) in order; a run stored before chunking is one
        chunk named ``""``."""
        if self.chunked:
            return [(part, int(n)) for part, n in self.info["chunks"][split]]
        return [("", len(self.labels(split)))]

    def row_part(self, split: str, part: str) -> pa.Table:
        return pq.read_table(self.folder / f"{split}.parquet" / f"{part}.parquet" if part else
                             self.folder / f"{split}.parquet")

    def rows_at(self, split: str, positions: np.ndarray) -> pa.Table:
        """The split's prepared rows at ``positions`` (increasing), read from the chunks that
        hold them only."""
        parts = self.chunks(split)
        starts = np.cumsum([0] + [n for _, n in parts])
        owner = np.searchsorted(starts, positions, side="right") - 1
        pieces = [self.row_part(split, parts[i][0]).take(pa.array(positions[owner == i] - starts[i]))
                  for i in np.unique(owner)]
        return pa.concat_tables(pieces) if pieces else self.row_part(split, parts[0][0]).slice(0, 0)

    def provenance_part(self, split: str, part: str) -> pa.Table:
        """A chunk's row provenance (``row`` within the chunk, ``source``, ``source_id``)."""
        if part:
            return pq.read_table(chunk_provenance_path(self.folder, split, part))
        table = load_row_provenance(self.folder)
        return table.filter(pc.equal(table.column("split"), split)).select(list(CHUNK_PROVENANCE))

    def part_files(self, split: str, part: str) -> list[Path]:
        """The files of one chunk (rows, features, provenance), which a version that leaves
        the chunk unchanged hard-links."""
        return [self.folder / f"{split}.parquet" / f"{part}.parquet",
                matrix_part_path(self.folder, f"X_{split}", part),
                chunk_provenance_path(self.folder, split, part)]

    def matrix(self, split: str) -> Any:
        return load_matrix(self.folder, f"X_{split}")

    def row_ids(self, split: str) -> np.ndarray | None:
        return self._array(f"row_ids_{split}", lambda: load_row_ids(self.folder, split))

    def labels(self, split: str) -> np.ndarray:
        return self._array(f"y_{split}", lambda: np.load(self.folder / f"y_{split}.npy", allow_pickle=False))

    @cached_property
    def model(self) -> Any:
        return self._pickle("model.pkl")

    @cached_property
    def encoder(self) -> Any:
        return self._pickle("encoder.pkl")

    def _pickle(self, name: str) -> Any:
        # checked against the digest in the run's record: a replaced file is refused unread
        return load_verified_pickle(self.folder / name, recorded_digest(self.record, name),
                                    run_pickle_key(self.folder))

    @cached_property
    def row_provenance(self) -> pa.Table:
        """``split``, ``row`` (position in the split), ``source``, ``source_id``."""
        return load_row_provenance(self.folder)

    def deleted(self, split: str) -> np.ndarray:
        """The version's deletion vector for ``split``: stored row positions (in the split's
        chunks, increasing) that the version no longer has; their chunks still hold them until
        ``lester purge`` rewrites the chunks. Empty for a run without deletion vectors."""
        return np.asarray(self.info.get(DELETED_KEY, {}).get(split, []), dtype=np.int64)

    def stored_rows(self, split: str) -> int:
        """Rows the split's chunks hold, deleted ones included."""
        return int(sum(n for _, n in self.chunks(split)))

    def live(self, split: str) -> np.ndarray:
        """The stored positions of the rows the version has (all but its deletion vector)."""
        return np.setdiff1d(np.arange(self.stored_rows(split)), self.deleted(split), assume_unique=True)

    def state(self) -> dict[str, np.ndarray] | None:
        path = self.folder / STATE_FILE
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}


@dataclass
class SplitDelta:
    """Rows of one split to remove (positions) and new prepared rows to append."""

    removed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    added: pd.DataFrame | None = None

    @property
    def n_added(self) -> int:
        return 0 if self.added is None else len(self.added)

    @property
    def empty(self) -> bool:
        return len(self.removed) == 0 and self.n_added == 0


@dataclass
class Chunk:
    """One row chunk of a new version: shared with the parent (``link``: the parent's part)
    or written anew (``rows``, ``X``, ``provenance``)."""

    part: str
    size: int
    link: str | None = None
    rows: pa.Table | None = None
    X: Any = None
    provenance: pa.Table | None = None


@dataclass
class NewVersion:
    """Everything of a new run version that differs from its parent."""

    parent: StoredRun
    deltas: dict[str, SplitDelta]
    chunks: dict[str, list[Chunk]]
    y: dict[str, np.ndarray]
    row_ids: dict[str, np.ndarray | None]
    predictions: np.ndarray
    update: ModelUpdate
    metrics: dict[str, dict[str, float]]
    seconds: dict[str, float]

    def size(self, split: str) -> int:
        return len(self.y[split])

    def table(self, split: str) -> pa.Table:
        """The split's prepared rows (read back from the parent where shared)."""
        parts = [c.rows if c.link is None else self.parent.row_part(split, c.link) for c in self.chunks[split]]
        return pa.concat_tables(parts) if len(parts) > 1 else parts[0]

    def matrix(self, split: str) -> Any:
        parts = [c.X if c.link is None else load_matrix_part_of(self.parent, split, c.link)
                 for c in self.chunks[split]]
        if any(sp.issparse(p) for p in parts):
            return sp.vstack([sp.csr_matrix(p) for p in parts], format="csr")
        return np.concatenate([np.asarray(p) for p in parts])


def load_matrix_part_of(run: StoredRun, split: str, part: str) -> Any:
    from lester.pipeline.store import load_matrix_part

    return load_matrix_part(matrix_part_path(run.folder, f"X_{split}", part))


def _key_text(value: Any) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):  # aggregated provenance: a list of ids
        return "[" + ",".join(sorted(str(v) for v in value)) + "]"
    return str(value)


def row_keys(rows: pd.DataFrame | pa.Table, columns: list[str]) -> list[str]:
    """One text key per row from ``columns``, equal for equal rows whether they were read from
    Parquet or computed by the engine (lists of ids compare as sorted lists)."""
    frame = rows.select(list(columns)).to_pandas() if isinstance(rows, pa.Table) else rows[list(columns)]
    if not len(frame):
        return []
    # only an object column can hold lists; any other one is texts of its scalars
    parts = [[_key_text(v) for v in frame[c].tolist()] if frame[c].dtype == object else
             list(map(str, frame[c].tolist())) for c in columns]
    return ["\x1f".join(values) for values in zip(*parts, strict=True)]


def _keep_mask(n: int, removed: np.ndarray) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    return keep


def _take_rows(X: Any, keep: np.ndarray) -> Any:
    return X[keep] if not sp.issparse(X) else X.tocsr()[keep]


def _arrow_rows(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    table = pa.Table.from_pandas(frame[schema.names], preserve_index=False)
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        raise VersionError(f"re-derived rows do not fit the stored columns: {error}") from error


def _provenance_of(rows: pd.DataFrame, split: str, offset: int, run_id: str, prov_columns: list[str]) -> pa.Table:
    """Long-format row provenance (the catalog's layout) of a few appended rows."""
    positions, sources, ids = [], [], []
    for column in prov_columns:
        label = column[len(PROVENANCE_COLUMN_PREFIX):]
        for i, value in enumerate(rows[column].tolist()):
            values = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
            for item in values:
                if item is None or (isinstance(item, float) and np.isnan(item)) or item is pd.NA:
                    continue
                positions.append(offset + i)
                sources.append(label)
                ids.append(str(item))
    n = len(positions)
    return pa.table({
        "run_id": pa.array([run_id] * n, pa.string()), "split": pa.array([split] * n, pa.string()),
        "row": pa.array(positions, pa.int64()), "source": pa.array(sources, pa.string()),
        "source_id": pa.array(ids, pa.string()),
    })


def _chunk_without(parent: StoredRun, split: str, part: str, size: int, removed: np.ndarray,
                   matrix: Any) -> tuple[pa.Table, Any, pa.Table]:
    """A stored chunk's rows, features and provenance without the rows ``removed`` (positions
    within the chunk), provenance renumbered to close the gaps."""
    keep = _keep_mask(size, removed)
    rows = parent.row_part(split, part).filter(pa.array(keep))
    X = _take_rows(matrix, keep)
    provenance = parent.provenance_part(split, part)
    if len(removed):
        at = provenance.column("row").to_numpy()
        kept = keep[at]
        provenance = provenance.filter(pa.array(kept))
        at = at[kept]
        provenance = provenance.set_column(provenance.schema.get_field_index("row"), "row",
                                           pa.array(at - np.searchsorted(removed, at), pa.int64()))
    return rows, X, provenance


def _in_parallel(work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[work(item) for item in items]``, on a few threads when there are several: reading,
    filtering and writing Parquet release the GIL, and a batch deletion touches many chunks."""
    if len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), os.cpu_count() or 1, 4)) as pool:
        return list(pool.map(work, items))


def _added_ids(rows: pd.DataFrame, prov_columns: list[str], like: np.ndarray) -> np.ndarray | None:
    """The ``row_ids`` of appended rows, shaped like the stored ones; None when a row has no
    id for some label (NaN cast to an integer would be a wrong id, not a missing one)."""
    if any(rows[c].isna().any() or rows[c].dtype == object and rows[c].map(
            lambda v: isinstance(v, (list, tuple, np.ndarray))).any() for c in prov_columns):
        return None
    ids = np.column_stack([rows[c].to_numpy() for c in prov_columns])
    return ids.astype(like.dtype) if like.dtype.kind in "iu" else ids.astype(str)


def build_version(
    parent: StoredRun,
    deltas: Mapping[str, SplitDelta],
    *,
    definition: Pipeline | None = None,
) -> NewVersion:
    """Apply per-split deltas to a stored run and update its model; nothing is written yet.

    Only the row chunks holding removed rows are read and rebuilt; the others are shared with
    the parent. Appended rows form a new chunk at the end of their split."""
    with single_blas_thread():
        return _build_version(parent, deltas, definition)


def _build_version(parent: StoredRun, deltas: Mapping[str, SplitDelta], definition: Pipeline | None) -> NewVersion:
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    deltas = {split: deltas.get(split) or SplitDelta() for split in SPLITS}
    for delta in deltas.values():
        delta.removed = np.unique(np.asarray(delta.removed, dtype=np.int64))
    # Rows the parent's deletion vectors hide go physically now: the version written here has
    # none. The model already reflects them, so its update sees the parent's live rows only.
    hidden = {split: parent.deleted(split) for split in SPLITS}
    requested = {split: deltas[split].removed for split in SPLITS}
    for split in SPLITS:
        if len(hidden[split]):
            deltas[split] = SplitDelta(np.union1d(requested[split], hidden[split]), deltas[split].added)
    chunks, y, old_X, old_y, encoded, keeps, row_ids = {}, {}, {}, {}, {}, {}, {}
    for split in SPLITS:
        delta = deltas[split]
        labels = parent.labels(split)
        matrix = parent.matrix(split)
        old_X[split], old_y[split] = matrix, labels
        keep = keeps[split] = _keep_mask(len(labels), delta.removed)
        parts = parent.chunks(split)
        starts = np.cumsum([0] + [n for _, n in parts])
        owner = np.searchsorted(starts, delta.removed, side="right") - 1
        removed_in = {int(i): delta.removed[owner == i] - starts[i] for i in np.unique(owner)}
        touched = [i for i in removed_in if parts[i][0]]
        jobs = [(split, *parts[i], removed_in[i], matrix[starts[i]:starts[i + 1]]) for i in touched]
        rebuilt = dict(zip(touched, _in_parallel(lambda job: _chunk_without(parent, *job), jobs), strict=True))
        new: list[Chunk] = []
        for i, (part, size) in enumerate(parts):
            if part and i not in removed_in:
                new.append(Chunk(part, size, link=part))
                continue
            rows, X, provenance = rebuilt[i] if part else _chunk_without(
                parent, split, part, size, removed_in.get(i, delta.removed[:0]), matrix[starts[i]:starts[i + 1]])
            if part:
                if rows.num_rows:  # a chunk left empty is dropped
                    new.append(Chunk(part, rows.num_rows, rows=rows, X=X, provenance=provenance))
                continue
            # a run stored before chunking: its one file becomes chunks
            first = 0
            at = provenance.column("row").to_numpy()
            for j, n in enumerate(chunk_sizes(rows.num_rows)):
                inside = pa.array((at >= first) & (at < first + n))
                piece = provenance.filter(inside)
                piece = piece.set_column(piece.schema.get_field_index("row"), "row",
                                         pc.subtract(piece.column("row"), pa.scalar(first, pa.int64())))
                new.append(Chunk(part_name(j), n, rows=rows.slice(first, n), X=X[first:first + n], provenance=piece))
                first += n
        ids = parent.row_ids(split)
        row_ids[split] = ids[keep] if ids is not None else None
        kept_y = labels[keep] if len(delta.removed) else labels
        if delta.n_added:
            definition = definition or parent.pipeline
            data = delta.added[parent.data_columns]
            X_add = parent.encoder.transform(data)
            y_add = np.asarray(definition.extract_label(data))
            if len(y_add) != len(data):
                raise VersionError(f"extract_label() returned {len(y_add)} labels for {len(data)} rows")
            encoded[split] = (X_add, y_add.astype(labels.dtype, copy=False))
            schema = parent.row_part(split, parts[0][0]).schema
            names = [int(c.part.rsplit("-", 1)[1]) for c in new if c.part]
            part = part_name(max(names, default=-1) + 1)
            new.append(Chunk(part, len(data), rows=_arrow_rows(delta.added, schema),
                             X=X_add, provenance=_provenance_of(delta.added, split, 0, parent.run_id,
                                                                 parent.provenance_columns)))
            y[split] = np.concatenate([kept_y, encoded[split][1]])
            if row_ids[split] is not None:
                more = _added_ids(delta.added, parent.provenance_columns, row_ids[split])
                # re-derived rows with a gap (a left join's unmatched row): no ids array, as
                # the runner stores none for such rows; readers use the row provenance
                row_ids[split] = None if more is None else np.concatenate([row_ids[split], more])
        else:
            y[split] = kept_y
        if not new:  # every row of the split went: keep one empty chunk
            schema = parent.row_part(split, parts[0][0]).schema
            new.append(Chunk(part_name(0), 0, rows=schema.empty_table(), X=matrix[:0],
                             provenance=pa.table({"row": pa.array([], pa.int64()), "source": pa.array([], pa.string()),
                                                  "source_id": pa.array([], pa.string())})))
        chunks[split] = new
    seconds["apply"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    train_added = encoded.get("train", (None, None))
    if not len(requested["train"]) and "train" not in encoded:
        update = ModelUpdate(parent.model, "unchanged", True, parent.state(), 0.0,
                             "no training row changed; the model is kept")
    else:
        X_live, y_live, removed = old_X["train"], old_y["train"], requested["train"]
        if len(hidden["train"]):
            live = np.setdiff1d(np.arange(len(y_live)), hidden["train"], assume_unique=True)
            X_live, y_live = _take_rows(X_live, _keep_mask(len(y_live), hidden["train"])), y_live[live]
            removed = np.searchsorted(live, removed)
        update = update_model(parent.model, X_live, y_live, removed,
                              X_add=train_added[0], y_add=train_added[1], state=parent.state())
        if update.strategy == "newton_step" and update.state is not None:
            # statistics exact at the new parameters, with the certificate's terms, so that the
            # next request is a deletion-vector step again
            kept = _take_rows(X_live, _keep_mask(len(y_live), removed))
            if train_added[0] is not None:
                kept = stack_rows(kept, train_added[0])
            update.state = initial_state(update.model, kept, y["train"])
    seconds["update_model"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # Predictions are row-wise: those of the kept rows come from the stored matrix without
    # copying it, those of appended rows from their new features.
    model = update.model
    metrics, predictions = {}, None
    for split in SPLITS:
        if not len(y[split]):
            metrics[split] = {}
            predictions = predictions if split == "train" else y[split][:0]
            continue
        guess, scores = predictions_and_scores(model, old_X[split])
        keep = keeps[split]
        guess = guess[keep]
        scores = scores[keep] if scores is not None else None
        if split in encoded:
            more, more_scores = predictions_and_scores(model, encoded[split][0])
            guess = np.concatenate([guess, more])
            scores = np.concatenate([scores, more_scores]) if scores is not None else None
        metrics[split] = evaluate(model, None, y[split], guess, scores=scores)
        if split == "test":
            predictions = guess
    seconds["evaluate"] = time.perf_counter() - t0
    return NewVersion(parent, deltas, chunks, y, row_ids, np.asarray(predictions), update, metrics, seconds)


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(root)
        return True
    except ValueError:
        return False


def _store_of(path: Path) -> Path | None:
    """The real path of the store whose ``runs/<folder>`` holds ``path``, if any."""
    for folder in Path(os.path.realpath(path)).parents:
        if folder.parent.name == "runs":
            return folder.parent.parent
    return None


def _link_or_copy(source: Path, target: Path, store_root: Path | None = None) -> None:
    """Hard-link ``source`` to ``target`` when both lie in ``store_root`` (the real path of
    the store being written), else copy: a link into another store (the one a store was
    copied from, say) would tie the two, and a later change there would reach this one.
    Without ``store_root``, the store is the one whose run (or staging) folder holds
    ``target``."""
    if store_root is None:
        store_root = _store_of(target)
    if store_root is not None and not _inside(source, store_root):
        shutil.copy2(source, target)
        return
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, target)


def write_version(
    store: ArtifactStore,
    version: NewVersion,
    *,
    action: str,
    request: dict[str, Any],
    started: float,
    extra_info: dict[str, Any] | None = None,
    info_updates: dict[str, Any] | None = None,
    entry_id: str | None = None,
) -> tuple[str, Path, dict[str, Any]]:
    """Register ``version`` as a new run (parent: the old one, which must still be the head of
    its lineage); returns the new run id, its folder and its audit entry (``request`` is the
    private form the caller gave), which the caller appends to the audit log. The one writer
    of versions: a deletion-vector version (:class:`lester.ivm.deletion_vectors.DVVersion`)
    is written in its own layout, chunks shared with the parent."""
    options = {"action": action, "request": request, "started": started, "extra_info": extra_info,
               "info_updates": info_updates, "entry_id": entry_id}
    if not isinstance(version, NewVersion):
        from lester.ivm.deletion_vectors import write_dv_version

        return write_dv_version(store, version, **options)
    parent = version.parent
    run_id, created = new_run_id()
    rows_removed = int(sum(len(d.removed) for d in version.deltas.values()))
    rows_added = int(sum(d.n_added for d in version.deltas.values()))
    manifest = {split: [[c.part, c.size] for c in version.chunks[split]] for split in SPLITS}
    store_root = Path(os.path.realpath(store.root))
    entry_id = entry_id or uuid.uuid4().hex

    def link(source: Path, target: Path) -> None:
        _link_or_copy(source, target, store_root)

    def write(folder: Path) -> dict[str, str]:
        (folder / "row_provenance").mkdir()
        for split in SPLITS:
            (folder / f"{split}.parquet").mkdir()
            (folder / f"X_{split}").mkdir()
            for chunk in version.chunks[split]:
                if chunk.link is not None:  # unchanged: share the parent's immutable files
                    for source in parent.part_files(split, chunk.link):
                        link(source, folder / source.relative_to(parent.folder))

            def save(chunk: Chunk, split: str = split) -> None:
                save_rows_part(folder, split, chunk.part, chunk.rows)
                save_matrix_part(folder / f"X_{split}" / chunk.part, chunk.X)
                write_provenance_chunk(folder, split, chunk.part, chunk.provenance)

            _in_parallel(save, [c for c in version.chunks[split] if c.link is None])
            if version.deltas[split].empty:
                link(parent.folder / f"y_{split}.npy", folder / f"y_{split}.npy")
            else:
                np.save(folder / f"y_{split}.npy", version.y[split], allow_pickle=False)
            if version.row_ids[split] is not None:
                save_row_ids(folder, split, version.row_ids[split])
        np.save(folder / "predictions.npy", version.predictions, allow_pickle=False)
        for name in ("encoder.pkl", "config.toml"):
            link(parent.folder / name, folder / name)
        # A linked pickle keeps the digest its parent recorded, not one computed now: signing
        # the file as it is would vouch for whatever someone put into the parent's folder. The
        # encoder is checked even when it was never loaded, so that no version passes on a
        # replaced file (the model has been loaded, and so checked, by now).
        digests = {"encoder.pkl": recorded_digest(parent.record, "encoder.pkl")}
        check_pickle(parent.folder / "encoder.pkl", digests["encoder.pkl"], run_pickle_key(parent.folder))
        if version.update.model is parent.model:
            link(parent.folder / "model.pkl", folder / "model.pkl")
            digests["model.pkl"] = recorded_digest(parent.record, "model.pkl")
        else:
            digests["model.pkl"] = save_pickle(folder / "model.pkl", version.update.model)
        if version.update.state is not None:
            np.savez(folder / STATE_FILE, **version.update.state)
        save_json(folder / "run.json", {
            **inherited_info(parent.info), "run_id": run_id, "metrics": version.metrics,
            "parent_run": parent.run_id, "chunks": manifest,
            "derived_by": {"action": action, "entry_id": entry_id, "strategy": version.update.strategy,
                           "detail": version.update.detail, "rows_removed": rows_removed,
                           "rows_added": rows_added, **(extra_info or {})},
            **(info_updates or {}),
        })
        return {name: digest for name, digest in digests.items() if digest is not None}

    run = parent.record["run"]
    seconds = time.perf_counter() - started
    record = {
        **run, "run_id": run_id, "created": created, "parent_run": parent.run_id,
        "model": type(version.update.model).__name__,
        "train_rows": version.size("train"), "test_rows": version.size("test"),
        "seconds": seconds,
    }
    tables = {name: parent.table(name) for name in ("sources", "column_provenance", "matrix_provenance")}
    tables["metrics"] = [{"split": split, "name": name, "value": value}
                         for split, scores in version.metrics.items() for name, value in scores.items()]
    tables["row_chunks"] = []
    for split in SPLITS:
        first = 0
        for part, size in manifest[split]:
            tables["row_chunks"].append({"split": split, "part": part, "first_row": first, "rows": size})
            first += size
    entry = {
        "entry_id": entry_id, "created": created, "action": action, "request": request,
        "run_id": parent.run_id, "new_run_id": run_id, "rows_removed": rows_removed,
        "strategy": version.update.strategy, "seconds": seconds,
    }
    folder = store.write_run(run_id, write, record, tables, precondition=still_head(store, parent.run_id))
    return run_id, folder, entry


# run.json keys a version does not inherit: the lineage's changes (with ids in clear) were
# recorded there before the forget set existed, and must not be copied forward; deletion
# vectors and the note on train metrics describe one version's files only
_NOT_INHERITED = ("ivm_changes", "derived_by", DELETED_KEY, "train_metrics")


def inherited_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """What a new version's ``run.json`` takes from its parent's."""
    return {k: v for k, v in info.items() if k not in _NOT_INHERITED}


def still_head(store: ArtifactStore, parent: str) -> Callable[[], None]:
    """A registration precondition: ``parent`` has no newer version yet (two requests that
    read the same head would otherwise both write a version of it, each still holding what the
    other removed)."""
    def check() -> None:
        children = store.catalog.query("SELECT run_id FROM runs WHERE parent_run = ?", [parent],
                                       views=False)["run_id"].tolist()
        if children:
            raise VersionError(
                f"run {parent} got a newer version ({children[0]}) while this request was applied; nothing "
                "was registered: run the request again (it applies to the newest version)")
    return check
