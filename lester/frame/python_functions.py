"""Running users' Python functions over columns, shared by every engine.

Row-wise functions run through ``map`` over plain Python lists (no ``iterrows``, no per-row
pandas objects). When a function raises, the row is located by re-running row by row, so
the error can name the provenance id of the row that failed.

The error names the function, its columns and the row's provenance id, but not the row's
values (often personal data), which are also cut out of the function's own message: set
:data:`SHOW_VALUES` (``lester run --show-values``, or ``LESTER_SHOW_VALUES=1`` in the
environment, which sandboxed child processes inherit) to see them. The exception's
``arguments`` attribute holds them either way.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lester.errors import ExecutionError, UserFunctionError
from lester.frame.expressions import PyFunc

SHOW_VALUES: bool = False
"""Whether errors of user functions print the failing row's values (default: they do not)."""
SHOW_VALUES_VARIABLE = "LESTER_SHOW_VALUES"
_HIDDEN_NOTE = "values hidden; rerun with --show-values to see them"


def showing_values() -> bool:
    """Whether errors may print row values: :data:`SHOW_VALUES`, or ``$LESTER_SHOW_VALUES``.

    The variable is read when an error is raised, not at import, so a forked sandbox
    child that imported lester earlier still follows its own environment.
    """
    return SHOW_VALUES or os.environ.get(SHOW_VALUES_VARIABLE, "").lower() in ("1", "true", "yes")


@contextmanager
def show_values(on: bool = True) -> Iterator[None]:
    """Within the block, errors print row values (``on``), here and in child processes.

    Example:
        >>> with show_values():                                 # doctest: +SKIP
        ...     frame.to_pandas()
    """
    global SHOW_VALUES
    before, variable = SHOW_VALUES, os.environ.get(SHOW_VALUES_VARIABLE)
    SHOW_VALUES = on
    os.environ[SHOW_VALUES_VARIABLE] = "1" if on else "0"
    try:
        yield
    finally:
        SHOW_VALUES = before
        if variable is None:
            os.environ.pop(SHOW_VALUES_VARIABLE, None)
        else:
            os.environ[SHOW_VALUES_VARIABLE] = variable


def python_values(series: pd.Series | pa.ChunkedArray | pa.Array) -> list[Any]:
    """The column as Python objects, missing values as ``None``."""
    if isinstance(series, (pa.ChunkedArray, pa.Array)):
        kind = series.type
        plain = pa.types.is_string(kind) or pa.types.is_large_string(kind) or (
            (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind))
            and series.null_count == 0
        )
        if plain:  # the fast path; nulls in strings come out as None already
            return series.to_numpy(zero_copy_only=False).tolist()
        if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
            return series.to_pylist()  # stay ints/bools next to nulls, as on the pandas engine
        series = series.to_pandas()
    values = series.tolist()
    if series.hasnans:
        missing = series.isna().tolist()
        values = [None if m else v for v, m in zip(values, missing)]
    return values


def evaluate(
    expression: PyFunc,
    columns: Mapping[str, pd.Series],
    operation: str,
    row_id: Callable[[int], Mapping[str, Any]],
) -> pd.Series | np.ndarray | list[Any]:
    """Evaluate ``expression`` on the given columns; one result per row.

    ``row_id(i)`` returns the provenance ids of row ``i`` for error messages.
    """
    inputs = [columns[c] for c in expression.columns]
    n = len(inputs[0]) if inputs else 0
    if expression.vectorized:
        inputs = [arrow_to_series(c) if isinstance(c, (pa.ChunkedArray, pa.Array)) else c
                  for c in inputs]
        try:
            result = expression.func(*inputs)
        except Exception as exc:
            raise _failure(operation, expression, None, None, exc, inputs) from exc
        if np.ndim(result) == 0 or len(result) != n:
            raise UserFunctionError(
                operation,
                expression.name,
                None,
                None,
                ValueError(f"a vectorized function must return {n} values, one per row"),
            )
        return result
    values = [python_values(s) for s in inputs]
    try:
        return list(map(expression.func, *values))
    except Exception as first:
        for i, args in enumerate(zip(*values)):
            try:
                expression.func(*args)
            except Exception as exc:
                arguments = dict(zip(expression.columns, args))
                raise _failure(operation, expression, row_id(i), arguments, exc,
                               [[a] for a in args]) from exc
        raise _failure(operation, expression, None, None, first, values) from first


