"""Validation that means it: rows of X keep their labels, and NaN equals NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lester.rewrite.comparison import compare_outputs
from lester.rewrite.sandbox import Outputs


def _outputs(X, y, prepared=None) -> Outputs:
    return Outputs("ok", 0.0, X=None if X is None else np.asarray(X, dtype=float),
                   y=None if y is None else np.asarray(y), prepared=prepared)


def test_a_label_paired_with_the_wrong_row_fails():
    # no prepared data to pair rows through: X and y alone, each the same multiset
    X = [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]]
    script = _outputs(X, ["a", "b", "c"])
    swapped = _outputs(X, ["b", "a", "c"])
    report = compare_outputs(script, swapped)
    assert not report.valid
    x_check = next(c for c in report.checks if c.what == "X")
    assert x_check.status == "differ" and "another label" in x_check.detail


def test_rows_in_another_order_with_their_labels_still_match():
    script = _outputs([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], ["a", "b", "c"])
    shuffled = _outputs([[3.0, 0.0], [1.0, 0.0], [2.0, 1.0]], ["c", "a", "b"])
    assert compare_outputs(script, shuffled).valid


def test_rows_with_nan_compare_equal():
    X = [[1.0, np.nan], [np.nan, 2.0], [3.0, 4.0]]
    script, same = _outputs(X, [0, 1, 0]), _outputs([row[:] for row in X], [0, 1, 0])
    report = compare_outputs(script, same)
    assert report.valid, report.text()
    shuffled = _outputs([X[2], X[0], X[1]], [0, 0, 1])
    assert compare_outputs(script, shuffled).valid


def test_prepared_rows_with_nan_and_x_aligned_through_them_match():
    prepared = pd.DataFrame({"age": [31.0, np.nan, 40.0], "city": ["a", None, "c"]})
    X = [[31.0], [np.nan], [40.0]]
    script = _outputs(X, [1, 0, 1], prepared)
    candidate = _outputs([X[1], X[2], X[0]], [0, 1, 1], prepared.iloc[[1, 2, 0]].reset_index(drop=True))
    report = compare_outputs(script, candidate)
    assert report.valid, report.text()
