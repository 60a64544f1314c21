"""Outputs captured from memory (lester/rewrite/capture.py): what the script fits its model on.

Each script here saves nothing (or only a table); the sandbox runs it instrumented and reads
X, y, the model and the prepared table from its fit and split calls.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lester.rewrite.analysis import analyze_path
from lester.rewrite.capture import Recorder, instrument
from lester.rewrite.sampling import sample_inputs
from lester.rewrite.sandbox import run_original

ROWS = 80


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    (tmp_path / "data").mkdir()
    pd.DataFrame({
        "id": range(ROWS), "age": rng.integers(18, 90, ROWS).astype(float),
        "city": rng.choice(["Oslo", "Rome", "Lima"], ROWS), "income": rng.normal(50, 10, ROWS).round(2),
        "label": rng.integers(0, 2, ROWS),
    }).to_csv(tmp_path / "data" / "people.csv", index=False)
    return tmp_path


def run(folder: Path, source: str):
    script = folder / "messy.py"
    script.write_text(textwrap.dedent(source))
    analysis = analyze_path(script)
    plan = sample_inputs(analysis, folder, rows=1000)
    outputs = run_original(script, analysis, plan, timeout=60)
    assert outputs.status == "ok", outputs.describe_error()
    return outputs


def test_a_script_that_saves_nothing_gives_all_rows_of_its_split(folder: Path) -> None:
    outputs = run(folder, """
        import pandas as pd
        from sklearn.model_selection import train_test_split
        from sklearn.linear_model import LogisticRegression
        from sklearn.tree import DecisionTreeClassifier
        df = pd.read_csv("data/people.csv")
        df["old"] = (df["age"] > 60).astype(int)
        features = df[["age", "income", "old"]]
        target = df["label"]
        tree = DecisionTreeClassifier()          # built but never fitted: not the model
        a, b, c, d = train_test_split(features, target, test_size=0.25, random_state=1)
        clf = LogisticRegression(C=0.5)
        clf.fit(a, c)
        print(clf.score(b, d))
    """)
    people = pd.read_csv(folder / "data" / "people.csv")
    assert outputs.X.shape == (ROWS, 3)  # all rows, not the 60 of the training part
    assert np.allclose(outputs.X[:, 0], people["age"]) and np.array_equal(outputs.y, people["label"])
    assert outputs.model["class"] == "LogisticRegression" and outputs.model["params"]["C"] == 0.5
    assert list(outputs.prepared.columns) == ["age", "income", "old", "label"]
    assert "train_test_split" in outputs.found["X"]


def test_a_pipeline_fitted_in_a_function_gives_its_model_and_refitted_encoder(folder: Path) -> None:
    outputs = run(folder, """
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split

        def train(frame):
            X, y = frame[["age", "city"]], frame["label"]
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
            pre = ColumnTransformer([("num", StandardScaler(), ["age"]),
                                     ("cat", OneHotEncoder(), ["city"])])
            pipe = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))])
            pipe.fit(X_tr, y_tr)
            return pipe

        def main():
            model = train(pd.read_csv("data/people.csv"))

        if __name__ == "__main__":
            main()
    """)
    people = pd.read_csv(folder / "data" / "people.csv")
    assert outputs.model["class"] == "LogisticRegression" and outputs.model["params"]["max_iter"] == 500
    assert outputs.X.shape == (ROWS, 4)  # the scaler and the encoder refitted on all rows
    assert np.allclose(outputs.X[:, 0], (people["age"] - people["age"].mean()) / people["age"].std(ddof=0))
    assert list(outputs.prepared.columns) == ["age", "city", "label"] and len(outputs.prepared) == ROWS


def test_an_encoder_fitted_on_the_training_part_is_refitted_on_all_rows(folder: Path) -> None:
    outputs = run(folder, """
        import pandas as pd
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        df = pd.read_csv("data/people.csv")
        X_train, X_test, y_train, y_test = train_test_split(df[["age", "income"]].values, df.label.values,
                                                            random_state=7)
        scaler = StandardScaler()
        X_train = scaler.fit_transform(X_train)
        X_test = scaler.transform(X_test)
        SVC(C=2.0).fit(X_train, y_train)
    """)
    people = pd.read_csv(folder / "data" / "people.csv")
    assert outputs.X.shape == (ROWS, 2)
    assert np.allclose(outputs.X.mean(axis=0), 0) and np.allclose(outputs.X.std(axis=0), 1)
    assert np.array_equal(outputs.y, people["label"]) and outputs.model["class"] == "SVC"


def test_paths_built_at_run_time_and_sys_argv(folder: Path) -> None:
    outputs = run(folder, """
        import os, sys
        import pandas as pd
        from sklearn.linear_model import LinearRegression
        DATA_DIR = "data"
        print("arguments:", sys.argv[1:])
        path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(DATA_DIR, "{}.csv".format("people"))
        df = pd.read_csv(path)
        LinearRegression().fit(df[["age"]], df["income"])
    """)
    assert outputs.read == ["data/people.csv"]
    assert outputs.X.shape == (ROWS, 1) and outputs.model["class"] == "LinearRegression"
    assert "arguments: []" in outputs.log  # lester's own arguments never reach the script


def test_a_prep_only_script_keeps_its_written_table_and_fits_nothing(folder: Path) -> None:
    outputs = run(folder, """
        import pandas as pd
        df = pd.read_csv("data/people.csv")
        df = df[df["age"] > 30]
        df.to_csv("prepared.csv", index=False)
    """)
    assert outputs.found == {"prepared": "file prepared.csv"} and outputs.X is None and outputs.model is None


def test_instrumented_calls_keep_their_line_numbers() -> None:
    code = instrument("x = 1\n\nmodel.fit(x, 2)\n", "s.py")
    namespace = {"__lester_recorder__": Recorder(), "model": None}
    with pytest.raises(AttributeError) as error:
        exec(code, namespace)  # noqa: S102 - the instrumented code of a three-line script
    in_script = [entry.lineno for entry in error.traceback if str(entry.path) == "s.py"]
    assert in_script == [2]  # 0-based: line 3 of the script
    assert "'NoneType' object has no attribute 'fit'" in str(error.value)  # the script's own error


def test_rewrite_samples_the_files_found_only_by_running_the_script(folder: Path) -> None:
    from lester.rewrite import rewrite

    script = folder / "dynamic.py"
    script.write_text(textwrap.dedent("""
        import pandas as pd
        name = "".join(reversed("elpoep"))     # no static analysis can read this path
        df = pd.read_csv(f"data/{name}.csv")
        df = df[df["age"] > 30]
        df.to_csv("prepared.csv", index=False)
    """))
    result = rewrite(script, engine="rules", timeout=60)
    assert any("data/people.csv" in line for line in result.report.sample), result.report.sample
    assert "the original script failed" not in result.report.message
