"""The artifact store: one immutable folder per run under ``.lester/runs/``, plus the catalog.

A run folder holds ``train.parquet`` and ``test.parquet`` (prepared rows with their
provenance columns ``prov:<source>``), ``X_train``/``X_test`` (feature matrices),
``y_train.npy``, ``y_test.npy``, ``predictions.npy``, ``encoder.pkl``, ``model.pkl``,
``config.toml``, ``run.json``, ``row_provenance`` and ``catalog.json`` (the run's catalog
record: see :mod:`lester.pipeline.catalog`).

Per-row artifacts are stored in row chunks of :data:`CHUNK_ROWS` rows: ``train.parquet`` is a
folder of ``part-00000.parquet``, ... (``pd.read_parquet`` reads the folder as one table),
``X_train`` a folder of ``part-00000.npy`` (``.npz`` when sparse) and ``row_provenance`` a folder
of ``train-part-00000.parquet``, ... whose ``row`` is the position within the chunk (the
catalog adds the chunk's first row). A new version of a run (``lester forget``) rewrites only
the chunks that hold changed rows and hard-links the others. ``run.json`` lists the chunks
(``chunks``); ``row_ids_<split>.npy`` holds each row's source ids (one column per provenance
label) for finding rows without reading the Parquet files. Read them with :func:`load_rows`,
:func:`load_matrix` and :func:`load_row_provenance`; runs stored before chunking (single
files) read the same way.

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
import pyarrow.compute
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


# Rows per chunk: small enough that deleting a few rows rewrites little, large enough that
# the per-file cost of reading a 100k-row run stays small.
CHUNK_ROWS = 4096


def chunk_sizes(n: int, size: int = CHUNK_ROWS) -> list[int]:
    """Row counts of the chunks ``n`` rows are stored in (one empty chunk for no rows)."""
    if n == 0:
        return [0]
    return [size] * (n // size) + ([n % size] if n % size else [])


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def chunk_manifest(folder: Path) -> dict[str, list[list[Any]]] | None:
    """``{split: [[part, rows], ...]}`` from ``run.json``; None for a run stored unchunked."""
    path = folder / "run.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("chunks")


def save_matrix(folder: Path, name: str, matrix: Any, sizes: Sequence[int] | None = None) -> None:
    """Save a feature matrix: one file, or with ``sizes`` a folder of row chunks."""
    if sizes is None:
        if sp.issparse(matrix):
            sp.save_npz(folder / f"{name}.npz", sp.csr_matrix(matrix))
        else:
            np.save(folder / f"{name}.npy", np.asarray(matrix), allow_pickle=False)
        return
    (folder / name).mkdir()
    matrix = sp.csr_matrix(matrix) if sp.issparse(matrix) else np.asarray(matrix)
    start = 0
    for index, rows in enumerate(sizes):
        save_matrix_part(folder / name / part_name(index), matrix[start:start + rows])
        start += rows


def save_matrix_part(path_stem: Path, matrix: Any) -> None:
    if sp.issparse(matrix):
        sp.save_npz(path_stem.with_suffix(".npz"), sp.csr_matrix(matrix))
    else:
        np.save(path_stem.with_suffix(".npy"), np.asarray(matrix), allow_pickle=False)


def matrix_part_path(folder: Path, name: str, part: str) -> Path:
    path = folder / name / f"{part}.npy"
    return path if path.exists() else folder / name / f"{part}.npz"


def load_matrix_part(path: Path) -> Any:
    if path.suffix == ".npz":
        return sp.load_npz(path)
    return np.load(path, allow_pickle=False, mmap_mode="r")


def load_matrix(folder: Path, name: str) -> Any:
    """A feature matrix saved by :func:`save_matrix`, whole (chunks concatenated)."""
    folder = Path(folder)
    if (folder / f"{name}.npz").exists():
        return sp.load_npz(folder / f"{name}.npz")
    if (folder / f"{name}.npy").exists():
        return np.load(folder / f"{name}.npy", allow_pickle=False)
    files = sorted((folder / name).iterdir())
    if all(f.suffix == ".npy" for f in files):
        return _read_dense_parts(files)
    parts = [load_matrix_part(p) for p in files]
    if any(sp.issparse(p) for p in parts):
        return sp.vstack(parts, format="csr") if len(parts) > 1 else parts[0]
    return np.concatenate(parts) if len(parts) > 1 else np.array(parts[0])


def _read_dense_parts(files: Sequence[Path]) -> np.ndarray:
    """Dense chunks read straight into one array: a single copy, no memory maps."""
    headers = []
    for path in files:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            headers.append((shape, fortran, dtype, handle.tell()))
    shape, _, dtype, _ = headers[0]
    if any(h[1] or h[2] != dtype or h[0][1:] != shape[1:] or dtype.hasobject for h in headers):
        parts = [np.load(p, allow_pickle=False) for p in files]
        return np.concatenate(parts)
    out = np.empty((sum(h[0][0] for h in headers), *shape[1:]), dtype=dtype)
    at = 0
    for path, (part_shape, _, _, offset) in zip(files, headers, strict=True):
        n = part_shape[0]
        with open(path, "rb") as handle:
            handle.seek(offset)
            handle.readinto(memoryview(out[at:at + n]).cast("B"))
        at += n
    return out


def save_rows(folder: Path, split: str, table: pa.Table, sizes: Sequence[int]) -> None:
    """Write a split's prepared rows as ``<split>.parquet/part-NNNNN.parquet`` chunks."""
    (folder / f"{split}.parquet").mkdir()
    start = 0
    for index, rows in enumerate(sizes):
        save_rows_part(folder, split, part_name(index), table.slice(start, rows))
        start += rows


