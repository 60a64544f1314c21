"""Running a tournament's missing work: each fold's encoders, then the (candidate, fold) tasks.

Encoders are fitted only for the (encoder setting, fold) pairs that a missing task needs;
every result is recorded in the catalog as it arrives (in batches, at most a second apart,
and whatever was done when the run stops, ``--fail-fast`` included), so that an interrupted
tournament resumes from there.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from lester.pipeline.definition import Pipeline
from lester.pipeline.store import ArtifactStore
from lester.tune import records
from lester.tune.backends import backend
from lester.tune.errors import FailFast
from lester.tune.final import build_estimator
from lester.tune.prepare import Prepared, fold_rows
from lester.tune.space import Candidate
from lester.tune.tasks import encode_fold, fit_and_score

Progress = Callable[[str, str], None]
FLUSH_SECONDS = 1.0


def compute(definition: Pipeline, data: Prepared, missing: list[tuple[Candidate, Any]],
             keys: Mapping[tuple[str, int], str], results: dict[tuple[str, int], dict[str, Any]],
             store: ArtifactStore, metric: str, backend_name: str, address: str | None, n_jobs: int,
             fail_fast: bool, say: Progress) -> int:
    """Fit the encoders the missing tasks need, then the tasks; returns the encoders fitted."""
    from joblib import delayed

    if not missing:
        return 0
    path = str(definition.path) if definition.path is not None else None
    blobs: dict[str, bytes | str] = {}
    for candidate, _ in missing:
        if candidate.key not in blobs:
            try:
                blobs[candidate.key] = pickle.dumps(build_estimator(definition, candidate.estimator, candidate.params))
            except Exception as error:  # noqa: BLE001 - a candidate that cannot even be built
                blobs[candidate.key] = f"{type(error).__name__}: {error}"
    needed = sorted({(c.features_key, f.index) for c, f in missing if isinstance(blobs[c.key], bytes)})
    settings = {c.features_key: c.features for c, _ in missing}
    folds = {f.index: f for f in data.folds}
    pending: list[dict[str, Any]] = []
    flushed = [time.monotonic()]

    def record(candidate: Candidate, fold: Any, outcome: dict[str, Any]) -> None:
        results[(candidate.key, fold.index)] = outcome
        pending.append({"key": keys[(candidate.key, fold.index)], "contender": candidate.contender,
                        "estimator": candidate.estimator, "params": candidate.params,
                        "features": candidate.features, "fold": fold.index,
                        "fold_fingerprint": fold.fingerprint, "metric": metric,
                        "created": datetime.now(timezone.utc).replace(tzinfo=None), **outcome})
        shown = f"error: {outcome['error']}" if outcome["error"] else f"{metric} {outcome['score']:.4f}"
        say("task", f"{candidate.label} fold {fold.index}: {shown} ({outcome['fit_seconds']:.2f} s)")
        if outcome["error"] and fail_fast:
            _flush(store, pending)
            raise FailFast(f"--fail-fast: {candidate.label} failed on fold {fold.index}: {outcome['error']}")
        if time.monotonic() - flushed[0] >= FLUSH_SECONDS:
            _flush(store, pending)
            flushed[0] = time.monotonic()

    for candidate, fold in missing:
        if isinstance(blobs[candidate.key], str):
            record(candidate, fold, _failure(f"building the estimator: {blobs[candidate.key]}"))
    encoded: dict[tuple[str, int], tuple[Any, Any, str | None]] = {}
    with backend(backend_name, address, n_jobs) as run:
        def encode_task(features_key: str, k: int) -> Any:
            train, validation, y_train, _ = fold_rows(data, folds[k])
            blob = pickle.dumps(definition.encode_features(**settings[features_key]))
            return delayed(_tagged)((features_key, k), encode_fold, path, blob, train, validation, y_train)

        for (features_key, k), (X_train, X_validation, spent, error) in run(encode_task(*n) for n in needed):
            encoded[(features_key, k)] = (X_train, X_validation, error)
            say("encode", f"fold {k} features {settings[features_key] or '(defaults)'}: "
                          f"{'error: ' + error if error else f'{spent:.2f} s'}")
        tasks = []
        for candidate, fold in missing:
            if not isinstance(blobs[candidate.key], bytes):
                continue
            X_train, X_validation, error = encoded[(candidate.features_key, fold.index)]
            if error:
                record(candidate, fold, _failure(error))
                continue
            tasks.append(delayed(_tagged)((candidate, fold), fit_and_score, path, blobs[candidate.key], X_train,
                                          data.y_train[fold.train], X_validation,
                                          data.y_train[fold.validation], metric))
        try:
            for (candidate, fold), outcome in run(tasks):
                record(candidate, fold, {"score": outcome.score, "fit_seconds": outcome.fit_seconds,
                                         "score_seconds": outcome.score_seconds, "error": outcome.error})
        finally:
            _flush(store, pending)
    return len(needed)


def _tagged(tag: Any, function: Callable[..., Any], *args: Any) -> tuple[Any, Any]:
    """Run a task and return its result with the tag that says which task it was (results
    arrive in completion order)."""
    return tag, function(*args)


def _failure(error: str) -> dict[str, Any]:
    return {"score": None, "fit_seconds": 0.0, "score_seconds": 0.0, "error": error}


def _flush(store: ArtifactStore, pending: list[dict[str, Any]]) -> None:
    if pending:
        records.insert(store, "tune_results", list(pending))
        pending.clear()
