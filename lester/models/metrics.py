"""The runner's evaluation metrics, computed with numpy alone.

A new version recomputes its train and test metrics; scikit-learn's metric functions spend
most of their time validating inputs (tens of ms per call on 100k rows), which would dominate
an incremental update. These give the same numbers as the runner's definitions (accuracy,
macro F1 with zero for undefined classes, ROC AUC for binary classifiers with
``predict_proba``; r2, MAE, RMSE for regressors); ``tests/test_ivm_forget.py`` checks that
they agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge


def _codes(values: np.ndarray, classes: np.ndarray | None) -> np.ndarray | None:
    """Positions of ``values`` in the sorted ``classes``; None if some value is not a class."""
    if classes is None or not len(classes):
        return None
    if values.dtype.kind in "iu" and classes.dtype.kind in "iu" and classes[0] == 0 and classes[-1] == len(classes) - 1:
        # classes 0..k-1 (sorted, distinct): a label is its own position
        low, high = (values.min(), values.max()) if len(values) else (0, 0)
        return values if low >= 0 and high < len(classes) else None
    at = np.clip(np.searchsorted(classes, values), 0, len(classes) - 1)
    return at if np.array_equal(classes[at], values) else None


def _f1_macro(y: np.ndarray, predictions: np.ndarray, classes: np.ndarray | None = None) -> float:
    truth, guess = _codes(y, classes), _codes(predictions, classes)
    if truth is not None and guess is not None:  # the model's classes: no sort of the labels
        present = np.bincount(truth, minlength=len(classes)) + np.bincount(guess, minlength=len(classes))
        keep = np.flatnonzero(present > 0)
        remap = np.full(len(classes), -1)
        remap[keep] = np.arange(len(keep))
        truth, guess, k = remap[truth], remap[guess], len(keep)
    else:
        labels, codes = np.unique(np.concatenate([y, predictions]), return_inverse=True)
        truth, guess = codes[: len(y)], codes[len(y):]
        k = len(labels)
    true_positive = np.bincount(truth[truth == guess], minlength=k).astype(float)
    predicted = np.bincount(guess, minlength=k).astype(float)
    actual = np.bincount(truth, minlength=k).astype(float)
    denominator = predicted + actual
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros(k), where=denominator > 0)
    return float(f1.mean())


def _roc_auc(y: np.ndarray, scores: np.ndarray, positive: Any) -> float:
    # The Mann-Whitney statistic with average ranks for ties equals the trapezoidal ROC area.
    is_positive = y == positive
    n_pos = int(is_positive.sum())
    n_neg = len(y) - n_pos
    order = np.argsort(scores)
    ordered = np.asarray(scores)[order]
    first = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # where each run of ties starts
    ends = np.r_[first[1:], len(ordered)]
    average = (first + ends + 1) / 2  # the mean 1-based rank of each run
    ranks = np.repeat(average, ends - first)
    return float((ranks[is_positive[order]].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _dense_vector(values: Any) -> np.ndarray:
    return np.asarray(values.toarray() if sp.issparse(values) else values).ravel()


def predictions_and_scores(model: Any, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``model.predict(X)`` and, for a binary classifier with ``predict_proba``, a score that
    ranks rows as the positive class's probability does (None otherwise).

    Linear models are evaluated directly (``X @ coef + intercept``, as scikit-learn's own
    ``decision_function`` computes it), without the input validation that dominates
    ``predict`` on a stored matrix."""
    if type(model) in (LinearRegression, Ridge) and np.ndim(model.coef_) == 1:
        return _dense_vector(X @ model.coef_) + model.intercept_, None
    if type(model) is LogisticRegression and len(model.classes_) == 2:
        decision = _dense_vector(X @ model.coef_.ravel()) + model.intercept_[0]
        return model.classes_[(decision > 0).astype(int)], decision
    predictions = np.asarray(model.predict(X))
    if is_classifier(model) and hasattr(model, "predict_proba") and len(getattr(model, "classes_", ())) == 2:
        return predictions, model.predict_proba(X)[:, 1]
    return predictions, None


def evaluate(model: Any, X: Any, y: np.ndarray, predictions: np.ndarray,
             scores: np.ndarray | None = None) -> dict[str, float]:
    """The runner's metrics of ``model`` on ``X``, ``y`` given its ``predictions`` (and the
    positive class's scores, if known: then ``X`` is not needed)."""
    y, predictions = np.asarray(y), np.asarray(predictions)
    if len(y) == 0:
        return {}
    if is_classifier(model):
        known = getattr(model, "classes_", None)
        known = np.asarray(known) if known is not None and np.all(known[:-1] < known[1:]) else None
        result = {"accuracy": float(np.mean(y == predictions)), "f1_macro": _f1_macro(y, predictions, known)}
        codes = _codes(y, known)
        classes = np.unique(y) if codes is None else known[np.bincount(codes, minlength=len(known)) > 0]
        if hasattr(model, "predict_proba") and len(classes) == 2:
            if scores is None:
                scores = model.predict_proba(X)[:, 1]
            result["roc_auc"] = _roc_auc(y, scores, classes[1])
        return result
    y, predictions = y.astype(float), predictions.astype(float)
    residual = y - predictions
    total = ((y - y.mean()) ** 2).sum()
    return {
        "r2": float(1 - (residual**2).sum() / total) if total > 0 else (1.0 if not residual.any() else 0.0),
        "mae": float(np.abs(residual).mean()),
        "rmse": float(np.sqrt((residual**2).mean())),
    }
