"""Model unlearning: update a fitted model for removed (and changed) training rows.

A deletion removes rows from the training matrix; a redaction replaces some rows by new ones
(the old rows' contribution goes, the new rows' comes in). :func:`update_model` picks a
strategy from the model's type and says which one it used:

=========================  =====================================================  ======
strategy                   models                                                 exact
=========================  =====================================================  ======
``gram_downdate``          LinearRegression, Ridge: the normal equations from the  yes
                           Gram matrix XᵀX, Xᵀy and the column sums (sklearn's
                           centring for the intercept), downdated row by row
``naive_bayes_counts``     GaussianNB (per-class moments), MultinomialNB,         yes
                           BernoulliNB (per-class feature counts)
``knn_drop_rows``          KNeighborsClassifier / Regressor: the stored rows       yes
                           without the removed ones (the index is rebuilt)
``newton_step``            LogisticRegression (binary and multinomial, l2):        no
                           one Newton step on the new training objective from the
                           old parameters (the influence-function update)
``first_order_steps``      MLPClassifier / MLPRegressor, and torch modules          no
                           (skorch-style ``module_``): a few gradient-based steps
                           on the new objective, warm-started at the old weights
``warm_refit``             anything else: ``fit`` on the reduced matrix, warm-       no
                           started where the model supports ``warm_start``
=========================  =====================================================  ======

Every update works on the stored feature matrix, never on the sources: no data preparation,
no encoding. Deleting several rows is one batched update. The old model is never modified.

Example:
    >>> from sklearn.linear_model import Ridge
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    >>> update = update_model(Ridge().fit(X, y), X, y, remove=[0, 3])
    >>> update.strategy, update.exact
    ('gram_downdate', True)
    >>> bool(np.allclose(update.model.coef_, Ridge().fit(np.delete(X, [0, 3], 0), np.delete(y, [0, 3])).coef_))
    True
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
import scipy.sparse.linalg
from scipy.special import expit, log_expit, logsumexp
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import ThreadpoolController

from lester.errors import LesterError

__all__ = [
    "STRATEGIES",
    "ModelUpdate",
    "UnlearningError",
    "initial_state",
    "model_parameters",
    "strategy_for",
    "update_model",
]


class UnlearningError(LesterError, ValueError):
    """A model cannot be updated for the requested rows (say, a class would vanish)."""


@dataclass
class ModelUpdate:
    """The result of :func:`update_model`.

    Attributes:
        model: the updated model (a new object; the old one is untouched).
        strategy: the strategy's name (see the module docstring).
        exact: whether the result equals a refit on the reduced rows (up to rounding).
        state: sufficient statistics to keep beside the new model so that the next update is a
            cheap downdate (``gram_downdate`` only), else ``None``.
        seconds: time spent.
        detail: a short human-readable note (steps taken, why a fallback was used).
    """

    model: Any
    strategy: str
    exact: bool
    state: dict[str, np.ndarray] | None = None
    seconds: float = 0.0
    detail: str = ""


# -- the rows of an update ------------------------------------------------------------------


def _take(X: Any, rows: np.ndarray) -> Any:
    return X[rows] if not sp.issparse(X) else X.tocsr()[rows]


def stack_rows(a: Any, b: Any) -> Any:
    """The rows of ``a`` then those of ``b`` (sparse if either is)."""
    if sp.issparse(a) or sp.issparse(b):
        return sp.vstack([sp.csr_matrix(a), sp.csr_matrix(b)], format="csr")
    return np.concatenate([np.asarray(a), np.asarray(b)])


@dataclass
class _Delta:
    """Old training rows, which of them go, and which new rows come in."""

    X: Any
    y: np.ndarray
    removed: np.ndarray  # sorted unique row indices into X
    X_add: Any = None
    y_add: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @cached_property
    def keep(self) -> np.ndarray:
        mask = np.ones(self.X.shape[0], dtype=bool)
        mask[self.removed] = False
        return mask

    @cached_property
    def X_removed(self) -> Any:
        return _take(self.X, self.removed)

    @cached_property
    def y_removed(self) -> np.ndarray:
        return self.y[self.removed]

    @property
    def has_added(self) -> bool:
        return self.X_add is not None and self.X_add.shape[0] > 0

    @cached_property
    def X_new(self) -> Any:
        kept = _take(self.X, np.flatnonzero(self.keep))
        return stack_rows(kept, self.X_add) if self.has_added else kept

    @cached_property
    def y_new(self) -> np.ndarray:
        kept = self.y[self.keep]
        return np.concatenate([kept, self.y_add]) if self.has_added else kept


class _NotApplicable(Exception):
    """This strategy cannot handle this update; fall back to a refit (the message says why)."""


# -- exact: least squares and ridge through the Gram matrix ---------------------------------


def _dense(a: Any) -> np.ndarray:
    return a.toarray() if sp.issparse(a) else np.asarray(a)


def _gram_statistics(X: Any, Y: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "gram_n": np.array(float(X.shape[0])),
        "gram_sx": _dense(X.sum(axis=0)).ravel().astype(float),
        "gram_sy": Y.sum(axis=0).astype(float),
        "gram_xtx": _dense(X.T @ X).astype(float),
        "gram_xty": _dense(X.T @ Y).astype(float),
    }


def _as_targets(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return y[:, None] if y.ndim == 1 else y


_MAX_GRAM_FEATURES = 5000


def _gram_downdate(model: Any, delta: _Delta, state: dict | None) -> tuple[Any, dict, str]:
    if getattr(model, "positive", False):
        raise _NotApplicable("positive=True needs a constrained solver")
    d = delta.X.shape[1]
    if d > _MAX_GRAM_FEATURES:
        raise _NotApplicable(f"{d} features: the Gram matrix would be too large")
    old_n = delta.X.shape[0]
    if state is not None and float(state.get("gram_n", -1)) == old_n and state["gram_xtx"].shape == (d, d):
        stats = {k: np.array(v, dtype=float, copy=True) for k, v in state.items() if k.startswith("gram_")}
        how = "downdated the stored Gram matrix"
    else:
        stats = _gram_statistics(delta.X, _as_targets(delta.y))
        how = "built the Gram matrix from the stored X_train, then downdated it"
    if len(delta.removed):
        gone = _gram_statistics(delta.X_removed, _as_targets(delta.y_removed))
        for key in stats:
            stats[key] = stats[key] - gone[key]
    if delta.has_added:
        come = _gram_statistics(delta.X_add, _as_targets(delta.y_add))
        for key in stats:
            stats[key] = stats[key] + come[key]
    return gram_solve(model, stats), stats, how


def gram_solve(model: Any, stats: dict[str, np.ndarray]) -> Any:
    """A copy of the least-squares or ridge ``model`` fitted from its Gram statistics alone
    (``gram_n``, ``gram_sx``, ``gram_sy``, ``gram_xtx``, ``gram_xty``): O(d³), whatever the
    number of rows they sum up."""
    d = stats["gram_xtx"].shape[0]
    n = float(stats["gram_n"])
    if n <= 0:
        raise UnlearningError("the update removes every training row")
    xtx, xty = stats["gram_xtx"], stats["gram_xty"]
    if model.fit_intercept:
        x_mean, y_mean = stats["gram_sx"] / n, stats["gram_sy"] / n
        gram = xtx - n * np.outer(x_mean, x_mean)
        rhs = xty - n * np.outer(x_mean, y_mean)
    else:
        x_mean, y_mean = np.zeros(d), np.zeros(xty.shape[1])
        gram, rhs = xtx, xty
    gram = (gram + gram.T) / 2
    if isinstance(model, Ridge):
        alphas = np.broadcast_to(np.asarray(model.alpha, dtype=float), (rhs.shape[1],))
        w = np.column_stack([
            scipy.linalg.solve(gram + a * np.eye(d), rhs[:, j], assume_a="pos") for j, a in enumerate(alphas)
        ])
    else:  # least squares: the minimum-norm solution, as sklearn's lstsq gives it
        values, vectors = np.linalg.eigh(gram)
        keep = values > values.max(initial=0.0) * 1e-12 * d
        w = vectors[:, keep] @ ((vectors[:, keep].T @ rhs) / values[keep][:, None])
    updated = copy.deepcopy(model)
    single = np.ndim(model.coef_) == 1
    updated.coef_ = w[:, 0] if single else w.T
    intercept = y_mean - x_mean @ w
    if model.fit_intercept:
        updated.intercept_ = float(intercept[0]) if single else intercept
    return updated


# -- exact: naive Bayes ---------------------------------------------------------------------


def _class_index(model: Any, y: np.ndarray) -> np.ndarray:
    index = np.searchsorted(model.classes_, y)
    index = np.clip(index, 0, len(model.classes_) - 1)
    if len(y) and not np.array_equal(model.classes_[index], y):
        unknown = sorted(set(np.asarray(y).tolist()) - set(model.classes_.tolist()), key=str)
        raise _NotApplicable(f"new rows have classes {unknown[:5]} the model has not seen")
    return index


def _per_class_sums(model: Any, X: Any, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class: row counts and feature sums (as a classes × features array)."""
    k = len(model.classes_)
    index = _class_index(model, y)
    onehot = sp.csr_matrix((np.ones(len(y)), (index, np.arange(len(y)))), shape=(k, len(y)))
    return np.bincount(index, minlength=k).astype(float), _dense(onehot @ X)


