"""Stored pickles (models, encoders, stage cache entries) are unpickled only after their HMAC
is checked: a tampered file in the store must never run code."""

from __future__ import annotations

import hashlib
import json
import pickle
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.errors import LesterError
from lester.ivm import forget, redact
from lester.pipeline.catalog import RECORD_FILE

PIPELINE = Path(__file__).parent / "data" / "mails_pipeline.py"
TRUST_VARIABLE = "LESTER_TRUST_UNVERIFIED_PICKLES"


class Marker:
    """A pickle that, when loaded, creates a file: the harmless stand-in for an exploit."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv(TRUST_VARIABLE, raising=False)
    rng = np.random.default_rng(1)
    n_customers, n_mails = 40, 160
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "customer_email": [f"c{i}@x.org" for i in range(1, n_customers + 1)],
        "country": rng.choice(["DE", "FR", "NL"], n_customers),
        "is_premium": rng.random(n_customers) < 0.4,
    })
    words = ["thanks", "great", "love", "broken", "slow", "card 4111 2222", "ok"]
    mails = pd.DataFrame({
        "mail_id": np.arange(1000, 1000 + n_mails),
        "email": [f"c{i}@x.org" for i in rng.integers(1, n_customers + 1, n_mails)],
        "mail_date": "2022-06-01",
        "mail_text": [" ".join(rng.choice(words, 3)) for _ in range(n_mails)],
    })
    customers.to_csv(tmp_path / "customers.csv", index=False)
    mails.to_csv(tmp_path / "mails.csv", index=False)
    (tmp_path / "pipeline.py").write_text(PIPELINE.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")
    return tmp_path


def _run(workdir: Path, **kwargs):
    sources = {"customers": str(workdir / "customers.csv"), "mails": str(workdir / "mails.csv")}
    kwargs.setdefault("cache", False)
    return lt.run(workdir / "pipeline.py", sources=sources, store=workdir / ".lester", **kwargs)


def _tamper(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps(Marker(marker)))


def _cli(*args: str):
    from click.testing import CliRunner

    from lester.cli import main

    return CliRunner().invoke(main, list(args))


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines


def _shown(run, name: str) -> str:
    """How the command line names a run's file: the default store is ``.lester``, relative."""
    return str(Path(".lester") / "runs" / run.run_id / name)


def _registered(store: Path) -> list[str]:
    return sorted(p.name for p in (store / "runs").iterdir() if not p.name.startswith("."))


def test_a_tampered_model_is_refused_by_forget_dry_run_on_the_command_line(workdir):
    old = _run(workdir)
    marker = workdir / "pwned-model"
    _tamper(old.folder / "model.pkl", marker)
    who = str(old.train["customer_id"].iloc[0])
    result = _cli("forget", "--source", "customers", "--id", who, "--dry-run")
    assert not marker.exists()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    message = _flat(result.output)
    assert f"refusing to load {_shown(old, 'model.pkl')}:" in message
    assert "does not match the one recorded when the run was captured" in message
    assert "re-run the pipeline" in message


def test_a_tampered_model_is_refused_by_the_python_api(workdir):
    old = _run(workdir)
    marker = workdir / "pwned-api"
    _tamper(old.folder / "model.pkl", marker)
    who = int(old.train["customer_id"].iloc[0])
    with pytest.raises(LesterError, match="refusing to load .*model.pkl: its digest does not match"):
        forget("customers", [who], dry_run=True, store=workdir / ".lester")
    with pytest.raises(LesterError, match="model.pkl"):
        forget("customers", [who], store=workdir / ".lester")
    assert not marker.exists()
    assert _registered(workdir / ".lester") == [old.run_id]


def test_a_rewritten_digest_does_not_make_a_tampered_model_loadable(workdir):
    # A store writer who replaces the pickle can also rewrite the digest beside it: a plain
    # SHA-256 would then match. The record holds an HMAC keyed by the store's secret instead.
    old = _run(workdir)
    marker = workdir / "pwned-forged"
    _tamper(old.folder / "model.pkl", marker)
    record_file = old.folder / RECORD_FILE
    record = json.loads(record_file.read_text())
    forged = hashlib.sha256((old.folder / "model.pkl").read_bytes()).hexdigest()
    for digest in (forged, f"hmac-sha256:{forged}", f"sha256:{forged}"):
        record["artifact_digests"]["model.pkl"] = digest
        record_file.write_text(json.dumps(record))
        with pytest.raises(LesterError, match="model.pkl"):
            forget("customers", [int(old.train["customer_id"].iloc[0])], dry_run=True, store=workdir / ".lester")
    assert not marker.exists()


def test_a_tampered_encoder_is_refused_and_nothing_is_written(workdir):
    old = _run(workdir)
    marker = workdir / "pwned-encoder"
    _tamper(old.folder / "encoder.pkl", marker)
    # a redaction re-derives rows and encodes them with the stored encoder
    result = _cli("redact", "--source", "mails", "--column", "mail_text",
                  "--where", "mail_text LIKE '%4111%'", "--with", "[redacted]")
    assert not marker.exists()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    message = _flat(result.output)
    assert f"refusing to load {_shown(old, 'encoder.pkl')}: its digest does not match" in message
    with pytest.raises(LesterError, match="encoder.pkl"):
        redact("mails", "mail_text", "mail_text LIKE '%4111%'", "[redacted]", store=workdir / ".lester")
    with pytest.raises(LesterError, match="encoder.pkl"):
        forget("customers", [int(old.train["customer_id"].iloc[0])], verify=True, store=workdir / ".lester")
    assert not marker.exists()
    assert _registered(workdir / ".lester") == [old.run_id]


