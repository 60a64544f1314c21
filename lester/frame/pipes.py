"""Running ``Frame.pipe`` functions: a pandas function over a whole frame, provenance by index.

Both engines hand the function the same thing, a pandas DataFrame of the data columns whose
index labels are the input rows' positions shifted by a large offset, and read the result the
same way: each output row's label names the input row it came from, and that row's provenance
ids are copied to it. The offset makes a result with fresh labels (``reset_index``,
``groupby().agg``, ``merge``) stand out instead of silently pairing rows with the wrong ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lester.errors import ExecutionError, PlanError
from lester.frame.plan import Pipe, provenance_column

# Labels far from 0..n, so that a function that renumbers its rows is caught, not believed.
_LABEL_OFFSET = 1 << 40


def pipe_columns(function: Any, columns: tuple[str, ...], name: str,
                 typed: Callable[[], pd.DataFrame] | None = None) -> tuple[str, ...]:
    """The columns ``function`` returns, found by calling it on an empty frame of ``columns``
    (of the input's own types, from ``typed``, when an untyped one is not enough: ``.dt`` needs
    dates).

    Only for functions whose output columns do not depend on the data; the engines check the
    real result against these names.
    """
    try:
        result = function(pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}))
    except Exception:  # noqa: BLE001 - an untyped frame was not enough: try the real types
        result = None
        if typed is not None:
            try:
                result = function(typed())
            except Exception as exc:  # noqa: BLE001 - any failure means: say the columns yourself
                raise PlanError(f"pipe({name}): could not tell which columns it returns by calling it on an "
                                f"empty frame ({type(exc).__name__}: {exc}); pass columns=[...]") from None
        if result is None:
            raise PlanError(f"pipe({name}): could not tell which columns it returns by calling it on an empty "
                            "frame; pass columns=[...]") from None
    if not isinstance(result, pd.DataFrame):
        raise PlanError(f"pipe({name}): the function must return a pandas DataFrame, "
                        f"got {type(result).__name__}")
    return tuple(str(c) for c in result.columns)


def run_pipe(node: Pipe, frame: pd.DataFrame) -> pd.DataFrame:
    """Apply ``node``'s function to an engine's intermediate ``frame`` (data and provenance
    columns, positional rows); return the result in the same layout."""
    child = node.children[0]
    data = frame[list(child.columns)].copy()
    data.index = pd.RangeIndex(_LABEL_OFFSET, _LABEL_OFFSET + len(frame))
    try:
        result = node.function(data)
    except Exception as exc:
        raise ExecutionError(f"{node.describe()}: the function raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, pd.DataFrame):
        raise ExecutionError(f"{node.describe()}: the function must return a pandas DataFrame, "
                             f"got {type(result).__name__}")
    positions = _input_positions(result.index, len(frame))
    if positions is None:
        raise ExecutionError(
            f"{node.describe()}: the function returned rows with index labels it made itself "
            "(reset_index, groupby().agg, merge, concat with ignore_index?), so lester cannot tell which "
            "input row each came from; keep the input's index")
    got = [str(c) for c in result.columns]
    if got != list(node.columns):
        raise ExecutionError(f"{node.describe()}: the function returned columns {got}, not the planned "
                             f"{list(node.columns)} (columns that depend on the data, like get_dummies', "
                             "cannot be planned)")
    out = result.reset_index(drop=True)
    out.columns = got
    for label in node.provenance:
        column = provenance_column(label)
        out[column] = frame[column].iloc[positions].reset_index(drop=True)
    return out


def _input_positions(labels: pd.Index, rows: int) -> np.ndarray | None:
    """The input position each output label names, or None if a label names no input row."""
    if len(labels) == 0:
        return np.zeros(0, dtype=np.int64)
    if not pd.api.types.is_integer_dtype(labels.dtype):
        return None
    positions = labels.to_numpy(dtype=np.int64) - _LABEL_OFFSET
    if not ((positions >= 0) & (positions < rows)).all():
        return None
    return positions
