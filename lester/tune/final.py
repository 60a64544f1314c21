"""The winner as an ordinary lester run: a pipeline module written for it, run as ``lester run`` runs it.

The tournament writes ``<store>/tournaments/<id>/pipeline.py``: the original pipeline's
``dataprep``, ``extract_label`` and ``encode_features`` (with the winning encoder setting)
and a ``make_model`` that returns the winning estimator. ``lester run`` on that file
reproduces the final model; the run's ``pipeline`` in the catalog names it, and the file
names the tournament, so ``trace``, ``forget`` and ``redact`` treat the final model as any
run and its record leads back to the tournament.

The run uses the pipeline's own split: it is the winner refitted on the whole training side
(train + validation) and scored on the held-out test split, which its test metrics record.
A run of all rows (no test side) would be the better final model, but the store cannot yet
maintain a run with an empty test matrix (reading a zero-row dense matrix back fails), so a
``forget`` over all runs would stop on it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lester.pipeline.definition import Pipeline, load_pipeline
from lester.tune.space import OWN_MODEL, estimator_class

_TEMPLATE = '''"""The winner of lester tournament {tournament} (written by lester tune).

Original pipeline: {original}
Winner: {label}
"""

from lester.tune.final import build_estimator, load_original

TOURNAMENT = {tournament!r}
ORIGINAL = {original!r}

_original = load_original(ORIGINAL)
dataprep = _original.dataprep
extract_label = _original.extract_label


# the settings are written inside the functions: the stage cache keys on their source
def encode_features():
    return _original.encode_features(**{features!r})


def make_model():
    return build_estimator(_original, {estimator!r}, {params!r})
'''


def load_original(path: str | os.PathLike) -> Pipeline:
    """The pipeline a tournament tuned (imported once per process, by its path)."""
    return load_pipeline(path)


def build_estimator(definition: Pipeline, estimator: str, params: Mapping[str, Any]) -> Any:
    """An unfitted estimator: the pipeline's own ``make_model(**params)`` for ``"make_model"``,
    else the class the import path names, called with ``params``.

    >>> build_estimator(None, "sklearn.linear_model.Ridge", {"alpha": 2.0})
    Ridge(alpha=2.0)
    """
    if estimator == OWN_MODEL:
        if definition is None or definition.make_model is None:
            raise ValueError("the contender make_model needs a pipeline that defines make_model()")
        return definition.make_model(**params)
    return estimator_class(estimator)(**params)


def write_pipeline(folder: Path, *, tournament: str, original: Path, label: str, estimator: str,
                   params: Mapping[str, Any], features: Mapping[str, Any]) -> Path:
    """Write the winner's pipeline module into ``folder``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipeline.py"
    path.write_text(_TEMPLATE.format(tournament=tournament, original=str(Path(original).resolve()),
                                     label=label, estimator=estimator, params=dict(params),
                                     features=dict(features)))
    return path
