"""Tournaments: scores as GridSearchCV's, the result cache, failures, the final run, refresh."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import lester as lt
from lester.pipeline.store import ArtifactStore
from lester.tune import records
from lester.tune.space import SpaceError
from lester.tune.tournament import TournamentError

PIPELINE = '''
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

import lester as lt

GOOD = ("thanks", "great", "love")


def sentiment(text):
    return sum(word in text for word in GOOD)


def log_age(values):
    # a module function inside the encoder: workers must import this module to unpickle it
    return np.log1p(np.asarray(values, dtype=float))


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    mails = lt.read_csv(mails, key="mail_id")
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    joined = joined.project("sentiment", ["mail_text"], sentiment)
    return joined[["customer_id", "country", "age", "sentiment", "is_premium"]]


def encode_features(min_frequency=None):
    return ColumnTransformer([
        ("country", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency), ["country"]),
        ("age", make_pipeline(FunctionTransformer(log_age), StandardScaler()), ["age"]),
        ("numbers", StandardScaler(), ["sentiment"]),
    ])


def extract_label(prepared):
    return prepared["is_premium"].to_numpy()


def make_model(C=1.0):
    return LogisticRegression(C=C)
'''

CONFIG = '''
pipeline = "pipeline.py"
[split]
kind = "group"
group = "customer_id"
test_size = 0.2
seed = 3
'''

LR = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"C": [0.05, 1.0]}}
TREE = {"estimator": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depth": [2, 4], "random_state": 0}}


def write_case(folder: Path, customers: int = 160, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, customers + 1)
    country = rng.choice(["DE", "FR", "NL", "US", "UK", "IT"], customers, p=[.3, .25, .15, .15, .1, .05])
    age = rng.integers(18, 80, customers)
    premium = (rng.random(customers) < 1 / (1 + np.exp(-(age - 45) / 10 + (country == "DE")))).astype(int)
    pd.DataFrame({"customer_id": ids, "customer_email": [f"c{i}@x.org" for i in ids], "country": country,
                  "age": age, "is_premium": premium}).to_csv(folder / "customers.csv", index=False)
    words = np.array(["thanks", "great", "broken", "slow", "love", "refund", "card", "app"])
    mails = 3 * customers
    owner = rng.integers(1, customers + 1, mails)
    pd.DataFrame({"mail_id": np.arange(mails), "email": [f"c{i}@x.org" for i in owner],
                  "mail_text": [" ".join(rng.choice(words, 4)) for _ in range(mails)]}
                 ).to_csv(folder / "mails.csv", index=False)
    (folder / "pipeline.py").write_text(PIPELINE)
    (folder / "lester.toml").write_text(CONFIG)
    return folder


def settings(*contenders, folds: int = 4, features=None, **more) -> dict:
    return {"config": "lester.toml", "folds": folds, "metric": "roc_auc",
            "features": features if features is not None else {"min_frequency": [1, 30]},
            "contenders": [dict(c) for c in contenders], **more}


@pytest.fixture
def case(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_case(tmp_path)


def run_tune(case: Path, config: dict, **options):
    options.setdefault("n_jobs", 1)
    options.setdefault("plots", False)
    options.setdefault("final", False)
    return lt.tune(case / "pipeline.py", config=config, store=case / ".lester", **options)


def fold_scores(store: Path, tournament_id: str) -> pd.DataFrame:
    return records.query(ArtifactStore(store), """
        SELECT r.params, r.features, r.estimator, t.fold, r.score, r.error
        FROM tune_tasks t JOIN tune_results r ON r.key = t.result_key
        WHERE t.tournament_id = ? ORDER BY ALL""", [tournament_id])


def test_scores_equal_gridsearchcv_on_the_same_candidates_and_folds(case):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    from lester.pipeline.config import load_config
    from lester.pipeline.definition import load_pipeline
    from lester.tune.prepare import prepare

    result = run_tune(case, settings(LR, TREE), n_jobs=2)  # processes: the module's encoder travels
    definition = load_pipeline(case / "pipeline.py")
    data = prepare(definition, load_config(case / "lester.toml"), ArtifactStore(case / ".lester"), 4)
    # the folds respect the group split: no customer on both sides, no test customer in any fold
    customers = data.train["customer_id"].to_numpy()
    for fold in data.folds:
        assert not set(customers[fold.train]) & set(customers[fold.validation])
    assert not set(customers) & set(data.test["customer_id"])

    grid = [{"model": [LogisticRegression()], "model__C": [0.05, 1.0], "enc__country__min_frequency": [1, 30]},
            {"model": [DecisionTreeClassifier(random_state=0)], "model__max_depth": [2, 4],
             "enc__country__min_frequency": [1, 30]}]
    search = GridSearchCV(Pipeline([("enc", definition.encode_features()), ("model", LogisticRegression())]),
                          grid, scoring="roc_auc", cv=[(f.train, f.validation) for f in data.folds])
    search.fit(data.train[data.data_columns], data.y_train)
    theirs = {}
    for i, params in enumerate(search.cv_results_["params"]):
        model = params["model"]
        name = type(model).__name__
        setting = params.get("model__C", params.get("model__max_depth"))
        for k in range(4):
            theirs[(name, setting, params["enc__country__min_frequency"], k)] = search.cv_results_[f"split{k}_test_score"][i]
    ours = fold_scores(case / ".lester", result.tournament_id)
    assert len(ours) == len(theirs) == 32 and ours["error"].isna().all()
    for row in ours.itertuples(index=False):
        params, features = json.loads(row.params), json.loads(row.features)
        name = row.estimator.rsplit(".", 1)[-1]
        setting = params.get("C", params.get("max_depth"))
        assert abs(row.score - theirs[(name, setting, features["min_frequency"], row.fold)]) <= 1e-9
    assert abs(result.ranking["mean"].iloc[0] - search.best_score_) <= 1e-9


def test_a_repeated_tournament_computes_nothing_and_a_new_contender_only_itself(case):
    first = run_tune(case, settings(LR))
    assert (first.computed, first.cached, first.encoders_fitted) == (16, 0, 8)
    again = run_tune(case, settings(LR))
    assert (again.computed, again.cached, again.encoders_fitted) == (0, 16, 0)
    pd.testing.assert_frame_equal(first.ranking, again.ranking)
    more = run_tune(case, settings(LR, TREE))
    # the tree's 2 settings x 2 encoder settings x 4 folds; the encoders are fitted again
    # (they are not cached) but only for the folds the new contender needs
    assert (more.computed, more.cached) == (16, 16)
    stored = records.query(ArtifactStore(case / ".lester"),
                           "SELECT count(*) FILTER (fold >= 0) AS folds, count(*) FILTER (fold = -1) AS tests "
                           "FROM tune_results")
    # fold -1: the winner's score on the test split, reused by the repeat
    assert (int(stored["folds"][0]), int(stored["tests"][0])) == (32, 1)
    assert again.test_score == first.test_score


def test_a_failing_contender_is_reported_and_the_rest_complete(case):
    broken = {"name": "broken", "estimator": "sklearn.linear_model.LogisticRegression",
              "params": {"C": -1.0}}  # LogisticRegression refuses C <= 0 when it fits
    missing = {"name": "missing", "estimator": "sklearn.linear_model.NoSuchModel"}
    result = run_tune(case, settings(LR, broken, missing, features={}))
    table = result.ranking.set_index("contender")
    assert table.loc["broken", "failed_folds"] == 4 and "C" in table.loc["broken", "error"]
    assert "NoSuchModel" in table.loc["missing", "error"]
    assert (table.loc["LogisticRegression", "failed_folds"] == 0).all()
    assert result.winner.startswith("LogisticRegression") and result.failed == 8
    assert list(result.ranking["contender"][-2:]) in (["broken", "missing"], ["missing", "broken"])
    # an interrupted tournament resumes: what completed before the stop is not computed again
    interrupted = settings(LR, broken, features={}, metric="accuracy")
    with pytest.raises(TournamentError, match="--fail-fast: broken .* failed on fold 0"):
        run_tune(case, interrupted, fail_fast=True)  # in this process: tasks run in order
    resumed = run_tune(case, interrupted)
    assert (resumed.cached, resumed.computed) == (8 + 1, 3)


def test_random_search_draws_n_iter_settings_reproducibly(case):
    space = {"estimator": "sklearn.linear_model.LogisticRegression", "n_iter": 3,
             "params": {"C": {"loguniform": [0.01, 10.0]}, "fit_intercept": [True, False]}}
    one = run_tune(case, settings(space, features={}, folds=3))
    two = run_tune(case, settings(space, features={}, folds=3))
    assert len(one.ranking) == 3 and two.computed == 0
    assert all(0.01 <= p["C"] <= 10.0 for p in one.ranking["params"])
    with pytest.raises(SpaceError, match="loguniform needs low > 0"):
        run_tune(case, settings({"estimator": "sklearn.linear_model.Ridge",
                                 "params": {"alpha": {"loguniform": [0, 1]}}}))


def test_the_final_run_answers_trace_and_forget_and_refresh_rescores_only_what_changed(case):
    store = case / ".lester"
    result = run_tune(case, settings(LR, features={}), final=True, plots=True)
    assert Path(result.plots["folds"]).stat().st_size > 0 and Path(result.plots["winner"]).exists()
    catalog = ArtifactStore(store).catalog
    record = catalog.run(result.final_run)
    assert record["pipeline"].endswith(f"{result.tournament_id}/pipeline.py")
    test_auc = record["metrics"].set_index(["split", "name"]).loc[("test", "roc_auc"), "value"]
    assert abs(test_auc - result.test_score) <= 1e-12  # the run is the winner scored on the test split

    train = pd.read_parquet(Path(record["folder"]) / "train.parquet")
    test = pd.read_parquet(Path(record["folder"]) / "test.parquet")
    hits = lt.trace("customers", int(train["customer_id"].iloc[0]), store=store)
    assert result.final_run in set(hits["run_id"])

    from lester.tune import refresh, stale

    # a customer of the test split only: every fold's rows are unchanged, nothing is recomputed
    test_only = int(test["customer_id"].iloc[0])
    report = lt.forget("customers", [test_only], run=result.final_run, store=store)
    assert report.new_runs
    assert [t["tournament_id"] for t in stale(store)] == [result.tournament_id]
    quiet = refresh(result.tournament_id, store=store, n_jobs=1, plots=False)
    assert (quiet.computed, quiet.cached, quiet.winner_changed) == (0, 8, False)
    assert quiet.final_run is None and stale(store) == []

    # a customer of the training side: every fold holds its rows (as training or validation)
    trained = int(train["customer_id"].iloc[0])
    lt.forget("customers", [trained], all_runs=True, store=store)
    assert [t["tournament_id"] for t in stale(store)] == [quiet.tournament_id]
    loud = refresh(quiet.tournament_id, store=store, n_jobs=1, plots=False)
    assert (loud.computed, loud.cached) == (8, 0) and loud.refreshed_from == quiet.tournament_id
    assert isinstance(loud.winner_changed, bool)
    hits = lt.trace("customers", trained, store=store)
    newest = catalog.query("SELECT run_id FROM runs WHERE parent_run IS NOT NULL ORDER BY created DESC LIMIT 1")
    assert newest["run_id"][0] not in set(hits["run_id"])


def test_the_tables_are_in_the_catalog_and_the_command_line_prints_them(case):
    (case / "tune.toml").write_text(textwrap.dedent('''
        config = "lester.toml"
        folds = 3
        [[contenders]]
        estimator = "sklearn.linear_model.LogisticRegression"
        params = { C = [0.1, 1.0] }
    '''))
    from lester.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["--json", "tune", "pipeline.py", "--config", "tune.toml", "--jobs", "1",
                               "--no-plots", "--no-final", "--set", "tune.metric=accuracy",
                               "--store", str(case / ".lester")])
    assert out.exit_code == 0, out.output
    document = json.loads(out.output)
    assert document["metric"] == "accuracy" and len(document["ranking"]) == 2 and document["computed"] == 6
    ranked = records.query(ArtifactStore(case / ".lester"),
                           "SELECT rank, candidate, mean FROM tune_ranking WHERE tournament_id = ? ORDER BY rank",
                           [document["tournament_id"]])
    assert ranked["candidate"].tolist() == [r["candidate"] for r in document["ranking"]]
    text = runner.invoke(main, ["tune", "pipeline.py", "--config", "tune.toml", "--jobs", "1", "--no-plots",
                                "--no-final", "--set", "tune.metric=accuracy", "--store", str(case / ".lester")])
    assert text.exit_code == 0 and "0 result(s) computed, 6 from the catalog" in text.output
    for setting, message in (("tune.folds=1", "tune.toml: folds = 1 must be at least 2"),
                             ("tune.metric=auc", "tune.toml: metric = 'auc' is not a scikit-learn scorer"),
                             ("tune.contenders=[{estimator='x.Y', params='C'}]", "params must be a table")):
        bad = runner.invoke(main, ["tune", "pipeline.py", "--config", "tune.toml", "--set", setting,
                                   "--store", str(case / ".lester")])
        assert bad.exit_code != 0 and message in bad.output and "Traceback" not in bad.output, bad.output


def test_forget_on_the_command_line_names_the_tournament_and_refresh_reports_the_winner(case):
    from lester.cli import main

    store = str(case / ".lester")
    result = run_tune(case, settings(LR, features={}, folds=3), final=True)
    train = pd.read_parquet(Path(ArtifactStore(store).catalog.run(result.final_run)["folder"]) / "train.parquet")
    customer = str(int(train["customer_id"].iloc[0]))
    runner = CliRunner()
    forgot = runner.invoke(main, ["forget", "--source", "customers", "--id", customer, "--all-runs", "--store", store])
    assert forgot.exit_code == 0, forgot.output
    assert f"lester tune --refresh {result.tournament_id}" in forgot.output
    listed = runner.invoke(main, ["-q", "tune", "--stale", "--store", store])
    assert listed.output.split() == [result.tournament_id]
    refreshed = runner.invoke(main, ["tune", "--refresh", result.tournament_id[:12], "--jobs", "1", "--no-plots",
                                     "--store", store])
    assert refreshed.exit_code == 0, refreshed.output
    assert f"refresh of {result.tournament_id}: the winner" in refreshed.output
    assert "6 result(s) computed, 0 from the catalog" in refreshed.output
    missing = runner.invoke(main, ["tune", "--refresh", "Tnope", "--store", store])
    assert missing.exit_code != 0 and "no tournament matches 'Tnope'" in missing.output


def test_the_pipelines_own_make_model_is_a_contender_and_its_winner_a_run(case):
    own = {"estimator": "make_model", "params": {"C": [0.5, 2.0]}}
    result = run_tune(case, settings(own, features={}, folds=3), final=True)
    assert set(result.ranking["contender"]) == {"make_model"} and result.computed == 6
    record = ArtifactStore(case / ".lester").catalog.run(result.final_run)
    assert record["model"] == "LogisticRegression"
    written = Path(record["pipeline"]).read_text()
    assert f"TOURNAMENT = {result.tournament_id!r}" in written and "'make_model'" in written
