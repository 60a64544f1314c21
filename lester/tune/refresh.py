"""``lester tune --refresh TOURNAMENT``: a tournament again, after a forget or redact.

A tournament records the position in the store's forget and redaction sets at which it read
its sources; a later request on one of them marks it stale (:func:`stale`), whichever
command or API made the request. Refreshing runs the same tournament again (the stored
settings, the same pipeline): data preparation applies the new sets, and only the
(candidate, fold) results whose fold's rows changed are computed again; the others come from
the catalog. The new tournament records which one it refreshed and whether the winner changed.
"""

from __future__ import annotations

import json
import os
from typing import Any

from lester.pipeline.store import ArtifactStore
from lester.tune import records
from lester.tune.prepare import sources_changed


def stale(store: str | os.PathLike | ArtifactStore = ".lester") -> list[dict[str, Any]]:
    """The tournaments whose sources a forget or redact request touched since they ran (and
    that no refresh has replaced yet).

    Example:
        >>> [t["tournament_id"] for t in stale(".lester")]   # doctest: +SKIP
        ['T20261202-041502-4be1f0']
    """
    artifacts = store if isinstance(store, ArtifactStore) else ArtifactStore(store, create=False)
    if not records.has_tournaments(artifacts):
        return []
    found = records.query(artifacts, "SELECT tournament_id, sources, forget_set_seq, winner, final_run "
                                     "FROM tournaments t WHERE NOT EXISTS (SELECT 1 FROM tournaments n "
                                     "WHERE n.refreshed_from = t.tournament_id) ORDER BY created")
    out = []
    for row in found.to_dict(orient="records"):
        sources = json.loads(row["sources"]) if isinstance(row["sources"], str) else row["sources"]
        if sources_changed(artifacts, row["forget_set_seq"], sources):
            out.append({**row, "sources": sources})
    return out


def refresh(tournament_id: str, *, store: str | os.PathLike | ArtifactStore = ".lester",
            **options: Any) -> Any:
    """Run a stored tournament again with its own settings; the result says whether its
    winner changed (``winner_changed``) and how many results it computed and reused.

    Example:
        >>> result = refresh("T20261202-0415", store=".lester")     # doctest: +SKIP
        >>> result.computed, result.cached, result.winner_changed    # doctest: +SKIP
    """
    from lester.tune.tournament import tune

    artifacts = store if isinstance(store, ArtifactStore) else ArtifactStore(store, create=False)
    before = records.tournament(artifacts, tournament_id)
    settings = before["settings"]
    tune_settings = dict(settings["tune"])
    if settings.get("config") and not tune_settings.get("config"):
        tune_settings["config"] = settings["config"]
    return tune(settings["pipeline"], config=tune_settings, overrides=settings.get("overrides") or (),
                sources=settings.get("sources") or None, store=artifacts,
                refreshed_from=before["tournament_id"], **options)
