"""``lt.tune``: a model-selection tournament over a lester pipeline.

The steps: prepare the data once (:mod:`lester.tune.prepare`); expand the contenders' spaces
into candidates (:mod:`lester.tune.space`); look every (candidate, fold) result up in the
catalog by its key (:mod:`lester.tune.records`); fit each fold's encoder once per distinct
encoder setting still needed, then fit and score the missing (candidate, fold) tasks in
parallel (:mod:`lester.tune.backends`), recording each result as it arrives; rank; refit the
winner on the training side and score it on the held-out test split; store the final model,
fitted on all data, as an ordinary lester run (:mod:`lester.tune.final`); plot.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lester.pipeline.config import RunConfig, load_config
from lester.pipeline.definition import Pipeline, load_pipeline
from lester.pipeline.store import ArtifactStore
from lester.tune import records
from lester.tune.errors import TournamentError
from lester.tune.execute import compute
from lester.tune.final import build_estimator, write_pipeline
from lester.tune.prepare import Prepared, prepare
from lester.tune.report import rank
from lester.tune.settings import TuneSettings, load_settings, split_overrides
from lester.tune.space import OWN_MODEL, Candidate, candidates, digest

Progress = Callable[[str, str], None]


@dataclass
class TournamentResult:
    """What a tournament found; ``ranking`` is its ranked table (best first)."""

    tournament_id: str
    metric: str
    ranking: pd.DataFrame
    winner: str | None
    validation_score: float | None
    test_score: float | None
    final_run: str | None
    computed: int
    cached: int
    failed: int
    encoders_fitted: int
    folder: Path
    plots: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    refreshed_from: str | None = None
    winner_changed: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as ``lester tune --json`` prints it."""
        ranking = self.ranking.astype(object).where(self.ranking.notna(), None)
        return {"tournament_id": self.tournament_id, "metric": self.metric, "winner": self.winner,
                "validation_score": self.validation_score, "test_score": self.test_score,
                "final_run": self.final_run, "computed": self.computed, "cached": self.cached,
                "failed": self.failed, "encoders_fitted": self.encoders_fitted, "folder": str(self.folder),
                "plots": self.plots, "seconds": self.seconds, "refreshed_from": self.refreshed_from,
                "winner_changed": self.winner_changed, "ranking": ranking.to_dict(orient="records")}


