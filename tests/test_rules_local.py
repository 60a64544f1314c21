"""Degrading locally: one unknown or irrelevant construct no longer decides the whole rewrite.

Units: the backward slice (rules/slicing.py), the substitutions that make styles alike
(rules/normalize.py), and fit / train_test_split as the script's outputs (rules/dataflow.py).
The end-to-end test rewrites a notebook-style script with exploration, an inplace call, a
split and two estimators into a declarative, valid module.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import numpy as np
import pandas as pd

import lester as lt
from lester.rewrite.rules.compiler import compile_script
from lester.rewrite.rules.normalize import normalized
from lester.rewrite.rules.slicing import backward_slice


def code(statements) -> list[str]:
    return [cst.Module([s]).code.strip() for s in statements]


def test_the_slice_drops_what_no_output_needs_and_keeps_every_mutation_it_needs() -> None:
    body = cst.parse_module(textwrap.dedent("""
        import os, warnings
        import pandas as pd
        warnings.filterwarnings("ignore")
        os.environ["OMP_NUM_THREADS"] = "1"
        df = pd.read_csv("a.csv")
        df.shape
        df.Sex.value_counts()
        df.groupby("a").mean().sort_values("b")
        header = df.columns[0]
        df.dropna(inplace=True)
        rows = []
        for value in df["a"]:
            rows.append(value * 2)
        unused = [1, 2]
        with open("out/prepared.csv", "w") as f:
            for r in rows:
                f.write(f"{r}\\n")
        import pickle
        pickle.dump(rows, open("model.pkl", "wb"))
    """)).body
    kept, dropped = backward_slice(body)
    assert code(dropped) == ['warnings.filterwarnings("ignore")', 'os.environ["OMP_NUM_THREADS"] = "1"', "df.shape",
                             "df.Sex.value_counts()", 'df.groupby("a").mean().sort_values("b")',
                             "header = df.columns[0]", "unused = [1, 2]", 'pickle.dump(rows, open("model.pkl", "wb"))']
    assert 'df.dropna(inplace=True)' in code(kept) and "rows = []" in code(kept)


def test_the_slice_follows_the_last_fitted_model_and_the_functions_that_fit_it() -> None:
    body = cst.parse_module(textwrap.dedent("""
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        X = [[1], [2]]
        y = [0, 1]
        scaler_input = X
        rf = RandomForestClassifier()
        def train(features, labels):
            model = LogisticRegression()
            model.fit(features, labels)
            return model
        clf = train(X, y)
        print(clf.score(X, y))
    """)).body
    _, dropped = backward_slice(body)
    assert code(dropped) == ["scaler_input = X", "rf = RandomForestClassifier()", "print(clf.score(X, y))"]


def test_styles_are_normalized_to_one_shape() -> None:
    module = cst.parse_module(textwrap.dedent("""
        import pandas as pd
        def load(path):
            frame = pd.read_csv(path)
            frame.drop(columns=["id"], inplace=True)
            return frame
        def main():
            f = open("data/a.txt")
            while True:
                line = f.readline()
                if not line:
                    break
                print(line)
            df = load("data/b.csv")
            df.fillna(0, inplace=True)
        if __name__ == "__main__":
            main()
    """))
    body, origin = normalized(module)
    top = code(body[3:])
    assert top[0] == 'f = open("data/a.txt")' and top[1].startswith("for line in f:")
    # inlined, the function's statements are top-level ones: its inplace call is an assignment too
    assert top[2:] == ['path = "data/b.csv"', "frame = pd.read_csv(path)", 'frame = frame.drop(columns=["id"])',
                       "df = frame", "df = df.fillna(0)"]
    assert all(id(s) in origin for s in body[3:] if code([s])[0].startswith(("for ", "path =", "df =")))


def test_inlining_keeps_a_mutated_argument_the_callers_object() -> None:
    module = cst.parse_module(textwrap.dedent("""
        def clean(d):
            d["x"] = d["x"] * 2
        df = make()
        clean(df)
        use(df)
    """))
    body, _ = normalized(module)
    assert code(body[1:]) == ["df = make()", 'df["x"] = df["x"] * 2', "use(df)"]


def test_a_notebook_with_a_split_and_an_unfitted_estimator_is_rewritten_declaratively(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    rng = np.random.default_rng(5)
    (tmp_path / "data").mkdir()
    n = 150
    pd.DataFrame({"pid": range(n), "survived": rng.integers(0, 2, n), "pclass": rng.integers(1, 4, n),
                  "age": np.where(rng.random(n) < 0.2, np.nan, rng.integers(1, 80, n)),
                  "sibsp": rng.integers(0, 4, n), "parch": rng.integers(0, 3, n),
                  "fare": (rng.random(n) * 100).round(2)}).to_csv(tmp_path / "data" / "train.csv", index=False)
    (tmp_path / "notebook.py").write_text(textwrap.dedent("""
        import warnings
        warnings.filterwarnings("ignore")
        import pandas as pd
        from sklearn.model_selection import train_test_split
        from sklearn.linear_model import LogisticRegression
        from sklearn.ensemble import RandomForestClassifier
        df = pd.read_csv("data/train.csv")
        df.head()
        df.shape
        print(df.describe())
        df.dropna(inplace=True)
        df["family"] = df["sibsp"] + df["parch"] + 1
        df = df[df["fare"] > 5]
        FEATURES = ["pclass", "age", "family", "fare"]
        X = df[FEATURES]
        y = df["survived"]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
        rf = RandomForestClassifier(n_estimators=20)
        model = LogisticRegression(C=0.3, max_iter=500)
        model.fit(X_train, y_train)
        print(model.score(X_test, y_test))
    """))
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("notebook.py", engine="rules", timeout=60)
    assert result.status == "valid", result.report.text()
    assert not result.report.opaque_steps
    assert {c.what for c in result.report.validation.checks if c.status == "match"} == {"prepared", "X", "y", "model"}
    assert "def make_model(C=0.3, max_iter=500):" in result.code and "RandomForest" not in result.code


def test_one_unknown_dead_statement_no_longer_sends_the_script_opaque() -> None:
    source = textwrap.dedent("""
        import numpy as np
        import pandas as pd
        df = pd.read_csv("data/a.csv", names=["a", "b"])
        weird = df.pivot_table(index="a", aggfunc=lambda s: s.nunique())   # no rule knows this
        print(weird)
        df = df[df["a"] > 0]
        df.to_csv("out/prepared.csv", index=False)
    """)
    program = compile_script(source, filename="s.py", allow_opaque=False)
    assert not program.opaque_steps and "pivot_table" not in program.code


def test_a_published_style_pipeline_in_functions_keeps_its_own_encoder(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(9)
    (tmp_path / "data").mkdir()
    n = 160
    pd.DataFrame({"age": rng.integers(18, 90, n), "city": rng.choice(["Oslo", "Rome", "Lima"], n),
                  "income": rng.normal(50, 10, n).round(1), "label": rng.integers(0, 2, n)}).to_csv(
        tmp_path / "data" / "people.csv", index=False)
    (tmp_path / "train.py").write_text(textwrap.dedent("""
        import os
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
        NUMERIC = ["age", "income"]

        def load(path):
            df = pd.read_csv(path)
            df = df[df["age"] < 80]
            return df

        def build_model():
            pre = ColumnTransformer([("num", StandardScaler(), NUMERIC),
                                     ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])])
            return Pipeline([("pre", pre), ("clf", LogisticRegression(C=0.7))])

        def main():
            df = load(os.path.join(DATA_DIR, "people.csv"))
            X, y = df[NUMERIC + ["city"]], df["label"]
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
            model = build_model()
            model.fit(X_train, y_train)
            print(model.score(X_test, y_test))

        if __name__ == "__main__":
            main()
    """))
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("train.py", engine="rules", timeout=60)
    assert result.status == "valid", result.report.text()
    assert "OneHotEncoder(handle_unknown=\"ignore\")" in result.code.replace("'", '"')
    assert "def make_model(C=0.7):\n    return LogisticRegression(C=C)" in result.code


def test_a_constant_list_of_one_name_stays_a_list() -> None:
    # the path evaluator sees one string in ["name"]; a constant of the script is the list itself
    from lester.rewrite.rules.dataflow import ScriptReader

    reader = ScriptReader("FIELDS = ['name']\n")
    assert reader.const(cst.parse_expression('["name"]'), None) == ["name"]
    assert reader.const(cst.parse_expression('("name",)'), None) == ("name",)
    assert reader.const(cst.parse_expression('os.path.join("data", "a.csv")'), None) == "data/a.csv"
