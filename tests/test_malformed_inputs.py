"""Malformed inputs are clear errors, never tracebacks (issue 14): scripts in other encodings,
binary files, notebooks of the wrong shape, an empty script, a demo of no customers; and the
LLM under the run's --timeout, with answers cached only when they were usable.

The LLM tests talk to the real local HTTP server of tests/openai_server.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import lester as lt
from lester.cli import main
from lester.errors import LesterError
from lester.rewrite.analysis import analyze_path
from tests.openai_server import OpenAIServer, Reply
from tests.test_rewrite_llm import KEY_ENV, orders_case

DATA = Path(__file__).parent / "data" / "rewrite"
GOOD = (DATA / "candidates" / "orders_good.py").read_text()
KEY = "sk-lester-test-malformed-0123456789"


@pytest.fixture
def case(tmp_path, monkeypatch) -> Path:
    return orders_case(tmp_path, monkeypatch, KEY)


def rewrite_cli(*arguments: str):
    # catch_exceptions=False: a traceback fails the test instead of becoming exit code 1
    return CliRunner().invoke(main, ["rewrite", *arguments], catch_exceptions=False)


# -- scripts in other encodings ------------------------------------------------------------
def test_a_latin1_script_with_a_coding_line_is_read_and_validated(case):
    # the helper's non-ASCII text reaches the prepared data: decoded wrongly anywhere (the
    # analysis, the original's sandboxed run, the module) the outputs would differ
    source = (case / "messy.py").read_text().replace(
        "return text.strip().lower()", 'return text.strip().lower().replace("food", "nourriture épicée")')
    (case / "messy.py").write_bytes(("# -*- coding: latin-1 -*-\n" + source).encode("latin-1"))
    analysis = analyze_path(case / "messy.py")
    assert "nourriture épicée" in analysis.source
    assert analysis.source.splitlines()[1].startswith('"""Orders of known customers')  # lines kept
    result = lt.rewrite("messy.py", engine="rules", timeout=60)
    # the orders case keeps one opaque step (its one-hot comprehension): "reproduced", and its
    # outputs matched the script's
    assert result.status == "reproduced" and result.report.validation.valid, result.report.text()
    assert "nourriture épicée" in result.code


def test_a_utf8_bom_script_is_no_syntax_error(case):
    (case / "messy.py").write_bytes(b"\xef\xbb\xbf" + (case / "messy.py").read_bytes())
    analysis = analyze_path(case / "messy.py")
    assert not analysis.source.startswith("\ufeff")
    result = lt.rewrite("messy.py", engine="rules", timeout=60)
    assert result.status == "reproduced" and result.report.validation.valid, result.report.text()


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00", "binary file"),
    (b"import os\nname = 'caf\xe9'\n", "line 2: not UTF-8"),
    (b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding"),
    (b"", "is empty"),
    (b"\n   \n\t\n", "is empty"),
    (b"# only a comment\n\n", "no code"),
])
def test_unreadable_scripts_are_clear_errors_with_exit_2(case, content, expected):
    (case / "bad.py").write_bytes(content)
    with pytest.raises(LesterError, match=r"bad\.py") as caught:
        analyze_path(case / "bad.py")
    assert expected in str(caught.value)
    outcome = rewrite_cli("bad.py", "--engine", "rules", "--report", "report.json")
    assert outcome.exit_code == 2, outcome.output
    assert expected in outcome.output.replace("\n", " ") and "Traceback" not in outcome.output
    assert json.loads((case / "report.json").read_text())["status"] == "error"


def test_a_script_nested_too_deeply_to_analyse_is_a_clear_error(case):
    (case / "deep.py").write_text("import os\nx = " + "[" * 150 + "]" * 150 + "\n")
    outcome = rewrite_cli("deep.py", "--engine", "rules")
    assert outcome.exit_code == 2 and "deep.py: nested too deeply" in outcome.output.replace("\n", " ")


def test_an_undecodable_script_says_how_to_declare_its_encoding(case):
    (case / "bad.py").write_bytes(b"x = 1\ny = 'caf\xe9'\n")
    with pytest.raises(LesterError, match=r"bad\.py, line 2: not UTF-8.*coding"):
        analyze_path(case / "bad.py")


