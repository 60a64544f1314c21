"""Stored runs as inputs, and new run versions as outputs, of incremental maintenance.

A deletion or redaction becomes, per split, a set of stored rows to remove and a (small) set of
new prepared rows to append. :func:`build_version` turns that into the new version's data:
the stored Parquet rows, feature matrices and labels without the removed rows, the appended
rows encoded with the stored (fitted) encoder, the model updated by :mod:`lester.ivm.unlearning`,
fresh predictions and metrics, and the row provenance renumbered. :func:`write_version`
registers it as a new run whose ``parent_run`` is the old one; the old folder is never
written to. Files that do not change are hard-linked from the parent (a run folder is
immutable, so sharing them is safe), which keeps a version of a 100k-row run cheap.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
from lester.ivm.metrics import evaluate
from lester.ivm.unlearning import ModelUpdate, update_model
from lester.pipeline.catalog import RECORD_FILE
from lester.pipeline.config import RunConfig
from lester.pipeline.definition import Pipeline, load_pipeline
from lester.pipeline.store import ArtifactStore, load_matrix, save_json, save_matrix, save_pickle

SPLITS = ("train", "test")
STATE_FILE = "ivm_state.npz"


class VersionError(LesterError, RuntimeError):
    """A stored run cannot be read or a new version cannot be built from it."""


@dataclass
class StoredRun:
    """One registered run folder, read lazily."""

    run_id: str
    folder: Path

    @cached_property
    def record(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / RECORD_FILE).read_text())
        except (OSError, ValueError) as error:
            raise VersionError(f"{self.folder / RECORD_FILE}: unreadable run record ({error})") from error

    @cached_property
    def info(self) -> dict[str, Any]:
        return json.loads((self.folder / "run.json").read_text())

    @property
    def data_columns(self) -> list[str]:
        return list(self.info["data_columns"])

    @property
    def provenance_columns(self) -> list[str]:
        return list(self.info["provenance_columns"])

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

    def matrix(self, split: str) -> Any:
        return load_matrix(self.folder, f"X_{split}")

    def labels(self, split: str) -> np.ndarray:
        return np.load(self.folder / f"y_{split}.npy", allow_pickle=False)

    @cached_property
    def model(self) -> Any:
        with open(self.folder / "model.pkl", "rb") as handle:
            return pickle.load(handle)

    @cached_property
    def encoder(self) -> Any:
        with open(self.folder / "encoder.pkl", "rb") as handle:
            return pickle.load(handle)

    @cached_property
    def row_provenance(self) -> pa.Table:
        return pq.read_table(self.folder / "row_provenance.parquet",
                             read_dictionary=["run_id", "split", "source"])

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
class NewVersion:
    """Everything of a new run version that differs from its parent."""

    parent: StoredRun
    deltas: dict[str, SplitDelta]
    rows: dict[str, pa.Table]
    X: dict[str, Any]
    y: dict[str, np.ndarray]
    predictions: np.ndarray
    update: ModelUpdate
    metrics: dict[str, dict[str, float]]
    row_provenance: pa.Table
    seconds: dict[str, float]


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
    parts = [[_key_text(v) for v in frame[c].tolist()] for c in columns]
    return ["\x1f".join(values) for values in zip(*parts, strict=True)]


def _keep_mask(n: int, removed: np.ndarray) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    return keep


def _take_rows(X: Any, keep: np.ndarray) -> Any:
    return X[keep] if not sp.issparse(X) else X.tocsr()[keep]


def _append_rows(X: Any, extra: Any) -> Any:
    if extra is None or extra.shape[0] == 0:
        return X
    if sp.issparse(X) or sp.issparse(extra):
        return sp.vstack([sp.csr_matrix(X), sp.csr_matrix(extra)], format="csr")
    return np.concatenate([X, np.asarray(extra, dtype=X.dtype)])


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


def _renumbered(provenance: pa.Table, deltas: Mapping[str, SplitDelta], sizes: Mapping[str, int]) -> pa.Table:
    """The stored row provenance without removed rows, row numbers shifted to close the gaps."""
    parts = []
    split_column = provenance.column("split")
    for split in SPLITS:
        part = provenance.filter(pc.equal(split_column, pa.scalar(split, split_column.type.value_type)
                                          if pa.types.is_dictionary(split_column.type) else split))
        removed = deltas[split].removed
        if len(removed):
            rows = part.column("row").to_numpy()
            keep = _keep_mask(sizes[split], removed)[rows]
            part = part.filter(pa.array(keep))
            rows = rows[keep]
            part = part.set_column(part.schema.get_field_index("row"), "row",
                                   pa.array(rows - np.searchsorted(removed, rows), pa.int64()))
        parts.append(part)
    table = pa.concat_tables(parts, promote_options="permissive")
    return table.select(["run_id", "split", "row", "source", "source_id"])


def _constant(value: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value]))


def _plain_strings(table: pa.Table) -> pa.Table:
    columns = [c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.table(columns, names=table.column_names)


# Uncompressed and without dictionaries: a version is written often and read rarely, and
# encoding dominates writing 100k rows.
_FAST_PARQUET = {"compression": "none", "use_dictionary": False, "write_statistics": False}


def build_version(
    parent: StoredRun,
    deltas: Mapping[str, SplitDelta],
    *,
    definition: Pipeline | None = None,
) -> NewVersion:
    """Apply per-split deltas to a stored run and update its model; nothing is written yet."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    deltas = {split: deltas.get(split) or SplitDelta() for split in SPLITS}
    for delta in deltas.values():
        delta.removed = np.unique(np.asarray(delta.removed, dtype=np.int64))
    rows, X, y, old_X, old_y, encoded = {}, {}, {}, {}, {}, {}
    for split in SPLITS:
        delta = deltas[split]
        table = parent.rows(split)
        matrix = parent.matrix(split)
        labels = parent.labels(split)
        old_X[split], old_y[split] = matrix, labels
        keep = _keep_mask(table.num_rows, delta.removed)
        kept_rows = table.filter(pa.array(keep)) if len(delta.removed) else table
        if delta.n_added:
            definition = definition or parent.pipeline
            data = delta.added[parent.data_columns]
            X_add = parent.encoder.transform(data)
            y_add = np.asarray(definition.extract_label(data))
            if len(y_add) != len(data):
                raise VersionError(f"extract_label() returned {len(y_add)} labels for {len(data)} rows")
            encoded[split] = (X_add, y_add.astype(labels.dtype, copy=False))
            rows[split] = pa.concat_tables([kept_rows, _arrow_rows(delta.added, table.schema)])
        else:
            rows[split] = kept_rows
        kept_X = _take_rows(matrix, keep) if len(delta.removed) else matrix
        X[split] = _append_rows(kept_X, encoded.get(split, (None,))[0])
        kept_y = labels[keep] if len(delta.removed) else labels
        y[split] = np.concatenate([kept_y, encoded[split][1]]) if split in encoded else kept_y
    seconds["apply"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    train_added = encoded.get("train", (None, None))
    if deltas["train"].empty:
        update = ModelUpdate(parent.model, "unchanged", True, parent.state(), 0.0,
                             "no training row changed; the model is kept")
    else:
        update = update_model(parent.model, old_X["train"], old_y["train"], deltas["train"].removed,
                              X_add=train_added[0], y_add=train_added[1], state=parent.state())
    seconds["update_model"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = update.model
    predictions = model.predict(X["test"]) if X["test"].shape[0] else parent.labels("test")[:0]
    metrics = {
        "train": evaluate(model, X["train"], y["train"], model.predict(X["train"])),
        "test": evaluate(model, X["test"], y["test"], predictions),
    }
    seconds["evaluate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sizes = {split: parent_rows for split, parent_rows in
             (("train", old_X["train"].shape[0]), ("test", old_X["test"].shape[0]))}
    provenance = _renumbered(parent.row_provenance, deltas, sizes)
    extra = [
        _provenance_of(deltas[split].added, split, rows[split].num_rows - deltas[split].n_added,
                       parent.run_id, parent.provenance_columns)
        for split in SPLITS if deltas[split].n_added
    ]
    if extra:
        provenance = pa.concat_tables([_plain_strings(provenance), *extra], promote_options="permissive")
    seconds["provenance"] = time.perf_counter() - t0
    return NewVersion(parent, deltas, rows, X, y, np.asarray(predictions), update, metrics, provenance, seconds)


def _link_or_copy(source: Path, target: Path) -> None:
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
) -> tuple[str, Path, dict[str, Any]]:
    """Register ``version`` as a new run (parent: the old one) with its audit entry, in one
    atomic step; returns the new run id, its folder and the audit entry."""
    parent = version.parent
    created = datetime.now(timezone.utc).replace(tzinfo=None)
    run_id = f"{created:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    provenance = version.row_provenance.set_column(0, "run_id", _constant(run_id, version.row_provenance.num_rows))
    rows_removed = int(sum(len(d.removed) for d in version.deltas.values()))
    rows_added = int(sum(d.n_added for d in version.deltas.values()))

    def write(folder: Path) -> None:
        for split in SPLITS:
            if version.deltas[split].empty:  # unchanged: share the parent's immutable files
                for name in (f"{split}.parquet", f"y_{split}.npy",
                             f"X_{split}.npz" if (parent.folder / f"X_{split}.npz").exists() else f"X_{split}.npy"):
                    _link_or_copy(parent.folder / name, folder / name)
            else:
                pq.write_table(version.rows[split], folder / f"{split}.parquet", **_FAST_PARQUET)
                save_matrix(folder, f"X_{split}", version.X[split])
                np.save(folder / f"y_{split}.npy", version.y[split], allow_pickle=False)
        np.save(folder / "predictions.npy", version.predictions, allow_pickle=False)
        # written here rather than by the store, with the fast settings (the catalog's column order)
        pq.write_table(provenance, folder / "row_provenance.parquet", compression="none", write_statistics=False)
        for name in ("encoder.pkl", "config.toml"):
            _link_or_copy(parent.folder / name, folder / name)
        if version.update.model is parent.model:
            _link_or_copy(parent.folder / "model.pkl", folder / "model.pkl")
        else:
            save_pickle(folder / "model.pkl", version.update.model)
        if version.update.state is not None:
            np.savez(folder / STATE_FILE, **version.update.state)
        save_json(folder / "run.json", {
            **parent.info, "run_id": run_id, "metrics": version.metrics, "parent_run": parent.run_id,
            "derived_by": {"action": action, "request": request, "strategy": version.update.strategy,
                           "detail": version.update.detail, "rows_removed": rows_removed,
                           "rows_added": rows_added, **(extra_info or {})},
            **(info_updates or {}),
        })

    run = parent.record["run"]
    seconds = time.perf_counter() - started
    record = {
        **run, "run_id": run_id, "created": created, "parent_run": parent.run_id,
        "model": type(version.update.model).__name__,
        "train_rows": version.rows["train"].num_rows, "test_rows": version.rows["test"].num_rows,
        "seconds": seconds,
    }
    tables = {name: parent.table(name) for name in ("sources", "column_provenance", "matrix_provenance")}
    tables["metrics"] = [{"split": split, "name": name, "value": value}
                         for split, scores in version.metrics.items() for name, value in scores.items()]
    entry = {
        "entry_id": uuid.uuid4().hex, "created": created, "action": action, "request": request,
        "run_id": parent.run_id, "new_run_id": run_id, "rows_removed": rows_removed,
        "strategy": version.update.strategy, "seconds": seconds,
    }
    folder = store.write_run(run_id, write, record, tables, audit=[entry])
    return run_id, folder, entry
