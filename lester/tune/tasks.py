"""The two kinds of task a tournament runs in its workers.

* :func:`encode_fold`: fit one encoder setting on one fold's training rows, transform both
  sides (once per distinct setting and fold, shared by every contender);
* :func:`fit_and_score`: fit one candidate's estimator on one fold's encoded training rows
  and score it on the fold's validation rows.

Both are plain module functions (a process pool or a Dask worker imports them by name).
Encoders and estimators travel as pickled bytes with the pipeline file's path: a custom
transformer defined in the pipeline module unpickles only once that module is imported, so a
worker imports it first (:func:`materialise`). A task never raises for a candidate's fault:
it returns the error's text, and the tournament records it.
"""

from __future__ import annotations

import pickle
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Outcome:
    """What one (candidate, fold) task produced: a score or an error."""

    score: float | None
    fit_seconds: float
    score_seconds: float
    error: str | None = None


def materialise(pipeline_path: str | None, blob: bytes) -> Any:
    """Unpickle an encoder or estimator, importing the pipeline module it may refer to first.

    >>> materialise(None, pickle.dumps([1, 2]))
    [1, 2]
    """
    if pipeline_path is not None:
        from lester.pipeline.definition import load_pipeline

        _ensure_pipeline(pipeline_path, load_pipeline)
    return pickle.loads(blob)


_LOADED: set[str] = set()


def _ensure_pipeline(path: str, load: Any) -> None:
    # once per worker process: importing the module again would make new classes, which
    # objects pickled by the first import no longer match
    if path in _LOADED:
        return
    import hashlib

    name = f"lester_pipeline_{hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]}"
    if name not in sys.modules:
        load(path)
    _LOADED.add(path)


def encode_fold(pipeline_path: str | None, encoder_blob: bytes, train: Any, validation: Any,
                y_train: np.ndarray | None) -> tuple[Any, Any, float, str | None]:
    """Fit an encoder on a fold's training rows: both sides encoded, the seconds it took, and
    the error's text when it failed (then every candidate of the setting fails on the fold).

    >>> import pandas as pd
    >>> from sklearn.preprocessing import StandardScaler
    >>> rows = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> X_train, X_val, _, error = encode_fold(None, pickle.dumps(StandardScaler()), rows[:2], rows[2:], None)
    >>> X_val.round(1).tolist()
    [[3.0]]
    """
    started = time.perf_counter()
    try:
        encoder = materialise(pipeline_path, encoder_blob)
        X_train = encoder.fit_transform(train, y_train)
        X_validation = encoder.transform(validation)
    except Exception as error:  # noqa: BLE001 - recorded against the setting's candidates
        return None, None, time.perf_counter() - started, f"encode_features: {_describe(error)}"
    return X_train, X_validation, time.perf_counter() - started, None


def fit_and_score(pipeline_path: str | None, estimator_blob: bytes, X_train: Any, y_train: np.ndarray,
                  X_validation: Any, y_validation: np.ndarray, metric: str) -> Outcome:
    """Fit an estimator and score it with scikit-learn's scorer ``metric`` (GridSearchCV's).

    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(12.0).reshape(-1, 1)
    >>> out = fit_and_score(None, pickle.dumps(LinearRegression()), X[:8], X[:8, 0] * 2, X[8:], X[8:, 0] * 2, "r2")
    >>> out.error is None and round(out.score, 6)
    1.0
    """
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    started = time.perf_counter()
    fit_seconds = 0.0
    try:
        model = clone(materialise(pipeline_path, estimator_blob))
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - started
        scored = time.perf_counter()
        score = float(get_scorer(metric)(model, X_validation, y_validation))
        return Outcome(score, fit_seconds, time.perf_counter() - scored)
    except Exception as error:  # noqa: BLE001 - a failing candidate is a result, not a crash
        return Outcome(None, fit_seconds or time.perf_counter() - started, 0.0, _describe(error))


def _describe(error: BaseException) -> str:
    last = traceback.extract_tb(error.__traceback__)[-1:]
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(error).__name__}: {error}{where}"
