"""More of the way scripts are written, one small unit each: command-line and environment
defaults, a call of the script's own function inside an expression, a merge on a groupby's
index, ``model = pipeline.fit(...)``, the script's ColumnTransformer fitted on a table, and a
label taken as a column of the training part of a split.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.rewrite.rules.compiler import compile_script
from lester.rewrite.rules.normalize import normalized
from lester.rewrite.rules.runtime_config import with_defaults
from tests.rewrite_checks import assert_valid_and_declarative

HEADS = {"data/people.csv": "pid,plan,usage,tenure,label\n1,basic,2.5,3,0\n",
         "data/visits.csv": "pid,amount\n1,2.0\n"}


def _code(statements) -> list[str]:
    return [cst.Module([s]).code.strip() for s in statements]


def test_argparse_and_environment_defaults_are_what_a_run_without_them_gets() -> None:
    body = list(cst.parse_module(textwrap.dedent("""
        import argparse, os
        os.environ.setdefault("DATA_DIR", "data")
        parser = argparse.ArgumentParser()
        parser.add_argument("--seed", type=int, default="7")
        parser.add_argument("--verbose", action="store_true")
        parser.add_argument("input")
        args = parser.parse_known_args()[0]
        seed = args.seed
        flags = (args.verbose, args.input)
        where = os.environ["DATA_DIR"]
        other = os.environ.get("OTHER", "x")
        home = os.getenv("HOME")
    """)).body)
    out = _code(with_defaults(body, {}))
    assert "seed = 7" in out and "flags = (False, args.input)" in out  # a positional has no value
    assert "where = 'data'" in out and "other = 'x'" in out and 'home = os.getenv("HOME")' in out


def test_a_call_of_the_scripts_function_inside_an_expression_is_inlined() -> None:
    module = cst.parse_module(textwrap.dedent("""
        def profile(tx):
            out = tx.groupby("pid").agg(n=("amount", "count")).reset_index()
            return out
        df = df.merge(profile(df), on="pid")
        keep = [f(x) for x in df] if df else profile(df)
    """))
    body, _origin = normalized(module)
    assert _code(body)[1:4] == ['out = df.groupby("pid").agg(n=("amount", "count")).reset_index()',
                                "profile_result = out", 'df = df.merge(profile_result, on="pid")']
    assert "keep = [f(x) for x in df] if df else profile(df)" in _code(body)  # a branch: not hoisted


def test_a_merge_on_the_index_of_a_groupby_result_joins_on_its_keys() -> None:
    program = compile_script(textwrap.dedent("""
        import pandas as pd
        df = pd.read_csv("data/people.csv")
        visits = pd.read_csv("data/visits.csv")
        per = visits.groupby("pid").agg(spent=("amount", "sum"))
        df = df.merge(per, left_on="pid", right_index=True, how="left")
        df.to_csv("out/prepared.csv", index=False)
    """), filename="s.py", allow_opaque=False, heads=HEADS)
    assert "on='pid', how='left')" in program.code and not program.pandas_steps


def _people(folder: Path, n: int = 240) -> None:
    rng = np.random.default_rng(5)
    (folder / "data").mkdir()
    pd.DataFrame({"pid": np.arange(n), "plan": rng.choice(["basic", "pro"], n), "usage": rng.gamma(2, 2, n).round(2),
                  "tenure": rng.integers(1, 40, n), "label": rng.integers(0, 2, n)}).to_csv(
        folder / "data" / "people.csv", index=False)


@pytest.mark.parametrize("fit", ["transform", "pipeline"])
def test_the_scripts_own_column_transformer_and_a_label_of_the_training_part(tmp_path, monkeypatch, fit) -> None:
    _people(tmp_path)
    common = """
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
        df = pd.read_csv("data/people.csv")
        features = ColumnTransformer([("num", StandardScaler(), ["usage", "tenure"]),
                                      ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])
    """
    if fit == "transform":  # the encoder fitted on the whole table, the model on its output
        tail = """
            X = features.fit_transform(df)
            model = LogisticRegression(C=0.4).fit(X, df["label"])
        """
    else:  # a Pipeline fitted on the training part, the label a column of that part
        tail = """
            pipeline = Pipeline([("features", features), ("learner", LogisticRegression(C=0.4))])
            train, test = train_test_split(df, random_state=3)
            model = pipeline.fit(train, train["label"])
            print(model.score(test, test["label"]))
        """
    (tmp_path / "s.py").write_text(textwrap.dedent(common) + textwrap.dedent(tail))
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("s.py", engine="rules", timeout=120)
    assert_valid_and_declarative(result)
    assert "def make_model(C=0.4):" in result.code  # its hyper-parameter, for --set model.C=
    if fit == "transform":
        Path("pipeline.py").write_text(result.code)
        run = lt.run("pipeline.py", store=".lester", cache=False, overrides=["model.C=0.05"])
        assert run.model.C == 0.05


def test_a_loop_over_a_dict_of_models_is_one_block_per_model_and_the_last_is_the_model() -> None:
    from lester.rewrite.rules.normalize import unrolled_dict_loops

    body = list(cst.parse_module(textwrap.dedent("""
        models = {"lr": LogisticRegression(C=2), "tree": DecisionTreeClassifier(max_depth=3)}
        for name, model in models.items():
            model.fit(X, y)
            print(name, model.score(X, y))
        kept = {"a": A()}
        for k, v in kept.items():
            v.fit(X, y)
        best = kept["a"]
    """)).body)
    out = _code(unrolled_dict_loops(body, {}))
    assert out[1:7] == ['name = "lr"', "model = LogisticRegression(C=2)", "model.fit(X, y)",
                        "print(name, model.score(X, y))", 'name = "tree"', "model = DecisionTreeClassifier(max_depth=3)"]
    assert any(line.startswith("for k, v in kept.items():") for line in out)  # kept is read after the loop


def test_a_loop_over_frames_changed_in_place_is_the_body_once_per_frame() -> None:
    from lester.rewrite.rules.normalize import unrolled_name_loops

    body = list(cst.parse_module(textwrap.dedent("""
        combine = [train, test]
        for dataset in combine:
            dataset["Sex"] = dataset["Sex"].map({"female": 1, "male": 0})
        for d in [train, test]:
            d = d.dropna()
        combine.append(other)
        for dataset in combine:
            dataset["x"] = 1
    """)).body)
    out = _code(unrolled_name_loops(body, {}))
    assert out[1:3] == ['train["Sex"] = train["Sex"].map({"female": 1, "male": 0})',
                        'test["Sex"] = test["Sex"].map({"female": 1, "male": 0})']
    assert out[3].startswith("for d in [train, test]:")  # rebinding d changes neither frame
    assert out[-1].startswith("for dataset in combine:")  # the list changed: not known any more


def test_a_parameter_named_like_its_argument_is_that_argument_after_inlining() -> None:
    # clean(rows) into def clean(rows): the body reads the caller's rows, not an unbound copy
    body, _ = normalized(cst.parse_module(textwrap.dedent("""
        def clean(rows):
            good = []
            for r in rows:
                if r["x"]:
                    good.append(r)
            return good
        rows = load()
        good = clean(rows)
        print(len(rows), len(good))
    """)))
    code = cst.Module(body).code
    assert "for r in rows:" in code and "clean_rows" not in code
