"""Compare what the original script and a candidate pipeline produced.

* prepared data: a multiset of rows over the original's columns (row order and the
  candidate's extra columns do not matter; ``1`` equals ``1.0``, a date equals its text);
* X: the same rows and, up to column order, the same columns within a float tolerance;
* y: equal (or within the tolerance for floats), row by row; where rows cannot be paired
  through the prepared data, X's rows are compared together with their labels, and a y
  equal only as a multiset is no evidence (``skipped``);
* NaN equals NaN everywhere (prepared cells, X, y, model parameters);
* model: the same estimator class and parameters.

The report says what differed precisely: missing and extra rows with examples, columns of X
that matched no column of the candidate, label mismatches with the rows they belong to.

Example:
    >>> report = compare_outputs(original, candidate)      # doctest: +SKIP
    >>> report.valid, report.text()                         # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lester.rewrite.capture import FEATURE_TABLE
from lester.rewrite.sandbox import Outputs

EXAMPLES = 3


@dataclass
class Check:
    """One comparison: ``what`` (prepared, X, y, model), ``status`` (match, differ, skipped)."""

    what: str
    status: str
    detail: str
    examples: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{self.what}: {self.status.upper()} - {self.detail}"]
        lines += [f"    {e}" for e in self.examples]
        return "\n".join(lines)


@dataclass
class ValidationReport:
    """The checks of one validation; ``valid`` when nothing differed and something matched."""

    checks: list[Check]
    original: str = ""  # where the original's results came from

    @property
    def valid(self) -> bool:
        return any(c.status == "match" for c in self.checks) and not self.differences

    @property
    def differences(self) -> list[Check]:
        return [c for c in self.checks if c.status == "differ"]

    def text(self) -> str:
        return "\n".join(c.text() for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "original": self.original,
                "checks": [vars(c) for c in self.checks]}


def compare_outputs(
    original: Outputs,
    candidate: Outputs,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> ValidationReport:
    """Compare a candidate's outputs with the original's (both runs must have succeeded)."""
    checks: list[Check] = []
    order = None
    if original.prepared is not None:
        # a feature table captured from memory holds the script's own encodings (get_dummies'
        # columns), which a pipeline computes in encode_features: X compares those
        encoded_in_x = original.found.get("prepared") == FEATURE_TABLE and original.X is not None
        check, order = _compare_prepared(original.prepared, candidate.prepared, encoded_in_x)
        checks.append(check)
    for role in ("X", "y"):
        mine, theirs = getattr(original, role), getattr(candidate, role)
        if mine is None:
            continue
        if theirs is None:
            stage = "encode_features" if role == "X" else "extract_label"
            checks.append(Check(role, "differ", f"the script produces {role} ({original.found.get(role, '')}) "
                                f"but the candidate's {stage}() produced none"))
            continue
        rows = _row_orders(order, len(mine), len(theirs))
        # unpaired rows: X is compared together with y, so no label can move to another row
        labels = (original.y, candidate.y) if original.y is not None and candidate.y is not None else None
        if role == "X":
            checks.append(_compare_matrix(mine, theirs, rows, rtol, atol, labels))
            continue
        check = _compare_labels(mine, theirs, rows, rtol, atol, original.prepared, order)
        x_check = next((c for c in checks if c.what == "X"), None)
        paired_in_x = x_check is not None and x_check.status == "match" and _labels_fit(original, candidate)
        if check.status == "match" and rows is None and not paired_in_x:
            # equal as a multiset says nothing of which row carries which label
            check = Check("y", "skipped", f"{check.detail}, but neither the prepared rows nor X pair them "
                          "with rows: a label moved to another row would go unseen, so this is no evidence")
        checks.append(check)
    if original.model is not None:
        checks.append(_compare_model(original.model, candidate.model))
    found = ", ".join(f"{k} from {v}" for k, v in original.found.items())
    if not checks:
        checks.append(Check("outputs", "skipped", "the script produced no prepared data, X, y or model to compare"))
    return ValidationReport(checks, found)


# -- prepared data --------------------------------------------------------------------------
def _compare_prepared(mine: pd.DataFrame, theirs: pd.DataFrame | None, encoded_in_x: bool = False):
    if theirs is None:
        return Check("prepared", "differ", "the candidate's dataprep() produced no rows"), None
    missing = [c for c in mine.columns if c not in theirs.columns]
    examples: list[str] = []
    if missing:
        for column in missing:
            twin = _same_values_column(mine[column], theirs, exclude=set(mine.columns))
            hint = f" (candidate column {twin!r} has the same values: rename it)" if twin else ""
            examples.append(f"column {column!r} is missing{hint}")
    shared = [c for c in mine.columns if c in theirs.columns]
    if not shared:
        return Check("prepared", "differ", f"none of the script's columns {list(mine.columns)} are in the "
                     f"candidate's output {list(theirs.columns)}", examples), None
    left, right = _comparable(mine[shared], theirs[shared])
    left_keys, right_keys = _row_keys(left), _row_keys(right)
    lost = Counter(left_keys) - Counter(right_keys)
    extra = Counter(right_keys) - Counter(left_keys)
    if lost or extra:
        detail = (f"{len(mine)} rows in the script, {len(theirs)} in the candidate: "
                  f"{sum(lost.values())} missing, {sum(extra.values())} extra (over columns {shared})")
        examples += [f"missing row {_row_text(shared, key)}" for key in list(lost)[:EXAMPLES]]
        examples += [f"extra row   {_row_text(shared, key)}" for key in list(extra)[:EXAMPLES]]
        return Check("prepared", "differ", detail, examples), None
    if missing and not encoded_in_x:
        return Check("prepared", "differ", f"the rows match on {shared} but columns are missing", examples), None
    order = (_sort_order(left_keys), _sort_order(right_keys))
    detail = f"{len(mine)} rows x {len(shared)} columns equal as a multiset"
    if missing:
        detail += f"; the {len(missing)} columns the script encoded itself are compared as X"
    return Check("prepared", "match", detail), order


def _comparable(left: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coerce column pairs of different kinds (text vs number, text vs date) to one kind."""
    left, right = left.copy(), right.copy()
    for column in left.columns:
        a, b = left[column], right[column]
        a_num, b_num = _is_numeric(a), _is_numeric(b)
        if a_num != b_num:
            converted = pd.to_numeric(b if a_num else a, errors="coerce")
            original_nulls = (b if a_num else a).isna()
            if (converted.isna() == original_nulls).all():
                if a_num:
                    right[column] = converted
                else:
                    left[column] = converted
        a_date = pd.api.types.is_datetime64_any_dtype(a)
        b_date = pd.api.types.is_datetime64_any_dtype(b)
        if a_date != b_date:
            try:
                if a_date:
                    right[column] = pd.to_datetime(b)
                else:
                    left[column] = pd.to_datetime(a)
            except (ValueError, TypeError):
                pass
    return left, right


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _canonical(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isnan(number):
            return None
        number = float(f"{number:.9g}")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_canonical(v) for v in value)
    return value


