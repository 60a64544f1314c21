"""The rewriter's static side: analysis, sampling, answer extraction, static checks, prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lester.rewrite import prompts
from lester.rewrite.analysis import ScriptSyntaxError, analyze_path, analyze_source
from lester.rewrite.extraction import ExtractionError, extract_code
from lester.rewrite.llm import LLMConfig, redact
from lester.rewrite.sampling import SamplingError, sample_inputs
from lester.rewrite.static_checks import check_module, errors

DATA = Path(__file__).parent / "data" / "rewrite"
SCRIPT = DATA / "orders" / "messy.py"
GOOD = (DATA / "candidates" / "orders_good.py").read_text()


@pytest.fixture(scope="module")
def analysis():
    return analyze_path(SCRIPT)


def lines_of(text: str, source: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def test_inputs_outputs_and_roles(analysis):
    assert [(i.name, i.path) for i in analysis.inputs] == [("customers", "data/customers.csv"),
                                                           ("orders", "data/orders.csv")]
    assert [o.path for o in analysis.outputs] == ["out/prepared.csv", "out/X.npy", "out/y.npy"]
    assert analysis.roles == {"prepared": "rows", "X": "X", "y": "y", "model": "model"}


def test_stages_follow_def_use_chains(analysis):
    source = analysis.source
    stage_of = {}
    for name, stage in analysis.stages.items():
        for start, end in stage.lines:
            for line in range(start, end + 1):
                stage_of[line] = name
    assert stage_of[lines_of("customers = {}", source)] == "dataprep"
    assert stage_of[lines_of("if amount <= MIN_AMOUNT", source)] == "dataprep"
    assert stage_of[lines_of("MIN_AMOUNT = 10", source)] == "dataprep"
    assert stage_of[lines_of("countries = sorted", source)] == "encode_features"
    assert stage_of[lines_of("X = np.array", source)] == "encode_features"
    assert stage_of[lines_of("y = np.array", source)] == "extract_label"  # not features: comprehension vars are local
    assert stage_of[lines_of("model = LogisticRegression", source)] == "make_model"
    assert stage_of[lines_of('np.save("out/X.npy"', source)] == "output"
    assert stage_of[lines_of('print(len(rows), "orders")', source)] == "irrelevant"
    assert stage_of[lines_of("print(\"train accuracy\"", source)] == "irrelevant"
    assert stage_of[lines_of("def clean_category", source)] == "helpers"
    assert analysis.pipeline_stages == ["dataprep", "encode_features", "extract_label", "make_model"]


def test_chunks_respect_the_token_budget(analysis):
    whole = analysis.chunks(10_000)
    assert len(whole) == 1 and whole[0].stages == ("dataprep", "encode_features", "extract_label", "make_model")
    small = analysis.chunks(120)
    assert len(small) > 1
    assert all(c.tokens <= 120 or len(c.code.split("\n\n")) == 1 for c in small)
    assert "".join(c.code for c in small).count("customers = {}") == 1


def test_constants_loops_joins_and_main_guards_are_followed():
    source = '''
import os
import pandas as pd
DATA = "data"
PARTS = ["data/a.csv", "data/b.csv"]

def main():
    pass

if __name__ == "__main__":
    frames = [pd.read_csv(p) for p in PARTS]
    for name in PARTS:
        print(open(name).readline())
    lookup = pd.read_parquet(os.path.join(DATA, "lookup.parquet"))
    pd.concat(frames).to_csv("out/prepared.csv")
'''
    result = analyze_source(source)
    assert {(i.name, i.path) for i in result.inputs} == {
        ("a", "data/a.csv"), ("b", "data/b.csv"), ("lookup", "data/lookup.parquet")}
    assert result.outputs[0].path == "out/prepared.csv"


def test_a_syntax_error_names_the_line_and_column():
    with pytest.raises(ScriptSyntaxError) as error:
        analyze_source("x = 1\ny = (2 +\n", filename="messy.py")
    assert str(error.value) == "messy.py, line 2, column 5: syntax error: '(' was never closed"


def test_notebooks_are_read_cell_by_cell(tmp_path):
    cells = [{"cell_type": "markdown", "source": ["# title"]},
             {"cell_type": "code", "source": ["%matplotlib inline\n", "import pandas as pd\n",
                                              "df = pd.read_csv('data/people.csv')"]},
             {"cell_type": "code", "source": "df[df.age > 3].to_csv('out/prepared.csv')"}]
    notebook = tmp_path / "work.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "nbformat": 4}))
    result = analyze_path(notebook)
    assert [i.path for i in result.inputs] == ["data/people.csv"]
    assert result.locate(5) == "cell 2, line 1"
    cells[2]["source"] = "df[df.age > ].to_csv('out/prepared.csv')"
    notebook.write_text(json.dumps({"cells": cells, "nbformat": 4}))
    with pytest.raises(ScriptSyntaxError, match=r"work.ipynb, cell 2, line 1, column"):
        analyze_path(notebook)


def test_sampling_keeps_the_first_rows_and_a_random_sample(tmp_path, analysis):
    plan = sample_inputs(analysis, SCRIPT.parent, rows=30)
    orders = next(f for f in plan.files if f.name == "orders")
    lines = orders.content.decode().splitlines()
    original = (SCRIPT.parent / "data" / "orders.csv").read_text().splitlines()
    assert orders.how == "sample" and orders.total_rows == len(original) and len(lines) == 50
    assert lines[:20] == original[:20]  # the header and the first rows, unchanged
    assert set(lines[20:]) <= set(original[20:])  # then rows of the file, in file order
    assert [original.index(line) for line in lines] == sorted(original.index(line) for line in lines)
    assert sample_inputs(analysis, SCRIPT.parent, rows=30).files[1].content == orders.content  # seeded
    whole = next(f for f in plan.files if f.name == "customers")
    assert whole.how == "whole"

    mine = tmp_path / "few_orders.csv"
    mine.write_text("\n".join(original[:5]) + "\n")
    given = sample_inputs(analysis, SCRIPT.parent, data={"orders": str(mine)})
    assert next(f for f in given.files if f.name == "orders").content == mine.read_bytes()


def test_inputs_that_cannot_be_sampled_say_what_to_do(tmp_path, analysis):
    with pytest.raises(SamplingError, match=r"customers: data/customers.csv \(.*line \d+\) does not exist .* --data customers=PATH"):
        sample_inputs(analysis, tmp_path)
    with pytest.raises(SamplingError, match="no such input; its inputs are: customers"):
        sample_inputs(analysis, SCRIPT.parent, data={"mails": "x.csv"})
    outside = analyze_source("import pandas as pd\npd.read_csv('/srv/data/x.csv')\n", filename="s.py")
    with pytest.raises(SamplingError, match="outside the script's folder"):
        sample_inputs(outside, tmp_path)


def test_code_is_extracted_from_fenced_and_unfenced_answers():
    assert extract_code("Sure:\n```python\ndef dataprep():\n    return 1\n```\nThat is all.") == \
        "def dataprep():\n    return 1\n"
    two = "```python\nimport lester as lt\n```\nand\n```python\ndef dataprep():\n    pass\n```"
    assert extract_code(two).startswith("def dataprep")
    assert extract_code("import lester as lt\n\ndef dataprep():\n    pass\n").startswith("import lester")
    for answer, reason in [("I am sorry, I cannot do that.", "contains no Python code"),
                           ("```python\ndef dataprep(\n", "never closed"),
                           ("```python\ndef dataprep(:\n```", "does not parse: line 1"),
                           ("```sql\nselect 1\n```", "not Python"), ("  ", "empty")]:
        with pytest.raises(ExtractionError, match=reason):
            extract_code(answer)


def test_static_checks(analysis):
    assert check_module(GOOD, analysis) == []
    bad = GOOD.replace('def dataprep(customers="data/customers.csv", orders="data/orders.csv"):',
                       'import os\n\ndef dataprep(orders="data/orders.csv"):\n'
                       '    customers = open("data/customers.csv").read()')
    bad = bad.replace("def make_model():", "def make_another_model():")
    problems = [str(i) for i in errors(check_module(bad, analysis))]
    assert any("does not define make_model()" in p for p in problems)
    assert any("imports os" in p for p in problems)
    assert any("calls open()" in p for p in problems)
    assert any("hard-coded path 'data/customers.csv'" in p for p in problems)
    assert any("no source parameter with the default 'data/customers.csv'" in p for p in problems)
    assert check_module("def dataprep(:\n", analysis)[0].message.startswith("syntax error")
    # a compiler's opaque steps may read files; only the structure is checked
    assert errors(check_module(GOOD.replace("import lester as lt", "import lester as lt\nimport os"),
                               analysis, trusted=True)) == []


def test_prompts_fill_every_slot_and_describe_the_real_dsl():
    reference = prompts.dsl_reference()
    for name in ("lt.read_csv(path", "frame.filter(predicate", "frame.project(output", "lt.join(left",
                 "frame.groupby(by).agg", "Example:"):
        assert name in reference
    assert "# doctest" not in reference
    assert "{{" not in prompts.render("system", dsl_reference=reference)
    with pytest.raises(prompts.PromptError, match=r"slots without values \['problems'\]"):
        prompts.render("repair", functions="dataprep()")


def test_llm_configuration_comes_from_flags_environment_and_lester_toml(tmp_path):
    (tmp_path / "lester.toml").write_text('[llm]\nmodel = "from-file"\ntimeout = 5\nbase_url = "http://file/v1"\n')
    config = LLMConfig.resolve(config_file=tmp_path / "lester.toml", environ={"LESTER_MODEL": "from-env"})
    assert (config.model, config.timeout, config.base_url) == ("from-env", 5, "http://file/v1")
    flagged = LLMConfig.resolve(config_file=tmp_path / "lester.toml", environ={}, model="from-flag")
    assert flagged.model == "from-flag"
    assert LLMConfig.resolve(config_file=tmp_path / "none.toml", environ={"OPENAI_API_KEY": "k"}).model == "gpt-4o-mini"
    unconfigured = LLMConfig.resolve(config_file=tmp_path / "none.toml", environ={})
    assert "OPENAI_API_KEY" in unconfigured.problem(environ={})
    (tmp_path / "bad.toml").write_text('[llm]\napi_key = "sk-in-a-file"\n')
    with pytest.raises(Exception, match="must not hold the key"):
        LLMConfig.resolve(config_file=tmp_path / "bad.toml")
    assert redact("key sk-abcdef123456 and Bearer xyz and secret!", ["secret!"]) == "key *** and *** and ***"


def test_inputs_named_by_an_f_string_in_a_loop_over_literals():
    analysis = analyze_source(
        'import csv\n'
        'SITES = ["a", "b"]\n'
        'rows = []\n'
        'for site in SITES:\n'
        '    with open(f"data/labs_{site}.csv") as f:\n'
        '        rows += list(csv.reader(f))\n'
        'for year in [2021, 2022]:\n'
        '    open(f"data/{year:04d}.csv")  # a format spec: not followed\n'
    )
    assert [(i.name, i.path) for i in analysis.inputs] == [
        ("labs_a", "data/labs_a.csv"), ("labs_b", "data/labs_b.csv")]
