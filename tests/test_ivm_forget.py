"""forget and redact over stored runs: new versions, exactness against a retrain, safety."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.ivm import RequestError, forget, redact
from lester.pipeline.catalog import Catalog
from lester.pipeline.store import load_matrix, load_row_provenance

PIPELINE = Path(__file__).parent / "data" / "mails_pipeline.py"

# The test pipeline with an aggregate over mails: not linear in mails, so changes to mails
# re-run the data preparation in full and diff.
AGGREGATE_PIPELINE = '''
import lester as lt
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    mails = lt.read_csv(mails, key="mail_id")
    counts = mails.project("length", "length(mail_text)").groupby("email").agg(
        mails=("mail_id", "count"), length=("length", "mean"))
    joined = lt.join(customers, counts, left_on="customer_email", right_on="email")
    return joined[["customer_id", "country", "mails", "length", "score"]]


def encode_features():
    return ColumnTransformer([("country", OneHotEncoder(handle_unknown="ignore"), ["country"]),
                              ("numbers", StandardScaler(), ["mails", "length"])])


def extract_label(prepared):
    return prepared["score"].to_numpy()


def make_model(alpha=1.0):
    return Ridge(alpha=alpha)
'''


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n_customers, n_mails = 80, 400
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "customer_email": [f"c{i}@x.org" for i in range(1, n_customers + 1)],
        "country": rng.choice(["DE", "FR", "NL"], n_customers),
        "is_premium": rng.random(n_customers) < 0.4,
        "score": rng.normal(size=n_customers),
    })
    words = ["thanks", "great", "love", "broken", "slow", "card 4111 2222", "ok"]
    mails = pd.DataFrame({
        "mail_id": np.arange(1000, 1000 + n_mails),
        "email": [f"c{i}@x.org" for i in rng.integers(1, n_customers + 1, n_mails)],
        "mail_date": np.where(rng.random(n_mails) < 0.2, "2021-06-01", "2022-06-01"),
        "mail_text": [" ".join(rng.choice(words, 3)) for _ in range(n_mails)],
        "mail_subject": [f"subject {i}" for i in range(n_mails)],  # read by no pipeline
    })
    customers.to_csv(tmp_path / "customers.csv", index=False)
    mails.to_csv(tmp_path / "mails.csv", index=False)
    (tmp_path / "pipeline.py").write_text(PIPELINE.read_text())
    (tmp_path / "aggregate.py").write_text(AGGREGATE_PIPELINE)
    return tmp_path


def _sources(workdir: Path) -> dict[str, str]:
    return {"customers": str(workdir / "customers.csv"), "mails": str(workdir / "mails.csv")}


def _run(workdir: Path, pipeline: str = "pipeline.py", **kwargs):
    return lt.run(workdir / pipeline, sources=_sources(workdir), store=workdir / ".lester", cache=False, **kwargs)


def _folder_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _prepared(folder: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(folder / "train.parquet"), pd.read_parquet(folder / "test.parquet")])


def _row_set(frame: pd.DataFrame, columns) -> list[tuple]:
    out = frame[list(columns)].copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].round(9)
    return sorted(map(tuple, out.astype(str).to_numpy()))


def test_forget_removes_every_derived_row_from_every_artifact(workdir):
    old = _run(workdir)
    before = _folder_digest(old.folder)
    gone = [int(old.train["customer_id"].iloc[0]), int(old.test["customer_id"].iloc[0])]
    report = forget("customers", gone, store=workdir / ".lester", verify=True)
    (change,) = report.changes
    assert change.run_id == old.run_id and change.strategy == "newton_step" and change.dataprep == "none"
    new = Path(workdir / ".lester" / "runs" / change.new_run_id)

    # the deleted ids appear in no artifact of the new version
    prepared = _prepared(new)
    assert not prepared["customer_id"].isin(gone).any()
    assert not prepared["prov:customers"].astype(str).isin([str(g) for g in gone]).any()
    # every row provenance chunk in the folder (hard-linked ones included), and the catalog's view
    stored = load_row_provenance(new).to_pandas()
    assert not ((stored["source"] == "customers") & stored["source_id"].isin([str(g) for g in gone])).any()
    provenance = Catalog(workdir / ".lester" / "catalog.duckdb").query(
        "SELECT * FROM row_provenance WHERE run_id = ?", [change.new_run_id])
    assert len(provenance) == len(stored)
    assert not ((provenance["source"] == "customers") & provenance["source_id"].isin([str(g) for g in gone])).any()
    for split in ("train", "test"):
        rows = pd.read_parquet(new / f"{split}.parquet")
        X = load_matrix(new, f"X_{split}")
        y = np.load(new / f"y_{split}.npy")
        assert X.shape[0] == len(y) == len(rows)
        # the surviving rows keep their stored feature rows, in order
        old_rows = getattr(old, split)
        keep = ~old_rows["customer_id"].isin(gone).to_numpy()
        np.testing.assert_array_equal(X, getattr(old, f"X_{split}")[keep])
        np.testing.assert_array_equal(y, getattr(old, f"y_{split}")[keep])
        # row provenance is renumbered to the new row positions
        mine = provenance[(provenance["split"] == split) & (provenance["source"] == "mails")].sort_values("row")
        assert mine["row"].tolist() == list(range(len(rows)))
        assert mine["source_id"].tolist() == rows["prov:mails"].astype(str).tolist()
    assert len(np.load(new / "predictions.npy")) == len(pd.read_parquet(new / "test.parquet"))
    assert change.rows_removed == {"train": int((old.train["customer_id"] == gone[0]).sum()) + int((old.train["customer_id"] == gone[1]).sum()),
                                   "test": int(old.test["customer_id"].isin(gone).sum())}

    # the old version is untouched; the catalog knows the new one, its parent and the audit row
    assert _folder_digest(old.folder) == before
    catalog = Catalog(workdir / ".lester" / "catalog.duckdb")
    runs = catalog.runs()
    assert set(runs["run_id"]) == {old.run_id, change.new_run_id}
    assert runs.set_index("run_id").loc[change.new_run_id, "parent_run"] == old.run_id
    audit = catalog.query("SELECT * FROM audit_log")
    assert len(audit) == 1 and audit["action"].iloc[0] == "forget"
    assert (audit["run_id"].iloc[0], audit["new_run_id"].iloc[0]) == (old.run_id, change.new_run_id)
    assert audit["rows_removed"].iloc[0] == sum(change.rows_removed.values())
    assert audit["strategy"].iloc[0] == "newton_step" and audit["seconds"].iloc[0] > 0
    # the ids as keyed hashes (issue 13): what the store's subject key gives, never in clear
    from lester.pipeline.forget_set import subject_hash
    from lester.pipeline.store import read_subject_key

    key = read_subject_key(workdir / ".lester")
    assert json.loads(audit["request"].iloc[0])["ids"] == [f"hmac-sha256:{subject_hash(key, 'customers', g)}"
                                                          for g in gone]
    traced = lt.trace("customers", gone[0], store=workdir / ".lester")
    assert set(traced["run_id"]) == {old.run_id}
    metrics = catalog.query("SELECT name, value FROM metrics WHERE run_id = ? AND split = 'test'", [change.new_run_id])
    assert metrics.set_index("name")["value"].to_dict() == pytest.approx(change.metrics_after)

    # the retrain from scratch without those customers prepares exactly the same rows
    verification = change.verification
    assert verification.test_rows_unmatched == 0 and verification.agreement >= 0.95
    assert verification.parameter_distance < verification.old_parameter_distance
    retrained = lt.run(workdir / "pipeline.py", sources=_sources(workdir), capture=False, cache=False)
    expected = pd.concat([retrained.train, retrained.test])
    expected = expected[~expected["customer_id"].isin(gone)]
    columns = ["customer_id", "country", "sentiment", "text_length", "prov:mails", "prov:customers"]
    assert _row_set(prepared, columns) == _row_set(expected, columns)


def test_forget_by_predicate_keeps_the_literal_out_of_the_audit_log(workdir):
    old = _run(workdir)
    someone = old.train["customer_id"].iloc[3]
    report = forget("customers", where=f"customer_email = 'c{someone}@x.org'", store=workdir / ".lester")
    (change,) = report.changes
    assert sum(change.rows_removed.values()) == int((pd.concat([old.train, old.test])["customer_id"] == someone).sum())
    audit = Catalog(workdir / ".lester" / "catalog.duckdb").query("SELECT request FROM audit_log")
    assert f"c{someone}@x.org" not in audit["request"].iloc[0] and "hmac-sha256:" in audit["request"].iloc[0]
    # forgetting the same customer again: the newest version no longer holds any row
    again = forget("customers", [someone], store=workdir / ".lester")
    assert again.changes == [] and "nothing to forget" in again.message


def test_requests_that_match_nothing_say_so(workdir):
    _run(workdir)
    store = workdir / ".lester"
    # an id the source does not have is an error (issue 14: it used to report "nothing to forget")
    with pytest.raises(RequestError, match="1 of the 1 ids given are no id of customers"):
        forget("customers", [987654], store=store)
    report = forget("customers", where="country = 'XX'", store=store)
    assert report.message == "nothing to forget: the predicate matched no row of customers"
    report = redact("mails", "mail_subject", "mail_id = 1001", "[x]", store=store)
    assert report.changes == [] and "no artifact of any run uses the column mails.mail_subject" in report.message
    assert len(lt.runs(store)) == 1
    with pytest.raises(RequestError, match="no stored run read a source named 'orders'"):
        forget("orders", [1], store=store)
    with pytest.raises(RequestError, match="either by id .* or by a predicate"):
        forget("customers", [1], where="true", store=store)
    with pytest.raises(RequestError, match=r"--where 'nope = 1' on .*customers.csv: .*the source has the columns"):
        forget("customers", where="nope = 1", store=store)


def test_dry_run_writes_nothing_and_several_runs_need_a_choice(workdir):
    first = _run(workdir)
    second = _run(workdir, overrides=["model.C=0.1"])
    store = workdir / ".lester"
    who = int(first.train["customer_id"].iloc[0])
    with pytest.raises(RequestError, match="2 runs hold rows derived from these customers rows"):
        forget("customers", [who], store=store)
    dry = forget("customers", [who], all_runs=True, dry_run=True, store=store)
    assert {c.run_id for c in dry.changes} == {first.run_id, second.run_id} and dry.new_runs == []
    assert len(lt.runs(store)) == 2
    only = forget("customers", [who], run=second.run_id[:-2], store=store)
    assert [c.run_id for c in only.changes] == [second.run_id]
    both = forget("customers", [int(first.test["customer_id"].iloc[0])], all_runs=True, store=store)
    # the first run and the newest version of the second lineage
    assert {c.run_id for c in both.changes} == {first.run_id, only.new_runs[0]}
    assert second.run_id in both.superseded


def test_redact_re_derives_and_re_encodes_only_the_affected_rows(workdir):
    old = _run(workdir)
    store = workdir / ".lester"
    report = redact("mails", "mail_text", "mail_text LIKE '%4111%'", "[redacted]", verify=True, store=store)
    (change,) = report.changes
    assert change.dataprep == "affected rows only" and change.strategy == "newton_step"
    new = store / "runs" / change.new_run_id
    mails = pd.read_csv(workdir / "mails.csv")
    hit = set(mails.loc[mails["mail_text"].str.contains("4111"), "mail_id"])
    prepared = _prepared(new)
    redacted_rows = prepared[prepared["prov:mails"].isin(hit)]
    assert len(redacted_rows) == sum(change.rows_removed.values()) == sum(change.rows_added.values()) > 0
    assert (redacted_rows["text_length"] == len("[redacted]")).all() and (redacted_rows["sentiment"] == 0).all()
    # unaffected rows keep their stored features; affected ones are encoded by the fitted encoder
    for split in ("train", "test"):
        rows = pd.read_parquet(new / f"{split}.parquet")
        X = load_matrix(new, f"X_{split}")
        np.testing.assert_allclose(X, old.encoder.transform(rows[old.train.columns.drop(["prov:mails", "prov:customers"])]))
    # exact: the same prepared rows as a retrain on the redacted source
    changed = mails.copy()
    changed.loc[changed["mail_id"].isin(hit), "mail_text"] = "[redacted]"
    (workdir / "redacted").mkdir()
    changed.to_csv(workdir / "redacted" / "mails.csv", index=False)
    retrained = lt.run(workdir / "pipeline.py", capture=False, cache=False,
                       sources={"customers": str(workdir / "customers.csv"), "mails": str(workdir / "redacted" / "mails.csv")})
    columns = ["customer_id", "country", "sentiment", "text_length", "prov:mails", "prov:customers"]
    assert _row_set(prepared, columns) == _row_set(pd.concat([retrained.train, retrained.test]), columns)
    assert change.verification.agreement >= 0.95 and change.verification.test_rows_unmatched == 0
    # redacting again changes nothing
    again = redact("mails", "mail_text", "mail_text LIKE '%4111%'", "[redacted]", store=store)
    assert [c.strategy for c in again.changes] == ["unchanged"] and again.new_runs == []


def test_a_plan_with_an_aggregate_is_recomputed_and_diffed_exactly(workdir):
    old = _run(workdir, "aggregate.py")
    store = workdir / ".lester"
    mails = pd.read_csv(workdir / "mails.csv")
    gone = mails["mail_id"].iloc[:30].tolist()
    report = forget("mails", gone, verify=True, store=store)
    (change,) = report.changes
    assert change.dataprep.startswith("full") and change.strategy == "gram_downdate" and change.exact
    new = store / "runs" / change.new_run_id
    (workdir / "reduced").mkdir()
    mails[~mails["mail_id"].isin(gone)].to_csv(workdir / "reduced" / "mails.csv", index=False)
    retrained = lt.run(workdir / "aggregate.py", capture=False, cache=False,
                       sources={"customers": str(workdir / "customers.csv"), "mails": str(workdir / "reduced" / "mails.csv")})
    columns = ["customer_id", "country", "mails", "length"]
    assert _row_set(_prepared(new), columns) == _row_set(pd.concat([retrained.train, retrained.test]), columns)
    assert sum(change.rows_added.values()) > 0  # the customers' aggregates changed
    # a customer's aggregate row carries the list of its mail ids, which the split hashes: rows
    # whose list changed may change sides, exactly as they do in the retrain
    assert set(pd.read_parquet(new / "train.parquet")["customer_id"]) == set(retrained.train["customer_id"])
    assert change.verification.test_rows_unmatched == 0 and change.verification.agreement >= 0.9
    assert len(old.train) + len(old.test) == len(retrained.train) + len(retrained.test)


def test_plan_facts_recorded_at_capture_answer_requests_without_the_pipeline(workdir):
    from lester.frame.dependence import linear_in, source_columns_read
    from lester.ivm.dataprep_delta import build_frame, source_paths
    from lester.pipeline.definition import load_pipeline

    store = workdir / ".lester"
    linear, aggregate = _run(workdir), _run(workdir, "aggregate.py")
    for result, file in ((linear, "pipeline.py"), (aggregate, "aggregate.py")):
        info = json.loads((result.folder / "run.json").read_text())
        definition = load_pipeline(workdir / file)
        frame = build_frame(definition, source_paths(definition, _sources(workdir)))
        assert info["linear_sources"] == [s for s in ("customers", "mails") if linear_in(frame, s)]
        assert info["source_columns_read"] == sorted([list(pair) for pair in source_columns_read(frame)])
    assert json.loads((aggregate.folder / "run.json").read_text())["linear_sources"] == ["customers"]
    assert ["mails", "mail_subject"] not in json.loads((linear.folder / "run.json").read_text())["source_columns_read"]

    # a deletion from a plan linear in the source needs the stored run only, not the pipeline
    (workdir / "pipeline.py").rename(workdir / "moved.py")
    report = forget("customers", [int(linear.train["customer_id"].iloc[0])], run=linear.run_id, store=store)
    assert report.changes[0].dataprep == "none" and report.new_runs
    (workdir / "moved.py").rename(workdir / "pipeline.py")

    # a run stored before the facts were recorded rebuilds the plan to answer the same questions
    for result in (linear, aggregate):
        info_path = result.folder / "run.json"
        info = json.loads(info_path.read_text())
        del info["linear_sources"], info["source_columns_read"]
        info_path.write_text(json.dumps(info))
    report = redact("mails", "mail_subject", "mail_id = 1001", "[x]", run=aggregate.run_id, store=store)
    assert "no artifact of any run uses the column mails.mail_subject" in report.message
    report = forget("mails", [int(mails) for mails in pd.read_csv(workdir / "mails.csv")["mail_id"].iloc[:5]],
                    run=aggregate.run_id, store=store)
    assert report.changes[0].dataprep.startswith("full")


def test_chained_versions_verify_against_every_change_in_the_lineage(workdir):
    _run(workdir, "aggregate.py")
    store = workdir / ".lester"
    forget("customers", [1, 2, 3], store=store)
    report = forget("customers", [4, 5], verify=True, store=store)
    (change,) = report.changes
    assert change.strategy == "gram_downdate"
    info = json.loads((store / "runs" / change.new_run_id / "run.json").read_text())
    # the lineage's changes are the store's forget set (keyed hashes), not ids in run.json
    assert "ivm_changes" not in info and info["forget_set_seq"] == 2
    assert Catalog(store / "catalog.duckdb").query("SELECT count(*) AS n FROM forget_set")["n"].iloc[0] == 5
    assert (store / "runs" / change.new_run_id / "ivm_state.npz").exists()
    assert change.verification.test_rows_unmatched == 0


def test_a_killed_update_leaves_the_catalog_as_it_was(workdir):
    old = _run(workdir)
    store = workdir / ".lester"
    before = _folder_digest(old.folder)
    catalog = Catalog(store / "catalog.duckdb")
    script = textwrap.dedent(f"""
        import os, signal
        import lester.ivm.versions as versions
        real = versions.save_pickle
        def die(path, value):
            real(path, value)
            os.kill(os.getpid(), signal.SIGKILL)   # mid-write of the new version
        versions.save_pickle = die
        from lester.ivm import forget
        forget("customers", [{int(old.train['customer_id'].iloc[0])}], store={str(store)!r})
    """)
    process = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True)
    assert process.returncode == -9, process.stderr
    assert catalog.runs()["run_id"].tolist() == [old.run_id]
    assert catalog.query("SELECT count(*) AS n FROM audit_log")["n"].iloc[0] == 0
    assert [p.name for p in (store / "runs").iterdir() if not p.name.startswith(".")] == [old.run_id]
    assert _folder_digest(old.folder) == before


def test_cli_forget_and_redact(workdir, monkeypatch):
    from click.testing import CliRunner

    from lester.cli import main

    old = _run(workdir)
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    who = str(old.train["customer_id"].iloc[0])
    result = runner.invoke(main, ["forget", "--source", "customers", "--id", who, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and old.run_id in result.output and "newton_step" in result.output
    result = runner.invoke(main, ["forget", "--source", "customers", "--id", who, "--verify"])
    assert result.exit_code == 0, result.output
    assert "verification against a retrain" in result.output and "wrote 1 new version" in result.output
    result = runner.invoke(main, ["redact", "--source", "mails", "--column", "mail_text",
                                  "--where", "mail_text LIKE '%4111%'", "--with", "[redacted]"])
    assert result.exit_code == 0, result.output
    assert "affected rows only" in result.output
    result = runner.invoke(main, ["redact", "--source", "mails", "--column", "mail_subject", "--where", "true"])
    assert result.exit_code == 0 and "no artifact of any run uses the column mails.mail_subject" in result.output
    result = runner.invoke(main, ["forget", "--source", "nope", "--id", "1"])
    assert result.exit_code == 2 and "no stored run read a source named 'nope'" in result.output
    assert len(lt.runs(workdir / ".lester")) == 3


def test_new_version_metrics_match_the_runners_definitions():
    from sklearn.linear_model import LogisticRegression, Ridge

    from lester.models.metrics import evaluate
    from lester.pipeline.runner import _metrics

    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(300, 3)), 1)  # ties in the scores
    for y in ((X[:, 0] + rng.normal(size=300) > 0).astype(int), rng.integers(0, 3, 300), rng.integers(1, 3, 300)):
        model = LogisticRegression().fit(X, y)
        assert evaluate(model, X, y, model.predict(X)) == pytest.approx(_metrics(model, X, y, model.predict(X)))
    y = X[:, 1] + rng.normal(size=300)
    model = Ridge().fit(X, y)
    assert evaluate(model, X, y, model.predict(X)) == pytest.approx(_metrics(model, X, y, model.predict(X)))


def test_verification_counts_disagreements_that_are_near_ties():
    from sklearn.linear_model import LogisticRegression

    from lester.ivm.verify import compare
    from lester.pipeline.runner import RunResult

    # 40 test rows share one feature vector on the decision boundary, 10 others are far from it
    X_test = np.vstack([np.zeros((40, 1)), np.full((10, 1), 3.0)])
    rows = pd.DataFrame({"prov:people": np.arange(50)})

    def model(intercept: float) -> LogisticRegression:
        fitted = LogisticRegression().fit(np.array([[-1.0], [1.0]]), np.array([0, 1]))
        fitted.coef_, fitted.intercept_ = np.array([[1.0]]), np.array([intercept])
        return fitted

    ours, theirs = model(1e-5), model(-1e-5)  # the tie falls on either side, by a hair
    retrained = RunResult(None, None, rows.iloc[:0], rows, None, X_test, None, None, theirs.predict(X_test), None,
                          theirs, {"test": {"accuracy": 0.5}})
    verification = compare(model=ours, old_model=ours, encoder=None, test_rows=rows, predictions=ours.predict(X_test),
                           y_test=np.ones(50), metrics={"test": {"accuracy": 0.5}}, provenance_columns=["prov:people"],
                           retrained=retrained, retrain_seconds=1.0, X_test=X_test)
    assert verification.agreement == pytest.approx(10 / 50) and verification.near_ties == 40
    assert "40 of the 40 disagreeing test rows are near ties" in verification.notes[0]
    far = model(-2.0)  # says 0 on the boundary rows with confidence: a disagreement, not a tie
    verification = compare(model=far, old_model=far, encoder=None, test_rows=rows, predictions=far.predict(X_test),
                           y_test=np.ones(50), metrics={}, provenance_columns=["prov:people"],
                           retrained=RunResult(None, None, rows.iloc[:0], rows, None, X_test, None, None,
                                               np.ones(50, dtype=int), None, theirs, {}),
                           retrain_seconds=1.0, X_test=X_test)
    assert verification.agreement == pytest.approx(10 / 50) and verification.near_ties == 0


def test_request_ids_match_stored_ids_exactly_as_text():
    from lester.ivm.requests import id_mask

    # integer ids: only the texts that spell the integer ("07", "7.0", "--5", "٣" do not)
    stored = np.array([7, -3, 5, 3, 12])
    assert id_mask(stored, {"7", "-3", "07", "7.0", "--5", "٣", "abc", ""}).tolist() == [True, True, False, False, False]
    # text and float ids compare as their text
    assert id_mask(np.array(["a", "07", "7"], dtype=object), {"07"}).tolist() == [False, True, False]
    assert id_mask(np.array([7.0, 7.5]), {"7.0", "7"}).tolist() == [True, False]


def test_forgetting_every_row_of_a_group_removes_the_groups_aggregate_row(workdir):
    # an aggregate over no rows left is no row: the customer's row must go, not keep stale counts
    # (as every reader sees the version: the row stays in the shared chunk until lester purge)
    _run(workdir, "aggregate.py")
    mails = pd.read_csv(workdir / "mails.csv")
    all_of_one = mails.loc[mails["email"] == "c10@x.org", "mail_id"].tolist()
    assert all_of_one
    (change,) = forget("mails", all_of_one, store=workdir / ".lester").changes
    from lester.pipeline.store import load_rows

    folder = workdir / ".lester" / "runs" / change.new_run_id
    new = pd.concat([load_rows(folder, "train"), load_rows(folder, "test")])  # deletion vectors applied
    assert 10 not in set(new["customer_id"])
    assert not set(all_of_one) & {i for ids in new["prov:mails"] for i in ids}
