"""``lester.redact``: replace a source column's value in some rows, in every artifact."""

from __future__ import annotations

import os
from typing import Any

from lester.ivm.maintain import MaintenanceReport, apply_request
from lester.ivm.requests import RequestError
from lester.pipeline.store import ArtifactStore


def redact(
    source: str,
    column: str,
    where: str,
    with_: Any = "[redacted]",
    *,
    run: str | None = None,
    all_runs: bool = False,
    all_rows: bool = False,
    verify: bool = False,
    dry_run: bool = False,
    store: str | os.PathLike | ArtifactStore = ".lester",
) -> MaintenanceReport:
    """Redact ``column`` of the ``source`` rows matching ``where`` (a SQL predicate) with
    ``with_`` in every affected run, as a new version of each.

    Only what depends on the column is recomputed: the pipeline's data preparation runs on
    the matching source rows alone (when the plan allows it; otherwise in full), the
    re-derived prepared rows replace the stored ones, they are encoded with the run's fitted
    encoder, and the model is updated for the changed feature rows. A run none of whose
    artifacts or steps use the column is left alone, and the report says so; a column the
    source does not have raises :class:`~lester.ivm.requests.RequestError` listing its
    columns. A ``where`` matching every row, or more than half of them, needs
    ``all_rows=True`` (``--all-rows``), as for :func:`lester.ivm.forget.forget`.

    Example:
        >>> lt.redact("mails", "mail_text", "mail_text LIKE '%4111%'", "[redacted]", all_runs=True)  # doctest: +SKIP
        <MaintenanceReport redact: redact: 1 run(s) affected, 42 stored row(s) removed or re-derived; wrote 1 new version(s)>
    """
    if not where:
        raise RequestError("redact needs a predicate (where=/--where) naming the rows to redact")
    return apply_request("redact", source=source, ids=None, where=where, column=column, value=with_,
                         run=run, all_runs=all_runs, verify=verify, dry_run=dry_run, store=store,
                         all_rows=all_rows)
