"""A lester tournament against scikit-learn's GridSearchCV doing the same work.

What is measured
----------------
A customers + mails pipeline (written to a temporary folder) whose encoder is a
``ColumnTransformer`` of a ``TfidfVectorizer`` over the mail text, a ``OneHotEncoder``
(country) and a ``StandardScaler`` (age, text length), with a group split by customer
(test_size 0.2). Two contenders x five settings each (``LogisticRegression`` C and
``RidgeClassifier`` alpha) x five folds, scored by ROC AUC:

* ``lester_s``: ``lt.tune(...)`` into a store whose stage cache already holds the prepared
  rows (both sides start from prepared data) and whose catalog holds no result: the folds'
  encoders (5, one per fold), the 50 (candidate, fold) tasks on local processes (loky,
  ``n_jobs=-1``), recording, ranking and the winner refitted on train+validation and scored
  on the test split (no final run, no plots);
* ``gridsearchcv_s``: ``GridSearchCV(Pipeline([encoder, model]), n_jobs=-1, refit=False)``
  with the same candidates and the same folds (lester's, passed as ``cv``), on the same
  prepared training rows: it fits the encoder again for every (candidate, fold), 50 times;
* ``equal_scores``: every (candidate, fold) score of lester equals GridSearchCV's within 1e-9;
* ``repeat_s`` / ``repeat_speedup``: the same tournament again (everything from the catalog);
* ``refresh_s``: after ``lester forget`` of 10 customers of the training side (on an
  ordinary run of the pipeline, made untimed beforehand), ``lester tune --refresh``: the
  prepared rows are derived again without them and every (candidate, fold) result whose fold
  changed is computed again; ``refresh_untouched_share`` is the share of results reused.
  With K-fold cross-validation a training customer's rows sit in every fold (as training
  rows in K-1 of them, as validation rows in one), so forgetting training customers touches
  every fold: the untouched share is 0 and a refresh costs what a tournament costs.

The box plots of the fold scores are written to ``benchmarks/results/bench_tune.png``.

How to run
----------
::

    python benchmarks/bench_tune.py            # 100,000 mails, 2 x 5 x 5 (a few minutes)
    python benchmarks/bench_tune.py --quick    # 10,000 mails, 2 x 2 x 3 (under a minute)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import machine_description

import lester as lt

RESULTS = Path(__file__).resolve().parent / "results"

PIPELINE = '''
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import lester as lt


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    mails = lt.read_csv(mails, key="mail_id")
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    joined = joined.project("text_length", "length(mail_text)")
    return joined[["customer_id", "country", "age", "mail_text", "text_length", "is_premium"]]


def encode_features(max_features=2000):
    return ColumnTransformer([
        ("text", TfidfVectorizer(max_features=max_features, ngram_range=(1, 2), sublinear_tf=True), "mail_text"),
        ("country", OneHotEncoder(handle_unknown="ignore"), ["country"]),
        ("numbers", StandardScaler(), ["age", "text_length"]),
    ])


def extract_label(prepared):
    return prepared["is_premium"].astype(int).to_numpy()


def make_model(C=1.0):
    return LogisticRegression(C=C)
'''

# the pipeline's lester.toml: a group split by customer
CONFIG = {"pipeline": "pipeline.py", "split": {"kind": "group", "group": "customer_id", "test_size": 0.2}}

WORDS = ["thanks", "great", "broken", "slow", "love", "refund", "card", "app", "account", "transfer",
         "login", "fee", "help", "never", "again", "happy", "mortgage", "savings", "branch", "call"]


def write_data(folder: Path, mails: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    customers = mails // 5
    ids = np.arange(1, customers + 1)
    country = rng.choice(["DE", "FR", "NL", "US", "UK", "ES"], customers)
    age = rng.integers(18, 80, customers)
    premium = rng.random(customers) < 1 / (1 + np.exp(-(age - 50) / 12))
    pd.DataFrame({"customer_id": ids, "customer_email": [f"c{i}@x.org" for i in ids], "country": country,
                  "age": age, "is_premium": premium}).to_csv(folder / "customers.csv", index=False)
    owner = rng.integers(1, customers + 1, mails)
    words = np.array(WORDS)
    # premium customers write a little more of the first words: the text carries signal
    weights = np.linspace(2, 1, len(WORDS))
    texts = [" ".join(rng.choice(words, 8, p=(weights if premium[o - 1] else weights[::-1]) / weights.sum()))
             for o in owner]
    pd.DataFrame({"mail_id": np.arange(mails), "email": [f"c{o}@x.org" for o in owner],
                  "mail_text": texts}).to_csv(folder / "mails.csv", index=False)
    (folder / "pipeline.py").write_text(PIPELINE)
    from lester.pipeline.config import dumps_toml

    (folder / "lester.toml").write_text(dumps_toml(CONFIG))


def tournament_settings(settings: int, folds: int) -> dict:
    return {"config": "lester.toml", "folds": folds, "metric": "roc_auc", "contenders": [
        {"estimator": "sklearn.linear_model.LogisticRegression",
         "params": {"C": list(np.round(np.logspace(-2, 1, settings), 6).tolist()), "max_iter": 500}},
        {"estimator": "sklearn.linear_model.RidgeClassifier",
         "params": {"alpha": list(np.round(np.logspace(-1, 2, settings), 6).tolist())}},
    ]}


def gridsearch(folder: Path, store: Path, config: dict, folds: int) -> tuple[float, dict]:
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from lester.pipeline.config import load_config
    from lester.pipeline.definition import load_pipeline
    from lester.pipeline.store import ArtifactStore
    from lester.tune.prepare import prepare

    definition = load_pipeline(folder / "pipeline.py")
    data = prepare(definition, load_config(folder / "lester.toml"), ArtifactStore(store), folds)
    lr, ridge = config["contenders"]
    grid = [{"model": [LogisticRegression(max_iter=500)], "model__C": lr["params"]["C"]},
            {"model": [RidgeClassifier()], "model__alpha": ridge["params"]["alpha"]}]
    search = GridSearchCV(Pipeline([("enc", definition.encode_features()), ("model", LogisticRegression())]),
                          grid, scoring="roc_auc", cv=[(f.train, f.validation) for f in data.folds],
                          n_jobs=-1, refit=False)
    rows = data.train[data.data_columns]
    started = time.perf_counter()
    search.fit(rows, data.y_train)
    seconds = time.perf_counter() - started
    scores = {}
    for i, params in enumerate(search.cv_results_["params"]):
        name = type(params["model"]).__name__
        setting = params.get("model__C", params.get("model__alpha"))
        for k in range(folds):
            scores[(name, float(setting), k)] = float(search.cv_results_[f"split{k}_test_score"][i])
    return seconds, scores


def lester_scores(store: Path, tournament_id: str) -> dict:
    from lester.pipeline.store import ArtifactStore
    from lester.tune import records

    found = records.query(ArtifactStore(store), """
        SELECT r.estimator, r.params, t.fold, r.score FROM tune_tasks t
        JOIN tune_results r ON r.key = t.result_key WHERE t.tournament_id = ?""", [tournament_id])
    scores = {}
    for row in found.itertuples(index=False):
        params = json.loads(row.params)
        setting = params.get("C", params.get("alpha"))
        scores[(row.estimator.rsplit(".", 1)[-1], float(setting), int(row.fold))] = row.score
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 mails, 2 x 2 settings x 3 folds")
    parser.add_argument("--mails", type=int, default=None)
    arguments = parser.parse_args()
    mails = arguments.mails or (10_000 if arguments.quick else 100_000)
    settings, folds = (2, 3) if arguments.quick else (5, 5)
    work = Path(tempfile.mkdtemp(prefix="bench_tune_"))
    try:
        report = run(work, mails, settings, folds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["quick"] = arguments.quick
    report["machine"] = machine_description()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_tune.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"{'measure':<28}{'value':>14}")
    for key in ("prepared_rows", "candidates", "folds", "tasks", "lester_s", "gridsearchcv_s", "speedup_vs_gridsearchcv",
                "equal_scores", "max_score_difference", "repeat_s", "repeat_speedup", "refresh_s",
                "refresh_untouched_share", "refresh_winner_changed"):
        value = report[key]
        print(f"{key:<28}{value:>14.4g}" if isinstance(value, float) else f"{key:<28}{value!s:>14}")
    print(f"wrote {RESULTS / 'bench_tune.json'} and {RESULTS / 'bench_tune.png'}")


def run(work: Path, mails: int, settings: int, folds: int) -> dict:
    import os

    from lester.pipeline.config import load_config
    from lester.pipeline.definition import load_pipeline
    from lester.pipeline.store import ArtifactStore
    from lester.tune import refresh
    from lester.tune.plots import fold_boxplots
    from lester.tune.prepare import prepare

    write_data(work, mails)
    os.chdir(work)
    store = work / ".lester"
    config = tournament_settings(settings, folds)
    # both sides start from prepared rows: fill the stage cache with them first (untimed)
    data = prepare(load_pipeline(work / "pipeline.py"), load_config(work / "lester.toml"), ArtifactStore(store), folds)
    # and start the process pool (shared by joblib's callers) so that neither side pays for it
    from joblib import Parallel, delayed

    Parallel(n_jobs=-1)(delayed(abs)(-i) for i in range(8))
    grid_s, theirs = gridsearch(work, store, config, folds)

    started = time.perf_counter()
    first = lt.tune(work / "pipeline.py", config=config, store=store, final=False, plots=False)
    lester_s = time.perf_counter() - started
    ours = lester_scores(store, first.tournament_id)
    difference = max(abs(ours[k] - theirs[k]) for k in theirs) if set(ours) == set(theirs) else float("inf")

    started = time.perf_counter()
    again = lt.tune(work / "pipeline.py", config=config, store=store, final=False, plots=False)
    repeat_s = time.perf_counter() - started

    scores = {}
    for key, score in ours.items():
        scores.setdefault(f"{key[0]} {key[1]:g}", []).append(score)
    fold_boxplots(RESULTS / "bench_tune.png", scores, "roc_auc",
                  f"bench_tune: {len(data.train)} train+validation rows, {folds} folds")

    # an ordinary run for forget to maintain, then 10 training-side customers forgotten (untimed)
    lt.run(work / "pipeline.py", config=work / "lester.toml", store=store)
    customers = [int(c) for c in pd.unique(data.train["customer_id"])[:10]]
    lt.forget("customers", customers, all_runs=True, store=store)
    started = time.perf_counter()
    refreshed = refresh(again.tournament_id, store=store, final=False, plots=False)
    refresh_s = time.perf_counter() - started
    tasks = refreshed.computed + refreshed.cached
    return {
        "mails": mails, "prepared_rows": len(data.train) + len(data.test), "train_rows": len(data.train),
        "candidates": 2 * settings, "folds": folds, "tasks": 2 * settings * folds,
        "lester_s": lester_s, "gridsearchcv_s": grid_s, "speedup_vs_gridsearchcv": grid_s / lester_s,
        "lester_seconds": first.seconds, "lester_encoders_fitted": first.encoders_fitted,
        "equal_scores": bool(difference <= 1e-9), "max_score_difference": difference,
        "repeat_s": repeat_s, "repeat_speedup": lester_s / repeat_s, "repeat_computed": again.computed,
        "refresh_s": refresh_s, "refresh_computed": refreshed.computed, "refresh_cached": refreshed.cached,
        "refresh_untouched_share": refreshed.cached / tasks if tasks else 0.0,
        "refresh_winner_changed": refreshed.winner_changed, "winner": first.winner,
        "test_score": first.test_score,
    }


if __name__ == "__main__":
    main()
