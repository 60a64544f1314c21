"""Provenance questions about stored runs, from Python (the same as ``lester runs/show/trace``)."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from lester.pipeline.store import open_store


def runs(store: str | os.PathLike = ".lester") -> pd.DataFrame:
    """Every stored run, newest first, with its headline test metrics.

    Raises
    ------
    StoreNotFoundError
        ``store`` holds no lester store (nothing is created).
    """
    return open_store(store, create=False).catalog.runs()


def show(run_id: str, store: str | os.PathLike = ".lester") -> dict[str, Any]:
    """One run's record (``run_id`` may be a unique prefix), with its sources and metrics.

    Raises
    ------
    StoreNotFoundError
        ``store`` holds no lester store (nothing is created).
    """
    return open_store(store, create=False).catalog.run(run_id)


def trace(
    source: str | None = None,
    id: Any = None,
    *,
    run: str | None = None,
    train_row: int | None = None,
    test_row: int | None = None,
    store: str | os.PathLike = ".lester",
) -> pd.DataFrame:
    """Trace provenance forwards or backwards.

    ``trace("customers", 17)`` lists every run, split and row (the row is also the feature
    matrix row) derived from customer 17; ``trace(run=RUN, train_row=5)`` lists the source
    rows that training row 5 of RUN came from.

    Example:
        >>> lt.trace("customers", 17)                       # doctest: +SKIP
                       run_id  split  row               model  folder
        0  20261123-101500-ab12cd  train   41  LogisticRegression  /home/.../.lester/runs/...

    A store that does not exist is a ``StoreNotFoundError`` (nothing is created).
    """
    catalog = open_store(store, create=False).catalog
    if source is not None and id is not None:
        return catalog.trace_source_row(source, id)
    if run is not None and (train_row is None) != (test_row is None):
        split, row = ("train", train_row) if train_row is not None else ("test", test_row)
        return catalog.trace_run_row(run, split, row)
    raise TypeError("trace: give source and id, or run with train_row or test_row")
