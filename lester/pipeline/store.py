"""The artifact store: one immutable folder per run under ``.lester/runs/``, plus the catalog.

A run folder holds ``train.parquet`` and ``test.parquet`` (prepared rows with their
provenance columns ``prov:<source>``), ``X_train.npy``/``X_test.npy`` (``.npz`` when sparse),
``y_train.npy``, ``y_test.npy``, ``predictions.npy``, ``encoder.pkl``, ``model.pkl``,
``config.toml``, ``run.json``, ``row_provenance.parquet`` and ``catalog.json`` (the run's
catalog record: see :mod:`lester.pipeline.catalog`).

A run is written into a hidden staging folder and moved into place with one rename, which is
what registers it: an interrupted run leaves nothing registered, and nothing that was there
before is touched.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from lester.pipeline.catalog import Catalog, write_record, write_row_provenance


class ArtifactStore:
    """A folder (default ``.lester``) of run folders, a stage cache and ``catalog.duckdb``."""

    def __init__(self, root: str | os.PathLike = ".lester"):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.cache_dir = self.root / "cache"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.root / "catalog.duckdb", self.runs_dir)

    def run_folder(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def write_run(
        self,
        run_id: str,
        write_files: Callable[[Path], None],
        record: dict[str, Any],
        tables: dict[str, Any],
        audit: Sequence[dict[str, Any]] = (),
    ) -> Path:
        """Write a run's files with ``write_files(folder)``, its catalog ``tables``
        (``row_provenance`` and the small per-run tables) and ``audit`` entries, then register
        it by renaming its folder into place: it appears whole or not at all."""
        staging = self.runs_dir / f".incomplete-{run_id}"
        final = self.run_folder(run_id)
        if final.exists():
            raise FileExistsError(f"{final}: a run with this id exists already")
        staging.mkdir(parents=True)
        try:
            write_files(staging)
            small = {name: table for name, table in tables.items() if name != "row_provenance"}
            if "row_provenance" in tables:
                write_row_provenance(staging, tables["row_provenance"])
            write_record(staging, record, small, audit)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    # -- stage cache ----------------------------------------------------------------------
    def cache_get(self, key: str) -> Any | None:
        path = self.cache_dir / f"{key}.pkl"
        if not path.exists():
            return None
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except Exception:  # noqa: BLE001 - a stale or torn cache entry is recomputed
            return None

    def cache_put(self, key: str, value: Any) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / f"{key}.pkl"
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)


def save_frame(path: Path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet; converted on one thread, as the thread pool pandas
    would start costs more than it saves on the frames of one run."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False, nthreads=1), path)


def save_matrix(folder: Path, name: str, matrix: Any) -> None:
    if sp.issparse(matrix):
        sp.save_npz(folder / f"{name}.npz", sp.csr_matrix(matrix))
    else:
        np.save(folder / f"{name}.npy", np.asarray(matrix), allow_pickle=False)


def load_matrix(folder: Path, name: str) -> Any:
    if (folder / f"{name}.npz").exists():
        return sp.load_npz(folder / f"{name}.npz")
    return np.load(folder / f"{name}.npy", allow_pickle=False)


def save_pickle(path: Path, value: Any) -> None:
    with open(path, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def save_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=str))
