"""Validation that means it: rows of X keep their labels, NaN equals NaN, and the model is
the same class with the same parameters."""

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


def test_a_label_moved_to_another_prepared_row_fails():
    # rows paired through the prepared data: the same labels, one pair swapped between rows
    prepared = pd.DataFrame({"id": [1, 2, 3], "age": [31.0, 45.0, 27.0]})
    X = [[31.0], [45.0], [27.0]]
    script = _outputs(X, ["a", "b", "c"], prepared)
    swapped = _outputs(X, ["b", "a", "c"], prepared.copy())
    report = compare_outputs(script, swapped)
    assert not report.valid
    y_check = next(c for c in report.checks if c.what == "y")
    assert y_check.status == "differ" and "2 of 3 labels differ" in y_check.detail


def test_labels_that_no_row_pairs_are_no_evidence():
    # only y to compare, and nothing to pair its values with rows: a multiset match proves nothing
    script, swapped = _outputs(None, ["a", "b", "c"]), _outputs(None, ["c", "a", "b"])
    report = compare_outputs(script, swapped)
    assert not report.valid
    assert [c.status for c in report.checks] == ["skipped"]
    assert "no evidence" in report.checks[0].detail


def _model(cls: str, **params) -> dict:
    return {"class": cls, "module": "sklearn.linear_model", "params": params}


def _with_model(model: dict) -> Outputs:
    outputs = _outputs([[1.0], [2.0]], [0, 1])
    outputs.model = model
    return outputs


def test_another_model_class_or_parameter_fails():
    script = _with_model(_model("LogisticRegression", C=0.3, max_iter=500))
    assert compare_outputs(script, _with_model(_model("LogisticRegression", C=0.3, max_iter=500))).valid
    other_class = compare_outputs(script, _with_model(_model("RidgeClassifier", C=0.3, max_iter=500)))
    assert not other_class.valid and "RidgeClassifier" in other_class.differences[0].detail
    other_value = compare_outputs(script, _with_model(_model("LogisticRegression", C=1.0, max_iter=500)))
    assert not other_value.valid
    assert other_value.differences[0].examples == ["C: script 0.3, candidate 1.0"]


def test_nan_parameters_compare_equal():
    # a parameter that is NaN (missing_values=np.nan) comes back from model.json as a float NaN
    script = _with_model(_model("NanAwareClassifier", missing_values=float("nan"), max_iter=100))
    same = _with_model(_model("NanAwareClassifier", missing_values=float("nan"), max_iter=100))
    report = compare_outputs(script, same)
    assert report.valid, report.text()