def _row_keys(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(_canonical(v) for v in row) for row in frame.itertuples(index=False, name=None)]


def _sort_order(keys: list[tuple]) -> np.ndarray:
    return np.array(sorted(range(len(keys)), key=lambda i: repr(keys[i])), dtype=int)


def _row_text(columns: list[str], key: tuple) -> str:
    return "{" + ", ".join(f"{c}: {v!r}" for c, v in zip(columns, key)) + "}"


def _same_values_column(series: pd.Series, frame: pd.DataFrame, exclude: set[str]) -> str | None:
    wanted = Counter(_canonical(v) for v in series)
    for column in frame.columns:
        if column not in exclude and Counter(_canonical(v) for v in frame[column]) == wanted:
            return column
    return None


# -- X and y ------------------------------------------------------------------------------
def _row_orders(order, mine: int, theirs: int):
    if order is None or len(order[0]) != mine or len(order[1]) != theirs:
        return None
    return order


def _as_float(matrix: np.ndarray) -> np.ndarray | None:
    matrix = np.asarray(matrix)
    if matrix.ndim == 1:
        matrix = matrix.reshape(-1, 1)
    try:
        return matrix.astype(float)
    except (TypeError, ValueError):
        return None


def _compare_matrix(mine, theirs, rows, rtol: float, atol: float, labels=None) -> Check:
    a, b = _as_float(mine), _as_float(theirs)
    if a is None or b is None:
        return Check("X", "differ", "X is not numeric on one side "
                     f"(script {np.asarray(mine).dtype}, candidate {np.asarray(theirs).dtype})")
    if a.shape[0] != b.shape[0]:
        return Check("X", "differ", f"the script's X has {a.shape[0]} rows, the candidate's {b.shape[0]}")
    aligned = rows is not None
    if aligned:
        a, b = a[rows[0]], b[rows[1]]
        same = lambda i, j: np.allclose(a[:, i], b[:, j], rtol=rtol, atol=atol, equal_nan=True)
    else:
        # rows cannot be paired through the prepared data: compare value multisets per column
        sa, sb = np.sort(a, axis=0), np.sort(b, axis=0)
        same = lambda i, j: np.allclose(sa[:, i], sb[:, j], rtol=rtol, atol=atol, equal_nan=True)
    free = list(range(b.shape[1]))
    unmatched: list[int] = []
    pairing: dict[int, int] = {}
    for i in range(a.shape[1]):
        hit = next((j for j in free if same(i, j)), None)
        if hit is None:
            unmatched.append(i)
        else:
            free.remove(hit)
            pairing[i] = hit
    if not unmatched and not free:
        if not aligned:
            ra = _row_multiset(a[:, [i for i in sorted(pairing)]])
            rb = _row_multiset(b[:, [pairing[i] for i in sorted(pairing)]])
            if ra != rb:
                return Check("X", "differ", "every column has the same values, but the rows combine them "
                             "differently (rows could not be paired through the prepared data)")
            if labels is not None and len(labels[0]) == len(a) and len(labels[1]) == len(b):
                pa = _row_multiset(a[:, sorted(pairing)], labels[0])
                pb = _row_multiset(b[:, [pairing[i] for i in sorted(pairing)]], labels[1])
                if pa != pb:
                    moved = sum((pa - pb).values())
                    return Check("X", "differ", f"the same rows of X and the same labels, but {moved} rows of X "
                                 "carry another label than in the script (rows compared with their labels)")
        moved = sum(1 for i, j in pairing.items() if i != j)
        order_note = f", {moved} in another position" if moved else ""
        if not aligned:
            order_note += " (rows compared as a multiset" + (", with their labels)" if labels is not None else ")")
        return Check("X", "match", f"{a.shape[0]} rows x {a.shape[1]} columns equal within rtol={rtol}{order_note}")
    examples = []
    for i in unmatched[:EXAMPLES]:
        closest = max(free, key=lambda j: _agreement(a[:, i], b[:, j]), default=None) if free else None
        values = ", ".join(f"{v:g}" for v in a[:5, i])
        if closest is not None and aligned:
            rows_off = int((~np.isclose(a[:, i], b[:, closest], rtol=rtol, atol=atol, equal_nan=True)).sum())
            examples.append(f"script column {i} [{values}, ...] matches no candidate column; closest is "
                            f"candidate column {closest}, different in {rows_off} of {a.shape[0]} rows")
        else:
            examples.append(f"script column {i} [{values}, ...] matches no candidate column")
    if free:
        examples.append(f"candidate columns {free[:10]} match no script column")
    return Check("X", "differ", f"script X is {a.shape[0]}x{a.shape[1]}, candidate X is "
                 f"{b.shape[0]}x{b.shape[1]}; {len(unmatched)} script columns unmatched", examples)


