"""The LLM engine end to end against a real local HTTP server speaking the chat-completions
protocol with scripted answers: rewrites, repairs, bad answers, HTTP errors, and the API key
never showing up anywhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import lester as lt
from lester.cli import main
from lester.rewrite import LLMConfig
from lester.rewrite.llm import LLMClient
from tests.openai_server import OpenAIServer, Reply

DATA = Path(__file__).parent / "data" / "rewrite"
GOOD = (DATA / "candidates" / "orders_good.py").read_text()
KEY = "sk-lester-test-0123456789abcdef"
KEY_ENV = "LESTER_TEST_KEY"


def fenced(code: str, before: str = "Here is the pipeline module:\n") -> str:
    return f"{before}```python\n{code}```\n"


def no_filter() -> str:
    return GOOD.replace('orders.filter(f"amount > {MIN_AMOUNT}")', "orders")


def orders_case(tmp_path: Path, monkeypatch, key: str = KEY) -> Path:
    """A copy of the orders case as the working folder, ``key`` in the environment only
    (under KEY_ENV); the LLM tests of other files start from it too."""
    folder = tmp_path / "orders"
    shutil.copytree(DATA / "orders", folder)
    monkeypatch.chdir(folder)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LESTER_MODEL", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(KEY_ENV, key)
    return folder


@pytest.fixture
def case(tmp_path, monkeypatch) -> Path:
    return orders_case(tmp_path, monkeypatch)


def settings(folder: Path, **llm) -> None:
    """The [llm] table of lester.toml (timeouts and retries short for tests)."""
    values = {"timeout": 10, "max_retries": 0, **llm}
    lines = ["[llm]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (folder / "lester.toml").write_text("\n".join(lines) + "\n")


def cli(server: OpenAIServer, *extra: str):
    arguments = ["rewrite", "messy.py", "--engine", "llm", "--model", "test-model", "--base-url",
                 server.base_url, "--api-key-env", KEY_ENV, "--report", "report.json", "--timeout", "30", *extra]
    return CliRunner().invoke(main, arguments, catch_exceptions=False)


def assert_key_nowhere(folder: Path, *texts: str) -> None:
    for text in texts:
        assert KEY not in text
    for path in folder.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"the API key leaked into {path}"


def test_a_correct_rewrite_is_validated_written_cached_and_runs(case):
    settings(case)
    with OpenAIServer([fenced(GOOD)], api_key=KEY) as server:
        outcome = cli(server)
    assert outcome.exit_code == 0, outcome.output
    report = json.loads((case / "report.json").read_text())
    assert report["status"] == "valid" and report["engine"] == "llm"
    assert [a["outcome"] for a in report["attempts"]] == ["valid"]
    assert {c["what"]: c["status"] for c in report["validation"]["checks"]} == {
        "prepared": "match", "X": "match", "y": "match", "model": "match"}
    stages = {s["stage"]: s["status"] for s in report["stages"]}
    assert stages["dataprep"] == stages["encode_features"] == "validated"
    assert stages["irrelevant"] == "dropped"
    assert report["llm"]["calls"] == 1 and report["llm"]["prompt_tokens"] > 0
    # the first request carries the script, its sources and the DSL reference from the docstrings
    request = server.requests[0]["body"]
    assert request["model"] == "test-model"
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "frame.filter(predicate" in system and "lt.read_csv(path" in system
    assert "orders = 'data/orders.csv'" in user and "order_id,customer_id,amount,category" in user

    module = (case / "pipeline.py").read_text()
    assert module.startswith("# Rewritten by `lester rewrite` from messy.py; validated")
    assert 'def dataprep(customers="data/customers.csv", orders="data/orders.csv")' in module
    assert "# categories come with stray spaces and mixed case" in module  # the helper's comment kept
    assert_key_nowhere(case, outcome.output)

    # the same prompt again is answered from the cache: no request reaches the (empty) server
    with OpenAIServer([], api_key=KEY) as server:
        client = LLMClient(LLMConfig.resolve(model="test-model", base_url=server.base_url, api_key_env=KEY_ENV))
        cached = client.complete(request["messages"])
    assert cached.cached and cached.text == fenced(GOOD) and not server.requests

    # the module is a pipeline `lester run` accepts, with the script's paths as source defaults
    run = lt.run("pipeline.py", capture=False, cache=False)
    assert all("whole file" in line for line in report["sample"])  # so the script's rows are all rows
    rows = len(run.train) + len(run.test)
    assert report["validation"]["checks"][0]["detail"].startswith(f"{rows} rows")
    assert "accuracy" in run.metrics["test"]


def test_a_wrong_first_answer_is_repaired_with_the_evidence(case):
    settings(case)
    with OpenAIServer([fenced(no_filter()), fenced(GOOD)], api_key=KEY) as server:
        outcome = cli(server)
    assert outcome.exit_code == 0, outcome.output
    report = json.loads((case / "report.json").read_text())
    assert [a["outcome"] for a in report["attempts"]] == ["differs", "valid"]
    assert "extra" in report["attempts"][0]["detail"]
    repair = server.requests[1]["body"]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "extra row" in repair[-1]["content"] and "The script's prepared data has" in repair[-1]["content"]
    assert 'orders.filter(f"amount > {MIN_AMOUNT}")' in (case / "pipeline.py").read_text()
    assert_key_nowhere(case, outcome.output)


def test_prose_truncated_non_python_and_io_answers_are_sent_back(case):
    settings(case)
    truncated = Reply(content="```python\n" + GOOD[:300], finish_reason="length")
    with_io = GOOD.replace('lt.read_csv(orders, key="order_id")',
                           'lt.from_pandas(__import__("pandas").read_csv(orders), name="orders")')
    replies = ["I would use pandas for this; it is a very nice script already.", truncated,
               "```sql\nSELECT * FROM orders WHERE amount > 10\n```", fenced(with_io), fenced(GOOD)]
    with OpenAIServer(replies, api_key=KEY) as server:
        outcome = cli(server, "--max-repairs", "4")
    assert outcome.exit_code == 0, outcome.output
    attempts = json.loads((case / "report.json").read_text())["attempts"]
    assert [a["outcome"] for a in attempts] == ["no-code", "no-code", "no-code", "static-errors", "valid"]
    assert "contains no Python code" in attempts[0]["detail"]
    assert "truncated" in attempts[1]["detail"]
    assert "not Python (languages: sql)" in attempts[2]["detail"]
    assert any("__import__" in p for p in attempts[3]["problems"])
    feedback = [r["body"]["messages"][-1]["content"] for r in server.requests[1:]]
    assert "contains no Python code" in feedback[0] and "static checks found" in feedback[3]


def test_rate_limit_then_success_is_retried_by_the_client(case):
    settings(case, max_retries=2)
    # the answer after the 429 is prose: no sandbox run is needed to see that it arrived
    replies = [Reply(status=429, content="slow down", headers={"retry-after-ms": "20"}), "No code today."]
    with OpenAIServer(replies, api_key=KEY) as server:
        outcome = cli(server, "--max-repairs", "0")
    assert len(server.requests) == 2
    report = json.loads((case / "report.json").read_text())
    assert [a["outcome"] for a in report["attempts"]] == ["no-code"]
    assert "contains no Python code (it starts: 'No code today.')" in report["message"]
    assert report["llm"]["calls"] == 1 and outcome.exit_code == 2


def test_an_answer_too_slow_is_a_timeout_error(case):
    settings(case, timeout=0.5)
    with OpenAIServer([Reply(content=fenced(GOOD), delay=3)], api_key=KEY) as server:
        outcome = cli(server)
    assert outcome.exit_code == 2
    report = json.loads((case / "report.json").read_text())
    assert report["status"] == "error" and "no answer within 0.5 s" in report["message"]
    assert not (case / "pipeline.py").exists()
    assert_key_nowhere(case, outcome.output)


def test_a_server_error_is_retried_then_reported(case):
    settings(case, max_retries=1)
    failure = Reply(status=500, content="upstream exploded", headers={"retry-after-ms": "20"})
    with OpenAIServer([failure, failure], api_key=KEY) as server:
        outcome = cli(server)
    assert outcome.exit_code == 2
    assert len(server.requests) == 2  # the first try and one retry
    report = json.loads((case / "report.json").read_text())
    assert "HTTP 500 after 1 retries: upstream exploded" in report["message"]
    assert not (case / "pipeline.py").exists()


def test_a_wrong_api_key_is_reported_without_the_key(case, monkeypatch):
    settings(case)
    with OpenAIServer([fenced(GOOD)], api_key="sk-the-right-one-999999") as server:
        outcome = cli(server)
    assert outcome.exit_code == 2
    assert server.requests[0]["key"] == KEY  # the server got (and echoed) the wrong key...
    report = json.loads((case / "report.json").read_text())
    assert "API key was rejected (HTTP 401)" in report["message"] and f"${KEY_ENV}" in report["message"]
    assert not (case / "pipeline.py").exists()
    assert_key_nowhere(case, outcome.output, report["message"])  # ...and lester shows it nowhere


def test_an_existing_module_is_never_overwritten_without_force(case):
    (case / "pipeline.py").write_text("# my own work\n")
    with OpenAIServer([fenced(GOOD)], api_key=KEY) as server:
        outcome = cli(server)
        assert outcome.exit_code == 2 and "pipeline.py exists" in outcome.output
        assert not server.requests  # refused before any work
    assert (case / "pipeline.py").read_text() == "# my own work\n"


def test_llm_engine_without_configuration_says_how_to_configure(case, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    outcome = CliRunner().invoke(main, ["rewrite", "messy.py", "--engine", "llm"])
    assert outcome.exit_code == 2
    assert "OPENAI_API_KEY" in outcome.output and "[llm]" in outcome.output


def test_a_syntax_error_names_file_line_and_column(case):
    (case / "broken.py").write_text("import csv\nrows = [1, 2\nprint(rows)\n")
    outcome = CliRunner().invoke(main, ["rewrite", "broken.py", "--engine", "llm"])
    assert outcome.exit_code == 2
    assert "broken.py, line 2, column 8: syntax error: '[' was never closed" in outcome.output.replace("\n", " ")


def test_auto_runs_the_rules_engine_then_the_llm_for_opaque_steps(case):
    from lester.rewrite.rules import compile_script

    settings(case)
    program = compile_script((case / "messy.py").read_text(), filename="messy.py")
    with OpenAIServer([fenced(GOOD)], api_key=KEY) as server:
        result = lt.rewrite("messy.py", engine="auto", llm=LLMConfig.resolve(
            model="test-model", base_url=server.base_url, api_key_env=KEY_ENV, max_retries=0), timeout=30)
    assert result.status == "valid", result.report.text()
    assert result.report.attempts[0].engine == "rules"
    if program.opaque_steps:  # the rules kept parts as opaque Python: the LLM is asked to do better
        assert result.report.engine == "llm" and not result.report.opaque_steps
        assert "opaque Python" in server.requests[0]["body"]["messages"][-1]["content"]
    else:
        assert result.report.engine == "rules" and not server.requests


def test_a_stage_no_engine_can_rewrite_names_its_lines_and_how_to_configure_an_llm(case):
    from lester.rewrite.engines import Proposal, StageUnsupported

    class RefusingEngine:  # a third-party engine, through the public engine protocol
        name, repairs = "refusing", False

        def propose(self, task, feedback=None) -> Proposal:
            raise StageUnsupported("dataprep", (21, 39), "a dict used as a join", engine=self.name)

    result = lt.rewrite("messy.py", engines=[RefusingEngine()])
    assert result.status == "error" and result.code is None
    assert "stage dataprep (lines 21-39)" in result.report.message
    assert "a dict used as a join" in result.report.message and "OPENAI_API_KEY" in result.report.message


def test_long_scripts_are_sent_in_chunks_within_the_token_budget(case):
    from lester.rewrite.analysis import analyze_path

    settings(case, token_budget=300)
    expected = len(analyze_path("messy.py").chunks(150))
    # the last chunk's module reads a file itself: the static checks stop it, no sandbox run needed
    replies = [fenced(GOOD)] * (expected - 1) + [fenced(GOOD.replace("return prepared", "open('x.csv')\n    return prepared"))]
    with OpenAIServer(replies, api_key=KEY) as server:
        result = lt.rewrite("messy.py", engine="llm", max_repairs=0, llm=LLMConfig.resolve(
            model="test-model", base_url=server.base_url, api_key_env=KEY_ENV, config_file="lester.toml"))
    assert [a.outcome for a in result.report.attempts] == ["static-errors"]
    assert "calls open()" in result.report.attempts[0].problems[0]
    chunks = [r["body"]["messages"][-1]["content"] for r in server.requests]
    assert len(chunks) == expected >= 2 and all("Now rewrite this part of the script" in c for c in chunks)
    # each later request builds on the module the previous one returned
    assert "def dataprep(" in chunks[1].split("The module so far:")[1]


def test_azure_openai_deployments_are_called_with_the_api_key_header(case, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    with OpenAIServer(["Not today."], api_key=KEY) as server:
        endpoint = server.base_url.removesuffix("/v1")
        config = LLMConfig.resolve(model="my-deployment", azure_endpoint=endpoint, api_version="2024-06-01",
                                   max_retries=0, cache_dir=None)
        result = lt.rewrite("messy.py", engine="llm", llm=config, max_repairs=0)
    assert result.report.attempts[0].outcome == "no-code"  # the answer came back through Azure's route
    assert server.requests[0]["path"] == "/openai/deployments/my-deployment/chat/completions"
    assert "api-version=2024-06-01" in server.requests[0]["query"]
