"""The runner: data preparation with provenance, split, encode, train, evaluate, store.

Each stage is cached under a key made of its code (the stage function and the module helpers
it calls), its parameters and the keys or content fingerprints of its inputs, so a re-run
recomputes exactly what changed.

Every source is read through the store's forget and redaction sets
(:mod:`lester.pipeline.forget_set`): rows forgotten by an earlier ``lester forget`` are dropped
(the run says how many), redacted values replaced, whatever pipeline reads the source. The
data preparation's cache key includes the sets' sequence number, so no cache entry built
before a request is used after it, and a run that a request overtook while it ran is not
registered.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # pa.compute

from lester.frame.dependence import linear_in, source_columns_read
from lester.frame.engines import engine_for
from lester.frame.frame import PROVENANCE_COLUMN_PREFIX
from lester.models.metrics import evaluate
from lester.pipeline.config import RunConfig, load_config
from lester.pipeline.definition import Pipeline, PipelineRunError, call_stage, load_pipeline
from lester.pipeline.forget_set import apply_to_frame, read_sets
from lester.pipeline.matrix_provenance import matrix_column_provenance
from lester.pipeline.split import split_mask
from lester.pipeline.store import (
    ArtifactStore,
    chunk_sizes,
    new_run_id,
    part_name,
    save_json,
    save_matrix,
    save_pickle,
    save_row_ids,
    save_rows,
)

Progress = Callable[[str, str], None]


@dataclass
class RunResult:
    """Everything one run produced. ``run_id`` and ``folder`` are None without capture.

    A data preparation pipeline (no ``encode_features``, ``extract_label`` or ``make_model``)
    leaves the matrices, labels, model and predictions it did not compute as None.
    """

    run_id: str | None
    folder: Path | None
    train: pd.DataFrame
    test: pd.DataFrame
    X_train: Any
    X_test: Any
    y_train: np.ndarray | None
    y_test: np.ndarray | None
    predictions: np.ndarray | None
    encoder: Any
    model: Any
    metrics: dict[str, dict[str, float]]
    seconds: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)
    # source name -> rows the forget set dropped from it (sources it concerns only)
    forgotten: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        metrics = ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.get("test", {}).items())
        model = f"{type(self.model).__name__}, test {metrics}" if self.model is not None else "no model"
        return (
            f"<RunResult {self.run_id or '(not stored)'}: {len(self.train)} train / "
            f"{len(self.test)} test rows, {model}>"
        )

    def _repr_html_(self) -> str:
        """A small table for notebooks: the run, its rows, model and metrics (values escaped)."""
        from html import escape

        model = type(self.model).__name__ if self.model is not None else "(none: data preparation)"
        rows = [("run", self.run_id or "(not stored)"), ("folder", self.folder or "-"),
                ("rows", f"{len(self.train)} train / {len(self.test)} test"), ("model", model)]
        rows += [(f"{split} {name}", f"{value:.4f}") for split, values in self.metrics.items()
                 for name, value in values.items()]
        if "total" in self.seconds:
            rows.append(("seconds", f"{self.seconds['total']:.2f}"))
        body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
        return f"<table><tbody>{body}</tbody></table>"


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _path_fingerprint(path: str | os.PathLike) -> str:
    """Content hash of a file, or of every file under a folder (partitioned inputs)."""
    digest = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _resolve_sources(pipeline: Pipeline, configured: Mapping[str, Any]) -> dict[str, str]:
    defaults = pipeline.source_defaults()
    unknown = sorted(set(configured) - set(defaults))
    if unknown:
        raise PipelineRunError(
            f"sources {unknown} are not parameters of dataprep(); it takes {sorted(defaults)}"
        )
    paths = {name: configured.get(name, default) for name, default in defaults.items()}
    missing = sorted(name for name, value in paths.items() if value is None)
    if missing:
        raise PipelineRunError(
            f"no path for the sources {missing}: give --source NAME=PATH or set [sources] in lester.toml"
        )
    for name, value in paths.items():
        if not Path(value).exists():
            raise PipelineRunError(f"source {name!r}: {value}: no such file or folder")
    return {name: os.fspath(value) for name, value in paths.items()}


_NO_MODEL = "no model"  # cached for a pipeline whose make_model is absent


def _sort_keys(column: pd.Series) -> list[np.ndarray]:
    """Two lexsort keys for one column: its text (nulls as "") and whether it is null.

    A null id (a left join's unmatched row, a union's other side) is NaN, None or pd.NA
    depending on the dtype and the pandas version: pandas 3's ``astype(str)`` keeps it a float
    NaN among strings, which numpy cannot compare. Nulls therefore sort last, by a key of
    their own, and every other value by its text as before.
    """
    missing = column.isna().to_numpy(dtype=bool)
    text = column.astype(str).to_numpy(dtype=object)
    text[missing] = ""
    return [text, missing]


def _ordered(prepared: pd.DataFrame, provenance: Sequence[str]) -> pd.DataFrame:
    """Rows in provenance order, so runs are reproducible whatever the engine's order."""
    columns = list(provenance) if provenance else list(prepared.columns)
    if not columns or len(prepared) == 0:
        return prepared.reset_index(drop=True)
    keys = [key for c in reversed(columns) for key in _sort_keys(prepared[c])]
    return prepared.iloc[np.lexsort(keys)].reset_index(drop=True)