def save_rows_part(folder: Path, split: str, part: str, rows: pa.Table) -> None:
    """Write one chunk of a split's prepared rows."""
    pq.write_table(rows, folder / f"{split}.parquet" / f"{part}.parquet", **FAST_PARQUET)


def load_rows(folder: Path, split: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A split's prepared rows (``train`` or ``test``) as one DataFrame, in stored order."""
    return pq.read_table(Path(folder) / f"{split}.parquet", columns=columns).to_pandas()


def load_row_provenance(folder: Path) -> pa.Table:
    """A run's row provenance (``split``, ``row``, ``source``, ``source_id``), with ``row``
    the position in the split, as the catalog's ``row_provenance`` gives it."""
    folder = Path(folder)
    single = folder / "row_provenance.parquet"
    columns = ["split", "row", "source", "source_id"]
    if single.exists():
        table = pq.read_table(single)
        return table.select(columns)
    parts = []
    for split, chunks in (chunk_manifest(folder) or {}).items():
        first = 0
        for part, rows in chunks:
            table = pq.read_table(folder / "row_provenance" / f"{split}-{part}.parquet")
            parts.append(pa.table({
                "split": pa.array([split] * table.num_rows, pa.string()),
                "row": pa.compute.add(table.column("row"), pa.scalar(first, pa.int64())),
                "source": table.column("source").cast(pa.string()),
                "source_id": table.column("source_id").cast(pa.string()),
            }))
            first += rows
    if not parts:
        return pa.table({c: pa.array([], pa.int64() if c == "row" else pa.string()) for c in columns})
    return pa.concat_tables(parts)


def save_row_ids(folder: Path, split: str, ids: np.ndarray | None) -> None:
    if ids is not None:
        np.save(folder / f"row_ids_{split}.npy", ids, allow_pickle=False)


def load_row_ids(folder: Path, split: str) -> np.ndarray | None:
    """Each row's source ids, one column per provenance label (None when not stored)."""
    path = Path(folder) / f"row_ids_{split}.npy"
    return np.load(path, allow_pickle=False) if path.exists() else None


# Uncompressed and without dictionaries: chunks are written often (every new version) and
# encoding dominates writing them.
FAST_PARQUET = {"compression": "none", "use_dictionary": False, "write_statistics": False}


def save_pickle(path: Path, value: Any) -> None:
    with open(path, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def save_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=str))
