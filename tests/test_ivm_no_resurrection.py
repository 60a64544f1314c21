"""Issue 13, "no resurrection": a forget set per source, one head per lineage, ids that cannot be
mistaken, an audit log that records without retaining.

Every test runs real pipelines into a real store (run folders, catalog.duckdb, stage cache),
and the concurrency test runs two real processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.ivm import RequestError, forget, redact
from lester.pipeline.store import load_rows

# Linear in both sources; the output keeps text columns of both, so a redacted value that came
# back would be visible in the stored rows.
LINEAR = '''
import lester as lt
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    mails = lt.read_csv(mails, key="mail_id")
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    joined = joined.project("text_length", "length(mail_text)")
    return joined[["mail_id", "customer_email", "customer_name", "mail_text", "mail_subject", "country",
                   "text_length", "score"]]


def encode_features():
    return ColumnTransformer([("country", OneHotEncoder(handle_unknown="ignore"), ["country"]),
                              ("numbers", StandardScaler(), ["text_length"])])


def extract_label(prepared):
    return prepared["score"].to_numpy()


def make_model():
    return Ridge(alpha=1.0)
'''

# Not linear in customers (the right side of a left join, and a statistic over all of its
# rows) and not linear in mails (an aggregate): every request re-runs the data preparation.
NON_LINEAR = '''
import lester as lt
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def centered(score):
    return score - score.mean()


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    customers = customers.project("score_centered", ["score"], centered, vectorized=True)
    mails = lt.read_csv(mails, key="mail_id")
    counts = mails.groupby("email").agg(mails=("mail_id", "count"))
    mails = lt.join(mails, counts, left_on="email", right_on="email")
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email", how="left")
    joined = joined.project("sc", "coalesce(score_centered, 0.0)")
    joined = joined.project("land", "coalesce(country, 'none')")
    joined = joined.project("label", "length(mail_text) > 14")
    return joined[["mail_id", "customer_email", "customer_name", "mail_text", "land", "sc", "mails", "label"]]


def encode_features():
    return ColumnTransformer([("land", OneHotEncoder(handle_unknown="ignore"), ["land"]),
                              ("numbers", StandardScaler(), ["sc", "mails"])])


def extract_label(prepared):
    return prepared["label"].astype(int).to_numpy()


def make_model():
    return LogisticRegression()
'''

# A source without a key column: its rows are named by position.
POSITIONAL = '''
import lester as lt
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.preprocessing import OneHotEncoder


def dataprep(customers="customers.csv"):
    return lt.read_csv(customers)[["customer_id", "country", "score"]]


def encode_features():
    return ColumnTransformer([("country", OneHotEncoder(handle_unknown="ignore"), ["country"])])


def extract_label(prepared):
    return prepared["score"].to_numpy()


def make_model():
    return Ridge()
'''

PREP_ONLY = '''
import lester as lt


def dataprep(customers="customers.csv", mails="mails.csv"):
    customers = lt.read_csv(customers, key="customer_id")
    mails = lt.read_csv(mails, key="mail_id")
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email", how="left")
    return joined[["mail_id", "customer_email", "customer_name", "country", "mail_text"]]
'''

WORDS = ["thanks", "great", "love", "broken", "slow", "card 4111 2222", "ok"]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    n_customers, n_mails = 60, 300
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "customer_email": [f"person{i}@mail.example" for i in range(1, n_customers + 1)],
        "customer_name": [f"Given{i} Family" for i in range(1, n_customers + 1)],
        "country": rng.choice(["DE", "FR", "NL"], n_customers),
        "score": rng.normal(size=n_customers),
    })
    mails = pd.DataFrame({
        "mail_id": np.arange(1000, 1000 + n_mails),
        "email": [f"person{i}@mail.example" for i in rng.integers(1, n_customers + 1, n_mails)],
        "mail_text": [" ".join(rng.choice(WORDS, 3)) for _ in range(n_mails)],
        "mail_subject": [f"subject {i}" for i in range(n_mails)],
    })
    customers.to_csv(tmp_path / "customers.csv", index=False)
    mails.to_csv(tmp_path / "mails.csv", index=False)
    for name, text in (("linear.py", LINEAR), ("nonlinear.py", NON_LINEAR), ("positional.py", POSITIONAL),
                       ("prep.py", PREP_ONLY)):
        (tmp_path / name).write_text(text)
    return tmp_path


def _sources(work: Path) -> dict[str, str]:
    return {"customers": str(work / "customers.csv"), "mails": str(work / "mails.csv")}


def _run(work: Path, pipeline: str, cache: bool = True):
    sources = _sources(work) if pipeline != "positional.py" else {"customers": str(work / "customers.csv")}
    return lt.run(work / pipeline, sources=sources, store=work / ".lester", cache=cache)


def _rows(folder: Path) -> pd.DataFrame:
    """The version's prepared rows as its readers see them (deletion vectors applied)."""
    return pd.concat([load_rows(folder, "train"), load_rows(folder, "test")])


