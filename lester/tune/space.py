"""Contenders and their spaces: grids (lists) and distributions, expanded into candidates.

A contender is an estimator import path (or ``"make_model"``: the pipeline's own stage) with
a space over its parameters. A list is a grid; a one-key table is a distribution:
``{uniform = [low, high]}``, ``{loguniform = [low, high]}``, ``{randint = [low, high]}``
(``high`` excluded, as numpy's) or ``{choice = [a, b, c]}``. A contender with a
distribution is searched at random, ``n_iter`` draws (its lists then draw as choices); one
of lists only is a full grid. Any other value is fixed. A list value that is a parameter's
*setting* (``ngram_range = [1, 2]``) is written as a one-element grid: ``[[1, 2]]``.

The pipeline's own ``encode_features`` parameters (``features``) are a grid too, crossed with
every contender's candidates: each distinct encoder setting is fitted once per fold.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lester.errors import LesterError

DISTRIBUTIONS = ("uniform", "loguniform", "randint", "choice")
OWN_MODEL = "make_model"


class SpaceError(LesterError, ValueError):
    """A contender or its space is malformed; the message names the contender and parameter."""


@dataclass(frozen=True)
class Contender:
    """One estimator and its parameter space, as the tournament's configuration gives it."""

    name: str
    estimator: str
    space: dict[str, Any] = field(default_factory=dict)
    n_iter: int | None = None


@dataclass(frozen=True)
class Candidate:
    """One setting to score: a contender's parameters and the encoder's.

    >>> Candidate("lr", "sklearn.linear_model.LogisticRegression", {"C": 1.0}, {}).label
    'lr C=1.0'
    """

    contender: str
    estimator: str
    params: dict[str, Any]
    features: dict[str, Any]

    @property
    def label(self) -> str:
        """Contender and settings, as the ranked table shows them."""
        parts = [f"{k}={v!r}" for k, v in sorted(self.params.items())]
        parts += [f"features.{k}={v!r}" for k, v in sorted(self.features.items())]
        return " ".join([self.contender, *parts])

    @property
    def features_key(self) -> str:
        """A digest of the encoder setting: candidates sharing it share each fold's encoder."""
        return digest(self.features)

    @property
    def key(self) -> str:
        """A digest of everything that defines the candidate."""
        return digest([self.estimator, self.params, self.features])


def digest(value: Any) -> str:
    """A short stable digest of a JSON-able value (keys sorted).

    >>> digest({"a": 1}) == digest({"a": 1}) != digest({"a": 2})
    True
    """
    text = json.dumps(value, sort_keys=True, default=repr, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def contenders_from(entries: Sequence[Mapping[str, Any]], where: str = "tune.toml") -> list[Contender]:
    """Contenders from the ``[[contenders]]`` tables of a tournament's configuration.

    Each table has ``estimator`` (an import path, or ``"make_model"``), optional ``name``
    (default: the class name), ``params`` (the space) and ``n_iter``.

    >>> [c.name for c in contenders_from([{"estimator": "sklearn.linear_model.Ridge",
    ...                                     "params": {"alpha": [0.1, 1.0]}}])]
    ['Ridge']
    """
    if not entries:
        raise SpaceError(f"{where}: no contenders; add a [[contenders]] table with estimator = \"...\"")
    contenders, names = [], set()
    for position, entry in enumerate(entries, 1):
        here = f"{where}, contender {position}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("estimator"), str):
            raise SpaceError(f"{here}: needs estimator = \"package.module.Class\" (or \"{OWN_MODEL}\")")
        unknown = sorted(set(entry) - {"estimator", "name", "params", "n_iter"})
        if unknown:
            raise SpaceError(f"{here}: unknown keys {unknown}; expected estimator, name, params, n_iter")
        estimator = entry["estimator"]
        name = str(entry.get("name") or estimator.rsplit(".", 1)[-1])
        if name in names:
            raise SpaceError(f"{here}: a second contender named {name!r}; give it name = \"...\"")
        names.add(name)
        if not isinstance(entry.get("params") or {}, Mapping):
            raise SpaceError(f"{here} ({name}): params must be a table, e.g. params = {{ C = [0.1, 1.0] }}")
        space = dict(entry.get("params") or {})
        for parameter, value in space.items():
            _check_value(value, f"{here} ({name}), parameter {parameter!r}")
        n_iter = entry.get("n_iter")
        if n_iter is not None and not (isinstance(n_iter, int) and not isinstance(n_iter, bool) and n_iter > 0):
            raise SpaceError(f"{here} ({name}): n_iter = {n_iter!r} must be a positive whole number")
        contenders.append(Contender(name, estimator, space, n_iter))
    return contenders


def _check_value(value: Any, where: str) -> None:
    if not _is_distribution(value):
        if isinstance(value, Mapping):
            raise SpaceError(f"{where}: a table must be one distribution, one of {list(DISTRIBUTIONS)}, "
                             f"e.g. {{loguniform = [0.001, 10]}}; got keys {sorted(value)}")
        if isinstance(value, list) and not value:
            raise SpaceError(f"{where}: an empty grid")
        return
    (kind, arguments), = value.items()
    if kind == "choice":
        if not isinstance(arguments, list) or not arguments:
            raise SpaceError(f"{where}: choice needs a non-empty list of values")
        return
    if not (isinstance(arguments, list) and len(arguments) == 2
            and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in arguments)
            and arguments[0] < arguments[1]):
        raise SpaceError(f"{where}: {kind} needs [low, high] with low < high, got {arguments!r}")
    if kind == "loguniform" and arguments[0] <= 0:
        raise SpaceError(f"{where}: loguniform needs low > 0, got {arguments[0]!r}")
    if kind == "randint" and not all(isinstance(a, int) for a in arguments):
        raise SpaceError(f"{where}: randint needs whole numbers, got {arguments!r}")


