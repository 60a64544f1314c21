"""The data of a tournament, prepared once: the pipeline's split, labels and folds.

Data preparation goes through :func:`lester.pipeline.runner.run` (without its model stages),
so it reads every source through the store's forget and redaction sets and is served from
the stage cache when nothing changed, exactly as ``lester run``'s.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lester.errors import LesterError
from lester.frame.frame import PROVENANCE_COLUMN_PREFIX
from lester.pipeline.config import RunConfig
from lester.pipeline.definition import Pipeline
from lester.pipeline.runner import run
from lester.pipeline.store import ArtifactStore
from lester.tune.folds import Fold, content_digest, make_folds
from lester.tune.space import digest


class TuneDataError(LesterError, ValueError):
    """The pipeline cannot be tuned: no encoder or label stage, or labels that do not fit."""


@dataclass
class Prepared:
    """The split's training side (folded) and held-out test side, with labels."""

    train: pd.DataFrame
    test: pd.DataFrame
    data_columns: list[str]
    y_train: np.ndarray
    y_test: np.ndarray
    folds: list[Fold]
    sources: list[str]          # source names the pipeline read (what forget and redact name)
    forget_set_seq: int
    seconds: float
    fingerprint: str            # of the content of both sides of the split


def prepare(definition: Pipeline, config: RunConfig, store: ArtifactStore, k: int,
            progress: Any = None) -> Prepared:
    """Prepare the data once, split it as the pipeline's configuration says, fold the training side."""
    import time

    if definition.encode_features is None or definition.extract_label is None:
        raise TuneDataError(f"{definition.path}: a tournament needs encode_features() and extract_label(); "
                            "this pipeline prepares data only")
    started = time.perf_counter()
    seq = store.forget_sets().seq
    data_only = dataclasses.replace(definition, encode_features=None, extract_label=None, make_model=None)
    say = progress or (lambda stage, message: None)
    # the runner's words about the stages left out here would only confuse
    shown = lambda stage, message: say(stage, message) if stage in ("dataprep", "forget set") else None
    result = run(data_only, config=config, store=store, capture=False, progress=shown)
    data_columns = [c for c in result.train.columns if not c.startswith(PROVENANCE_COLUMN_PREFIX)]
    provenance = [c for c in result.train.columns if c.startswith(PROVENANCE_COLUMN_PREFIX)]
    y_train = _labels(definition, result.train[data_columns], "training")
    y_test = _labels(definition, result.test[data_columns], "test") if len(result.test) else y_train[:0]
    split = config.split
    by = [split.group] if split.kind == "group" and split.group else provenance or data_columns
    folds = make_folds(result.train, k, by=by, seed=split.seed)
    fingerprint = digest([f.fingerprint for f in folds] + [content_digest(result.test)])
    return Prepared(result.train, result.test, data_columns, y_train, y_test, folds,
                    source_names(definition, config), int(seq), time.perf_counter() - started, fingerprint)


def _labels(definition: Pipeline, rows: pd.DataFrame, side: str) -> np.ndarray:
    try:
        y = np.asarray(definition.extract_label(rows))
    except Exception as error:
        raise TuneDataError(f"extract_label() raised {type(error).__name__}: {error}") from error
    if len(y) != len(rows):
        raise TuneDataError(f"extract_label() returned {len(y)} labels for {len(rows)} {side} rows")
    return y


def source_names(definition: Pipeline, config: RunConfig) -> list[str]:
    """The names of the sources ``dataprep`` reads (building its plan reads no data)."""
    paths = {name: config.sources.get(name, default) for name, default in definition.source_defaults().items()}
    frame = definition.dataprep(**{name: os.fspath(p) for name, p in paths.items() if p is not None})
    return sorted({source.name for source in frame.sources.values()})


def sources_changed(store: ArtifactStore, seq: int, sources: Sequence[str]) -> bool:
    """Whether a forget or redact request on one of ``sources`` came after ``seq``."""
    return bool(store.forget_sets().newer_than(int(seq), list(sources)))


def fold_rows(prepared: Prepared, fold: Fold) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """A fold's training and validation rows (data columns only) and their labels."""
    rows = prepared.train[prepared.data_columns]
    return (rows.iloc[fold.train].reset_index(drop=True), rows.iloc[fold.validation].reset_index(drop=True),
            prepared.y_train[fold.train], prepared.y_train[fold.validation])