def _labels_fit(original: Outputs, candidate: Outputs) -> bool:
    """Both sides have one label per row of X, so rows of X can be compared with their labels."""
    return all(o.X is not None and o.y is not None and len(np.asarray(o.y).ravel()) == len(o.X)
               for o in (original, candidate))


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.isclose(a, b, equal_nan=True).mean())


def _row_multiset(matrix: np.ndarray, labels=None) -> Counter:
    """Rows as comparable keys: 9 significant digits, NaN as None (NaN never equals itself,
    so two identical rows with a NaN would otherwise differ)."""
    keys = [tuple(None if math.isnan(v) else float(f"{v:.9g}") for v in row) for row in matrix]
    if labels is not None:
        keys = [key + (_canonical(label),) for key, label in zip(keys, np.asarray(labels).ravel())]
    return Counter(keys)


def _compare_labels(mine, theirs, rows, rtol, atol, prepared, order) -> Check:
    a, b = np.asarray(mine).ravel(), np.asarray(theirs).ravel()
    if len(a) != len(b):
        return Check("y", "differ", f"the script's y has {len(a)} values, the candidate's {len(b)}")
    if rows is not None:
        a, b = a[rows[0]], b[rows[1]]
    else:
        a, b = np.array(sorted(a, key=repr)), np.array(sorted(b, key=repr))
    numeric = _as_float(a) is not None and _as_float(b) is not None
    if numeric:
        fa, fb = a.astype(float), b.astype(float)
        equal = np.isclose(fa, fb, rtol=rtol, atol=atol, equal_nan=True)
    else:
        equal = np.array([_canonical(x) == _canonical(y) for x, y in zip(a, b)])
    if equal.all():
        how = "row by row" if rows is not None else "as a multiset (rows could not be paired)"
        return Check("y", "match", f"{len(a)} labels equal {how}")
    bad = np.flatnonzero(~equal)
    examples = []
    for k in bad[:EXAMPLES]:
        context = ""
        if rows is not None and prepared is not None:
            record = prepared.iloc[int(rows[0][k])].to_dict()
            context = f" for prepared row {record}"
        examples.append(f"script {a[k]!r}, candidate {b[k]!r}{context}")
    return Check("y", "differ", f"{len(bad)} of {len(a)} labels differ", examples)


def _compare_model(mine: dict, theirs: dict | None) -> Check:
    if theirs is None:
        return Check("model", "differ", f"the script fits a {mine['class']} but the candidate has no make_model()")
    if mine["class"] != theirs["class"]:
        return Check("model", "differ", f"the script fits a {mine['class']}, the candidate makes a {theirs['class']}")
    changed = [f"{k}: script {mine['params'][k]!r}, candidate {theirs['params'].get(k)!r}"
               for k in sorted(mine["params"]) if not _same_parameter(mine["params"][k], theirs["params"].get(k))]
    if changed:
        return Check("model", "differ", f"{mine['class']} with different parameters", changed[:EXAMPLES * 2])
    return Check("model", "match", f"{mine['class']} with the same parameters")


def _same_parameter(mine: Any, theirs: Any) -> bool:
    """Equal parameter values, NaN equal to NaN (``missing_values=np.nan`` on both sides).

    >>> _same_parameter(float("nan"), float("nan")), _same_parameter(1, 1.0), _same_parameter(0.3, 0.5)
    (True, True, False)
    """
    if isinstance(mine, float) and isinstance(theirs, float) and math.isnan(mine) and math.isnan(theirs):
        return True
    return mine == theirs
