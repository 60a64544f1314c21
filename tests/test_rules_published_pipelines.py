"""Published example pipelines and team scripts, as they are written: ``make_pipeline`` and
``make_column_transformer`` (with ``remainder="passthrough"``), a ``LabelEncoder`` or
``label_binarize`` on the label, the model pickled into a binary file, a test file read only
to score, and paths built at run time from ``__file__`` (found by running, one restart each).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import numpy as np
import pandas as pd

import lester as lt
from lester.rewrite.rules.compiler import compile_script
from lester.rewrite.rules.slicing import backward_slice
from tests.rewrite_checks import assert_valid_and_declarative

SCRIPT = '''
import os
import pickle
import sys

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")


def load(name):
    return pd.read_csv(os.path.join(DATA_DIR, name))


def train(X, y):
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                                  (StandardScaler(), ["usage"]), remainder="passthrough")
    model = make_pipeline(pre, LogisticRegression(C=0.8))
    model.fit(X, y)
    return model


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else DATA_DIR
    people = load("people.csv")
    usage = pd.read_csv(os.path.join(data_dir, "usage.csv"))
    df = people.merge(usage, on="pid")
    le = LabelEncoder()
    y = le.fit_transform(df["status"])
    X = df[["plan", "usage", "tenure"]]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=1)
    model = train(X_train, y_train)
    holdout = load("holdout.csv")
    print(model.score(holdout[["plan", "usage", "tenure"]], le.transform(holdout["status"])))
    with open(os.path.join(HERE, "model.pkl"), "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main()
'''


def _data(folder: Path, n: int = 200) -> None:
    rng = np.random.default_rng(11)
    (folder / "data").mkdir()
    pd.DataFrame({"pid": np.arange(n), "plan": rng.choice(["basic", "pro", "max"], n),
                  "tenure": rng.integers(1, 60, n),
                  "status": rng.choice(["churned", "stayed"], n)}).to_csv(folder / "data" / "people.csv", index=False)
    pd.DataFrame({"pid": np.arange(n), "usage": rng.gamma(2, 3, n).round(2)}).to_csv(
        folder / "data" / "usage.csv", index=False)
    pd.DataFrame({"plan": ["pro", "basic"], "usage": [1.0, 2.0], "tenure": [3, 4],
                  "status": ["stayed", "churned"]}).to_csv(folder / "data" / "holdout.csv", index=False)


def test_pickling_the_model_into_a_binary_file_is_no_output_but_a_text_file_is() -> None:
    body = cst.parse_module(textwrap.dedent("""
        import pickle
        model = 1
        with open("model.bin", "wb") as f:
            pickle.dump(model, f)
        with open("out/report.txt", "w") as report:
            report.write("done")
    """)).body
    kept, dropped = backward_slice(body)
    assert [cst.Module([s]).code.splitlines()[0] for s in dropped] == ['model = 1', 'with open("model.bin", "wb") as f:']
    assert any("report.txt" in cst.Module([s]).code for s in kept)


def test_label_binarize_with_two_classes_is_the_label() -> None:
    program = compile_script(textwrap.dedent("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import label_binarize
        df = pd.read_csv("data/people.csv")
        y = label_binarize(df["status"], classes=["stayed", "churned"]).ravel()
        LogisticRegression().fit(df[["tenure"]], y)
    """), filename="s.py", allow_opaque=False, heads={"data/people.csv": "pid,plan,tenure,status\n"})
    assert "return (prepared['status'] == 'churned').astype(int).to_numpy()" in program.code


def test_a_published_style_script_is_valid_and_declarative(tmp_path: Path, monkeypatch) -> None:
    _data(tmp_path)
    (tmp_path / "train.py").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("train.py", engine="rules", timeout=120)
    assert_valid_and_declarative(result)
    code = result.code.replace('"', "'")
    assert "np.unique(prepared['status'].to_numpy(), return_inverse=True)[1]" in code  # LabelEncoder
    # the script's encoder sees X's columns only, though it passes the rest through
    encoder = "".join(code[code.index("def encode_features"):code.index("def extract_label")].split())
    assert encoder.startswith("defencode_features():returnColumnTransformer([('features',make_column_transformer(")
    assert "remainder='passthrough',),['plan','usage','tenure'],)" in encoder
    assert "def make_model(C=0.8):\n    return LogisticRegression(C=C)" in code
    assert any("holdout.csv is not read" in n for n in result.report.notes)
    # the paths built in the script's own functions, with their arguments
    assert "usage='data/usage.csv'" in code and "people='data/people.csv'" in code