# -- notebooks of the wrong shape ----------------------------------------------------------
@pytest.mark.parametrize(("notebook", "expected"), [
    ([1, 2], "not a notebook: the JSON is a list"),
    ({"nbformat": 4, "metadata": {}}, "not a notebook: it has no \"cells\""),
    ({"cells": {"a": 1}}, "\"cells\" is a dict, not a list"),
    ({"cells": ["print(1)"]}, "cells[0] is a str, not an object"),
    ({"cells": [{"cell_type": "markdown", "source": "# t"}, {"cell_type": "code"}]}, "cells[1] has no \"source\""),
    ({"cells": [{"cell_type": "code", "source": 5}]}, "cells[0]: \"source\" is a int"),
    ({"cells": [{"cell_type": "code", "source": ["x = 1\n", 3]}]}, "cells[0]: \"source\" is a list holding a int"),
    ({"nbformat": 3, "worksheets": [{"cells": []}]}, "nbformat 3"),
    ({"cells": [{"cell_type": "markdown", "source": "# only prose"}], "nbformat": 4}, "no code"),
])
def test_notebooks_of_the_wrong_shape_are_clear_errors(case, notebook, expected):
    (case / "work.ipynb").write_text(json.dumps(notebook))
    with pytest.raises(LesterError, match=r"work\.ipynb") as caught:
        analyze_path(case / "work.ipynb")
    assert expected in str(caught.value)
    outcome = rewrite_cli("work.ipynb", "--engine", "rules")
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    assert expected in outcome.output.replace("\n", " ")


def test_a_notebook_with_a_bom_or_binary_content(case):
    cells = [{"cell_type": "code", "source": ["import os\n", "x = 1\n"]}]
    (case / "bom.ipynb").write_bytes(b"\xef\xbb\xbf" + json.dumps({"cells": cells, "nbformat": 4}).encode())
    assert analyze_path(case / "bom.ipynb").statements
    (case / "binary.ipynb").write_bytes(b"PK\x03\x04\x00\x00\xff\xfe")
    with pytest.raises(LesterError, match=r"binary\.ipynb: .*binary file"):
        analyze_path(case / "binary.ipynb")


# -- the demo ------------------------------------------------------------------------------
@pytest.mark.parametrize("customers", ["0", "-5", "3", "1000000000000"])
def test_demo_refuses_a_customer_count_it_cannot_run_with(tmp_path, customers):
    outcome = CliRunner().invoke(main, ["demo", "--customers", customers, "--workdir", str(tmp_path / "w")])
    assert outcome.exit_code == 2, outcome.output
    assert not isinstance(outcome.exception, (ValueError, TypeError, MemoryError)), outcome.exception
    assert "--customers" in outcome.output and "between 10 and" in outcome.output.replace("\n", " ")
    assert not (tmp_path / "w" / "data").exists()  # refused before anything was written


