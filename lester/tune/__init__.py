"""Model-selection tournaments over lester pipelines: ``lt.tune`` and ``lester tune``.

Contenders (estimator import paths with grids or distributions) and the pipeline's own
encoder settings are cross-validated on the training side of the pipeline's split, every
(candidate, fold) result is cached in the catalog, the winner is scored on the held-out test
split and stored, fitted on all data, as an ordinary run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lester import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from lester.tune.errors import TournamentError
    from lester.tune.refresh import refresh, stale
    from lester.tune.tournament import TournamentResult, tune

_EXPORTS = {
    "TournamentError": "lester.tune.errors",
    "TournamentResult": "lester.tune.tournament",
    "refresh": "lester.tune.refresh",
    "stale": "lester.tune.refresh",
    "tune": "lester.tune.tournament",
}
__all__ = ["TournamentError", "TournamentResult", "refresh", "stale", "tune"]
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
