"""The command line: help that explains, and a demo that runs offline."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from lester.cli import main


def test_help_explains_the_tool():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "provenance" in result.output and "demo" in result.output


def test_demo_tells_the_whole_story_offline(tmp_path):
    import json

    import pandas as pd

    result = CliRunner().invoke(main, ["demo", "--customers", "300", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps lines to the terminal width
    assert "valid ->" in text and "(0 opaque steps)" in text
    assert (tmp_path / "data" / "customers.csv").exists() and (tmp_path / "messy_mails.py").exists()
    assert "def dataprep(" in (tmp_path / "pipeline.py").read_text()

    results = json.loads((tmp_path / "demo_results.json").read_text())
    assert results["rewrite"] == "valid"
    forget, redact = results["requests"]
    customer = forget["request"].split()[-1]
    assert forget["rows_removed"] > 0 and forget["agreement"] >= 0.99
    assert redact["rows_removed"] + redact["rows_changed"] > 0 and redact["agreement"] >= 0.99
    # the forgotten customer is in no artifact of the head; verify-erasure found them in the
    # original version and the cache before the purge, which expired both, and nothing after
    store = tmp_path / ".lester" / "runs"
    for split in ("train", "test"):
        rows = pd.read_parquet(store / redact["new_run"] / f"{split}.parquet")
        assert customer not in set(rows["customer_id"])
    erasure = results["erasure"]
    assert erasure["subject"] == customer and erasure["before"]["findings"] > 0
    assert erasure["purge"]["actions"]["expire version"] == 2 and erasure["purge"]["affected_chunks"] > 0
    assert erasure["after"]["clean"] and "clean: nothing of customer" in text
    assert not (store / results["run"]).exists() and not (store / forget["new_run"]).exists()
    # the mails with card numbers were about banking ("card"); redacted to "[redacted]", they
    # no longer pass the keyword filter, so the last version holds no row derived from them
    mails = pd.read_csv(tmp_path / "data" / "mails.csv", dtype=str)
    carded = set(mails.loc[mails["mail_text"].str.contains(r"\d{4} \d{4} \d{4} \d{4}"), "mail_id"])
    # (the version before the redaction was expired by the purge: the head is what is left)
    after = pd.concat([pd.read_parquet(store / redact["new_run"] / f"{s}.parquet") for s in ("train", "test")])
    assert carded and redact["rows_removed"] > 0
    assert not set(after["mail_id"].astype(str)) & carded
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pip install matplotlib" in text
    else:
        assert (tmp_path / "demo_timings.png").read_bytes()[:4] == b"\x89PNG"

    # a second demo into the same folder is fine; a folder of someone else's files is not
    (tmp_path.parent / "theirs").mkdir()
    (tmp_path.parent / "theirs" / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(main, ["demo", "--workdir", str(tmp_path.parent / "theirs")])
    assert refused.exit_code == 2 and "not empty" in refused.output
    assert (tmp_path.parent / "theirs" / "notes.txt").read_text() == "mine"


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "lester.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert "lester" in result.stdout