def _failure(
    operation: str,
    expression: PyFunc,
    row_id: Mapping[str, Any] | None,
    arguments: Mapping[str, Any] | None,
    cause: BaseException,
    values: Sequence[Iterable[Any]],
) -> UserFunctionError:
    """The error for ``cause``; without the values of ``values`` (one list per column) in
    its message unless values are to be shown."""
    if showing_values():
        return UserFunctionError(operation, expression.name, row_id, arguments, cause)
    detail, masked = without_values(str(cause), dict(zip(expression.columns, values)))
    if arguments is None and not masked:
        # nothing of the data was in the message (a vectorized call, no row): nothing hidden
        return UserFunctionError(operation, expression.name, row_id, None, cause, detail=detail)
    hidden = list(arguments) if arguments is not None else masked
    return UserFunctionError(operation, expression.name, row_id, arguments, cause, detail=detail, hidden=hidden)


def _distinct(values: Iterable[Any]) -> Iterable[Any]:
    # a column of a million rows holds far fewer distinct values; the error path stays quick
    if isinstance(values, pd.Series):
        try:
            return values.dropna().unique()
        except TypeError:  # unhashable values (lists)
            return values
    try:
        return dict.fromkeys(values)
    except TypeError:
        return values


def without_values(text: str, columns: Mapping[str, Iterable[Any]]) -> tuple[str, list[str]]:
    """``text`` with each column's values replaced by ``<column>``; and the columns found.

    Only values of two characters or more are looked for (shorter ones would hit ordinary
    words); booleans and missing values are not personal and stay.

    Example:
        >>> without_values("cannot parse 'ann@x.org'", {"email": ["ann@x.org"]})
        ('cannot parse <email>', ['email'])
    """
    forms: dict[str, str] = {}
    for column, values in columns.items():
        for value in _distinct(values):
            if value is None or isinstance(value, (bool, np.bool_)) or (isinstance(value, float) and math.isnan(value)):
                continue
            for form in (repr(value), str(value)):
                if len(form) >= 2 and form not in forms and form in text:
                    forms[form] = column
    found: list[str] = []
    # longest first: a value's repr (with quotes) goes before the bare value inside it
    for form in sorted(forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, f"<{forms[form]}>")
            if forms[form] not in found:
                found.append(forms[form])
    return text, found


_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.bool_(): pd.BooleanDtype()}


def arrow_to_series(column: pa.ChunkedArray | pa.Array) -> pd.Series:
    """An Arrow column as pandas, integers and booleans nullable (as on the pandas engine)."""
    return pa.table({"c": column}).to_pandas(types_mapper=_NULLABLE.get)["c"]


def as_mask(values: Any, operation: str, function: str) -> np.ndarray:
    """A filter result as a boolean mask; ``None`` counts as false, like SQL's NULL."""
    if isinstance(values, np.ndarray) and values.dtype == bool:
        return values
    if isinstance(values, (pd.Series, pd.api.extensions.ExtensionArray)) and pd.api.types.is_bool_dtype(values):
        return pd.Series(values).fillna(False).to_numpy(dtype=bool)
    try:
        return np.fromiter((bool(v) if v is not None and v == v else False for v in values), bool)
    except Exception as exc:
        raise UserFunctionError(
            operation, function, None, None, TypeError(f"the predicate must return booleans ({exc})")
        ) from exc


def as_column(values: Any) -> pd.Series:
    """A project result as a pandas column with an inferred dtype."""
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    if isinstance(values, np.ndarray):
        return pd.Series(values)
    return pd.Series(values, dtype=_infer_dtype(values))


def _infer_dtype(values: list[Any]) -> Any:
    # Lists and dicts must stay objects; everything else pandas infers (ints with None become
    # floats, as pandas does everywhere).
    for v in values:
        if v is not None:
            return object if isinstance(v, (list, tuple, dict, set)) else None
    return object


def as_arrow_column(values: Any, operation: str, function: str) -> pa.Array:
    """A project result as an Arrow column, typed as pandas would type it.

    Both engines call this, so a function whose results cannot form one column (``"x"``
    next to ``2``, say) fails the same way everywhere, naming the step and the function.
    """
    try:
        if isinstance(values, list):
            try:
                array = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                array = None
            # pandas turns integers next to None into floats; do the same so engines agree
            if array is not None and not (pa.types.is_integer(array.type) and array.null_count):
                return array
        return pa.Array.from_pandas(as_column(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        detail, masked = str(exc), []
        if not showing_values():  # arrow quotes the value it could not convert
            detail, masked = without_values(detail, {"result": values})
        note = f"; {_HIDDEN_NOTE}" if masked else ""
        raise ExecutionError(
            f"{operation}: function {function}() returned values of mixed or unsupported "
            f"types ({detail}{note})"
        ) from None
