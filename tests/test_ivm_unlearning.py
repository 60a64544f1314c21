"""Model unlearning: every strategy moves the model towards a retrain on the reduced rows.

The rows removed are chosen to move the model (a biased slice of one region of the data), so
that the old model is measurably far from the retrained one and a step in the wrong direction
(descending on the removed rows' loss instead of ascending) fails the same checks.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.tree import DecisionTreeClassifier

from lester.models.unlearning import (
    UnlearningError,
    model_parameters,
    strategy_for,
    update_model,
)


def _data(n=600, d=6, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=(d, classes))
    scores = X @ w + 0.8 * rng.normal(size=(n, classes))
    y_class = scores.argmax(axis=1) if classes > 2 else (scores[:, 0] > 0).astype(int)
    y_value = X @ w[:, 0] + 0.3 * rng.normal(size=n) + 2.0
    # the rows to remove: most rows of one class in one corner of the feature space
    corner = np.flatnonzero((X[:, 0] > 0.3) & (y_class == 1))
    remove = corner[: max(20, len(corner) * 2 // 3)]
    X_test = rng.normal(size=(2000, d))
    return X, y_class, y_value, np.sort(remove), X_test


def _without(X, y, rows):
    keep = np.setdiff1d(np.arange(len(y)), rows)
    return (X[keep] if not sp.issparse(X) else X.tocsr()[keep]), y[keep]


def _distance(a, b):
    return float(np.linalg.norm(model_parameters(a) - model_parameters(b)))


def _assert_moves_towards(old, updated, retrained, X_test, classifier=True):
    """Closer in parameters, and closer in predictions, than the old model was."""
    before, after = _distance(old, retrained), _distance(updated, retrained)
    assert before > 1e-3, "the test data must move the model"
    assert after < 0.5 * before, (before, after)
    if classifier:
        agree_before = np.mean(old.predict(X_test) == retrained.predict(X_test))
        agree_after = np.mean(updated.predict(X_test) == retrained.predict(X_test))
        assert agree_before < 1.0, "the test data must change some predictions"
        assert agree_after > agree_before, (agree_before, agree_after)
        if hasattr(old, "predict_proba"):
            gap_before = np.abs(old.predict_proba(X_test) - retrained.predict_proba(X_test)).mean()
            gap_after = np.abs(updated.predict_proba(X_test) - retrained.predict_proba(X_test)).mean()
            assert gap_after < 0.5 * gap_before, (gap_before, gap_after)
    else:
        gap_before = np.abs(old.predict(X_test) - retrained.predict(X_test)).mean()
        gap_after = np.abs(updated.predict(X_test) - retrained.predict(X_test)).mean()
        assert gap_after < 0.5 * gap_before, (gap_before, gap_after)


# -- exact downdates --------------------------------------------------------------------------


@pytest.mark.parametrize("model", [
    LinearRegression(), LinearRegression(fit_intercept=False), Ridge(alpha=3.0, tol=1e-12),
    Ridge(alpha=0.5, fit_intercept=False, tol=1e-12),  # tight: sparse X uses an iterative solver
])
@pytest.mark.parametrize("sparse", [False, True])
def test_gram_downdate_equals_a_refit(model, sparse):
    X, _, y, remove, X_test = _data()
    X = np.column_stack([X, (X[:, 1] > 0).astype(float), (X[:, 1] <= 0).astype(float)])  # collinear with the intercept
    X_test = np.column_stack([X_test, (X_test[:, 1] > 0), (X_test[:, 1] <= 0)]).astype(float)
    if sparse:
        X = sp.csr_matrix(X)
    old = clone(model).fit(X, y)
    update = update_model(old, X, y, remove)
    retrained = clone(model).fit(*_without(X, y, remove))
    assert (update.strategy, update.exact) == ("gram_downdate", True)
    np.testing.assert_allclose(update.model.predict(X_test), retrained.predict(X_test), rtol=1e-6, atol=1e-6)
    if isinstance(model, Ridge):  # least squares with collinear columns: only predictions are unique
        np.testing.assert_allclose(update.model.coef_, retrained.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(update.model.intercept_, retrained.intercept_, rtol=1e-6, atol=1e-8)
    _assert_moves_towards(old, update.model, retrained, X_test, classifier=False)
    assert old.coef_ is not update.model.coef_ and np.allclose(old.coef_, clone(model).fit(X, y).coef_)


def test_gram_state_makes_the_next_deletion_a_downdate_and_handles_changed_rows():
    X, _, y, remove, _X_test = _data()
    Y = np.column_stack([y, -2 * y + 1])  # two targets
    model = Ridge(alpha=2.0).fit(X, Y)
    first = update_model(model, X, Y, remove[:10])
    X1, Y1 = _without(X, Y, remove[:10])
    second = update_model(first.model, X1, Y1, [0, 5, 7], state=first.state)
    X2, Y2 = _without(X1, Y1, [0, 5, 7])
    np.testing.assert_allclose(second.model.coef_, Ridge(alpha=2.0).fit(X2, Y2).coef_, rtol=1e-8)
    assert "stored Gram" in second.detail and "built" in first.detail
    # a redaction: rows 3 and 4 change their features
    X_new_rows = X2[[3, 4]] + 1.5
    third = update_model(second.model, X2, Y2, [3, 4], X_add=X_new_rows, y_add=Y2[[3, 4]], state=second.state)
    X3 = np.concatenate([np.delete(X2, [3, 4], 0), X_new_rows])
    Y3 = np.concatenate([np.delete(Y2, [3, 4], 0), Y2[[3, 4]]])
    np.testing.assert_allclose(third.model.coef_, Ridge(alpha=2.0).fit(X3, Y3).coef_, rtol=1e-8)
    np.testing.assert_allclose(third.model.intercept_, Ridge(alpha=2.0).fit(X3, Y3).intercept_, rtol=1e-8)
    # a state that does not belong to this matrix is not trusted
    stale = update_model(model, X, Y, [1], state=second.state)
    np.testing.assert_allclose(stale.model.coef_, Ridge(alpha=2.0).fit(*_without(X, Y, [1])).coef_, rtol=1e-8)


@pytest.mark.parametrize("model", [GaussianNB(), GaussianNB(priors=[0.3, 0.7])])
def test_gaussian_naive_bayes_moments_equal_a_refit(model):
    X, y, _, remove, X_test = _data()
    X = X * 10 + 100  # large means: the moment downdate must stay stable
    X_test = X_test * 10 + 100
    old = clone(model).fit(X, y)
    update = update_model(old, X, y, remove)
    retrained = clone(model).fit(*_without(X, y, remove))
    assert (update.strategy, update.exact) == ("naive_bayes_counts", True)
    for attribute in ("class_count_", "theta_", "var_", "class_prior_", "epsilon_"):
        np.testing.assert_allclose(getattr(update.model, attribute), getattr(retrained, attribute), rtol=1e-8)
    np.testing.assert_allclose(update.model.predict_proba(X_test), retrained.predict_proba(X_test), atol=1e-8)
    _assert_moves_towards(old, update.model, retrained, X_test)


@pytest.mark.parametrize("model", [MultinomialNB(alpha=0.5), BernoulliNB(alpha=1.0, binarize=2.0)])
@pytest.mark.parametrize("sparse", [False, True])
def test_discrete_naive_bayes_counts_equal_a_refit(model, sparse):
    X, y, _, remove, X_test = _data(classes=3)
    counts = np.floor(np.exp(X)).clip(0, 20)
    test_counts = np.floor(np.exp(X_test)).clip(0, 20)
    if sparse:
        counts = sp.csr_matrix(counts)
    old = clone(model).fit(counts, y)
    update = update_model(old, counts, y, remove)
    retrained = clone(model).fit(*_without(counts, y, remove))
    for attribute in ("class_count_", "feature_count_", "feature_log_prob_", "class_log_prior_"):
        np.testing.assert_allclose(getattr(update.model, attribute), getattr(retrained, attribute), rtol=1e-10)
    np.testing.assert_array_equal(update.model.predict(test_counts), retrained.predict(test_counts))
    # changed rows: old versions out, new versions in
    added = counts[:5] * 2
    redacted = update_model(old, counts, y, [0, 1, 2, 3, 4], X_add=added, y_add=y[:5])
    refit = clone(model).fit(
        np.concatenate([np.asarray(_dense(counts))[5:], _dense(added)]), np.concatenate([y[5:], y[:5]])
    )
    np.testing.assert_allclose(redacted.model.feature_log_prob_, refit.feature_log_prob_, rtol=1e-10)


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


@pytest.mark.parametrize("model", [KNeighborsClassifier(5), KNeighborsRegressor(3)])
def test_knn_drops_the_stored_rows(model):
    X, y_class, y_value, remove, X_test = _data()
    y = y_class if isinstance(model, KNeighborsClassifier) else y_value
    old = clone(model).fit(X, y)
    update = update_model(old, X, y, remove)
    retrained = clone(model).fit(*_without(X, y, remove))
    assert (update.strategy, update.exact) == ("knn_drop_rows", True)
    np.testing.assert_allclose(update.model.predict(X_test), retrained.predict(X_test))
    assert len(update.model._fit_X) == len(y) - len(remove)
    assert not np.array_equal(old.predict(X_test), retrained.predict(X_test))


def test_naive_bayes_falls_back_when_a_class_vanishes():
    X, y, _, _, _ = _data(classes=3)
    model = GaussianNB().fit(X, y)
    update = update_model(model, X, y, np.flatnonzero(y == 2))
    assert update.strategy == "warm_refit" and "class [2]" in update.detail
    assert update.model.classes_.tolist() == [0, 1]


# -- Newton step for logistic regression ----------------------------------------------------


def _tight(model):
    return model.set_params(tol=1e-12, max_iter=10_000)


@pytest.mark.parametrize("model", [
    LogisticRegression(C=1.0), LogisticRegression(C=0.05), LogisticRegression(C=10.0, fit_intercept=False),
    LogisticRegression(C=1.0, class_weight="balanced"), LogisticRegression(C=1.0, class_weight={0: 1, 1: 3}),
    LogisticRegression(C=1.0, solver="liblinear"),
])
def test_newton_step_moves_logistic_regression_to_the_retrained_model(model):
    X, y, _, remove, X_test = _data()
    old = _tight(clone(model)).fit(X, y)
    update = update_model(old, X, y, remove)
    retrained = _tight(clone(model)).fit(*_without(X, y, remove))
    assert (update.strategy, update.exact) == ("newton_step", False)
    _assert_moves_towards(old, update.model, retrained, X_test)
    # for a convex loss the Newton step lands (numerically) on the new optimum
    assert _distance(update.model, retrained) < 1e-3 * _distance(old, retrained) + 1e-6


@pytest.mark.parametrize("sparse", [False, True])
def test_newton_step_multinomial(sparse):
    X, y, _, remove, X_test = _data(classes=3)
    Xs = sp.csr_matrix(X) if sparse else X
    model = LogisticRegression(C=0.5)
    old = _tight(clone(model)).fit(Xs, y)
    update = update_model(old, Xs, y, remove)
    retrained = _tight(clone(model)).fit(*_without(Xs, y, remove))
    _assert_moves_towards(old, update.model, retrained, X_test)
    assert _distance(update.model, retrained) < 1e-3 * _distance(old, retrained) + 1e-6


def test_newton_step_for_changed_rows():
    X, y, _, _, X_test = _data()
    changed = np.flatnonzero(y == 1)[:60]
    X_changed = X[changed].copy()
    X_changed[:, 0] = -2.0  # a redaction moved these rows to the other side
    old = _tight(LogisticRegression()).fit(X, y)
    update = update_model(old, X, y, changed, X_add=X_changed, y_add=y[changed])
    X_new = np.concatenate([np.delete(X, changed, 0), X_changed])
    y_new = np.concatenate([np.delete(y, changed), y[changed]])
    retrained = _tight(LogisticRegression()).fit(X_new, y_new)
    _assert_moves_towards(old, update.model, retrained, X_test)


def test_a_step_in_the_wrong_direction_fails_the_checks():
    """Descending on the removed rows' loss (the sign of the influence update flipped) must
    fail the very checks the real update passes: the checks can tell the directions apart."""
    X, y, _, remove, X_test = _data()
    old = _tight(LogisticRegression()).fit(X, y)
    retrained = _tight(LogisticRegression()).fit(*_without(X, y, remove))
    right = update_model(old, X, y, remove).model
    wrong = copy.deepcopy(old)
    wrong.coef_ = 2 * old.coef_ - right.coef_
    wrong.intercept_ = 2 * old.intercept_ - right.intercept_
    _assert_moves_towards(old, right, retrained, X_test)
    with pytest.raises(AssertionError):
        _assert_moves_towards(old, wrong, retrained, X_test)
    # a refit of the old rows (no unlearning at all) fails as well
    with pytest.raises(AssertionError):
        _assert_moves_towards(old, copy.deepcopy(old), retrained, X_test)


def test_l1_logistic_regression_falls_back_to_a_warm_refit():
    X, y, _, remove, X_test = _data()
    model = LogisticRegression(l1_ratio=1.0, solver="saga", C=0.5, tol=1e-8, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = clone(model).fit(X, y)
        update = update_model(old, X, y, remove)
        retrained = clone(model).fit(*_without(X, y, remove))
    assert update.strategy == "warm_refit" and "l1" in update.detail
    _assert_moves_towards(old, update.model, retrained, X_test)


# -- first-order steps for neural networks ---------------------------------------------------


def test_first_order_steps_move_an_mlp_classifier_towards_the_retrained_one():
    X, y, _, remove, X_test = _data()
    model = MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs", alpha=5.0,
                          tol=1e-10, max_iter=3000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        old = clone(model).fit(X, y)
        # the same random_state: the retrain starts from the same initial weights
        retrained = clone(model).fit(*_without(X, y, remove))
    update = update_model(old, X, y, remove)
    assert update.strategy == "first_order_steps"
    _assert_moves_towards(old, update.model, retrained, X_test)


def test_first_order_steps_for_an_mlp_regressor():
    X, _, y, remove, X_test = _data()
    model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs", alpha=10.0,
                         tol=1e-12, max_iter=5000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        old = clone(model).fit(X, y)
        retrained = clone(model).fit(*_without(X, y, remove))
    update = update_model(old, X, y, remove)
    _assert_moves_towards(old, update.model, retrained, X_test, classifier=False)


def test_first_order_steps_lower_the_new_loss_of_a_relu_network():
    """ReLU networks have flat directions, so parameters are not comparable; the training loss
    on the remaining rows and the predictions are."""
    from lester.models.unlearning import _MLPObjective

    X, _, y, remove, X_test = _data()
    model = MLPRegressor(hidden_layer_sizes=(3,), activation="relu", solver="lbfgs", alpha=10.0,
                         tol=1e-12, max_iter=5000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        old = clone(model).fit(X, y)
        retrained = clone(model).fit(*_without(X, y, remove))
    update = update_model(old, X, y, remove)

    def new_loss(m):
        objective = _MLPObjective(m, *_without(X, y, remove))
        return objective(objective.pack())[0]

    assert new_loss(update.model) < new_loss(old)
    assert new_loss(update.model) <= new_loss(retrained) * (1 + 1e-3)
    gap_before = np.abs(old.predict(X_test) - retrained.predict(X_test)).mean()
    gap_after = np.abs(update.model.predict(X_test) - retrained.predict(X_test)).mean()
    assert gap_after < gap_before


def test_mlp_gradient_matches_finite_differences():
    from lester.models.unlearning import _MLPObjective

    X, y, _, _, _ = _data(n=50, classes=3)
    for model in (MLPClassifier(hidden_layer_sizes=(3, 2), max_iter=5, random_state=0),
                  MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", max_iter=5, random_state=0)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y.astype(float) if isinstance(model, MLPRegressor) else y)
        objective = _MLPObjective(model, X, y.astype(float) if isinstance(model, MLPRegressor) else y)
        theta = objective.pack()
        value, gradient = objective(theta)
        assert value == pytest.approx(model.loss_, rel=1e-6) if hasattr(model, "loss_") and model.solver == "lbfgs" else True
        rng = np.random.default_rng(0)
        for _ in range(5):
            direction = rng.normal(size=theta.shape)
            eps = 1e-6
            numeric = (objective(theta + eps * direction)[0] - objective(theta - eps * direction)[0]) / (2 * eps)
            assert numeric == pytest.approx(gradient @ direction, rel=1e-4, abs=1e-8)


def test_torch_module_first_order_steps():
    torch = pytest.importorskip("torch")

    class Net:  # the skorch convention: a fitted module_, criterion_ and optimizer__weight_decay
        optimizer__weight_decay = 0.1

        def __init__(self, seed):
            torch.manual_seed(seed)
            self.module_ = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
            self.criterion_ = torch.nn.CrossEntropyLoss()

        def fit(self, X, y):
            optimizer = torch.optim.LBFGS(self.module_.parameters(), max_iter=500, line_search_fn="strong_wolfe")
            X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)

            def closure():
                optimizer.zero_grad()
                penalty = self.optimizer__weight_decay / 2 * sum((p**2).sum() for p in self.module_.parameters())
                loss = self.criterion_(self.module_(X), y) + penalty
                loss.backward()
                return loss

            optimizer.step(closure)
            return self

        def predict(self, X):
            with torch.no_grad():
                return self.module_(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy()

    X, y, _, remove, X_test = _data()
    old = Net(0).fit(X, y)
    retrained = Net(0).fit(*_without(X, y, remove))
    update = update_model(old, X, y, remove)
    assert update.strategy == "first_order_steps"
    agree_before = np.mean(old.predict(X_test) == retrained.predict(X_test))
    agree_after = np.mean(update.model.predict(X_test) == retrained.predict(X_test))
    assert agree_after >= agree_before

    def flat(net):
        return torch.cat([p.detach().flatten() for p in net.module_.parameters()]).numpy()

    # same initialisation and a smooth objective: the step must move the weights towards the
    # retrain (a step that ascends the remaining loss, or no step, fails this)
    before = np.linalg.norm(flat(old) - flat(retrained))
    after = np.linalg.norm(flat(update.model) - flat(retrained))
    assert after < 0.9 * before
    assert update.model is not old and np.linalg.norm(flat(old) - flat(Net(0).fit(X, y))) < 1e-6


# -- fallback and errors ---------------------------------------------------------------------


def test_warm_refit_for_other_models():
    X, _, y, remove, X_test = _data()
    old = Lasso(alpha=0.01, tol=1e-10, max_iter=100_000).fit(X, y)
    update = update_model(old, X, y, remove)
    retrained = clone(old).fit(*_without(X, y, remove))
    assert (update.strategy, update.exact) == ("warm_refit", False)
    assert "warm-started" in update.detail
    np.testing.assert_allclose(update.model.coef_, retrained.coef_, atol=1e-6)
    _assert_moves_towards(old, update.model, retrained, X_test, classifier=False)

    X, y, _, remove, X_test = _data()
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    assert strategy_for(tree) == "warm_refit"
    refit = update_model(tree, X, y, remove)
    np.testing.assert_array_equal(refit.model.predict(X_test),
                                  clone(tree).fit(*_without(X, y, remove)).predict(X_test))
    assert refit.model is not tree and tree.tree_.node_count > 0


def test_clear_errors():
    X, y, _, _, _ = _data(n=40)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(UnlearningError, match=r"rows to remove must lie in 0\.\.39"):
        update_model(model, X, y, [45])
    with pytest.raises(UnlearningError, match="every training row"):
        update_model(model, X, y, np.arange(40))
    with pytest.raises(UnlearningError, match="both X_add and y_add"):
        update_model(model, X, y, [1], X_add=X[:1])
    with pytest.raises(UnlearningError, match="X_add has 2 columns"):
        update_model(model, X, y, [1], X_add=X[:1, :2], y_add=y[:1])


def test_newton_step_keeps_the_old_solvers_slack():
    """A model the solver stopped short of the optimum (default tol) is moved by the changed
    rows alone: an empty change leaves it as it is, rather than finishing its optimisation."""
    X, y, _, _, _ = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        old = LogisticRegression(max_iter=3).fit(X, y)
    same = update_model(old, X, y, [])
    np.testing.assert_allclose(same.model.coef_, old.coef_)
    np.testing.assert_allclose(same.model.intercept_, old.intercept_)


# -- deletion-vector updates from stored statistics alone (lester.models.downdate) -----------


def _logistic_case(n: int = 4000, seed: int = 0):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X @ np.array([1.0, -0.5, 0.3, 0.0]) + rng.normal(size=n) > 0).astype(int)
    return X, y, LogisticRegression().fit(X, y)


def _gradient_left(model, X, y, residual):
    """‖∇F(θ) − r₀‖ of sklearn's logistic objective (C·Σ loss + ½‖w‖²) at the model's θ."""
    from scipy.special import expit

    p = expit(X @ model.coef_.ravel() + model.intercept_[0])
    g = np.append(X.T @ (model.C * (p - y)) + model.coef_.ravel(), (model.C * (p - y)).sum())
    return float(np.linalg.norm(g - residual))


def test_the_certified_bound_bounds_the_gradient_a_chain_of_newton_steps_leaves():
    from lester.models.downdate import downdate
    from lester.models.unlearning import initial_state

    X, y, model = _logistic_case(n=20000)
    state = initial_state(model, X, y)
    keep = np.ones(len(y), dtype=bool)
    for batch in (np.arange(0, 5), np.arange(100, 112), np.arange(900, 902)):
        update = downdate(model, state, X[batch], y[batch])
        keep[batch] = False
        left = _gradient_left(update.model, X[keep], y[keep], state["logit_residual"])
        assert update.strategy == "certified_newton"
        assert left <= float(update.state["logit_bound"]) + 1e-12  # the bound holds
        assert float(update.state["logit_n"]) == keep.sum()
        model, state = update.model, update.state


def test_a_bound_over_its_budget_asks_for_an_exact_refresh_which_resets_it():
    from lester.models.downdate import RefreshNeeded, downdate, refresh
    from lester.models.unlearning import initial_state

    X, y, model = _logistic_case(n=600)
    state = {**initial_state(model, X, y), "logit_budget": np.array(1e-12)}
    with pytest.raises(RefreshNeeded, match="over its budget"):
        downdate(model, state, X[:50], y[:50])
    refreshed = refresh(model, state, X[50:], y[50:])
    left = _gradient_left(refreshed.model, X[50:], y[50:], state["logit_residual"])
    assert left == pytest.approx(float(refreshed.state["logit_bound"]), abs=1e-9) and left < 1e-6
    assert float(refreshed.state["logit_n"]) == 550


def test_a_ridge_downdate_from_stored_statistics_is_a_refit():
    from sklearn.linear_model import Ridge

    from lester.models.downdate import downdate
    from lester.models.unlearning import initial_state

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(300, 5)), rng.normal(size=300)
    model = Ridge(alpha=2.0).fit(X, y)
    update = downdate(model, initial_state(model, X, y), X[:7], y[:7])
    refit = Ridge(alpha=2.0).fit(X[7:], y[7:])
    np.testing.assert_allclose(update.model.coef_, refit.coef_, atol=1e-10)
    assert update.model.intercept_ == pytest.approx(refit.intercept_)
