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
from scipy.stats import rankdata
from sklearn.base import is_classifier


def _f1_macro(y: np.ndarray, predictions: np.ndarray) -> float:
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
    ranks = rankdata(scores)
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def evaluate(model: Any, X: Any, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """The runner's metrics of ``model`` on ``X``, ``y`` given its ``predictions``."""
    y, predictions = np.asarray(y), np.asarray(predictions)
    if len(y) == 0:
        return {}
    if is_classifier(model):
        scores = {"accuracy": float(np.mean(y == predictions)), "f1_macro": _f1_macro(y, predictions)}
        classes = np.unique(y)
        if hasattr(model, "predict_proba") and len(classes) == 2:
            scores["roc_auc"] = _roc_auc(y, model.predict_proba(X)[:, 1], classes[1])
        return scores
    y, predictions = y.astype(float), predictions.astype(float)
    residual = y - predictions
    total = ((y - y.mean()) ** 2).sum()
    return {
        "r2": float(1 - (residual**2).sum() / total) if total > 0 else (1.0 if not residual.any() else 0.0),
        "mae": float(np.abs(residual).mean()),
        "rmse": float(np.sqrt((residual**2).mean())),
    }
