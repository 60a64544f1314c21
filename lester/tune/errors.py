"""The errors of a tournament that are not about its settings or spaces."""

from __future__ import annotations

from lester.errors import LesterError


class TournamentError(LesterError, RuntimeError):
    """The tournament cannot go on: nothing to rank, an unknown metric, no pipeline file."""


class FailFast(TournamentError):
    """``--fail-fast``: a candidate failed, and the tournament stopped there."""
