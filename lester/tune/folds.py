"""K folds over the training side of the pipeline's split, stable under deletion.

The held-out test rows never enter a fold. A row's fold is decided by hashing its group (a
``group`` split: one customer's rows share a fold, so a customer is never on both sides of
a fold) or its provenance ids, never by its position: forgetting rows leaves every other row
in its fold, which is what lets a refreshed tournament reuse the results of folds whose rows
did not change.

A ``time`` split keeps its test side the latest rows, but the folds of its training side are
assigned by the same hash (not in time order): a validation fold may lie before rows its
model trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lester.errors import LesterError


class FoldError(LesterError, ValueError):
    """The folds cannot be made (too few rows or groups for the number of folds)."""


@dataclass(frozen=True)
class Fold:
    """One fold: positions of its training and validation rows, and a digest of their content."""

    index: int
    train: np.ndarray
    validation: np.ndarray
    fingerprint: str


def assign(rows: pd.DataFrame, k: int, *, by: Sequence[str], seed: int = 0) -> np.ndarray:
    """The fold (0..k-1) of every row, from a hash of the columns ``by`` and the seed.

    >>> rows = pd.DataFrame({"customer": [1, 1, 2, 3, 3, 4]})
    >>> folds = assign(rows, 2, by=["customer"])
    >>> bool(folds[0] == folds[1] and folds[3] == folds[4])
    True
    """
    if k < 2:
        raise FoldError(f"folds = {k}: cross-validation needs at least 2 folds")
    values = rows[list(by)]
    if any(values[c].dtype == object or pd.api.types.is_string_dtype(values[c].dtype) for c in values):
        values = values.astype(str)
    key = f"lestertune{seed:06d}"[-16:]
    hashed = pd.util.hash_pandas_object(values, index=False, hash_key=key).to_numpy()
    return (hashed % np.uint64(k)).astype(np.int64)


def make_folds(rows: pd.DataFrame, k: int, *, by: Sequence[str], seed: int = 0) -> list[Fold]:
    """The ``k`` folds of ``rows`` (the training side of the split), with content digests.

    A fold's digest covers the content of its training and validation rows (provenance ids
    included), so it changes exactly when a deletion or redaction touched the fold.

    >>> rows = pd.DataFrame({"customer": range(20), "x": range(20)})
    >>> folds = make_folds(rows, 4, by=["customer"])
    >>> sorted(int(i) for f in folds for i in f.validation) == list(range(20))
    True
    """
    where = assign(rows, k, by=by, seed=seed)
    empty = [i for i in range(k) if not (where == i).any()]
    if empty:
        groups = rows[list(by)].drop_duplicates().shape[0]
        raise FoldError(f"folds = {k}: fold(s) {empty} got no rows ({len(rows)} training rows in "
                        f"{groups} group(s) of {list(by)}); use fewer folds")
    row_hashes = pd.util.hash_pandas_object(_hashable(rows), index=False).to_numpy()
    folds = []
    for i in range(k):
        validation = np.flatnonzero(where == i)
        train = np.flatnonzero(where != i)
        digest = hashlib.sha256()
        digest.update(f"{k}:{i}:{seed}:{list(by)}".encode())
        digest.update(row_hashes[train].tobytes())
        digest.update(b"|")
        digest.update(row_hashes[validation].tobytes())
        folds.append(Fold(i, train, validation, digest.hexdigest()[:32]))
    return folds


def content_digest(rows: pd.DataFrame) -> str:
    """A digest of the content of ``rows`` (every column, in order).

    >>> content_digest(pd.DataFrame({"a": [1]})) == content_digest(pd.DataFrame({"a": [1]}))
    True
    """
    hashed = pd.util.hash_pandas_object(_hashable(rows), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(map(str, rows.columns)).encode()).hexdigest()[:32]


def _hashable(rows: pd.DataFrame) -> pd.DataFrame:
    # lists (an aggregate's provenance) and other objects hash by their text
    out = rows.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(repr)
    return out
