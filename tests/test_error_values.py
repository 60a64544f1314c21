"""A user function that fails on a row names the function, its columns and the row's
provenance id, but prints the row's values (personal data) only when asked to."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

import lester as lt
from lester.cli import main
from lester.frame import python_functions

EMAIL = "bob.personal@x.org"
HIDDEN = "values hidden; rerun with --show-values to see them"


def domain(email: str) -> str:
    if email.startswith("bob"):
        raise ValueError(f"cannot parse {email!r}")
    return email.split("@")[1]


def frame() -> lt.Frame:
    people = pd.DataFrame({"customer_id": [1, 2, 3], "email": ["ann@x.org", EMAIL, "cid@x.org"]})
    return lt.from_pandas(people, name="customers", key="customer_id")


@pytest.fixture(autouse=True)
def hidden_by_default(monkeypatch):
    monkeypatch.delenv("LESTER_SHOW_VALUES", raising=False)
    monkeypatch.setattr(python_functions, "SHOW_VALUES", False)


@pytest.mark.parametrize("vectorized", [False, True])
def test_a_failing_row_s_values_are_hidden(engine, vectorized):
    func = (lambda emails: emails.map(domain)) if vectorized else domain
    with pytest.raises(lt.UserFunctionError) as info:
        frame().project("domain", ["email"], func, vectorized=vectorized).to_pandas(engine=engine)
    message = str(info.value)
    assert EMAIL not in message and "bob.personal" not in message
    assert HIDDEN in message and "ValueError" in message and "email" in message
    if not vectorized:
        assert "domain()" in message and "{'customers': 2}" in message  # function and row id
        assert info.value.arguments == {"email": EMAIL}  # the values stay available to code


def test_a_failing_predicate_s_values_are_hidden(engine):
    def adult(email):
        raise TypeError(f"no age for {email}")

    with pytest.raises(lt.UserFunctionError) as info:
        frame().filter(adult, columns=["email"]).to_pandas(engine=engine)
    assert "ann@x.org" not in str(info.value) and HIDDEN in str(info.value)


def test_show_values_prints_them(engine, monkeypatch):
    monkeypatch.setattr(python_functions, "SHOW_VALUES", True)
    with pytest.raises(lt.UserFunctionError) as info:
        frame().project("domain", ["email"], domain).to_pandas(engine=engine)
    assert EMAIL in str(info.value) and HIDDEN not in str(info.value)


PIPELINE = '''
import lester as lt


def domain(email):
    if email.startswith("bob"):
        raise ValueError("cannot parse " + email)
    return email.split("@")[1]


def dataprep(customers="customers.csv"):
    return lt.read_csv(customers, key="customer_id").project("domain", ["email"], domain)
'''


@pytest.mark.parametrize("flag", [[], ["--show-values"]])
def test_lester_run_hides_values_unless_show_values(tmp_path, monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customers.csv").write_text(f"customer_id,email\n1,ann@x.org\n2,{EMAIL}\n")
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    outcome = CliRunner().invoke(main, ["run", "pipeline.py", "--no-cache", *flag])
    assert outcome.exit_code == 2, outcome.output
    text = " ".join(outcome.output.split())
    assert "domain()" in text
    if flag:
        assert EMAIL in text and HIDDEN not in text
    else:
        assert EMAIL not in text and HIDDEN in text


def test_rewrite_offers_show_values_too():
    outcome = CliRunner().invoke(main, ["rewrite", "--help"])
    assert outcome.exit_code == 0 and "--show-values" in outcome.output