def tune(
    pipeline: str | os.PathLike | Pipeline | None = None,
    *,
    config: str | os.PathLike | Mapping[str, Any] | TuneSettings | None = None,
    overrides: Sequence[str] = (),
    sources: Mapping[str, str] | None = None,
    store: str | os.PathLike | ArtifactStore = ".lester",
    backend_name: str = "loky",
    address: str | None = None,
    n_jobs: int = -1,
    fail_fast: bool = False,
    final: bool | None = None,
    plots: bool = True,
    progress: Progress | None = None,
    refreshed_from: str | None = None,
) -> TournamentResult:
    """Run a model-selection tournament over a pipeline; every result lands in the catalog.

    ``config`` is ``tune.toml`` (or a mapping of its shape: see :mod:`lester.tune.settings`);
    ``overrides`` are ``--set`` values (``tune.folds=3`` for the tournament, anything else
    for the pipeline's configuration). A (candidate, fold) result already in the catalog
    under the same key is reused, so a repeated tournament computes nothing and a new
    contender computes only itself.

    ``final`` stores the winner as a lester run (default: yes, but for a refresh only when the
    winner changed: ``forget`` and ``redact`` maintain the final run they find).

    Example:
        >>> result = lt.tune("pipeline.py", config="tune.toml")               # doctest: +SKIP
        >>> result.ranking[["rank", "candidate", "mean", "stderr"]].head(3)  # doctest: +SKIP
        >>> result.winner, result.test_score, result.final_run                # doctest: +SKIP
    """
    say = progress or (lambda stage, message: None)
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    tune_overrides, run_overrides = split_overrides(overrides)
    settings = config if isinstance(config, TuneSettings) else load_settings(config, tune_overrides)
    run_config_path = settings.config or ("lester.toml" if os.path.exists("lester.toml") else None)
    run_config_path = os.path.abspath(run_config_path) if run_config_path else None
    base = {"sources": dict(sources)} if sources else None
    run_config = load_config(run_config_path, run_overrides, base=base)
    pipeline = pipeline if pipeline is not None else run_config.pipeline
    if pipeline is None:
        raise TournamentError("no pipeline file: pass one, or set pipeline = \"...\" in lester.toml")
    definition = pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)
    artifacts = store if isinstance(store, ArtifactStore) else ArtifactStore(store)
    records.ensure_tables(artifacts)
    tournament_id = f"T{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    folder = artifacts.root / "tournaments" / tournament_id

    data = prepare(definition, run_config, artifacts, settings.folds, progress=say)
    seconds["prepare"] = data.seconds
    say("prepare", f"{len(data.train)} train+validation / {len(data.test)} test rows, "
                   f"{len(data.folds)} folds ({data.seconds:.2f} s)")
    found = candidates(settings.contenders, {**run_config.features, **settings.features},
                       n_iter=settings.n_iter, seed=settings.seed)
    metric = settings.metric or _default_metric(definition, found[0], data.y_train)
    _check_metric(metric, settings)
    plan = {stage: definition.stage_code(stage) for stage in ("dataprep", "encode_features", "extract_label")}
    if any(c.estimator == OWN_MODEL for c in found):
        plan["make_model"] = definition.stage_code("make_model")
    keys = {(c.key, f.index): digest(["tune-result", f.fingerprint, plan, c.features, c.estimator,
                                      c.params, f.index, len(data.folds), metric]) for c in found for f in data.folds}
    results = _lookup(artifacts, keys)
    cached = len(results)
    missing = [(c, f) for c in found for f in data.folds if (c.key, f.index) not in results]
    say("plan", f"{len(found)} candidates x {len(data.folds)} folds = {len(keys)} tasks: "
                f"{cached} from the catalog, {len(missing)} to compute")

    t0 = time.perf_counter()
    encoders_fitted = compute(definition, data, missing, keys, results, artifacts, metric,
                               backend_name, address, n_jobs, fail_fast, say)
    seconds["tasks"] = time.perf_counter() - t0
    ranking = rank(found, results, len(data.folds))
    failed = int(sum(1 for c, f in missing if results[(c.key, f.index)].get("error")))

    winner_row = ranking.iloc[0] if len(ranking) and ranking["failed_folds"].iloc[0] == 0 else None
    if winner_row is None:
        raise TournamentError(f"every candidate failed on some fold; the first error: "
                              f"{ranking['error'].dropna().iloc[0] if ranking['error'].notna().any() else '?'}")
    winner = next(c for c in found if c.key == winner_row["candidate_key"])
    changed = None
    if refreshed_from is not None:
        changed = records.tournament(artifacts, refreshed_from)["winner"] != winner.label
    if final is None:
        # a refresh keeps the final run that forget or redact already maintained, unless the
        # winner is another candidate now
        final = refreshed_from is None or bool(changed)
    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    final_run = None
    if final:
        final_run, model, X_test = _final_run(folder, definition, winner, tournament_id, run_config, artifacts)
        test_score = _score(model, X_test, data.y_test, metric)
        say("final", f"run {final_run}: the winner refitted on train+validation, stored")
    else:
        test_score, model, X_test = _test_score(artifacts, definition, data, winner, metric, plan, plots)
    seconds["refit"] = time.perf_counter() - t0
    say("test", f"winner {winner.label}: {metric} {test_score:.4f} on the test split")
    plot_paths = {}
    if plots:
        plot_paths = _plots(folder, found, data, results, metric, tournament_id, model, X_test, winner)
    seconds["total"] = time.perf_counter() - started
    result = TournamentResult(tournament_id, metric, ranking, winner.label, float(winner_row["mean"]),
                              test_score, final_run, len(missing), cached, failed, encoders_fitted, folder,
                              plot_paths, seconds, refreshed_from, changed)
    _record(artifacts, result, definition, settings, run_config_path, run_overrides, sources, data,
            found, keys, winner)
    (folder / "summary.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
    return result


def _lookup(store: ArtifactStore, keys: Mapping[tuple[str, int], str]) -> dict[tuple[str, int], dict[str, Any]]:
    hits = records.cached_results(store, list(keys.values()))
    return {task: dict(hits[key]) for task, key in keys.items() if key in hits}


def _check_metric(metric: str, settings: TuneSettings) -> None:
    from sklearn.metrics import get_scorer, get_scorer_names

    try:
        get_scorer(metric)
    except (ValueError, TypeError):
        raise TournamentError(f"{settings.where}: metric = {metric!r} is not a scikit-learn scorer; for example "
                              f"{', '.join(n for n in get_scorer_names() if n in _COMMON_METRICS)}") from None


_COMMON_METRICS = {"accuracy", "roc_auc", "f1", "f1_macro", "r2", "neg_mean_squared_error",
                   "neg_mean_absolute_error", "neg_log_loss", "balanced_accuracy"}


def _default_metric(definition: Pipeline, candidate: Candidate, y: np.ndarray) -> str:
    from sklearn.base import is_classifier

    try:
        estimator = build_estimator(definition, candidate.estimator, candidate.params)
    except Exception:  # noqa: BLE001 - the candidate's own fault is reported by its task
        estimator = None
    if estimator is not None and not is_classifier(estimator):
        return "r2"
    return "roc_auc" if len(np.unique(y)) == 2 else "accuracy"


def _test_score(store: ArtifactStore, definition: Pipeline, data: Prepared, winner: Candidate, metric: str,
                plan: Mapping[str, str], need_model: bool) -> tuple[float, Any, Any]:
    """The winner's test score, from the catalog when this data and setting were scored before
    (a result of "fold" -1) and no plot needs the model itself."""
    key = digest(["tune-test", data.fingerprint, plan, winner.features, winner.estimator, winner.params, metric])
    hit = records.cached_results(store, [key]).get(key)
    if hit is not None and hit["score"] is not None and not need_model:
        return float(hit["score"]), None, None
    started = time.perf_counter()
    score, model, X_test = _refit_and_test(definition, data, winner, metric)
    records.insert(store, "tune_results", [{
        "key": key, "contender": winner.contender, "estimator": winner.estimator, "params": winner.params,
        "features": winner.features, "fold": -1, "fold_fingerprint": data.fingerprint, "metric": metric,
        "score": score, "fit_seconds": time.perf_counter() - started, "score_seconds": 0.0, "error": None,
        "created": datetime.now(timezone.utc).replace(tzinfo=None)}])
    return score, model, X_test


def _refit_and_test(definition: Pipeline, data: Prepared, winner: Candidate, metric: str) -> tuple[float, Any, Any]:
    """The winner refitted on the whole training side (train + validation), scored on test."""
    from sklearn.base import clone

    encoder = definition.encode_features(**winner.features)
    X_train = encoder.fit_transform(data.train[data.data_columns], data.y_train)
    model = clone(build_estimator(definition, winner.estimator, winner.params)).fit(X_train, data.y_train)
    if not len(data.test):
        return float("nan"), model, None
    X_test = encoder.transform(data.test[data.data_columns])
    return _score(model, X_test, data.y_test, metric), model, X_test


def _plots(folder: Path, found: Sequence[Candidate], data: Prepared, results: Mapping[tuple[str, int], Any],
           metric: str, tournament_id: str, model: Any, X_test: Any, winner: Candidate) -> dict[str, str]:
    from lester.tune.plots import fold_boxplots, varying_labels, winner_plot

    labels = varying_labels(found)
    scores = {labels[c.key]: [results[(c.key, f.index)]["score"] for f in data.folds
                        if results[(c.key, f.index)].get("score") is not None] for c in found}
    paths = {"folds": str(fold_boxplots(folder / "folds.png", scores, metric, f"tournament {tournament_id}"))}
    if model is not None and X_test is not None and len(data.y_test):
        drawn = winner_plot(folder / "winner.png", model, X_test, data.y_test, winner.label)
        if drawn is not None:
            paths["winner"] = str(drawn)
    return paths


def _final_run(folder: Path, definition: Pipeline, winner: Candidate, tournament_id: str,
               run_config: Any, store: ArtifactStore) -> tuple[str, Any, Any]:
    from lester.pipeline.runner import run

    if definition.path is None:
        raise TournamentError("the final run needs a pipeline file (lester run imports it by path); "
                              "pass final=False for a pipeline given as a module")
    module = write_pipeline(folder, tournament=tournament_id, original=definition.path, label=winner.label,
                            estimator=winner.estimator, params=winner.params, features=winner.features)
    # the tournament's own configuration, less what the written module now decides itself
    config = RunConfig.from_dict({**run_config.to_dict(), "pipeline": str(module), "model": {}, "features": {}})
    result = run(module, config=config, store=store)
    store.catalog.sync()
    return str(result.run_id), result.model, result.X_test


def _score(model: Any, X_test: Any, y_test: np.ndarray, metric: str) -> float:
    from sklearn.metrics import get_scorer

    return float(get_scorer(metric)(model, X_test, y_test)) if len(y_test) else float("nan")


def _record(store: ArtifactStore, result: TournamentResult, definition: Pipeline, settings: TuneSettings,
            run_config_path: str | None, run_overrides: Sequence[str], sources: Mapping[str, str] | None,
            data: Prepared, found: Sequence[Candidate], keys: Mapping[tuple[str, int], str],
            winner: Candidate) -> None:
    stored_settings = {"tune": settings.raw, "config": run_config_path, "overrides": list(run_overrides),
                       "sources": {k: str(v) for k, v in (sources or {}).items()},
                       "pipeline": str(definition.path) if definition.path else None}
    records.insert(store, "tournaments", [{
        "tournament_id": result.tournament_id, "created": datetime.now(timezone.utc).replace(tzinfo=None),
        "pipeline": str(definition.path), "settings": stored_settings, "metric": result.metric,
        "folds": len(data.folds), "sources": data.sources, "forget_set_seq": data.forget_set_seq,
        "candidates": len(found), "tasks": len(keys), "computed": result.computed, "cached": result.cached,
        "failed": result.failed, "winner": winner.label, "winner_contender": winner.contender,
        "winner_params": winner.params, "winner_features": winner.features,
        "validation_score": result.validation_score, "test_score": result.test_score,
        "final_run": result.final_run, "refreshed_from": result.refreshed_from,
        "winner_changed": result.winner_changed, "seconds": result.seconds.get("total"),
        "folder": str(result.folder),
    }])
    records.insert(store, "tune_tasks", [{"tournament_id": result.tournament_id, "candidate_key": c,
                                          "fold": k, "result_key": key} for (c, k), key in keys.items()])
    rows = result.ranking.astype(object).where(result.ranking.notna(), None).to_dict(orient="records")
    records.insert(store, "tune_ranking", [{"tournament_id": result.tournament_id, **row} for row in rows])
