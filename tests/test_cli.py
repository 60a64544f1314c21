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


def test_demo_runs_offline_and_answers_a_provenance_question(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--customers", "200", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "customers.csv").exists() and (tmp_path / "mails.csv").exists()
    text = " ".join(result.output.split())  # rich wraps lines to the terminal width
    assert "prepared rows" in text
    assert "mails.mail_subject" in text  # column provenance of the title
    assert "derive from their record" in text
    assert "lester trace --source customers" in text and "row(s) of run" in text
    assert (tmp_path / ".lester" / "catalog.duckdb").exists()


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "lester.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert "lester" in result.stdout
