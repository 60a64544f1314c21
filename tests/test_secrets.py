"""Secrets never leave lester: not in errors, reports, written modules, caches or stdout, not
in the sandbox's environment, and not in the ``lester`` process's own ``/proc/<pid>/environ``.

The LLM side runs against the real local OpenAI-protocol server of ``tests/openai_server.py``.
"""

from __future__ import annotations

import doctest
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lester import secrets
from lester.cli import main
from lester.secrets import is_secret_name, is_secret_value, mask, remember, safe_environment
from tests.openai_server import OpenAIServer, Reply
from tests.test_rewrite_llm import KEY_ENV, orders_case

DATA = Path(__file__).parent / "data" / "rewrite"
GOOD = (DATA / "candidates" / "orders_good.py").read_text()
KEY = "sk-lester-secrets-test-5f2a9c7e1b"
PASSWORD = "hunter2-pass-Zq81"
ROOT = Path(__file__).resolve().parent.parent


def fenced(code: str) -> str:
    return f"Here is the pipeline module:\n```python\n{code}```\n"


@pytest.fixture
def case(tmp_path, monkeypatch) -> Path:
    folder = orders_case(tmp_path, monkeypatch, KEY)
    (folder / "lester.toml").write_text("[llm]\ntimeout = 10\nmax_retries = 0\n")
    return folder


