"""Encodings a script does itself become the pipeline's encoder: ``pd.get_dummies`` as a
one-hot encoder (``drop_first`` as ``drop="first"``), ``StandardScaler().fit_transform(X)`` as
scaled blocks, and column names computed from column names are read off the header.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.rewrite.rules.column_names import renamed
from lester.rewrite.rules.compiler import compile_script
from tests.rewrite_checks import assert_valid_and_declarative

HEADS = {"data/people.csv": "Person Id,Home City,Yearly Income,Age Group,label\n1,Oslo,10.5,30s,1\n"}


def test_column_names_from_string_methods_are_evaluated_and_anything_else_is_not() -> None:
    cols = [" Home City", "AGE "]
    assert renamed(cst.parse_expression("df.columns.str.strip().str.lower().str.replace(' ', '_')"), "df", cols) \
        == ["home_city", "age"]
    assert renamed(cst.parse_expression("lambda c: c.strip().title()"), "", cols) == ["Home City", "Age"]
    assert renamed(cst.parse_expression("[c.upper() for c in other.columns]"), "df", cols) is None
    assert renamed(cst.parse_expression("[c[:3] for c in df.columns]"), "df", cols) is None
    assert renamed(cst.parse_expression("[f(c) for c in df.columns]"), "df", cols) is None


def test_get_dummies_and_a_scaler_become_the_column_transformer() -> None:
    program = compile_script(textwrap.dedent("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
        df = pd.read_csv("data/people.csv")
        df.columns = df.columns.str.lower().str.replace(" ", "_")
        df = pd.get_dummies(df, columns=["home_city", "age_group"], drop_first=True)
        X = df.drop(["person_id", "label"], axis=1)
        scaler = StandardScaler()
        X_scaled = scaler.fit_transform(X)
        LogisticRegression().fit(X_scaled, df["label"])
    """), filename="s.py", allow_opaque=False, heads=HEADS)
    code = program.code
    assert not program.pandas_steps and ".rename({'Person Id': 'person_id'" in code
    assert 'StandardScaler(), ["yearly_income"]' in code.replace("'", '"')
    assert ('make_pipeline(OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False), '
            'StandardScaler())') in code.replace("'", '"')


def _people(folder, n=300):
    rng = np.random.default_rng(3)
    (folder / "data").mkdir()
    pd.DataFrame({"Person Id": np.arange(n), "Home City": rng.choice(["Oslo", "Rome", "Lima", "Kyiv"], n),
                  "Yearly Income": rng.normal(50, 9, n).round(2), "Age Group": rng.choice(["20s", "30s", "40s"], n),
                  "label": rng.integers(0, 2, n)}).to_csv(folder / "data" / "people.csv", index=False)


NOTEBOOK = """
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

df = pd.read_csv("data/people.csv")
df.columns = [c.lower().replace(" ", "_") for c in df.columns]
df.head()
df = pd.get_dummies(df, columns=["home_city", "age_group"], drop_first={drop_first}, dtype=int)
X = df.drop(columns=["person_id", "label"])
y = df["label"]
scaler = StandardScaler()
X = scaler.fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
model = LogisticRegression(C=0.5)
model.fit(X_train, y_train)
print(model.score(X_test, y_test))
"""


@pytest.mark.parametrize("drop_first", [True, False])
def test_a_notebook_that_encodes_with_pandas_is_valid_and_declarative(tmp_path, monkeypatch, drop_first) -> None:
    _people(tmp_path)
    (tmp_path / "nb.py").write_text(NOTEBOOK.replace("{drop_first}", str(drop_first)))
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("nb.py", engine="rules", timeout=120)
    assert_valid_and_declarative(result)


def test_a_prepared_file_the_script_wrote_after_get_dummies_must_still_match_column_for_column(tmp_path,
                                                                                              monkeypatch) -> None:
    # only a feature table captured from memory may leave the script's own encodings to X
    _people(tmp_path)
    source = NOTEBOOK.replace("{drop_first}", "False").replace(
        'X = df.drop(', 'import os\nos.makedirs("out", exist_ok=True)\ndf.to_csv("out/prepared.csv", index=False)\nX = df.drop(')
    (tmp_path / "nb.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("nb.py", engine="rules", timeout=120)
    assert result.status != "valid"
    prepared = {c.what: c for c in result.report.validation.checks}["prepared"]
    assert prepared.status == "differ" and "columns are missing" in prepared.detail


def test_rename_with_a_function_of_the_name_is_a_rename_the_plan_knows() -> None:
    program = compile_script(textwrap.dedent("""
        import pandas as pd
        df = pd.read_csv("data/people.csv")
        df.rename(columns=lambda c: c.strip().lower().replace(" ", "_"), inplace=True)
        df = df[df["yearly_income"] > 0]
        df.to_csv("out/prepared.csv", index=False)
    """), filename="s.py", allow_opaque=False, heads=HEADS)
    assert "'Yearly Income': 'yearly_income'" in program.code and not program.pandas_steps


def test_get_dummies_of_a_cut_keeps_the_labels_order() -> None:
    program = compile_script(textwrap.dedent("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        df = pd.read_csv("data/people.csv")
        df["band"] = pd.cut(df["Yearly Income"], bins=[0, 20, 60, 1000], labels=["low", "mid", "high"])
        df = pd.get_dummies(df, columns=["band"], drop_first=True)
        LogisticRegression().fit(df[["band"]], df["label"])
    """), filename="s.py", allow_opaque=False, heads=HEADS)
    assert ("OneHotEncoder(categories=[['low', 'mid', 'high']], drop=\"first\", handle_unknown=\"ignore\", "
            "sparse_output=False)") in program.code.replace("'first'", '"first"').replace("'ignore'", '"ignore"')
