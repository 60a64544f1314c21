"""The artifact store: one immutable folder per run under ``.lester/runs/``, plus the catalog.

A run folder holds ``train.parquet`` and ``test.parquet`` (prepared rows with their
provenance columns ``prov:<source>``), ``X_train.npy``/``X_test.npy`` (``.npz`` when sparse),
``y_train.npy``, ``y_test.npy``, ``predictions.npy``, ``encoder.pkl``, ``model.pkl``,
``config.toml``, ``run.json``, and the run's catalog tables as Parquet (``sources``,
``row_provenance``, ``column_provenance``, ``matrix_provenance``, ``metrics``).

A run is written into a hidden staging folder, moved into place with one rename, and only
then registered in the catalog with one row: an interrupted run leaves nothing registered,
and nothing that was there before is touched.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from lester.pipeline.catalog import Catalog, write_run_table


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
        tables: dict[str, pd.DataFrame],
    ) -> Path:
        """Write a run's files with ``write_files(folder)`` and its catalog ``tables``, then
        register it; the run appears in the catalog whole or not at all."""
        staging = self.runs_dir / f".incomplete-{run_id}"
        final = self.run_folder(run_id)
        if final.exists():
            raise FileExistsError(f"{final}: a run with this id exists already")
        staging.mkdir(parents=True)
        try:
            write_files(staging)
            for name, frame in tables.items():
                write_run_table(staging, name, frame)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            self.catalog.register({**record, "folder": str(final)})
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
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
