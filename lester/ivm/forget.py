"""``lester.forget``: delete source rows from every artifact of the runs derived from them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from lester.ivm.maintain import MaintenanceReport, apply_request
from lester.pipeline.store import ArtifactStore


def forget(
    source: str,
    ids: Sequence[Any] | None = None,
    *,
    where: str | None = None,
    run: str | None = None,
    all_runs: bool = False,
    all_rows: bool = False,
    verify: bool = False,
    dry_run: bool = False,
    store: str | os.PathLike | ArtifactStore = ".lester",
) -> MaintenanceReport:
    """Forget rows of a source: every affected run gets a new version without them.

    The rows are named by ``ids`` (the source's key values, or row positions for a source
    without a key) or by ``where``, a SQL predicate over the source's columns evaluated with
    DuckDB on the file the run read. The runs affected are found through the catalog's row
    provenance; without ``run`` (one run, or a unique prefix of its id) or ``all_runs=True``
    the request may touch only one run. Each affected run gets a new version (its
    ``parent_run`` is the old one, which is never modified) whose train/test rows, feature
    matrices, labels and predictions no longer contain any row derived from the forgotten
    rows, with the model updated without a retrain (see :mod:`lester.models.unlearning`),
    metrics recomputed and an audit-log entry registered in the same atomic step.

    Nothing is forgotten silently wrong: an unknown source, or an id the source does not
    have (for a source without a key column, ids are row positions: a value given instead is
    refused with a hint to use ``where``), raises :class:`~lester.ivm.requests.RequestError`.
    A ``where`` that matches every row of the source, or more than half of them
    (:data:`~lester.ivm.maintain.SAFETY_SHARE`), is refused unless ``all_rows=True``
    (``--all-rows``) confirms it; a dry run answers it and says so. ``all_rows`` is about
    the source's rows, ``all_runs`` about which runs are maintained.

    A run of a data-preparation pipeline (no model) gets a new version of its prepared rows
    and provenance.

    ``verify=True`` also retrains the pipeline from scratch without the rows and reports
    agreement, metric difference and parameter distance; ``dry_run=True`` only reports what
    would change.

    Example:
        >>> report = lt.forget("customers", [17], run="20261123-1015")   # doctest: +SKIP
        >>> report.changes[0].strategy, report.new_runs                   # doctest: +SKIP
        ('newton_step', ['20261123-101502-4be1f0'])
        >>> lt.forget("customers", where="customer_email = 'a@b.c'", all_runs=True, verify=True)  # doctest: +SKIP
    """
    return apply_request("forget", source=source, ids=ids, where=where, run=run, all_runs=all_runs,
                         verify=verify, dry_run=dry_run, store=store, all_rows=all_rows)