def _metrics(model: Any, X: Any, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    # one definition of the metrics (lester.models.metrics), which new versions use too
    return evaluate(model, X, y, predictions)


def run(
    pipeline: str | os.PathLike | Pipeline | None = None,
    *,
    sources: Mapping[str, str] | None = None,
    config: str | os.PathLike | RunConfig | None = None,
    overrides: Sequence[str] = (),
    store: str | os.PathLike | ArtifactStore = ".lester",
    cache: bool = True,
    capture: bool = True,
    progress: Progress | None = None,
) -> RunResult:
    """Run a pipeline end to end and store its artifacts and provenance.

    ``pipeline`` is a pipeline file (or a loaded :class:`Pipeline`); it may instead come from
    the configuration's ``pipeline`` key. ``sources`` maps ``dataprep`` parameters to paths
    and overrides the configuration, which overrides ``dataprep``'s defaults. ``overrides``
    are ``section.key=value`` strings applied last. With ``capture=False`` nothing is stored.

    Example:
        >>> result = lt.run("pipeline.py", sources={"customers": "data/customers.csv"})  # doctest: +SKIP
        >>> result.metrics["test"]                                                      # doctest: +SKIP
        {'accuracy': 0.91, 'f1_macro': 0.88, 'roc_auc': 0.95}
    """
    say = progress or (lambda stage, message: None)
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    cached: dict[str, bool] = {}

    if isinstance(config, RunConfig):
        resolved = config
    else:
        base = {"sources": dict(sources)} if sources else None
        resolved = load_config(config, overrides, base=base)
    if pipeline is None:
        pipeline = resolved.pipeline
    if pipeline is None:
        raise PipelineRunError("no pipeline file: pass one, or set pipeline = \"...\" in lester.toml")
    definition = pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)
    artifacts = store if isinstance(store, ArtifactStore) else (
        ArtifactStore(store) if (capture or cache) else _existing_store(store)
    )
    use_cache = cache and artifacts is not None
    # read before anything is derived: every source goes through them (a retrain that stores
    # nothing too, when the store exists)
    sets = artifacts.forget_sets() if artifacts is not None else read_sets(None, None)

    def cached_stage(stage: str, key: str, compute: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        value = artifacts.cache_get(key) if use_cache else None
        cached[stage] = value is not None
        if value is None:
            value = compute()
            if use_cache:
                artifacts.cache_put(key, value)
        seconds[stage] = time.perf_counter() - t0
        say(stage, f"{'cached' if cached[stage] else 'done'} in {seconds[stage]:.2f} s")
        return value

    # 1. data preparation, with provenance
    paths = _resolve_sources(definition, resolved.sources)
    fingerprints = {name: _path_fingerprint(path) for name, path in paths.items()}
    prep_key = _hash("dataprep", definition.stage_code("dataprep"), paths, fingerprints, sets.seq)

    def prepare() -> dict[str, Any]:
        frame = definition.prepare(paths)
        applied = apply_to_frame(frame, sets)
        prepared = frame.to_pandas(provenance=True, engine=engine_for(resolved.engine))
        labels = list(frame.plan.provenance)
        prov_columns = [f"{PROVENANCE_COLUMN_PREFIX}{label}" for label in labels]
        source_rows = [
            {
                "label": label,
                "name": source.name,
                "path": source.path,
                "fingerprint": source.fingerprint(),
                "rows": applied[source.name].file_rows if source.name in applied else len(source.load()),
                "key_column": source.key,
            }
            for label, source in frame.sources.items()
        ]
        return {
            "prepared": _ordered(prepared, prov_columns),
            "columns": frame.columns,
            "provenance": prov_columns,
            "kinds": dict(frame.plan.provenance),
            "sources": source_rows,
            "lineage": frame.column_provenance(),
            # what a later deletion or redaction asks of the plan, answered while it is at hand
            "linear_sources": sorted({s.name for s in frame.sources.values() if linear_in(frame, s.name)}),
            "source_columns_read": sorted([list(pair) for pair in source_columns_read(frame)]),
            # counts only: which rows were dropped is what must not be recorded
            "forget_set": {name: {"rows_dropped": a.dropped, "rows_redacted": a.redacted}
                           for name, a in sorted(applied.items())},
            "forget_set_seq": sets.seq,
        }

    prep = cached_stage("dataprep", prep_key, prepare)
    forgotten = {name: int(a["rows_dropped"]) for name, a in prep.get("forget_set", {}).items() if a["rows_dropped"]}
    for name, applied_here in prep.get("forget_set", {}).items():
        say("forget set", f"{name}: dropped {applied_here['rows_dropped']} forgotten row(s), "
                          f"redacted {applied_here['rows_redacted']} row(s)")
    prepared: pd.DataFrame = prep["prepared"]
    data_columns: list[str] = prep["columns"]

    # 2. split (cheap, never cached: it is a pure function of the rows and the settings)
    t0 = time.perf_counter()
    settings = resolved.split
    is_test = split_mask(
        prepared, prep["provenance"], kind=settings.kind, test_size=settings.test_size,
        seed=settings.seed, group=settings.group, time_column=settings.time_column,
    )
    train = prepared[~is_test].reset_index(drop=True)
    test = prepared[is_test].reset_index(drop=True)
    if len(train) == 0:
        raise PipelineRunError(f"the split left no training rows out of {len(prepared)} prepared rows")
    seconds["split"] = time.perf_counter() - t0
    say("split", f"{len(train)} train / {len(test)} test rows")

    # 3. feature encoding, fitted on train only
    split_key = _hash(prep_key, settings.kind, settings.test_size, settings.seed, settings.group, settings.time_column)
    encode_key = _hash("encode", split_key, definition.stage_code("encode_features"), resolved.features)

    def encode() -> dict[str, Any]:
        encoder = definition.encoder(resolved.features)
        if encoder is None:
            return {"encoder": None, "X_train": None, "X_test": None, "matrix": []}
        X_train = definition.fit_encoder(encoder, train[data_columns])
        X_test = call_stage("encode_features (transform)", encoder.transform, test[data_columns]) if len(test) else X_train[:0]
        return {"encoder": encoder, "X_train": X_train, "X_test": X_test,
                "matrix": matrix_column_provenance(encoder)}

    encoded = cached_stage("encode_features", encode_key, encode)
    if encoded["encoder"] is None:
        say("encode_features", "absent: a data preparation pipeline")

    # 4. labels
    t0 = time.perf_counter()
    y_train = definition.labels(train[data_columns])
    y_test = None
    if y_train is not None:
        y_train = np.asarray(y_train)
        y_test = np.asarray(call_stage("extract_label", definition.extract_label, test[data_columns])) if len(test) else y_train[:0]
        for name, y, rows in (("train", y_train, train), ("test", y_test, test)):
            if len(y) != len(rows):
                raise PipelineRunError(f"extract_label() returned {len(y)} labels for {len(rows)} {name} rows")
    seconds["extract_label"] = time.perf_counter() - t0

    # 5. model: needs features and labels
    model_key = _hash("model", encode_key, definition.stage_code("extract_label"),
                      definition.stage_code("make_model"), resolved.model)

    def train_model() -> Any:
        model = definition.model(resolved.model)
        if model is None:
            return _NO_MODEL
        return definition.fit_model(model, encoded["X_train"], y_train)

    model = predictions = None
    metrics: dict[str, dict[str, float]] = {}
    if encoded["X_train"] is not None and y_train is not None:
        model = cached_stage("make_model", model_key, train_model)
        model = None if isinstance(model, str) and model == _NO_MODEL else model
    if model is not None:
        t0 = time.perf_counter()
        predictions = np.asarray(model.predict(encoded["X_test"]) if len(test) else y_train[:0])
        metrics = {
            "train": _metrics(model, encoded["X_train"], y_train, model.predict(encoded["X_train"])),
            "test": _metrics(model, encoded["X_test"], y_test, predictions),
        }
        seconds["evaluate"] = time.perf_counter() - t0
        say("evaluate", ", ".join(f"{k}={v:.4f}" for k, v in metrics["test"].items()))
    else:
        say("make_model", "absent: no model trained (the run stores prepared data and provenance)")

    result = RunResult(
        None, None, train, test, encoded["X_train"], encoded["X_test"], y_train, y_test,
        predictions, encoded["encoder"], model, metrics, seconds, cached, forgotten,
    )
    if capture:
        t0 = time.perf_counter()
        _capture(artifacts, result, definition, resolved, prep, encoded["matrix"], started)
        seconds["store"] = time.perf_counter() - t0
        say("store", f"run {result.run_id} in {result.folder}")
    return result


def _capture(
    store: ArtifactStore,
    result: RunResult,
    definition: Pipeline,
    config: RunConfig,
    prep: dict[str, Any],
    matrix: list[Any],
    started: float,
) -> None:
    run_id, created = new_run_id()
    kinds = prep["kinds"]

    sizes = {"train": chunk_sizes(len(result.train)), "test": chunk_sizes(len(result.test))}
    chunks = {split: [[part_name(i), n] for i, n in enumerate(sizes[split])] for split in sizes}

    def write(folder: Path) -> dict[str, str]:
        digests = {}
        for split, rows in (("train", result.train), ("test", result.test)):
            # converted on one thread: the pool pandas would start costs more than it saves here
            save_rows(folder, split, pa.Table.from_pandas(rows, preserve_index=False, nthreads=1), sizes[split])
            save_row_ids(folder, split, _row_ids(rows, prep["provenance"], kinds))
        if result.X_train is not None:
            save_matrix(folder, "X_train", result.X_train, sizes["train"])
            save_matrix(folder, "X_test", result.X_test, sizes["test"])
            digests["encoder.pkl"] = save_pickle(folder / "encoder.pkl", result.encoder)
        if result.y_train is not None:
            np.save(folder / "y_train.npy", result.y_train, allow_pickle=False)
            np.save(folder / "y_test.npy", result.y_test, allow_pickle=False)
        if result.model is not None:
            np.save(folder / "predictions.npy", result.predictions, allow_pickle=False)
            digests["model.pkl"] = save_pickle(folder / "model.pkl", result.model)
            # The statistics a later deletion updates the model from (Gram matrix, Hessian),
            # computed while the matrix is in memory: O(n·d²), a few ms at 100k rows; imported
            # here so that running a pipeline does not load the unlearning code up front.
            from lester.models.unlearning import initial_state

            state = initial_state(result.model, result.X_train, result.y_train)
            if state is not None:
                np.savez(folder / "ivm_state.npz", **state)
        (folder / "config.toml").write_text(config.to_toml())
        save_json(folder / "run.json", {
            "run_id": run_id, "pipeline": str(definition.path), "metrics": result.metrics,
            "seconds": result.seconds, "provenance_columns": prep["provenance"],
            "data_columns": prep["columns"], "chunks": chunks,
            **{key: prep[key] for key in ("linear_sources", "source_columns_read", "forget_set",
                                           "forget_set_seq") if key in prep},
        })
        return digests

    read = {s["name"] for s in prep["sources"]}

    def still_current() -> None:
        # under the writer lock: a request registered while this run ran must not be undone
        # by registering rows it forgot
        if store.forget_sets().newer_than(int(prep.get("forget_set_seq", 0)), read):
            raise PipelineRunError(
                "a forget or redact request on the sources this run read was registered while it ran; "
                "nothing was stored: run the pipeline again")

    provenance_chunks = {}
    row_chunks = []
    for split, rows in (("train", result.train), ("test", result.test)):
        prov_rows = rows[prep["provenance"]]
        first = 0
        for part, n in chunks[split]:
            provenance_chunks[(split, part)] = _row_provenance(run_id, split, prov_rows.iloc[first:first + n], kinds)
            row_chunks.append({"split": split, "part": part, "first_row": first, "rows": n})
            first += n
    tables = {
        "row_provenance": provenance_chunks,
        "row_chunks": row_chunks,
        "sources": prep["sources"],
        "column_provenance": [
            {"column": column, "source": origin.split(".", 1)[0], "source_column": origin.split(".", 1)[1]}
            for column, origins in prep["lineage"].items() for origin in origins
        ],
        "matrix_provenance": [
            {"matrix_column": m.index, "feature": m.feature_name, "transformer": m.transformer,
             "prepared_column": column}
            for m in matrix for column in (m.input_columns or (None,))
        ],
        "metrics": [
            {"split": split, "name": name, "value": value}
            for split, scores in result.metrics.items() for name, value in scores.items()
        ],
    }
    record = {
        "run_id": run_id, "created": created, "pipeline": str(definition.path),
        "config": config.to_dict(),
        "model": type(result.model).__name__ if result.model is not None else None,
        "train_rows": len(result.train), "test_rows": len(result.test),
        "seconds": time.perf_counter() - started,
    }
    result.folder = store.write_run(run_id, write, record, tables, precondition=still_current)
    result.run_id = run_id


def _existing_store(store: str | os.PathLike) -> ArtifactStore | None:
    """The store at ``store`` when there is one (opened without creating anything), whose
    forget set a run that stores nothing still applies; None when there is none."""
    if not (Path(store) / "runs").is_dir():
        return None
    return ArtifactStore(store, create=False)


def _row_ids(rows: pd.DataFrame, provenance: Sequence[str], kinds: Mapping[str, str]) -> np.ndarray | None:
    """Each row's source ids, one column per provenance label: integers where every id is
    one, else text. None when a label holds lists of ids (an aggregate) or has gaps."""
    if not provenance or any(kind == "list" for kind in kinds.values()):
        return None
    columns = [rows[c] for c in provenance]
    if any(c.isna().any() for c in columns):
        return None
    if all(pd.api.types.is_integer_dtype(c.dtype) for c in columns):
        return np.column_stack([c.to_numpy(dtype=np.int64) for c in columns]) if len(rows) else np.zeros((0, len(columns)), np.int64)
    return np.column_stack([c.astype(str).to_numpy(dtype=str) for c in columns]) if len(rows) else np.zeros((0, len(columns)), "U1")


def _row_provenance(run_id: str, split: str, rows: pd.DataFrame, kinds: Mapping[str, str]) -> pa.Table:
    """Long format: one line per (row, source, id); aggregated rows list several ids.

    Built in Arrow rather than pandas: for 100k rows this is the bulk of capturing a run.
    """
    positions, sources, ids = [], [], []
    for label, kind in kinds.items():
        column = rows[f"{PROVENANCE_COLUMN_PREFIX}{label}"]
        where = np.arange(len(rows))
        if kind == "list":
            lists = [v if isinstance(v, (list, tuple, np.ndarray)) else [] for v in column]
            where = np.repeat(where, [len(v) for v in lists])
            values = pa.array([i for v in lists for i in v], from_pandas=True)
        else:
            values = pa.array(column, from_pandas=True)
        present = pa.compute.is_valid(values)
        positions.append(pa.array(where).filter(present))
        ids.append(values.filter(present).cast(pa.string()))
        sources.append(_constant(label, len(positions[-1])))
    n = sum(len(p) for p in positions)
    return pa.table({
        "run_id": _constant(run_id, n),
        "split": _constant(split, n),
        "row": pa.concat_arrays(positions) if positions else pa.array([], pa.int64()),
        "source": pa.concat_arrays(sources) if sources else pa.array([], pa.string()),
        "source_id": pa.concat_arrays(ids) if ids else pa.array([], pa.string()),
    })


def _constant(value: str, n: int) -> pa.Array:
    return pa.repeat(value, n)
