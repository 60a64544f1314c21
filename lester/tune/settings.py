"""A tournament's settings: ``tune.toml`` and ``--set tune.KEY=VALUE``.

::

    config = "lester.toml"          # the pipeline's run configuration (sources, split, ...)
    folds = 5                       # K of the cross-validation on the split's training side
    metric = "roc_auc"              # a scikit-learn scorer name (default: accuracy / r2)
    n_iter = 10                     # draws of a contender with a distribution
    seed = 0                        # of the draws

    [features]                      # the pipeline's encode_features parameters: lists are grids
    min_frequency = [1, 5]

    [[contenders]]
    estimator = "sklearn.linear_model.LogisticRegression"
    params = { C = [0.1, 1.0, 10.0], max_iter = 500 }

    [[contenders]]
    estimator = "sklearn.ensemble.RandomForestClassifier"
    n_iter = 4
    params = { n_estimators = { randint = [50, 200] }, max_depth = { choice = [4, 8] } }

Other ``--set`` keys (``split.seed=3``, ``sources.customers=...``) go to the pipeline's
configuration, layered as ``lester run`` layers them.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from lester.errors import LesterError
from lester.pipeline.config import parse_override
from lester.tune.space import Contender, contenders_from

KEYS = ("config", "folds", "metric", "n_iter", "seed", "features", "contenders")


class TuneSettingsError(LesterError, ValueError):
    """The tournament's settings are malformed; the message names the file or the override."""


@dataclass(frozen=True)
class TuneSettings:
    """Resolved tournament settings; ``raw`` is what is stored with the tournament."""

    contenders: list[Contender]
    features: dict[str, Any] = field(default_factory=dict)
    folds: int = 5
    metric: str | None = None
    n_iter: int = 10
    seed: int = 0
    config: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    where: str = "tune settings"   # the file they came from, for messages


def split_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """``--set`` values for the tournament (``tune.*``) and for the pipeline (the rest).

    >>> split_overrides(["tune.folds=3", "split.seed=2"])
    (['folds=3'], ['split.seed=2'])
    """
    mine, theirs = [], []
    for text in overrides:
        text = text.strip()
        if text.startswith("tune."):
            mine.append(text[len("tune."):])
        else:
            theirs.append(text)
    return mine, theirs


def load_settings(source: str | os.PathLike | Mapping[str, Any] | None, overrides: Sequence[str] = ()) -> TuneSettings:
    """Read ``tune.toml`` (or a mapping of the same shape) and apply ``tune.*`` overrides
    (given without their ``tune.`` prefix, as :func:`split_overrides` returns them).

    >>> s = load_settings({"contenders": [{"estimator": "sklearn.linear_model.Ridge"}]}, ["folds=3"])
    >>> s.folds, [c.name for c in s.contenders]
    (3, ['Ridge'])
    """
    where = "tune settings"
    folder = Path.cwd()
    if source is None:
        raise TuneSettingsError("no tournament settings: pass --config tune.toml (with [[contenders]])")
    if isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
    else:
        path = Path(source)
        where, folder = str(path), path.resolve().parent
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise TuneSettingsError(f"{path}: no such tournament settings file") from None
        except tomllib.TOMLDecodeError as error:
            raise TuneSettingsError(f"{path}: invalid TOML: {error}") from None
    for text in overrides:
        try:
            keys, value = parse_override(text)
        except LesterError as error:
            raise TuneSettingsError(f"--set tune.{text}: {error}") from None
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise TuneSettingsError(f"{where}: unknown keys {unknown}; expected {list(KEYS)}")
    for key in ("folds", "n_iter", "seed"):
        value = data.get(key)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise TuneSettingsError(f"{where}: {key} = {value!r} must be a whole number")
    if data.get("folds") is not None and data["folds"] < 2:
        raise TuneSettingsError(f"{where}: folds = {data['folds']} must be at least 2")
    features = data.get("features") or {}
    if not isinstance(features, Mapping):
        raise TuneSettingsError(f"{where}: [features] must be a table of encode_features parameters")
    config = data.get("config")
    if config is not None:
        config = str(Path(config) if Path(config).is_absolute() else folder / config)
        data["config"] = config
    return TuneSettings(
        contenders=contenders_from(data.get("contenders") or [], where),
        features=dict(features), folds=int(data.get("folds") or 5), metric=data.get("metric"),
        n_iter=int(data.get("n_iter") or 10), seed=int(data.get("seed") or 0), config=config, raw=data,
        where=where,
    )