def _is_distribution(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def is_random(space: Mapping[str, Any]) -> bool:
    """Whether a space holds a distribution (and is so searched at random).

    >>> is_random({"C": [1, 2]}), is_random({"C": {"loguniform": [0.01, 1]}})
    (False, True)
    """
    return any(_is_distribution(v) for v in space.values())


def grid(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of a space of lists (other values fixed), in a stable order.

    >>> grid({"C": [1, 10], "penalty": "l2"})
    [{'C': 1, 'penalty': 'l2'}, {'C': 10, 'penalty': 'l2'}]
    """
    names = sorted(space)
    axes = [space[n] if isinstance(space[n], list) else [space[n]] for n in names]
    return [dict(zip(names, values)) for values in itertools.product(*axes)]


def draw(space: Mapping[str, Any], n_iter: int, seed: int) -> list[dict[str, Any]]:
    """``n_iter`` settings drawn from a space (lists as choices), reproducibly; repeats dropped.

    >>> settings = draw({"C": {"loguniform": [0.01, 1.0]}}, 3, seed=0)
    >>> len(settings), all(0.01 <= s["C"] <= 1.0 for s in settings)
    (3, True)
    """
    rng = np.random.default_rng(seed)
    names = sorted(space)
    drawn, seen = [], set()
    for _ in range(n_iter):
        setting = {name: _sample(space[name], rng) for name in names}
        key = digest(setting)
        if key not in seen:
            seen.add(key)
            drawn.append(setting)
    return drawn


def _sample(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, list):
        return _plain(value[int(rng.integers(len(value)))])
    if not _is_distribution(value):
        return value
    (kind, arguments), = value.items()
    if kind == "choice":
        return _plain(arguments[int(rng.integers(len(arguments)))])
    low, high = arguments
    if kind == "uniform":
        return float(rng.uniform(low, high))
    if kind == "loguniform":
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    return int(rng.integers(low, high))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def candidates(contenders: Sequence[Contender], features: Mapping[str, Any], *,
               n_iter: int = 10, seed: int = 0) -> list[Candidate]:
    """Every candidate of a tournament: each contender's settings crossed with the features grid.

    >>> from lester.tune.space import Contender
    >>> found = candidates([Contender("ridge", "sklearn.linear_model.Ridge", {"alpha": [1, 2]})],
    ...                    {"scale": [True, False]})
    >>> [c.label for c in found]
    ['ridge alpha=1 features.scale=True', 'ridge alpha=1 features.scale=False', 'ridge alpha=2 features.scale=True', 'ridge alpha=2 features.scale=False']
    """
    for parameter, value in features.items():
        if _is_distribution(value) or isinstance(value, Mapping):
            raise SpaceError(f"features.{parameter}: the encoder's settings are a grid (a list), "
                             "not a distribution: each distinct setting is fitted once per fold")
    feature_settings = grid(features)
    found: list[Candidate] = []
    for position, contender in enumerate(contenders):
        if is_random(contender.space):
            settings = draw(contender.space, contender.n_iter or n_iter, seed + position)
        else:
            settings = grid(contender.space)
        for setting in settings:
            for encoder in feature_settings:
                found.append(Candidate(contender.name, contender.estimator, setting, encoder))
    return found


def estimator_class(path: str, where: str = "contender") -> Any:
    """The class an import path names, with a clear error when it does not exist.

    >>> estimator_class("sklearn.linear_model.Ridge").__name__
    'Ridge'
    """
    module_name, _, attribute = path.rpartition(".")
    if not module_name:
        raise SpaceError(f"{where}: estimator {path!r} must be an import path, e.g. "
                         "sklearn.linear_model.LogisticRegression")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SpaceError(f"{where}: estimator {path!r}: cannot import {module_name!r} ({error})") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise SpaceError(f"{where}: estimator {path!r}: {module_name} has no {attribute!r}") from None