def files_holding(folder: Path, text: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


# -- what is a secret -------------------------------------------------------------------------
SECRET_NAMES = [
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_CLIENT_SECRET",
    "LESTER_TEST_KEY", "API_TOKEN", "MY_SECRET", "DB_PASSWORD", "MYSQL_PASSWD", "PGPASS",
    "PGPASSWORD", "REDIS_PASS", "GOOGLE_APPLICATION_CREDENTIALS", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GITHUB_PAT", "GITLAB_PAT", "GH_TOKEN",
    "GITHUB_TOKEN", "NPM_AUTH", "BASIC_AUTH_HEADER", "SENTRY_DSN", "DATABASE_URL",
    "ANALYTICS_DATABASE_URL", "SLACK_WEBHOOK_URL", "TEAMS_WEBHOOK", "SESSION_COOKIE",
    "FLASK_SESSION", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "ANTHROPIC_API_KEY", "SSH_AUTH_SOCK",
    "db_password",
]
PLAIN_NAMES = ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "SHELL", "PWD", "TMPDIR",
               "PYTHONPATH", "VIRTUAL_ENV", "LESTER_MODEL", "LESTER_SANDBOX", "MPLBACKEND",
               "XDG_SESSION_TYPE", "DBUS_SESSION_BUS_ADDRESS", "HOMEBREW_PREFIX", "DOCS_URL"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names_are_recognised(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_ordinary_names_are_not_secrets(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("value", [
    "postgres://app:s3cr3t@db.internal:5432/app", "https://token@github.com/org/repo.git",
    "sk-proj-abcdefghijklmnop", "ghp_" + "a" * 36, "github_pat_11ABCDEFG0123456789_abcdefghij",
    "xoxb-123456789012-abcdefghijkl", "AKIAIOSFODNN7EXAMPLE", "Bearer eyJhbGciOiJIUzI1NiJ9.x.y",
])
def test_secret_values_are_recognised(value):
    assert is_secret_value(value)


@pytest.mark.parametrize("value", ["", "/usr/bin:/bin", "http://localhost:8000/v1", "en_US.UTF-8",
                                   "scikit-learn", "risk-adjusted", "ann@x.org"])
def test_ordinary_values_are_not_secrets(value):
    assert not is_secret_value(value)


def test_the_safe_environment_drops_secrets_by_name_and_by_value():
    env = {name: "x" for name in SECRET_NAMES + PLAIN_NAMES}
    env.update(REDIS_URL="redis://default:pw1234@cache:6379", INNOCENT="sk-abcdefghijklmnop",
               DOCS_URL="https://docs.example.org/")
    safe = safe_environment(env)
    assert set(safe) == set(PLAIN_NAMES) | {"DOCS_URL"}
    assert safe_environment() == safe_environment(dict(os.environ))


def test_mask_hides_given_remembered_url_credentials_and_token_shapes():
    remember("remembered-value-42")
    text = ("at postgres://app:s3cr3t@db:5432/x with sk-abcdefghijklmnop, Bearer abc.def, "
            "ghp_" + "b" * 36 + ", AKIAIOSFODNN7EXAMPLE, my-own-secret and remembered-value-42")
    masked = mask(text, ["my-own-secret"])
    for leaked in ("s3cr3t", "app:", "sk-abc", "abc.def", "ghp_", "AKIA", "my-own-secret", "remembered-value"):
        assert leaked not in masked
    assert "postgres://***@db:5432/x" in masked
    assert mask("nothing secret here: scikit-learn, ann@x.org") == "nothing secret here: scikit-learn, ann@x.org"


def test_short_dummy_keys_and_passwords_do_not_mask_ordinary_code():
    # a local server's dummy key and the brief's "user:pass@" URL: masked inside URLs only
    remember("test")
    remember("http://user:pass@localhost:8000/v1")
    code = "X_test = frame\nif x:\n    pass\n"
    assert mask(code) == code and not secrets.contains_secret(code)
    assert mask("at http://user:pass@localhost:8000/v1") == "at http://***@localhost:8000/v1"


def test_llm_redact_is_the_same_masking():
    from lester.rewrite import llm

    assert llm.redact("key sk-abcdef123456 and Bearer xyz and secret!", ["secret!"]) == "key *** and *** and ***"
    assert llm.redact("http://u:pw@h/v1") == mask("http://u:pw@h/v1") == "http://***@h/v1"


def test_the_docstring_examples_run():
    failures, tried = doctest.testmod(secrets)
    assert tried > 0 and failures == 0


# -- the LLM endpoint -------------------------------------------------------------------------
def test_credentials_in_the_base_url_are_in_no_error_and_no_report(case, monkeypatch):
    with OpenAIServer([Reply(status=500, content="upstream exploded")]) as server:
        url = server.base_url.replace("http://", f"http://someone:{PASSWORD}@")
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        outcome = CliRunner().invoke(main, ["rewrite", "messy.py", "--engine", "llm", "--model", "test-model",
                                            "--report", "report.json"], catch_exceptions=False)
    assert outcome.exit_code == 2
    report = json.loads((case / "report.json").read_text())
    assert "HTTP 500" in report["message"] and "***@127.0.0.1" in report["message"]
    for text in (outcome.output, json.dumps(report)):
        assert PASSWORD not in text and "someone:" not in text
    assert not files_holding(case, PASSWORD)


def test_a_base_url_without_credentials_stays_readable_in_errors(case):
    from lester.rewrite.llm import LLMClient, LLMConfig, LLMError

    with OpenAIServer([Reply(status=500, content="upstream exploded")]) as server:
        client = LLMClient(LLMConfig.resolve(model="test-model", base_url=server.base_url, max_retries=0,
                                             cache_dir=None))
        with pytest.raises(LLMError) as info:
            client.complete([{"role": "user", "content": "hi"}])
    assert f"at {server.base_url}: HTTP 500" in str(info.value)
    assert mask(server.base_url) == server.base_url


def echoing(code: str) -> str:
    """A module in which the endpoint echoed the key it was called with."""
    return code.replace("def dataprep(", f'ENDPOINT_KEY = "{KEY}"  # what I was called with\n\n\ndef dataprep(', 1)


def rewrite_cli(server: OpenAIServer, *extra: str):
    arguments = ["rewrite", "messy.py", "--engine", "llm", "--model", "test-model", "--base-url", server.base_url,
                 "--api-key-env", KEY_ENV, "--report", "report.json", "--timeout", "30", *extra]
    return CliRunner().invoke(main, arguments, catch_exceptions=False)


def test_an_echoed_key_is_masked_and_the_module_is_not_valid(case):
    with OpenAIServer([fenced(echoing(GOOD))], api_key=KEY) as server:
        outcome = rewrite_cli(server, "--max-repairs", "0")
    assert server.requests[0]["key"] == KEY  # the call authenticated with the key
    assert outcome.exit_code == 1, outcome.output
    report = json.loads((case / "report.json").read_text())
    assert report["status"] == "invalid" and not report["valid"]
    assert [a["outcome"] for a in report["attempts"]] == ["static-errors"]
    assert any("secret" in p for p in report["attempts"][0]["problems"])
    module = (case / "pipeline.py").read_text()
    assert module.startswith("# lester rewrite: NOT VALID") and 'ENDPOINT_KEY = "***"' in module
    assert KEY not in outcome.output and not files_holding(case, KEY)
    assert list((case / ".lester" / "llm-cache").glob("*.json"))  # the answer was cached, masked


def test_an_echoed_key_goes_back_for_repair_without_the_key(case):
    with OpenAIServer([fenced(echoing(GOOD)), fenced(GOOD)], api_key=KEY) as server:
        outcome = rewrite_cli(server)
    assert outcome.exit_code == 0, outcome.output
    report = json.loads((case / "report.json").read_text())
    assert [a["outcome"] for a in report["attempts"]] == ["static-errors", "valid"]
    assert "secret" in server.requests[1]["body"]["messages"][-1]["content"]
    assert KEY not in outcome.output and not files_holding(case, KEY)


# -- the lester process's own environment -------------------------------------------------------
def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LESTER_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_the_key_is_not_in_the_lester_process_environ_yet_authenticates(case):
    with OpenAIServer([Reply(content="No code today.", delay=3)], api_key=KEY) as server:
        env = _subprocess_env(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url, LESTER_MODEL="test-model",
                              DATABASE_URL=f"postgres://app:{PASSWORD}@db/app")
        process = subprocess.Popen(
            [sys.executable, "-m", "lester.cli", "rewrite", "messy.py", "--engine", "llm", "--max-repairs", "0",
             "--report", "report.json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while not server.requests and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.requests, "lester never called the endpoint"
            # the server holds its answer for 3 s: lester is waiting on it, so it is running now
            environ = Path(f"/proc/{process.pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        finally:
            output, _ = process.communicate(timeout=60)
    assert server.requests[0]["key"] == KEY  # the call still authenticated with the key
    for leaked in (KEY, PASSWORD, "OPENAI_API_KEY=", "DATABASE_URL="):
        assert leaked.encode() not in environ, f"{leaked} is in /proc/<pid>/environ"
        assert leaked.encode() not in cmdline
    assert b"LESTER_SECRETS_FD=" in environ  # the re-exec'ed process got them through a pipe
    assert KEY not in output and PASSWORD not in output
    assert "contains no Python code" in output.replace("\n", " "), output
    assert not files_holding(case, KEY)


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["rewrite", "--help"]])
def test_help_and_version_work_with_secrets_in_the_environment(arguments, tmp_path):
    done = subprocess.run([sys.executable, "-m", "lester.cli", *arguments], check=False, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=_subprocess_env(OPENAI_API_KEY=KEY))
    assert done.returncode == 0, done.stderr
    assert "lester" in done.stdout and KEY not in done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("lester", path=str(Path(sys.executable).parent)) is None,
                    reason="the console script is not installed")
def test_shell_completion_still_works_with_secrets_in_the_environment(tmp_path):
    script = shutil.which("lester", path=str(Path(sys.executable).parent))
    done = subprocess.run([script], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=_subprocess_env(OPENAI_API_KEY=KEY, _LESTER_COMPLETE="bash_source"))
    assert done.returncode == 0 and "_lester_completion" in done.stdout, done.stderr
    words = subprocess.run([script], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60,
                           env=_subprocess_env(OPENAI_API_KEY=KEY, _LESTER_COMPLETE="bash_complete",
                                               COMP_WORDS="lester rew", COMP_CWORD="1"))
    assert "rewrite" in words.stdout, words.stderr
