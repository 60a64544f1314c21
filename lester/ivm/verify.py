"""Verification: retrain the pipeline from scratch on the changed sources and compare.

The retrain runs the pipeline's own stages (data preparation, split, encoder fit, model fit)
on its sources read through the store's forget and redaction sets (every request registered,
whichever version it was applied to: deleted rows dropped, redacted values replaced) in
memory, without storing anything. It is compared with the incrementally
maintained version on the test rows both share (matched by provenance, not position):

* ``agreement``: for a classifier the share of equal predictions; for a regressor the share
  of predictions within 1% of the test labels' standard deviation of each other;
* ``metric_delta``: the headline test metric (accuracy, or r2 for regressors) of the
  incremental version minus the retrain's, in points (x100);
* ``parameter_distance``: ‖θ_incremental − θ_retrain‖ / ‖θ_retrain‖ where both models
  have the same feature columns, with the old model's distance for comparison;
* ``near_ties``: for a classifier with ``predict_proba``, how many of the disagreeing rows are
  near ties in both models (the two likeliest classes within :data:`NEAR_TIE` of each other).
  Where many test rows share one feature vector that sits on the decision boundary, the side
  they fall on is decided by the solvers' stopping tolerance, not by the data: a retrain
  differs from itself that much.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import is_classifier

from lester.ivm.dataprep_delta import SourceRows, pipeline_with
from lester.ivm.requests import id_mask
from lester.ivm.versions import row_keys
from lester.models.unlearning import model_parameters
from lester.pipeline.config import RunConfig
from lester.pipeline.definition import Pipeline
from lester.pipeline.matrix_provenance import matrix_column_provenance
from lester.pipeline.runner import RunResult, run

NEAR_TIE = 2e-3  # probability margin between the two likeliest classes


@dataclass
class Verification:
    """How an incrementally maintained version compares with a retrain from scratch."""

    agreement: float
    metric: str
    metric_incremental: float
    metric_retrain: float
    metric_delta: float  # points: (incremental - retrain) * 100
    parameter_distance: float | None
    old_parameter_distance: float | None
    retrain_seconds: float
    test_rows_compared: int
    test_rows_unmatched: int
    near_ties: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class SourceChange:
    """One change to a source, as a version's lineage records it."""

    action: str  # "forget" | "redact"
    source: str
    ids: list[str]
    column: str | None = None
    value: Any = None

    def apply(self, rows: pd.DataFrame, ids: np.ndarray) -> SourceRows:
        hit = id_mask(ids, self.ids)
        if self.action == "forget":
            return SourceRows(rows[~hit].reset_index(drop=True), np.asarray(ids)[~hit])
        changed = rows.copy()
        changed.loc[hit, self.column] = self.value
        return SourceRows(changed, np.asarray(ids))

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "source": self.source, "ids": self.ids,
                "column": self.column, "value": self.value}


def changed_pipeline(definition: Pipeline, changes: Sequence[SourceChange]) -> Pipeline:
    """The pipeline reading every source through the lineage's changes, in order."""
    for source in dict.fromkeys(c.source for c in changes):
        mine = [c for c in changes if c.source == source]

        def through(rows: pd.DataFrame, ids: np.ndarray, mine: list[SourceChange] = mine) -> SourceRows:
            current = SourceRows(rows, ids)
            for change in mine:
                current = change.apply(current.rows, current.ids)
            return current

        definition = pipeline_with(definition, source, through)
    return definition


def retrain(definition: Pipeline, config: RunConfig, store: Any,
            changes: Sequence[SourceChange] = ()) -> tuple[RunResult, float]:
    """Run the pipeline from scratch, storing nothing, on its sources as the ``store``'s
    forget and redaction sets leave them (every request registered so, the one being verified
    included), and through ``changes`` besides (none, for a request: it is in the sets)."""
    started = time.perf_counter()
    definition = changed_pipeline(definition, changes) if changes else definition
    result = run(definition, config=config, store=store, capture=False, cache=False)
    return result, time.perf_counter() - started


def _keys(rows: pd.DataFrame | pa.Table, columns: Sequence[str]) -> list[str]:
    return row_keys(rows, list(columns))