# -- the LLM ------------------------------------------------------------------------------
def settings(folder: Path, **llm) -> None:
    values = {"timeout": 10, "max_retries": 0, **llm}
    lines = ["[llm]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (folder / "lester.toml").write_text("\n".join(lines) + "\n")


def llm_cli(server: OpenAIServer, *extra: str, timeout: str = "30"):
    return rewrite_cli("messy.py", "--engine", "llm", "--model", "test-model", "--base-url", server.base_url,
                       "--api-key-env", KEY_ENV, "--report", "report.json", "--force", "--timeout", timeout,
                       *extra)


def fenced(code: str) -> str:
    return f"Here is the pipeline module:\n```python\n{code}```\n"


def cache_entries(folder: Path) -> list[str]:
    cache = folder / ".lester" / "llm-cache"
    return sorted(p.read_text() for p in cache.glob("*.json")) if cache.exists() else []


def test_the_run_timeout_bounds_the_llm_call_and_its_retries(case):
    # the reported case: [llm] allows 60 s and 3 retries, the run --timeout 2
    settings(case, timeout=60, max_retries=3)
    slow = [Reply(content=fenced(GOOD), delay=30) for _ in range(4)]
    with OpenAIServer(slow, api_key=KEY) as server:
        started = time.perf_counter()
        outcome = llm_cli(server, timeout="2")
        took = time.perf_counter() - started
    assert took < 12, f"the LLM call took {took:.1f} s with --timeout 2"
    assert outcome.exit_code == 2
    report = json.loads((case / "report.json").read_text())
    assert report["status"] == "error" and "no answer within 2 s" in report["message"]
    assert [a["outcome"] for a in report["attempts"]] == ["error"]


def test_retries_stop_when_the_timeout_is_spent(case):
    # 5xx answers are retried, but not past the run's --timeout
    settings(case, timeout=60, max_retries=50)
    failures = [Reply(status=503, content="busy", delay=0.4, headers={"retry-after": "1"}) for _ in range(50)]
    with OpenAIServer(failures, api_key=KEY) as server:
        started = time.perf_counter()
        outcome = llm_cli(server, timeout="2")
        took = time.perf_counter() - started
    assert took < 8 and 1 < len(server.requests) < 6
    assert outcome.exit_code == 2
    assert "HTTP 503" in json.loads((case / "report.json").read_text())["message"]


@pytest.mark.parametrize(("reply", "expected"), [
    (Reply(body="<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
     "the answer is not JSON (HTTP 200, text/html): '<html><body>502 Bad Gateway"),
    (Reply(body="not json at all"), "the answer is not JSON (HTTP 200, application/json): 'not json at all'"),
    (Reply(body="[1, 2]"), "the answer is not a chat completion: a list, not an object"),
    (Reply(body='{"choices": "x"}'), "the answer is not a chat completion: \"choices\" is not a list"),
    (Reply(body='{"choices": [{"message": 5}]}'), "the answer is not a chat completion: choices[0] has no message"),
    (Reply(body='{"choices": [{"message": {"content": 5}}]}'),
     "the answer is not a chat completion: choices[0].message.content is a int, not text"),
])
def test_a_malformed_http_body_is_an_llm_error_in_the_report(case, reply, expected):
    settings(case)
    with OpenAIServer([reply], api_key=KEY) as server:
        outcome = llm_cli(server)
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    report = json.loads((case / "report.json").read_text())
    assert report["status"] == "error" and expected in report["message"], report["message"]
    assert report["message"].startswith(f"LLM test-model at {server.base_url}")
    assert [a["outcome"] for a in report["attempts"]] == ["error"]
    assert not cache_entries(case)


def test_an_oversized_answer_is_refused_neither_cached_nor_sent_back(case):
    settings(case)
    huge = fenced(GOOD + "# padding\n" * 40_000)  # about 400 KB
    with OpenAIServer([huge, fenced(GOOD)], api_key=KEY) as server:
        outcome = llm_cli(server)
    assert outcome.exit_code == 2
    report = json.loads((case / "report.json").read_text())
    assert report["status"] == "error" and "more than the 256 KB" in report["message"]
    assert "max_answer_bytes" in report["message"]
    assert len(server.requests) == 1 and not cache_entries(case)


@pytest.mark.parametrize(("answer", "expected"), [
    ("```python\n" * 25_000, "contains no Python code"),  # many openings, none closed
    ("```python\nimport os\x00\n```\n", "does not parse"),
    ("```python\nimport os\nx = " + "(" * 5000 + ")" * 5000 + "\n```\n", "does not parse"),
    (("```py\nx=1\n" + "~~~\n") * 10_000, "contains no Python code"),
])
def test_hostile_answers_are_extraction_errors_within_a_second(answer, expected):
    from lester.rewrite.extraction import ExtractionError, extract_code

    started = time.perf_counter()
    with pytest.raises(ExtractionError, match=expected) as caught:
        extract_code(answer)
    assert time.perf_counter() - started < 2
    assert "None" not in str(caught.value)  # no "line None, column None" for a NUL byte


def test_refusals_and_empty_answers_are_not_cached(case):
    settings(case)
    with OpenAIServer(["I'm sorry, but I can't help with that.", ""], api_key=KEY) as server:
        outcome = llm_cli(server, "--max-repairs", "1")
    assert outcome.exit_code == 2
    attempts = json.loads((case / "report.json").read_text())["attempts"]
    assert [a["outcome"] for a in attempts] == ["no-code", "no-code"]
    assert not cache_entries(case)
    # the same prompt again goes to the endpoint instead of replaying the refusal
    with OpenAIServer(["No code today."], api_key=KEY) as server:
        llm_cli(server, "--max-repairs", "0")
    assert len(server.requests) == 1
    assert "No code today." in json.loads((case / "report.json").read_text())["message"]


def test_answers_are_kept_only_when_the_caller_says_they_were_usable(case):
    from lester.rewrite.llm import LLMClient, LLMConfig

    messages = [{"role": "user", "content": "rewrite it"}]
    with OpenAIServer(["I cannot do that."], api_key=KEY) as server:
        client = LLMClient(LLMConfig(model="test-model", base_url=server.base_url, api_key_env=KEY_ENV,
                                     cache_dir=".lester/llm-cache", max_retries=0))
        answer = client.complete(messages)
        assert not answer.cached and not cache_entries(case)  # complete() alone keeps nothing
        client.keep(answer)
        assert len(cache_entries(case)) == 1
        assert client.complete(messages).cached
        client.discard(answer)
        assert not cache_entries(case)


def test_no_cache_neither_reads_nor_writes_the_cache(case):
    settings(case)
    with OpenAIServer([fenced(GOOD)], api_key=KEY) as server:
        first = llm_cli(server)
    assert first.exit_code == 0, first.output
    stored = cache_entries(case)
    assert len(stored) == 1 and "Here is the pipeline module" in stored[0]  # a usable answer is kept
    other = fenced(GOOD).replace("Here is the pipeline module", "Another take")
    with OpenAIServer([other], api_key=KEY) as server:
        second = llm_cli(server, "--no-cache")
    assert second.exit_code == 0, second.output
    assert len(server.requests) == 1  # not answered from the cache
    assert cache_entries(case) == stored  # and the new answer was not written
    assert json.loads((case / "report.json").read_text())["llm"]["cached_calls"] == 0


def test_timeout_and_no_cache_are_documented_in_the_help():
    text = CliRunner().invoke(main, ["rewrite", "--help"]).output.replace("\n", " ")
    assert "--no-cache" in text
    assert "LLM" in text.split("--timeout")[1].split("--force")[0]
