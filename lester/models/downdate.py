"""Model updates for deleted rows from stored statistics alone: the cost of a deletion is
independent of the number of training rows.

A deletion-vector request (:mod:`lester.ivm.deletion_vectors`) reads the removed rows only,
never the training matrix. Two models have such an update:

* least squares and ridge (``gram_downdate``): the Gram statistics (XᵀX, Xᵀy, column sums)
  minus the removed rows' own, then one d×d solve: O(k·d² + d³), exact;
* binary logistic regression with an l2 penalty (``certified_newton``): one Newton step from
  the stored Hessian, downdated by the removed rows (certified removal, Guo et al. 2020). The
  Hessian is exact at the point θₐ where it was last evaluated; the step is taken at the
  current θ꜀. What the step leaves of the new objective's gradient (beyond the solver's own
  residual r₀, which the fit stopped at) is bounded, with L₃ = max|σ''|·C·Σ‖x̃ᵢ‖³ bounding the
  objective's third derivative, by

      B' = B + L₃·‖θ꜀ − θₐ‖·‖s‖ + ½·L₃·‖s‖²      (s: the step)

  and B' is recorded with the version (``logit_bound``). Bounds add up over requests; when
  one would exceed the budget (``logit_budget``: C·n·tol, the solver's own stopping
  tolerance on this objective), :class:`RefreshNeeded` is raised and the caller makes an
  exact refresh (:func:`refresh`: Newton steps with exact Hessians on the remaining rows,
  the bound reset to the gradient actually left), as ``lester purge`` always does.

Example:
    >>> from sklearn.linear_model import LogisticRegression
    >>> from lester.models.unlearning import initial_state
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3)); y = (X[:, 0] + rng.normal(size=2000) > 0).astype(int)
    >>> model = LogisticRegression().fit(X, y)
    >>> update = downdate(model, initial_state(model, X, y), X[:10], y[:10])
    >>> update.strategy, float(update.state["logit_bound"]) <= float(update.state["logit_budget"])
    ('certified_newton', True)
    >>> retrained = LogisticRegression(tol=1e-10).fit(X[10:], y[10:])
    >>> bool(np.abs(update.model.coef_ - retrained.coef_).max() < 1e-4)
    True
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from lester.models.unlearning import (
    ModelUpdate,
    UnlearningError,
    _as_targets,
    _binary_logistic_parts,
    _binary_logistic_theta,
    _gram_statistics,
    _logistic_penalty,
    _solve_symmetric,
    certificate_terms,
    gram_solve,
    row_norms,
)

__all__ = ["SIGMA_THIRD", "RefreshNeeded", "downdate", "downdate_applies", "refresh"]

# max |σ''(z)| = max |σ(1−σ)(1−2σ)|, at σ = ½ ± 1/(2√3)
SIGMA_THIRD = 1.0 / (6.0 * np.sqrt(3.0))

_GRAM_KEYS = ("gram_n", "gram_sx", "gram_sy", "gram_xtx", "gram_xty")
_LOGIT_KEYS = ("logit_theta", "logit_hessian", "logit_residual", "logit_n", "logit_cube", "logit_pos",
               "logit_bound", "logit_budget")


class RefreshNeeded(Exception):
    """The certified bound of a Newton step from stored statistics would exceed its budget
    (or the statistics do not describe the model): an exact refresh is needed."""


def downdate_applies(model: Any, state: dict[str, np.ndarray] | None, rows: int) -> str | None:
    """The strategy :func:`downdate` uses for ``model`` with ``state`` over ``rows`` training
    rows, or None where it has none (other models, or statistics of other rows).

    Example:
        >>> from sklearn.linear_model import Ridge
        >>> from lester.models.unlearning import initial_state
        >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
        >>> downdate_applies(Ridge().fit(X, y), initial_state(Ridge().fit(X, y), X, y), 10)
        'gram_downdate'
    """
    if state is None:
        return None
    if type(model) in (LinearRegression, Ridge) and not getattr(model, "positive", False):
        if all(k in state for k in _GRAM_KEYS) and float(state["gram_n"]) == rows:
            return "gram_downdate"
        return None
    binary = type(model) is LogisticRegression and len(model.classes_) == 2 and model.class_weight is None
    if binary and all(k in state for k in _LOGIT_KEYS) and float(state["logit_n"]) == rows:
        return "certified_newton"
    return None


def _dense(a: Any) -> np.ndarray:
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=float)


def downdate(model: Any, state: dict[str, np.ndarray], X_removed: Any, y_removed: np.ndarray) -> ModelUpdate:
    """``model`` without the training rows ``X_removed``, ``y_removed``, from ``state`` alone.

    Raises
    ------
    RefreshNeeded
        A logistic regression's certified bound would exceed its budget.
    UnlearningError
        The update would remove every row, or every row of a class.
    """
    started = time.perf_counter()
    strategy = downdate_applies(model, state, int(float(state.get("gram_n", state.get("logit_n", -1)))))
    y_removed = np.asarray(y_removed)
    if strategy == "gram_downdate":
        stats = {k: np.array(state[k], dtype=float, copy=True) for k in _GRAM_KEYS}
        if len(y_removed):
            gone = _gram_statistics(X_removed, _as_targets(y_removed))
            stats = {k: stats[k] - gone[k] for k in _GRAM_KEYS}
        updated = gram_solve(model, stats)
        return ModelUpdate(updated, strategy, True, stats, time.perf_counter() - started,
                           f"downdated the stored Gram matrix by {len(y_removed)} row(s)")
    if strategy != "certified_newton":
        raise RefreshNeeded("no update from stored statistics for this model")
    return _certified_newton(model, state, X_removed, y_removed, started)


def _certified_newton(model: Any, state: dict[str, np.ndarray], X_removed: Any, y_removed: np.ndarray,
                      started: float) -> ModelUpdate:
    d = X_removed.shape[1]
    C, _ = _logistic_penalty(model, d)
    n = float(state["logit_n"]) - len(y_removed)
    positives = float(state["logit_pos"]) - np.count_nonzero(y_removed == model.classes_[1])
    if n <= 0:
        raise UnlearningError("the update removes every training row")
    if positives <= 0 or positives >= n:
        raise UnlearningError(f"class {model.classes_[1] if positives <= 0 else model.classes_[0]!r} would "
                              "vanish from the training rows")
    theta_a = np.asarray(state["logit_theta"], dtype=float)
    theta_c = _binary_logistic_theta(model)
    X_removed = X_removed if sp.issparse(X_removed) else _dense(X_removed)
    gradient, _ = _binary_logistic_parts(model, X_removed, y_removed, theta_c, C) if len(y_removed) else (
        np.zeros_like(theta_c), None)
    _, removed_hessian = _binary_logistic_parts(model, X_removed, y_removed, theta_a, C) if len(y_removed) else (
        None, np.zeros((len(theta_c), len(theta_c))))
    hessian = np.asarray(state["logit_hessian"], dtype=float) - removed_hessian
    step = _solve_symmetric(hessian, gradient)
    cube = float(state["logit_cube"]) - C * float(np.sum(row_norms(X_removed, model.fit_intercept) ** 3))
    third = SIGMA_THIRD * max(cube, 0.0)
    size = float(np.linalg.norm(step))
    bound = float(state["logit_bound"]) + third * float(np.linalg.norm(theta_c - theta_a)) * size + 0.5 * third * size**2
    budget = float(state["logit_budget"])
    if bound > budget:
        raise RefreshNeeded(f"the certified gradient bound would reach {bound:.3g}, over its budget {budget:.3g}")
    theta = theta_c + step
    updated = copy.deepcopy(model)
    updated.coef_ = theta[:d][None, :]
    if model.fit_intercept:
        updated.intercept_ = theta[d:].copy()
    new_state = {**{k: np.asarray(v) for k, v in state.items()}, "logit_hessian": hessian,
                 "logit_n": np.array(n), "logit_pos": np.array(positives), "logit_cube": np.array(cube),
                 "logit_bound": np.array(bound)}
    return ModelUpdate(updated, "certified_newton", False, new_state, time.perf_counter() - started,
                       f"1 Newton step from the stored Hessian ({len(y_removed)} row(s)); certified gradient "
                       f"bound {bound:.3g} of budget {budget:.3g}")


def refresh(model: Any, state: dict[str, np.ndarray] | None, X: Any, y: np.ndarray) -> ModelUpdate:
    """An exact update of ``model`` to the training rows ``X``, ``y`` (all that remain): the
    Gram statistics recomputed (least squares, ridge), or Newton steps with exact Hessians
    from the current parameters until the gradient is the solver's residual again (logistic
    regression), with fresh statistics and the bound reset to the gradient actually left.
    O(n·d²): the refresh a budget forces, and what ``lester purge`` does."""
    started = time.perf_counter()
    y = np.asarray(y)
    if type(model) in (LinearRegression, Ridge):
        stats = _gram_statistics(X, _as_targets(y))
        return ModelUpdate(gram_solve(model, stats), "gram_downdate", True, stats, time.perf_counter() - started,
                           "Gram matrix recomputed from the remaining rows")
    if type(model) is not LogisticRegression or len(model.classes_) != 2:
        raise UnlearningError(f"no exact refresh for {type(model).__name__}")
    d = X.shape[1]
    C, pen = _logistic_penalty(model, d)
    residual = (np.asarray(state["logit_residual"], dtype=float) if state is not None and "logit_residual" in state
                else np.zeros(d + int(model.fit_intercept)))
    theta = _binary_logistic_theta(model)
    steps, norm = 0, np.inf
    for _ in range(25):
        gradient, hessian = _binary_logistic_parts(model, X, y, theta, C)
        gradient = gradient + pen * theta - residual
        norm = float(np.linalg.norm(gradient))
        if norm <= 1e-9 * max(1.0, float(X.shape[0])):
            break
        theta = theta - _solve_symmetric(hessian + np.diag(pen), gradient)
        steps += 1
    updated = copy.deepcopy(model)
    updated.coef_ = theta[:d][None, :]
    if model.fit_intercept:
        updated.intercept_ = theta[d:].copy()
    gradient, hessian = _binary_logistic_parts(model, X, y, theta, C)
    left = float(np.linalg.norm(gradient + pen * theta - residual))
    budget = (float(state["logit_budget"]) if state is not None and "logit_budget" in state
              else C * float(X.shape[0]) * float(model.tol))
    new_state = {"logit_theta": theta, "logit_hessian": hessian + np.diag(pen), "logit_residual": residual,
                 "logit_n": np.array(float(X.shape[0])), **certificate_terms(model, X, y),
                 "logit_bound": np.array(left), "logit_budget": np.array(budget)}
    return ModelUpdate(updated, "newton_step", False, new_state, time.perf_counter() - started,
                       f"exact refresh: {steps} Newton step(s) with exact Hessians on the remaining rows "
                       f"(gradient left {left:.3g})")