def _heads(store: Path) -> list[str]:
    """Runs without a newer version (children point at their parent in catalog.json)."""
    runs = {p.name: json.loads((p / "catalog.json").read_text())["run"].get("parent_run")
            for p in (store / "runs").iterdir() if not p.name.startswith(".")}
    parents = {parent for parent in runs.values() if parent}
    return sorted(r for r in runs if r not in parents)


def _catalog(store: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store / "catalog.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _ids_in(frame: pd.DataFrame, column: str) -> set[str]:
    found: set[str] = set()
    for value in frame[column].tolist():
        values = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
        found.update(str(v) for v in values if v is not None and not (isinstance(v, float) and np.isnan(v)))
    return found


def _no_key_named(value, names=("ids", "request")) -> bool:
    if isinstance(value, dict):
        return all(k not in names and _no_key_named(v, names) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_key_named(v, names) for v in value)
    return True


# -- 1. the forget set -------------------------------------------------------------------------
def test_forget_set_keeps_keyed_hashes_and_a_later_run_drops_the_rows(work):
    first = _run(work, "linear.py")
    store = work / ".lester"
    who = int(first.train["prov:customers"].iloc[0])
    forget("customers", [who], store=store)
    rows = _catalog(store, "SELECT source, id_hash, id_kind FROM forget_set")
    assert [(s, k) for s, _, k in rows] == [("customers", "key")]
    digest = rows[0][1]
    secret = store / "keys" / "subject.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) >= 32
    # a keyed hash: what the store's secret gives, not what anyone can compute from the id alone
    assert digest == hmac.new(secret.read_bytes(), f"customers\x1f{who}".encode(), "sha256").hexdigest()
    assert digest not in {hashlib.sha256(t.encode()).hexdigest() for t in (str(who), f"customers\x1f{who}")}

    # the next run on the unchanged source, cache on, drops the forgotten customer and says so
    again = _run(work, "linear.py")
    assert not again.cached["dataprep"]
    assert str(who) not in _ids_in(pd.concat([again.train, again.test]), "prov:customers")
    assert again.forgotten == {"customers": int((pd.read_csv(work / "customers.csv")["customer_id"] == who).sum())}
    info = json.loads((again.folder / "run.json").read_text())
    assert info["forget_set"]["customers"]["rows_dropped"] == 1
    # any other pipeline reading the source too, and the verification retrain
    other = _run(work, "nonlinear.py")
    assert str(who) not in _ids_in(pd.concat([other.train, other.test]), "prov:customers")
    assert f"person{who}@mail.example" not in set(pd.concat([other.train, other.test])["customer_email"].dropna())


def test_nonlinear_re_runs_apply_every_earlier_request(work):
    _run(work, "nonlinear.py")
    store = work / ".lester"
    forget("customers", [3], store=store)
    forget("customers", [4], store=store)
    redact("customers", "customer_name", "customer_id = 5", "[gone]", store=store)
    report = redact("customers", "customer_name", "customer_id = 6", "[gone]", verify=True, store=store)
    (head,) = _heads(store)
    rows = _rows(store / "runs" / head)
    assert not {"3", "4"} & _ids_in(rows, "prov:customers")
    assert not {f"person{i}@mail.example" for i in (3, 4)} & set(rows["customer_email"].dropna())
    names = set(rows["customer_name"].dropna())
    assert not {f"Given{i} Family" for i in (3, 4, 5, 6)} & names and "[gone]" in names
    # the retrain of --verify reads the sources through the whole forget set as well
    assert report.changes[0].verification.test_rows_unmatched == 0


def test_a_linear_redaction_keeps_earlier_redactions_of_the_same_row(work):
    _run(work, "linear.py")
    store = work / ".lester"
    redact("mails", "mail_text", "mail_id = 1001", "[text gone]", store=store)
    redact("mails", "mail_subject", "mail_id = 1001", "[subject gone]", store=store)
    (head,) = _heads(store)
    rows = _rows(store / "runs" / head)
    row = rows[rows["mail_id"] == 1001]
    assert row["mail_text"].tolist() == ["[text gone]"] * len(row) and row["mail_subject"].tolist() == ["[subject gone]"] * len(row)
    # and a new run of the unchanged source applies both
    again = _run(work, "linear.py")
    rows = pd.concat([again.train, again.test])
    assert set(rows.loc[rows["mail_id"] == 1001, "mail_text"]) <= {"[text gone]"}


# -- 2. one head per lineage -----------------------------------------------------------------
def test_a_request_on_an_older_version_is_refused_naming_the_head(work, monkeypatch):
    from click.testing import CliRunner

    from lester.cli import main

    first = _run(work, "linear.py")
    store = work / ".lester"
    newer = forget("customers", [1], store=store).new_runs[0]
    with pytest.raises(RequestError, match=f"run {first.run_id} .*newer version.*{newer}"):
        forget("customers", [2], run=first.run_id, store=store)
    monkeypatch.setenv("COLUMNS", "250")
    result = CliRunner().invoke(main, ["forget", "--source", "customers", "--id", "2", "--run", first.run_id,
                                       "--store", str(store)])
    assert result.exit_code == 2 and newer in result.output and "Traceback" not in result.output
    assert _heads(store) == [newer]


def test_two_concurrent_forgets_both_take_effect(work):
    first = _run(work, "linear.py")
    store = work / ".lester"
    a, b = (int(v) for v in pd.concat([first.train, first.test])["prov:customers"].drop_duplicates().iloc[:2])
    script = textwrap.dedent("""
        import sys, time
        from lester.ivm import forget
        start = float(sys.argv[3])
        while time.time() < start:
            time.sleep(0.005)
        forget("customers", [int(sys.argv[2])], store=sys.argv[1])
    """)
    start = str(__import__("time").time() + 8.0)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(lt.__file__).parent.parent),
                                                         os.environ.get("PYTHONPATH", "")])}
    processes = [subprocess.Popen([sys.executable, "-c", script, str(store), str(who), start], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in (a, b)]
    for process in processes:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
    (head,) = _heads(store)
    assert not {str(a), str(b)} & _ids_in(_rows(store / "runs" / head), "prov:customers")


# -- 3. ids that cannot be mistaken -------------------------------------------------------------
def test_positional_ids_are_checked_against_the_file(work):
    from click.testing import CliRunner

    from lester.cli import main

    _run(work, "positional.py")
    store = work / ".lester"
    with pytest.raises(RequestError, match="no key column.*--where"):
        forget("customers", ["C00100"], store=store)
    report = forget("customers", [5], store=store)
    assert report.id_kind == "position" and "by position" in report.message
    customers = pd.read_csv(work / "customers.csv")
    top = customers.iloc[:1].assign(customer_id=0, customer_email="new@mail.example", customer_name="New")
    pd.concat([top, customers]).to_csv(work / "customers.csv", index=False)
    with pytest.raises(RequestError, match=r"customers.csv changed since run .* positions .*--where"):
        forget("customers", [7], store=store)
    result = CliRunner().invoke(main, ["forget", "--source", "customers", "--id", "7", "--store", str(store)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    # the row forgotten by position stays forgotten in a run of the changed file (found by content)
    again = _run(work, "positional.py")
    assert customers["customer_id"].iloc[5] not in set(pd.concat([again.train, again.test])["customer_id"])
    assert again.forgotten == {"customers": 1}


def test_the_report_says_a_key_was_used(work):
    _run(work, "linear.py")
    report = forget("customers", [2], store=work / ".lester")
    assert report.id_kind == "key" and "by key" in report.message


# -- 4. the audit log ---------------------------------------------------------------------------
def test_the_audit_log_keeps_no_identifier_and_outlives_version_folders(work):
    import shutil

    first = _run(work, "linear.py")
    store = work / ".lester"
    forget("customers", [7], store=store)
    forget("customers", where="customer_email = 'person8@mail.example'", store=store)
    entries = _catalog(store, "SELECT request, subjects FROM audit_log ORDER BY created")
    assert len(entries) == 2
    text = json.dumps(entries)
    assert "person8@mail.example" not in text and '"7"' not in text
    literal = hashlib.sha256(b"person8@mail.example").hexdigest()[:16]
    assert literal not in text and "hmac-sha256:" in text
    for folder in (store / "runs").iterdir():
        assert not json.loads((folder / "catalog.json").read_text()).get("audit")
    # deleting the versions by hand leaves the log whole
    for folder in (store / "runs").iterdir():
        if folder.name != first.run_id:
            shutil.rmtree(folder)
    lt.runs(store)
    assert len(_catalog(store, "SELECT * FROM audit_log")) == 2


# -- 5. data preparation only ---------------------------------------------------------------------
def test_forget_and_redact_on_a_data_preparation_run(work):
    _run(work, "prep.py")
    store = work / ".lester"
    forget("customers", [9], store=store)
    redact("customers", "customer_name", "customer_id = 10", "[gone]", store=store)
    forget("mails", [1002], store=store)
    (head,) = _heads(store)
    rows = _rows(store / "runs" / head)
    assert "9" not in _ids_in(rows, "prov:customers") and 1002 not in set(rows["mail_id"])
    assert "Given10 Family" not in set(rows["customer_name"].dropna())


# -- 6. the must-show: 20 requests, linear and non-linear ---------------------------------------
@pytest.mark.parametrize("pipeline", ["linear.py", "nonlinear.py"])
def test_twenty_requests_leave_nothing_and_nothing_comes_back(work, pipeline):
    _run(work, pipeline)
    store = work / ".lester"
    customers = pd.read_csv(work / "customers.csv")
    mails = pd.read_csv(work / "mails.csv")
    forgotten_customers, forgotten_mails, redacted_mails = [], [], []
    for i in range(20):
        if i % 4 == 3:  # a redaction of the mail text of one mail
            mail = int(mails["mail_id"].iloc[40 + i])
            redact("mails", "mail_text", f"mail_id = {mail}", "[redacted]", store=store)
            redacted_mails.append(mail)
        elif i % 4 == 1:
            mail = int(mails["mail_id"].iloc[i])
            forget("mails", [mail], store=store)
            forgotten_mails.append(mail)
        else:  # by id and by e-mail address, alternately
            who = 11 + i
            if i % 2:
                forget("customers", [who], store=store)
            else:
                forget("customers", where=f"customer_email = 'person{who}@mail.example'", store=store)
            forgotten_customers.append(who)
    emails = {f"person{c}@mail.example" for c in forgotten_customers}
    texts = set(mails.loc[mails["mail_id"].isin(redacted_mails), "mail_text"])

    def check(rows: pd.DataFrame) -> None:
        assert not {str(c) for c in forgotten_customers} & _ids_in(rows, "prov:customers")
        assert not {str(m) for m in forgotten_mails} & _ids_in(rows, "prov:mails")
        assert not emails & set(rows["customer_email"].dropna())
        redacted = rows[rows["mail_id"].isin(redacted_mails)]
        assert set(redacted["mail_text"]) <= {"[redacted]"}

    (head,) = _heads(store)
    check(_rows(store / "runs" / head))
    info_text = (store / "runs" / head / "run.json").read_text()
    assert not any(e in info_text for e in emails) and not any(t in info_text for t in texts)
    assert _no_key_named(json.loads(info_text))
    assert len(_catalog(store, "SELECT * FROM audit_log")) == 20
    assert "person" not in json.dumps(_catalog(store, "SELECT * FROM audit_log"), default=str)

    again = _run(work, pipeline)
    check(pd.concat([again.train, again.test]))
    assert again.forgotten["customers"] == len(forgotten_customers)
    assert again.forgotten["mails"] == len(forgotten_mails)
    assert len(customers) == 60


def test_a_run_overtaken_by_a_request_is_not_registered(work):
    from lester.pipeline.runner import PipelineRunError

    first = _run(work, "linear.py")
    store = work / ".lester"
    who = int(first.train["prov:customers"].iloc[0])
    script = f"from lester.ivm import forget; forget('customers', [{who}], store={str(store)!r})"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(lt.__file__).parent.parent),
                                                         os.environ.get("PYTHONPATH", "")])}

    def progress(stage: str, message: str) -> None:
        if stage == "split":  # the rows are prepared: another process forgets one of them now
            subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=240)

    with pytest.raises(PipelineRunError, match="registered while it ran"):
        lt.run(work / "linear.py", sources=_sources(work), store=store, cache=False, progress=progress)
    assert len(lt.runs(store)) == 2  # the first run and the forget's version, nothing else
    again = _run(work, "linear.py", cache=False)
    assert str(who) not in _ids_in(pd.concat([again.train, again.test]), "prov:customers")


def test_a_forget_set_without_its_key_stops_a_run(work):
    from lester.pipeline.forget_set import ForgetSetError

    _run(work, "linear.py")
    store = work / ".lester"
    forget("customers", [3], store=store)
    (store / "keys" / "subject.key").unlink()
    with pytest.raises(ForgetSetError, match="subject key .* is missing"):
        _run(work, "linear.py")


def test_a_damaged_catalog_is_set_aside_not_deleted(work):
    import warnings

    _run(work, "linear.py")
    store = work / ".lester"
    forget("customers", [3], store=store)
    (store / "catalog.duckdb").write_bytes(b"not a database" * 100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(lt.runs(store)) == 2  # the index is rebuilt from the run folders
    (aside,) = store.glob("catalog.duckdb.damaged-*")
    assert aside.read_bytes().startswith(b"not a database")
    assert any("forget set" in str(w.message) and str(aside) in str(w.message) for w in caught)
    # and nothing is derived from the sources until the forget set is back
    from lester.pipeline.forget_set import ForgetSetError

    with pytest.raises(ForgetSetError, match="damaged"):
        _run(work, "linear.py")