def _check_classes_survive(counts: np.ndarray, model: Any) -> None:
    if (counts <= 0).any():
        gone = model.classes_[counts <= 0].tolist()
        raise _NotApplicable(f"no training row of class {gone} is left; a refit drops the class")


def _class_log_prior(model: Any, counts: np.ndarray) -> np.ndarray:
    if getattr(model, "class_prior", None) is not None:
        return np.log(np.asarray(model.class_prior, dtype=float))
    if getattr(model, "fit_prior", True):
        return np.log(counts) - np.log(counts.sum())
    return np.full(len(counts), -np.log(len(counts)))


def _nb_alpha(model: Any) -> np.ndarray:
    alpha = np.asarray(model.alpha, dtype=float)
    return alpha if getattr(model, "force_alpha", True) else np.maximum(alpha, 1e-10)


def _discrete_nb(model: Any, delta: _Delta, state: dict | None) -> tuple[Any, None, str]:
    def prepare(X: Any) -> Any:
        if isinstance(model, BernoulliNB) and model.binarize is not None:
            return (X > model.binarize).astype(float)
        return X

    counts = model.class_count_.astype(float).copy()
    features = model.feature_count_.astype(float).copy()
    if len(delta.removed):
        c, f = _per_class_sums(model, prepare(delta.X_removed), delta.y_removed)
        counts, features = counts - c, features - f
    if delta.has_added:
        c, f = _per_class_sums(model, prepare(delta.X_add), delta.y_add)
        counts, features = counts + c, features + f
    _check_classes_survive(counts, model)
    features = np.maximum(features, 0.0)  # rounding must not make a count negative
    alpha = _nb_alpha(model)
    updated = copy.deepcopy(model)
    updated.class_count_, updated.feature_count_ = counts, features
    smoothed = features + alpha
    if isinstance(model, BernoulliNB):
        updated.feature_log_prob_ = np.log(smoothed) - np.log(counts + 2 * alpha)[:, None]
    else:
        updated.feature_log_prob_ = np.log(smoothed) - np.log(smoothed.sum(axis=1))[:, None]
    updated.class_log_prior_ = _class_log_prior(model, counts)
    return updated, None, "per-class feature counts"


