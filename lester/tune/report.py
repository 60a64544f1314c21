"""The ranked table of a tournament: mean, standard error and fit time per candidate."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lester.tune.space import Candidate

COLUMNS = ("rank", "contender", "candidate", "candidate_key", "params", "features", "mean", "stderr",
           "fit_seconds", "folds", "failed_folds", "error")


def rank(candidates: Sequence[Candidate], results: Mapping[tuple[str, int], Mapping[str, Any]],
         folds: int) -> pd.DataFrame:
    """One row per candidate, best first; a candidate with a failed fold ranks after every
    complete one, with its first error (its mean is over the folds that did complete).

    ``results`` maps ``(candidate.key, fold)`` to ``{score, fit_seconds, error}``.

    >>> c = Candidate("ridge", "sklearn.linear_model.Ridge", {"alpha": 1}, {})
    >>> table = rank([c], {(c.key, 0): {"score": 0.5, "fit_seconds": 0.1, "error": None},
    ...                    (c.key, 1): {"score": 0.7, "fit_seconds": 0.3, "error": None}}, 2)
    >>> round(float(table["mean"][0]), 3), round(float(table["stderr"][0]), 3)
    (0.6, 0.1)
    """
    rows = []
    for candidate in candidates:
        found = [results.get((candidate.key, k)) for k in range(folds)]
        scores = [r["score"] for r in found if r is not None and r.get("error") is None and r.get("score") is not None]
        errors = [r["error"] for r in found if r is not None and r.get("error")]
        fit = [r["fit_seconds"] for r in found if r is not None and r.get("fit_seconds") is not None]
        failed = folds - len(scores)
        mean = float(np.mean(scores)) if scores else math.nan
        stderr = float(np.std(scores, ddof=1) / math.sqrt(len(scores))) if len(scores) > 1 else math.nan
        rows.append({"contender": candidate.contender, "candidate": candidate.label,
                     "candidate_key": candidate.key, "params": candidate.params,
                     "features": candidate.features, "mean": mean, "stderr": stderr,
                     "fit_seconds": float(np.mean(fit)) if fit else math.nan, "folds": len(scores),
                     "failed_folds": failed, "error": errors[0] if errors else None})
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "rank"])
    table["_complete"] = table["failed_folds"] == 0
    table = table.sort_values(["_complete", "mean"], ascending=[False, False], na_position="last",
                              kind="stable").drop(columns="_complete").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def print_table(table: pd.DataFrame, console: Any, metric: str, title: str) -> None:
    """The ranked table on a rich console (errors shown whole, one per failed candidate)."""
    from rich.table import Table

    from lester.cli_params import plain_row

    shown = Table(title=title)
    for name in ("rank", "candidate", f"mean {metric}", "stderr", "fit s", "folds"):
        shown.add_column(name, no_wrap=name == "candidate")
    for row in table.itertuples(index=False):
        plain_row(shown, str(row.rank), row.candidate, _number(row.mean), _number(row.stderr),
                  _number(row.fit_seconds, 3), f"{row.folds}" + (f" ({row.failed_folds} failed)" if row.failed_folds else ""))
    console.print(shown)
    for row in table.itertuples(index=False):
        if row.error:
            console.print(f"failed: {row.candidate}: {row.error}", highlight=False, markup=False)


def _number(value: Any, digits: int = 4) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