def _feature_names(encoder: Any) -> list[str | None]:
    try:
        return [c.feature_name for c in matrix_column_provenance(encoder)]
    except Exception:  # noqa: BLE001 - an encoder without provenance: no parameter comparison
        return []


def _margins(model: Any, X: Any) -> np.ndarray | None:
    """Per row, the probability of the likeliest class minus that of the runner-up."""
    if not hasattr(model, "predict_proba") or X is None or not X.shape[0]:
        return None
    probabilities = np.sort(np.asarray(model.predict_proba(X)), axis=1)
    return probabilities[:, -1] - probabilities[:, -2]


def _near_ties(model: Any, X: Any, retrained: RunResult, mine: np.ndarray, other: np.ndarray,
               differ: np.ndarray) -> int | None:
    if not differ.any():
        return 0
    if X is None or retrained.X_test is None:
        return None
    ours = _margins(model, X[mine[differ]])
    theirs = _margins(retrained.model, retrained.X_test[other[differ]])
    if ours is None or theirs is None:
        return None
    return int(np.count_nonzero((ours < NEAR_TIE) & (theirs < NEAR_TIE)))


def compare(
    *,
    model: Any,
    old_model: Any,
    encoder: Any,
    test_rows: pa.Table,
    predictions: np.ndarray,
    y_test: np.ndarray,
    metrics: dict[str, dict[str, float]],
    provenance_columns: Sequence[str],
    retrained: RunResult,
    retrain_seconds: float,
    X_test: Any = None,
) -> Verification:
    """Compare the maintained version (its ``model``, test rows, features ``X_test``,
    predictions and metrics) with ``retrained``, matching test rows by provenance."""
    notes = []
    ours = _keys(test_rows, provenance_columns)
    theirs = _keys(retrained.test, provenance_columns)
    where = {key: i for i, key in enumerate(theirs)}
    pairs = [(i, where[key]) for i, key in enumerate(ours) if key in where]
    unmatched = len(ours) - len(pairs) + len(theirs) - len(pairs)
    if unmatched:
        notes.append(f"{unmatched} test rows are in only one of the two versions")
    mine = np.array([i for i, _ in pairs], dtype=np.int64)
    other = np.array([j for _, j in pairs], dtype=np.int64)
    a, b = np.asarray(predictions)[mine], np.asarray(retrained.predictions)[other]
    near_ties = None
    if is_classifier(model):
        agreement = float(np.mean(a == b)) if len(a) else 1.0
        metric = "accuracy"
        near_ties = _near_ties(model, X_test, retrained, mine, other, a != b)
        if near_ties:
            notes.append(f"{near_ties} of the {int(np.count_nonzero(a != b))} disagreeing test rows are near ties "
                         f"in both models (class probabilities within {NEAR_TIE})")
    else:
        scale = float(np.std(y_test)) or 1.0
        agreement = float(np.mean(np.abs(a.astype(float) - b.astype(float)) <= 0.01 * scale)) if len(a) else 1.0
        metric = "r2"
    ours_metric = metrics.get("test", {}).get(metric, float("nan"))
    their_metric = retrained.metrics.get("test", {}).get(metric, float("nan"))
    distance = old_distance = None
    if _feature_names(encoder) == _feature_names(retrained.encoder):
        theta, reference, old = (model_parameters(m) for m in (model, retrained.model, old_model))
        if theta is not None and reference is not None and theta.shape == reference.shape:
            norm = float(np.linalg.norm(reference)) or 1.0
            distance = float(np.linalg.norm(theta - reference)) / norm
            if old is not None and old.shape == reference.shape:
                old_distance = float(np.linalg.norm(old - reference)) / norm
    else:
        notes.append("the retrain's encoder has other feature columns; parameters are not compared")
    return Verification(
        agreement=agreement, metric=metric, metric_incremental=float(ours_metric),
        metric_retrain=float(their_metric), metric_delta=100 * (float(ours_metric) - float(their_metric)),
        parameter_distance=distance, old_parameter_distance=old_distance,
        retrain_seconds=retrain_seconds, test_rows_compared=len(pairs), test_rows_unmatched=unmatched,
        near_ties=near_ties, notes=notes,
    )