def test_a_tampered_cache_entry_is_a_miss_and_is_recomputed(workdir):
    first = _run(workdir, cache=True, capture=False)
    assert not any(first.cached.values())
    entries = sorted((workdir / ".lester" / "cache").glob("*.pkl"))
    assert entries
    marker = workdir / "pwned-cache"
    for entry in entries:
        _tamper(entry, marker)
    second = _run(workdir, cache=True, capture=False)
    assert not marker.exists()
    assert not any(second.cached.values())
    np.testing.assert_array_equal(second.predictions, first.predictions)
    # the recomputed entries are stored again, signed, and used by the next run
    third = _run(workdir, cache=True, capture=False)
    assert all(third.cached.values())
    np.testing.assert_array_equal(third.predictions, first.predictions)


def test_a_cache_entry_copied_onto_another_key_is_a_miss(workdir):
    _run(workdir, cache=True, capture=False)
    cache = workdir / ".lester" / "cache"
    entries = sorted(cache.glob("*.pkl"))
    assert len(entries) >= 2
    # a validly signed entry of one stage, moved to another stage's key with everything beside it
    source, target = entries[0], entries[1]
    for companion in cache.glob(f"{source.stem}*"):
        (cache / companion.name.replace(source.stem, target.stem)).write_bytes(companion.read_bytes())
    second = _run(workdir, cache=True, capture=False)
    assert sum(not hit for hit in second.cached.values()) == 1


def test_an_untouched_run_still_forgets_and_its_new_version_is_signed(workdir):
    old = _run(workdir)
    store = workdir / ".lester"
    record = json.loads((old.folder / RECORD_FILE).read_text())
    assert set(record["artifact_digests"]) == {"model.pkl", "encoder.pkl"}
    who = [int(old.train["customer_id"].iloc[0])]
    result = _cli("forget", "--source", "customers", "--id", str(who[0]), "--dry-run")
    assert result.exit_code == 0, result.output
    report = forget("customers", who, store=store)
    (change,) = report.changes
    assert change.new_run_id
    new = store / "runs" / change.new_run_id
    digests = json.loads((new / RECORD_FILE).read_text())["artifact_digests"]
    assert digests["encoder.pkl"] == record["artifact_digests"]["encoder.pkl"]  # linked, not re-signed
    assert digests["model.pkl"] != record["artifact_digests"]["model.pkl"]
    # the new version loads too: forget again, on top of it, and redact through its encoder
    again = forget("customers", [int(old.train["customer_id"].iloc[1])], store=store, verify=True)
    assert again.changes[0].run_id == change.new_run_id and again.changes[0].new_run_id
    redacted = redact("mails", "mail_text", "mail_text LIKE '%4111%'", "[redacted]", store=store)
    assert redacted.changes and redacted.changes[0].new_run_id


def test_a_run_stored_without_digests_is_refused_unless_trusted_explicitly(workdir, monkeypatch):
    old = _run(workdir)
    store = workdir / ".lester"
    record_file = old.folder / RECORD_FILE
    record = json.loads(record_file.read_text())
    del record["artifact_digests"]  # as a run captured before pickles were signed
    record_file.write_text(json.dumps(record))
    who = int(old.train["customer_id"].iloc[0])
    result = _cli("forget", "--source", "customers", "--id", str(who), "--dry-run")
    assert result.exit_code == 2, result.output
    message = _flat(result.output)
    assert f"refusing to load {_shown(old, 'model.pkl')}:" in message
    assert "no digest" in message and TRUST_VARIABLE in message and "re-run the pipeline" in message
    with pytest.raises(LesterError, match=TRUST_VARIABLE):
        forget("customers", [who], store=store)

    monkeypatch.setenv(TRUST_VARIABLE, "1")
    report = forget("customers", [who], store=store)
    assert report.changes[0].new_run_id
    # trusting the old run once does not sign its files: the new version links the same
    # unverified encoder and so stays unverified too
    monkeypatch.delenv(TRUST_VARIABLE)
    new = json.loads((store / "runs" / report.changes[0].new_run_id / RECORD_FILE).read_text())
    assert "encoder.pkl" not in new["artifact_digests"] and "model.pkl" in new["artifact_digests"]


def test_a_replaced_or_missing_store_key_refuses_every_stored_pickle(workdir):
    old = _run(workdir)
    store = workdir / ".lester"
    key = store / "keys" / "pickle.key"
    who = [int(old.train["customer_id"].iloc[0])]
    key.unlink()
    with pytest.raises(LesterError, match="model.pkl"):
        forget("customers", who, dry_run=True, store=store)
    key.write_bytes(b"an attacker's own key, 32 bytes!")
    with pytest.raises(LesterError, match="model.pkl"):
        forget("customers", who, dry_run=True, store=store)


def test_the_store_key_is_created_private_with_the_store(tmp_path):
    from lester.pipeline.store import ArtifactStore

    store = ArtifactStore(tmp_path / "store")
    key = tmp_path / "store" / "keys" / "pickle.key"
    assert key.is_file() and len(key.read_bytes()) >= 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    before = key.read_bytes()
    ArtifactStore(store.root)  # opening it again keeps the key
    assert key.read_bytes() == before
    assert ArtifactStore(tmp_path / "other").root != store.root
    assert (tmp_path / "other" / "keys" / "pickle.key").read_bytes() != before
