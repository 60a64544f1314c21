"""The tournament's PNGs: fold scores per contender, and the winner on the test split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def fold_boxplots(path: Path, scores: Mapping[str, Sequence[float]], metric: str, title: str) -> Path:
    """Box plots of the fold scores, one box per candidate label, best median on top.

    >>> fold_boxplots(Path("folds.png"), {"a": [0.5, 0.6]}, "r2", "t")   # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(label, list(values)) for label, values in scores.items() if len(values)]
    shown.sort(key=lambda item: float(np.median(item[1])))
    figure, axes = plt.subplots(figsize=(11, 1.2 + 0.35 * max(1, len(shown))))
    if shown:
        boxes = [values for _, values in shown]
        try:
            axes.boxplot(boxes, orientation="horizontal")
        except TypeError:  # matplotlib before 3.10
            axes.boxplot(boxes, vert=False)
        axes.set_yticks(range(1, len(shown) + 1), [_short(label) for label, _ in shown], fontsize=7)
    axes.set_xlabel(f"{metric} per fold (validation)")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def winner_plot(path: Path, model: Any, X_test: Any, y_test: np.ndarray, label: str) -> Path | None:
    """ROC curve (a binary classifier with scores) or predicted against true (a regressor) of
    the winner on the test split; None when neither applies (a multi-class classifier)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.base import is_classifier
    from sklearn.metrics import auc, roc_curve

    if len(y_test) == 0:
        return None
    figure, axes = plt.subplots(figsize=(5, 5))
    if is_classifier(model):
        if len(np.unique(y_test)) != 2:
            plt.close(figure)
            return None
        if hasattr(model, "predict_proba"):
            scores = model.predict_proba(X_test)[:, 1]
        elif hasattr(model, "decision_function"):
            scores = model.decision_function(X_test)
        else:
            plt.close(figure)
            return None
        positive = model.classes_[1] if hasattr(model, "classes_") else 1
        fpr, tpr, _ = roc_curve(y_test, scores, pos_label=positive)
        axes.plot(fpr, tpr, label=f"AUC {auc(fpr, tpr):.3f}")
        axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
        axes.set_xlabel("false positive rate")
        axes.set_ylabel("true positive rate")
        axes.legend(loc="lower right")
    else:
        predicted = model.predict(X_test)
        axes.scatter(y_test, predicted, s=4, alpha=0.4)
        low, high = float(np.min(y_test)), float(np.max(y_test))
        axes.plot([low, high], [low, high], linestyle=":", color="grey")
        axes.set_xlabel("true")
        axes.set_ylabel("predicted")
    axes.set_title(f"test split: {_short(label)}", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def varying_labels(candidates: Sequence[Any]) -> dict[str, str]:
    """Short labels, by candidate key: the contender and only the settings that vary among
    its candidates (a fixed ``random_state`` says nothing on a plot).

    >>> from lester.tune.space import Candidate
    >>> found = [Candidate("tree", "t.T", {"depth": d, "seed": 0}, {}) for d in (2, 4)]
    >>> sorted(varying_labels(found).values())
    ['tree depth=2', 'tree depth=4']
    """
    def values(contender: str, kind: str) -> dict[str, set[str]]:
        seen: dict[str, set[str]] = {}
        for c in candidates:
            if c.contender == contender:
                for k, v in getattr(c, kind).items():
                    seen.setdefault(k, set()).add(repr(v))
        return seen

    labels = {}
    for c in candidates:
        params, features = values(c.contender, "params"), values(c.contender, "features")
        parts = [f"{k}={v!r}" for k, v in sorted(c.params.items()) if len(params[k]) > 1]
        parts += [f"features.{k}={v!r}" for k, v in sorted(c.features.items()) if len(features[k]) > 1]
        labels[c.key] = " ".join([c.contender, *parts])
    return labels


def _short(label: str, width: int = 80) -> str:
    """A label cut in the middle: the contender's name and the last settings stay readable.

    >>> _short("LogisticRegression C=0.1 max_iter=500 features.min_frequency=20", 40)
    'LogisticRegression C…es.min_frequency=20'
    """
    if len(label) <= width:
        return label
    head = width // 2
    return label[:head] + "…" + label[len(label) - (width - head - 1):]