def _moments(X: Any) -> tuple[float, np.ndarray, np.ndarray]:
    """Row count, mean and sum of squared deviations of each column."""
    X = _dense(X).astype(float)
    mean = X.mean(axis=0)
    return float(len(X)), mean, ((X - mean) ** 2).sum(axis=0)


def _combine(a: tuple, b: tuple, sign: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Chan's pairwise update: add (sign=+1) or remove (sign=-1) the moments ``b``."""
    n_a, mean_a, m2_a = a
    n_b, mean_b, m2_b = b
    if n_b == 0:
        return a
    if sign > 0:
        n = n_a + n_b
        delta = mean_b - mean_a
        return n, mean_a + delta * n_b / n, m2_a + m2_b + delta**2 * n_a * n_b / n
    n = n_a - n_b
    if n <= 0:
        return 0.0, np.zeros_like(mean_a), np.zeros_like(m2_a)
    mean = (n_a * mean_a - n_b * mean_b) / n
    return n, mean, m2_a - m2_b - (mean_b - mean) ** 2 * n * n_b / n_a


def _gaussian_nb(model: Any, delta: _Delta, state: dict | None) -> tuple[Any, None, str]:
    k = len(model.classes_)
    stats = [
        (float(model.class_count_[c]), model.theta_[c].astype(float),
         (model.var_[c] - model.epsilon_) * model.class_count_[c])
        for c in range(k)
    ]
    for X, y, sign in ((delta.X_removed, delta.y_removed, -1), (delta.X_add, delta.y_add, +1)):
        if X is None or X.shape[0] == 0:
            continue
        index = _class_index(model, y)
        for c in np.unique(index):
            stats[c] = _combine(stats[c], _moments(_take(X, np.flatnonzero(index == c))), sign)
    counts = np.array([s[0] for s in stats])
    _check_classes_survive(counts, model)
    # epsilon_ is var_smoothing times the largest variance of any feature over all rows
    total = stats[0]
    for s in stats[1:]:
        total = _combine(total, s, +1)
    epsilon = model.var_smoothing * np.max(np.maximum(total[2], 0.0) / total[0])
    updated = copy.deepcopy(model)
    updated.class_count_ = counts
    updated.theta_ = np.array([s[1] for s in stats])
    updated.var_ = np.array([np.maximum(s[2], 0.0) / s[0] for s in stats]) + epsilon
    updated.epsilon_ = epsilon
    if model.priors is None:
        updated.class_prior_ = counts / counts.sum()
    return updated, None, "per-class means and variances"


# -- exact: k nearest neighbours ------------------------------------------------------------


def _knn_drop_rows(model: Any, delta: _Delta, state: dict | None) -> tuple[Any, None, str]:
    if delta.X_new.shape[0] < model.n_neighbors:
        raise UnlearningError(
            f"only {delta.X_new.shape[0]} training rows would be left for {model.n_neighbors} neighbours"
        )
    # A k-NN model is its stored rows: dropping them (and rebuilding the search index) is exact.
    return clone(model).fit(delta.X_new, delta.y_new), None, "dropped the stored rows, rebuilt the index"


# -- approximate: a Newton step for logistic regression ------------------------------------


def _with_intercept(X: Any, fit_intercept: bool) -> Any:
    if not fit_intercept:
        return X
    ones = np.ones((X.shape[0], 1))
    return sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([np.asarray(X, float), ones])


def _sample_weights(model: Any, y: np.ndarray) -> np.ndarray:
    weights = model.class_weight
    if weights is None:
        return np.ones(len(y))
    classes, index = np.unique(y, return_inverse=True)
    if weights == "balanced":
        per_class = len(y) / (len(classes) * np.bincount(index))
    else:
        per_class = np.array([weights.get(c, 1.0) for c in classes], dtype=float)
    return per_class[index]


def _logistic_penalty(model: Any, d: int) -> tuple[float, np.ndarray]:
    """(C, the diagonal of the penalty's Hessian over [coef, intercept])."""
    penalty = getattr(model, "penalty", "l2")
    l1_ratio = getattr(model, "l1_ratio", 0.0) or 0.0
    if penalty in ("l1", "elasticnet") or (penalty in ("deprecated", "l2") and l1_ratio > 0):
        raise _NotApplicable("an l1 penalty is not twice differentiable")
    C = float(model.C)
    none = penalty is None or penalty == "none" or not np.isfinite(C)
    diagonal = np.zeros(d + int(model.fit_intercept)) if none else np.ones(d + int(model.fit_intercept))
    if model.fit_intercept:
        # liblinear penalises the intercept as a weight on a constant feature intercept_scaling
        diagonal[-1] = 1.0 / model.intercept_scaling**2 if model.solver == "liblinear" and not none else 0.0
    return (1.0 if not np.isfinite(C) else C), diagonal


def _augmented_gradient(X: Any, v: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """[Xᵀv, Σv] (the intercept as a constant column) without building [X, 1]."""
    g = np.asarray(X.T @ v).ravel()
    return np.append(g, v.sum()) if fit_intercept else g


def _augmented_hessian(X: Any, w: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """[X, 1]ᵀ diag(w) [X, 1] without building [X, 1]."""
    Xw = X.multiply(w[:, None]).tocsr() if sp.issparse(X) else X * w[:, None]
    top = _dense(X.T @ Xw)
    if not fit_intercept:
        return top
    column = np.asarray(Xw.sum(axis=0)).ravel()
    return np.block([[top, column[:, None]], [column[None, :], np.array([[w.sum()]])]])


def _binary_logistic_parts(model: Any, X: Any, y: np.ndarray, theta: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
    """The data terms of the binary logistic objective's gradient and Hessian at ``theta``
    (rows weighted by C; no penalty)."""
    d = X.shape[1]
    z = np.asarray(X @ theta[:d]).ravel() + (theta[d] if model.fit_intercept else 0.0)
    p = expit(z)
    t = (y == model.classes_[1]).astype(float)
    return (_augmented_gradient(X, C * (p - t), model.fit_intercept),
            _augmented_hessian(X, C * p * (1 - p), model.fit_intercept))


def _binary_logistic_theta(model: Any) -> np.ndarray:
    return np.append(model.coef_.ravel(), model.intercept_) if model.fit_intercept else model.coef_.ravel().copy()


def logistic_state(model: Any, X: Any, y: np.ndarray) -> dict[str, np.ndarray] | None:
    """What a Newton update of a binary logistic regression needs from all its training rows:
    the objective's Hessian at the fitted parameters and the gradient the solver left
    (``None`` where the fast update does not apply). O(n·d²), paid once per fitted model."""
    if not _fast_logistic_applies(model):
        return None
    d = X.shape[1]
    C, pen = _logistic_penalty(model, d)
    theta = _binary_logistic_theta(model)
    y = np.asarray(y)
    gradient, hessian = _binary_logistic_parts(model, X, y, theta, C)
    return {"logit_theta": theta, "logit_hessian": hessian + np.diag(pen),
            "logit_residual": gradient + pen * theta, "logit_n": np.array(float(X.shape[0])),
            **certificate_terms(model, X, y)}


def certificate_terms(model: Any, X: Any, y: np.ndarray) -> dict[str, np.ndarray]:
    """What :func:`lester.models.downdate.downdate` needs beside the Hessian to bound the
    gradient a Newton step from stored statistics leaves: ``logit_cube`` (C·Σ‖x̃ᵢ‖³ over the
    rows, x̃ with the intercept's 1: it bounds the objective's third derivative), the number
    of positive rows, the bound so far (0: the solver's own residual is the reference) and
    the budget (the solver's stopping tolerance on this objective: C·n·tol)."""
    C, _ = _logistic_penalty(model, X.shape[1])
    return {"logit_cube": np.array(C * float(np.sum(row_norms(X, model.fit_intercept) ** 3))),
            "logit_pos": np.array(float(np.count_nonzero(np.asarray(y) == model.classes_[1]))),
            "logit_bound": np.array(0.0),
            "logit_budget": np.array(C * float(X.shape[0]) * float(model.tol))}


def row_norms(X: Any, fit_intercept: bool) -> np.ndarray:
    """‖[xᵢ, 1]‖ (or ‖xᵢ‖ without an intercept) of each row."""
    squares = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else np.einsum("ij,ij->i", X, X)
    return np.sqrt(squares + float(fit_intercept))


def _fast_logistic_applies(model: Any) -> bool:
    if len(model.classes_) != 2 or model.class_weight is not None:
        return False  # balanced weights change with the class counts: every row's weight moves
    try:
        _logistic_penalty(model, model.coef_.shape[1])
    except _NotApplicable:
        return False
    return model.coef_.shape[1] <= _MAX_GRAM_FEATURES


def _binary_logistic_update(model: Any, delta: _Delta, state: dict | None) -> tuple[Any, dict, str]:
    """Newton steps on the new objective with the Hessian kept in the state (downdated by the
    removed rows, updated by the added ones) and exact gradients: the gradient of the new
    objective at θ is the stored residual's change, so the first step touches the changed
    rows only; each further step is one O(n·d) pass over the stored matrix (no copy)."""
    X, y, d = delta.X, delta.y, delta.X.shape[1]
    C, pen = _logistic_penalty(model, d)
    theta0 = _binary_logistic_theta(model)
    how = "stored Hessian"
    if (state is None or "logit_hessian" not in state or float(state.get("logit_n", -1)) != X.shape[0]
            or state["logit_hessian"].shape != (len(theta0), len(theta0))
            or not np.allclose(state["logit_theta"], theta0, rtol=0, atol=1e-12)):
        state = logistic_state(model, X, y)
        how = "Hessian of the stored X_train"
    hessian = np.array(state["logit_hessian"], dtype=float, copy=True)
    residual = np.asarray(state["logit_residual"], dtype=float)
    gradient = np.zeros_like(theta0)
    if len(delta.removed):
        g, h = _binary_logistic_parts(model, delta.X_removed, delta.y_removed, theta0, C)
        gradient, hessian = gradient - g, hessian - h
    if delta.has_added:
        g, h = _binary_logistic_parts(model, delta.X_add, delta.y_add, theta0, C)
        gradient, hessian = gradient + g, hessian + h
    # gradient = grad F_new(θ0) - residual: the old rows' terms cancel
    target = (y == model.classes_[1]).astype(float)
    keep_weight = C * delta.keep
    target_add = (delta.y_add == model.classes_[1]).astype(float) if delta.has_added else None

    def scores(M: Any, theta: np.ndarray) -> np.ndarray:
        return expit(np.asarray(M @ theta[:d]).ravel() + (theta[d] if model.fit_intercept else 0.0))

    def new_gradient(theta: np.ndarray) -> np.ndarray:
        g = _augmented_gradient(X, keep_weight * (scores(X, theta) - target), model.fit_intercept)
        if delta.has_added:
            g = g + _augmented_gradient(delta.X_add, C * (scores(delta.X_add, theta) - target_add), model.fit_intercept)
        return g + pen * theta - residual

    def new_hessian(theta: np.ndarray) -> np.ndarray:
        p = scores(X, theta)
        h = _augmented_hessian(X, keep_weight * p * (1 - p), model.fit_intercept) + np.diag(pen)
        if delta.has_added:
            pa_ = scores(delta.X_add, theta)
            h = h + _augmented_hessian(delta.X_add, C * pa_ * (1 - pa_), model.fit_intercept)
        return h

    theta, steps, first = theta0, 0, np.linalg.norm(gradient)
    for _ in range(8):
        if np.linalg.norm(gradient) <= max(1e-10, 1e-4 * first) or not first:
            break
        if steps == 2:  # a large change: the moved Hessian converges slowly, use the exact one
            hessian = new_hessian(theta)
            how += ", then exact Hessians"
        theta = theta - _solve_symmetric(hessian, gradient)
        steps += 1
        gradient = new_gradient(theta)
    updated = copy.deepcopy(model)
    updated.coef_ = theta[:d][None, :]
    if model.fit_intercept:
        updated.intercept_ = theta[d:].copy()
    # The Hessian was moved to the new rows at θ0, not re-evaluated at the new θ: close, and
    # only the step size depends on it (the gradients are exact).
    new_state = {"logit_theta": theta, "logit_hessian": hessian, "logit_residual": residual,
                 "logit_n": np.array(float(len(delta.y) - len(delta.removed) + (len(delta.y_add) if delta.has_added else 0)))}
    return updated, new_state, f"{steps} Newton step{'s' if steps != 1 else ''} ({how})"


def _logistic_newton(model: Any, delta: _Delta, state: dict | None) -> tuple[Any, dict | None, str]:
    y = delta.y_new if not _fast_logistic_applies(model) else None
    if y is None:
        # a class vanishes only if the update removes all its rows: counted, not sorted
        vanishing = [c for c in model.classes_ if np.count_nonzero(delta.y == c) == np.count_nonzero(delta.y_removed == c)
                     and not (delta.has_added and np.count_nonzero(delta.y_add == c))]
        if vanishing:
            raise _NotApplicable(f"classes {sorted(vanishing)} would vanish")
        if delta.has_added:
            _class_index(model, delta.y_add)
        return _binary_logistic_update(model, delta, state)
    present = np.unique(y)
    if len(present) < len(model.classes_):
        raise _NotApplicable(f"classes {sorted(set(model.classes_) - set(present))} would vanish")
    _class_index(model, y)
    d = delta.X.shape[1]
    C, pen = _logistic_penalty(model, d)
    s = C * _sample_weights(model, y)
    binary = len(model.classes_) == 2

    def objective_on(X: Any, labels: np.ndarray, weights: np.ndarray) -> Any:
        Xa = _with_intercept(X, model.fit_intercept)
        if binary:
            return _BinaryLogistic(Xa, (labels == model.classes_[1]).astype(float), weights, pen)
        return _MultinomialLogistic(Xa, (labels[:, None] == model.classes_[None, :]).astype(float), weights, pen)

    if binary:
        theta = np.append(model.coef_.ravel(), model.intercept_) if model.fit_intercept else model.coef_.ravel().copy()
    else:
        W = np.column_stack([model.coef_, model.intercept_]) if model.fit_intercept else model.coef_.copy()
        theta = W.ravel()
    objective = objective_on(delta.X_new, y, s)
    # The solver stopped the old model short of the exact optimum (within its tol); the residual
    # gradient r0 it left is kept, not "finished": the update solves grad F_new(θ) = r0, so it
    # moves by the effect of the changed rows alone (the influence-function update), exactly
    # as a retrain with the same solver would, rather than by the old fit's slack as well.
    residual = objective_on(delta.X, delta.y, C * _sample_weights(model, delta.y)).gradient(theta)
    steps, value = 0, objective.value(theta) - residual @ theta
    gradient = objective.gradient(theta) - residual
    first = np.linalg.norm(gradient)
    for _ in range(3):  # Newton converges in one step, two at most, for a small change of the data
        if np.linalg.norm(gradient) <= max(1e-10 * max(1.0, abs(value)), 1e-4 * first * (steps > 0)):
            break
        step = objective.solve(theta, gradient)
        scale, new_value = 1.0, objective.value(theta - step) - residual @ (theta - step)
        while new_value > value and scale > 1e-3:  # backtrack if the quadratic model overshoots
            scale /= 2
            new_value = objective.value(theta - scale * step) - residual @ (theta - scale * step)
        if new_value > value:
            break
        theta, value, steps = theta - scale * step, new_value, steps + 1
        gradient = objective.gradient(theta) - residual
    updated = copy.deepcopy(model)
    if binary:
        updated.coef_ = theta[:d][None, :]
        updated.intercept_ = theta[d:] if model.fit_intercept else model.intercept_
    else:
        W = theta.reshape(len(model.classes_), -1)
        updated.coef_ = W[:, :d].copy()
        if model.fit_intercept:
            updated.intercept_ = W[:, d].copy()
    return updated, None, f"{steps} Newton step{'s' if steps != 1 else ''}"


class _BinaryLogistic:
    """sum_i s_i log(1 + exp(-y±_i x_i·θ)) + ½ θᵀ diag(pen) θ, with s_i = C times the class weight."""

    def __init__(self, X: Any, target: np.ndarray, s: np.ndarray, pen: np.ndarray):
        self.X, self.t, self.s, self.pen = X, target, s, pen

    def value(self, theta: np.ndarray) -> float:
        z = self.X @ theta
        losses = -(self.t * log_expit(z) + (1 - self.t) * log_expit(-z))
        return float(self.s @ losses + 0.5 * theta @ (self.pen * theta))

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        p = expit(self.X @ theta)
        return self.X.T @ (self.s * (p - self.t)) + self.pen * theta

    def solve(self, theta: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        p = expit(self.X @ theta)
        curvature = self.s * p * (1 - p)
        n_params = len(theta)
        if n_params <= 2000:
            Xw = self.X.multiply(curvature[:, None]) if sp.issparse(self.X) else self.X * curvature[:, None]
            hessian = _dense(self.X.T @ Xw) + np.diag(self.pen)
            return _solve_symmetric(hessian, gradient)
        operator = scipy.sparse.linalg.LinearOperator(
            (n_params, n_params), matvec=lambda v: self.X.T @ (curvature * (self.X @ v)) + self.pen * v
        )
        return _conjugate_gradient(operator, gradient)


class _MultinomialLogistic:
    """The softmax loss over a classes × (features + 1) parameter matrix, flattened."""

    def __init__(self, X: Any, target: np.ndarray, s: np.ndarray, pen: np.ndarray):
        self.X, self.T, self.s, self.pen = X, target, s, pen
        self.k = target.shape[1]

    def _split(self, theta: np.ndarray) -> np.ndarray:
        return theta.reshape(self.k, -1)

    def _probabilities(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Z = _dense(self.X @ self._split(theta).T)
        log_p = Z - logsumexp(Z, axis=1, keepdims=True)
        return log_p, np.exp(log_p)

    def value(self, theta: np.ndarray) -> float:
        W = self._split(theta)
        log_p, _ = self._probabilities(theta)
        return float(-(self.s * (self.T * log_p).sum(axis=1)).sum() + 0.5 * (W * W * self.pen).sum())

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        _, P = self._probabilities(theta)
        G = _dense(self.X.T @ (self.s[:, None] * (P - self.T))).T + self._split(theta) * self.pen
        return G.ravel()

    def solve(self, theta: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        _, P = self._probabilities(theta)
        n_params = len(theta)

        def hessian_times(v: np.ndarray) -> np.ndarray:
            V = self._split(v)
            Z = _dense(self.X @ V.T)
            R = P * Z - P * (P * Z).sum(axis=1, keepdims=True)
            return (_dense(self.X.T @ (self.s[:, None] * R)).T + V * self.pen).ravel()

        operator = scipy.sparse.linalg.LinearOperator((n_params, n_params), matvec=hessian_times)
        # The intercepts' common shift leaves the loss unchanged: the Hessian is singular along it,
        # the gradient is orthogonal to it, and conjugate gradients stay in its complement.
        return _conjugate_gradient(operator, gradient)


def _solve_symmetric(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return scipy.linalg.solve(matrix, rhs, assume_a="pos")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return np.linalg.lstsq(matrix, rhs, rcond=None)[0]


def _conjugate_gradient(operator: Any, rhs: np.ndarray) -> np.ndarray:
    solution, _ = scipy.sparse.linalg.cg(operator, rhs, rtol=1e-10, atol=0.0, maxiter=10 * len(rhs))
    return solution


# -- approximate: first-order steps for neural networks ------------------------------------

_ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    # name -> (activation, its derivative expressed through the activation's output)
    "identity": (lambda z: z, lambda a: np.ones_like(a)),
    "logistic": (expit, lambda a: a * (1 - a)),
    "tanh": (np.tanh, lambda a: 1 - a**2),
    "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(a.dtype)),
}


class _MLPObjective:
    """scikit-learn's MLP training loss (mean loss + alpha/2n ‖W‖²) and its gradient."""

    def __init__(self, model: Any, X: Any, y: np.ndarray):
        self.model = model
        self.X = X
        self.n = X.shape[0]
        self.shapes = [(w.shape, b.shape) for w, b in zip(model.coefs_, model.intercepts_, strict=True)]
        self.hidden, self.hidden_grad = _ACTIVATIONS[model.activation]
        self.out = model.out_activation_
        if isinstance(model, MLPClassifier):
            if self.out == "logistic" and len(model.classes_) == 2:
                self.Y = (y == model.classes_[1]).astype(float)[:, None]
            elif self.out == "softmax":
                _class_index(model, y)
                self.Y = (y[:, None] == model.classes_[None, :]).astype(float)
            else:
                raise _NotApplicable("multi-label MLPs are refitted")
        else:
            Y = np.asarray(y, dtype=float)
            self.Y = Y[:, None] if Y.ndim == 1 else Y

    def pack(self) -> np.ndarray:
        return np.concatenate([p.ravel() for w, b in zip(self.model.coefs_, self.model.intercepts_, strict=True) for p in (w, b)])

    def unpack(self, theta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        coefs, intercepts, at = [], [], 0
        for w_shape, b_shape in self.shapes:
            size = int(np.prod(w_shape))
            coefs.append(theta[at:at + size].reshape(w_shape))
            at += size
            intercepts.append(theta[at:at + b_shape[0]])
            at += b_shape[0]
        return coefs, intercepts

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        coefs, intercepts = self.unpack(theta)
        activations = [self.X]
        for i, (w, b) in enumerate(zip(coefs, intercepts, strict=True)):
            z = _dense(activations[-1] @ w) + b
            if i < len(coefs) - 1:
                activations.append(self.hidden(z))
            elif self.out == "softmax":
                log_p = z - logsumexp(z, axis=1, keepdims=True)
                activations.append(np.exp(log_p))
                loss = -(self.Y * log_p).sum() / self.n
            elif self.out == "logistic":
                activations.append(expit(z))
                loss = -(self.Y * log_expit(z) + (1 - self.Y) * log_expit(-z)).sum() / self.n
            else:
                activations.append(z)
                # sklearn's backprop divides the squared error's gradient by the row count
                loss = ((self.Y - z) ** 2).sum() / (2 * self.n)
        alpha = self.model.alpha
        loss += 0.5 * alpha * sum((w * w).sum() for w in coefs) / self.n
        # output error: for softmax/logistic with log-loss and identity with squared loss alike
        delta = (activations[-1] - self.Y) / self.n
        grads: list[np.ndarray] = []
        for i in range(len(coefs) - 1, -1, -1):
            grad_w = _dense(activations[i].T @ delta) + alpha * coefs[i] / self.n
            grads[:0] = [grad_w.ravel(), delta.sum(axis=0)]
            if i:
                delta = (delta @ coefs[i].T) * self.hidden_grad(activations[i])
        return float(loss), np.concatenate(grads)


def _mlp_first_order(model: Any, delta: _Delta, state: dict | None, steps: int = 30) -> tuple[Any, None, str]:
    objective = _MLPObjective(model, delta.X_new, delta.y_new)
    start = objective.pack()
    result = scipy.optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                                     options={"maxiter": steps, "gtol": 1e-8})
    updated = copy.deepcopy(model)
    updated.coefs_, updated.intercepts_ = (
        [a.copy() for a in part] for part in objective.unpack(result.x)
    )
    if hasattr(updated, "loss_"):
        updated.loss_ = float(result.fun)
    return updated, None, f"{result.nit} L-BFGS steps on the new training loss, from the old weights"


def _is_torch_model(model: Any) -> bool:
    module = getattr(model, "module_", None)
    return module is not None and type(module).__module__.split(".")[0] != "sklearn" and hasattr(module, "parameters") and hasattr(model, "criterion_")


def _torch_first_order(model: Any, delta: _Delta, state: dict | None, steps: int = 20) -> tuple[Any, None, str]:
    """A skorch-style estimator (``module_``, ``criterion_``): full-batch L-BFGS steps on the
    training objective over the remaining rows, from the old weights.

    The objective is the criterion plus the L2 penalty the model was trained with, read from
    skorch's ``optimizer__weight_decay`` (or ``weight_decay``): without it the steps would
    chase an unregularised optimum far from both the old model and a retrain.
    """
    import torch

    updated = copy.deepcopy(model)
    module = updated.module_
    decay = float(getattr(model, "optimizer__weight_decay", getattr(model, "weight_decay", 0.0)) or 0.0)
    X = torch.as_tensor(_dense(delta.X_new), dtype=torch.float32)
    y = torch.as_tensor(delta.y_new)
    optimizer = torch.optim.LBFGS(module.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Any:
        optimizer.zero_grad()
        loss = updated.criterion_(module(X), y)
        if decay:
            loss = loss + decay / 2 * sum((p ** 2).sum() for p in module.parameters())
        loss.backward()
        return loss

    module.train()
    optimizer.step(closure)
    module.eval()
    return updated, None, f"up to {steps} L-BFGS steps on the new training loss (torch)"


# -- fallback -------------------------------------------------------------------------------


def _warm_refit(model: Any, delta: _Delta, state: dict | None) -> tuple[Any, None, str]:
    # warm_start means "start from the old parameters" only for parameter vectors; for
    # ensembles it means "add estimators", which would keep the old trees untouched.
    parametric = hasattr(model, "coef_") or hasattr(model, "coefs_")
    if parametric and "warm_start" in model.get_params():
        updated = copy.deepcopy(model)
        updated.set_params(warm_start=True)
        updated.fit(delta.X_new, delta.y_new)
        updated.set_params(warm_start=model.get_params()["warm_start"])
        return updated, None, "refitted on the stored matrix, warm-started at the old parameters"
    return clone(model).fit(delta.X_new, delta.y_new), None, "refitted on the stored matrix"


# -- dispatch -------------------------------------------------------------------------------

_Strategy = Callable[[Any, _Delta, "dict | None"], tuple[Any, "dict | None", str]]

# (test, strategy name, exact, function), first match wins. Exact types, not isinstance: a
# subclass may change what fit() computes.
_REGISTRY: list[tuple[Callable[[Any], bool], str, bool, _Strategy]] = [
    (lambda m: type(m) in (LinearRegression, Ridge), "gram_downdate", True, _gram_downdate),
    (lambda m: type(m) is GaussianNB, "naive_bayes_counts", True, _gaussian_nb),
    (lambda m: type(m) in (MultinomialNB, BernoulliNB), "naive_bayes_counts", True, _discrete_nb),
    (lambda m: type(m) in (KNeighborsClassifier, KNeighborsRegressor), "knn_drop_rows", True, _knn_drop_rows),
    (lambda m: type(m) is LogisticRegression, "newton_step", False, _logistic_newton),
    (lambda m: type(m) in (MLPClassifier, MLPRegressor), "first_order_steps", False, _mlp_first_order),
    (_is_torch_model, "first_order_steps", False, _torch_first_order),
]

STRATEGIES = ("gram_downdate", "naive_bayes_counts", "knn_drop_rows", "newton_step",
              "first_order_steps", "warm_refit")


@functools.cache
def _blas_controller() -> ThreadpoolController:
    # Finding the loaded BLAS libraries costs about 5 ms, as much as a whole small update:
    # done once per process.
    return ThreadpoolController()


def single_blas_thread() -> Any:
    """A context in which BLAS uses one thread: the products of an update are over tens of
    columns, and waking a thread pool on a busy machine costs more than they take."""
    return _blas_controller().limit(limits=1, user_api="blas")


def initial_state(model: Any, X: Any, y: Sequence[Any] | np.ndarray) -> dict[str, np.ndarray] | None:
    """The sufficient statistics :func:`update_model` keeps beside a model, computed from its
    training rows (the Gram matrix for least squares and ridge, the Hessian and residual
    gradient for a binary logistic regression); None for other models. The runner stores
    them with a run so that the first deletion does not pay for them.

    Example:
        >>> from sklearn.linear_model import Ridge
        >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
        >>> sorted(initial_state(Ridge().fit(X, y), X, y))
        ['gram_n', 'gram_sx', 'gram_sy', 'gram_xtx', 'gram_xty']
    """
    kind = type(model)
    with single_blas_thread():
        return _initial_state(model, kind, X, y)


def _initial_state(model: Any, kind: type, X: Any, y: Any) -> dict[str, np.ndarray] | None:
    try:
        if kind in (LinearRegression, Ridge) and X.shape[1] <= _MAX_GRAM_FEATURES and not getattr(model, "positive", False):
            return _gram_statistics(X, _as_targets(np.asarray(y)))
        if kind is LogisticRegression:
            return logistic_state(model, X, np.asarray(y))
    except (ValueError, TypeError, _NotApplicable):
        return None
    return None


def strategy_for(model: Any) -> str:
    """The name of the strategy :func:`update_model` tries first for ``model``.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> strategy_for(LogisticRegression())
        'newton_step'
    """
    for test, name, _, _ in _REGISTRY:
        if test(model):
            return name
    return "warm_refit"


def update_model(
    model: Any,
    X: Any,
    y: Sequence[Any] | np.ndarray,
    remove: Sequence[int] | np.ndarray = (),
    *,
    X_add: Any = None,
    y_add: Sequence[Any] | np.ndarray | None = None,
    state: dict[str, np.ndarray] | None = None,
) -> ModelUpdate:
    """Update ``model`` (fitted on ``X``, ``y``) as if it had been fitted without the rows
    ``remove`` (indices into ``X``) and with the rows ``X_add``, ``y_add``.

    A deletion passes ``remove``; a redaction passes the changed rows' old indices as
    ``remove`` and their re-encoded versions as ``X_add``/``y_add``. ``state`` is the
    :attr:`ModelUpdate.state` of the previous update of this model, if any.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
        >>> update = update_model(LogisticRegression().fit(X, y), X, y, remove=range(10))
        >>> update.strategy
        'newton_step'
    """
    started = time.perf_counter()
    y = np.asarray(y)
    if X.shape[0] != len(y):
        raise UnlearningError(f"X has {X.shape[0]} rows but y has {len(y)}")
    removed = np.unique(np.asarray(remove, dtype=np.int64))
    if len(removed) and (removed[0] < 0 or removed[-1] >= len(y)):
        raise UnlearningError(f"rows to remove must lie in 0..{len(y) - 1}, got {removed[[0, -1]].tolist()}")
    if (X_add is None) != (y_add is None):
        raise UnlearningError("give both X_add and y_add, or neither")
    delta = _Delta(X, y, removed, X_add, None if y_add is None else np.asarray(y_add))
    if delta.has_added and delta.X_add.shape[1] != X.shape[1]:
        raise UnlearningError(f"X_add has {delta.X_add.shape[1]} columns, X has {X.shape[1]}")
    if len(delta.y_new) == 0:
        raise UnlearningError("the update removes every training row")
    for test, name, exact, function in _REGISTRY:
        if test(model):
            try:
                updated, new_state, detail = function(model, delta, state)
                return ModelUpdate(updated, name, exact, new_state, time.perf_counter() - started, detail)
            except _NotApplicable as reason:
                fallback = f"{name} not applicable ({reason}); "
                break
    else:
        fallback = ""
    updated, _, detail = _warm_refit(model, delta, state)
    return ModelUpdate(updated, "warm_refit", False, None, time.perf_counter() - started, fallback + detail)


def model_parameters(model: Any) -> np.ndarray | None:
    """The model's fitted parameters as one vector (None where there are none to compare).

    Multinomial intercepts are centred, since a common shift leaves predictions unchanged.

    Example:
        >>> from sklearn.linear_model import Ridge
        >>> model_parameters(Ridge().fit([[0.0], [1.0]], [0.0, 1.0])).round(3)
        array([0.333, 0.333])
    """
    if hasattr(model, "coefs_") and hasattr(model, "intercepts_"):
        return np.concatenate([np.ravel(p) for w, b in zip(model.coefs_, model.intercepts_, strict=True) for p in (w, b)])
    if hasattr(model, "theta_") and hasattr(model, "var_"):
        return np.concatenate([model.theta_.ravel(), model.var_.ravel(), np.log(model.class_prior_)])
    if hasattr(model, "feature_log_prob_"):
        return np.concatenate([model.feature_log_prob_.ravel(), model.class_log_prior_.ravel()])
    if hasattr(model, "coef_"):
        intercept = np.atleast_1d(np.asarray(getattr(model, "intercept_", 0.0), dtype=float))
        if isinstance(model, LogisticRegression) and len(intercept) > 1:
            intercept = intercept - intercept.mean()
        return np.concatenate([np.ravel(model.coef_), intercept])
    if _is_torch_model(model):
        return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.module_.parameters()])
    return None
