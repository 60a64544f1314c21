"""Train/test splits that are stable under deletion.

A row's side is decided by hashing its provenance ids (or its group key) with the seed, not
by its position: deleting other rows never moves a row from train to test, which is what
lets deletion update artifacts incrementally instead of re-splitting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lester.errors import ColumnNotFoundError, PlanError


def _uniform(values: pd.DataFrame, seed: int) -> np.ndarray:
    """A deterministic number in [0, 1) per row, from the row's values and the seed."""
    text = values.astype(str) if any(values[c].dtype == object for c in values) else values
    key = f"lester{seed:012d}"[-16:]
    hashed = pd.util.hash_pandas_object(text, index=False, hash_key=key).to_numpy()
    return (hashed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def split_mask(
    prepared: pd.DataFrame,
    provenance_columns: Sequence[str],
    *,
    kind: str = "random",
    test_size: float = 0.2,
    seed: int = 0,
    group: str | None = None,
    time_column: str | None = None,
) -> np.ndarray:
    """A boolean mask, true for the rows that go to the test set.

    ``random`` hashes each row's provenance ids; ``group`` hashes the ``group`` column so that
    one customer never sits on both sides; ``time`` puts the latest ``test_size`` fraction of
    rows (by ``time_column``) into the test set.

    Example:
        >>> mask = split_mask(rows, ["prov:mails"], test_size=0.25, seed=7)   # doctest: +SKIP
    """
    if not 0 < test_size < 1:
        raise PlanError(f"split: test_size must be between 0 and 1, got {test_size}")
    if len(prepared) == 0:
        return np.zeros(0, dtype=bool)
    if kind == "random":
        return _uniform(prepared[list(provenance_columns)], seed) < test_size
    if kind == "group":
        if group not in prepared.columns:
            raise ColumnNotFoundError("split(kind='group')", [str(group)], list(prepared.columns))
        return _uniform(prepared[[group]], seed) < test_size
    if kind == "time":
        if time_column not in prepared.columns:
            raise ColumnNotFoundError("split(kind='time')", [str(time_column)], list(prepared.columns))
        times = prepared[time_column]
        threshold = times.quantile(1 - test_size, interpolation="lower")
        return (times > threshold).to_numpy()
    raise PlanError(f"split: kind must be 'random', 'group' or 'time', got {kind!r}")
