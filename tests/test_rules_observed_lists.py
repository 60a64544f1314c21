"""Column lists a script computes from the data (``select_dtypes``, comprehensions over
``df.columns`` and their dtypes) are read as the lists the script's own run on the sample
computed, with a note in the report; lists of anything but column names never become code.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from lester.rewrite.rules.compiler import compile_script
from tests.rewrite_checks import rewrite_declaratively

CHURN_SCRIPT = textwrap.dedent('''
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder

    df = pd.read_csv("data/churn.csv")
    df.drop(["customerID"], axis=1, inplace=True)
    cat_cols = df.select_dtypes(include="object").columns.tolist()
    cat_cols.remove("Churn")
    num_cols = [c for c in df.select_dtypes(include="number").columns]
    le = LabelEncoder()
    for c in cat_cols:
        df[c] = le.fit_transform(df[c])
    df["Churn"] = df["Churn"].map({"Yes": 1, "No": 0})
    X = df[cat_cols + num_cols]
    y = df["Churn"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=1)
    rf = RandomForestClassifier(n_estimators=20, random_state=1)
    rf.fit(X_train, y_train)
''')


def _churn(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"customerID": [f"C{i:04d}" for i in range(n)], "gender": rng.choice(["M", "F"], n),
                         "tenure": rng.integers(0, 72, n), "Contract": rng.choice(["monthly", "yearly"], n),
                         "MonthlyCharges": rng.uniform(18, 120, n).round(2), "Churn": rng.choice(["Yes", "No"], n)})


def test_column_lists_computed_from_dtypes_are_the_lists_the_script_computed(tmp_path: Path, monkeypatch) -> None:
    result = rewrite_declaratively(tmp_path, monkeypatch, CHURN_SCRIPT, {"churn.csv": _churn()}, pandas_steps=True)
    assert 'cat_cols = ["gender", "Contract"]' in result.code and 'num_cols = ["tenure", "MonthlyCharges"]' in result.code
    assert "cat_cols is the list the script computed on the sample data" in result.report.text()


def test_a_list_of_data_values_never_becomes_code() -> None:
    script = textwrap.dedent('''
        import pandas as pd
        df = pd.read_csv("data/c.csv")
        vip = df[df["spend"] > 100]["email"].tolist()
        df[df["email"].isin(vip)].to_csv("out/prepared.csv", index=False)
    ''')
    try:
        program = compile_script(script, filename="s.py", heads={"data/c.csv": "email,spend\n"},
                                 name_lists={"vip": ["ann@example.org", "bo@example.org"]})
    except Exception:  # noqa: BLE001 - refusing is fine; writing the e-mails into the module is not
        return
    assert "ann@example.org" not in program.code
