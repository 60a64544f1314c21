"""Local fallback to pandas: one statement the rules cannot translate becomes one ``Frame.pipe``
step, the rest of the script stays declarative, and forgetting still reaches every row.

Units: which statements a step takes (rules/pandas_steps.py), what it refuses and says, and
``groupby().agg`` as a DSL aggregate (rules/pandas_groupby.py). End to end: a notebook-style
script is rewritten, validated, run into a store, and a customer is forgotten from it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.rewrite.rules.compiler import compile_script
from lester.rewrite.rules.program import RulesUnsupported

HEADS = {"data/people.csv": "id,city,income,age\n1,Oslo,10.5,33\n",
         "data/visits.csv": "id,amount\n1,3.5\n"}


def compiled(body: str):
    source = "import numpy as np\nimport pandas as pd\n" + textwrap.dedent(body)
    return compile_script(source, filename="s.py", allow_opaque=False, heads=HEADS)


def test_one_unknown_statement_is_one_pandas_step_and_the_rest_stays_declarative() -> None:
    program = compiled("""
        df = pd.read_csv("data/people.csv")
        df = df[df["age"] >= 18]
        df.loc[df["income"] < 0, "income"] = np.nan
        df["income_k"] = df["income"] / 1000
        df.to_csv("out/prepared.csv", index=False)
    """)
    assert [tuple(s.lines) for s in program.pandas_steps] == [(6, 6)]
    assert "assignment to" in program.pandas_steps[0].reason
    assert program.code.count(".pipe(") == 1 and not program.opaque_steps
    assert "def _pandas_step_6(df):" in program.code
    assert 'df.loc[df["income"] < 0, "income"] = np.nan' in program.code
    # the filter before and the projection after are still DSL operations
    assert ".filter(" in program.code and ".project('income_k'" in program.code
    assert "columns=['id', 'city', 'income', 'age']" in program.code  # read off the statement


def test_a_statistic_the_statement_using_it_and_a_mask_from_before_are_one_step_in_script_order() -> None:
    program = compiled("""
        df = pd.read_csv("data/people.csv")
        rich = df["income"] > 100
        med = int(df.loc[df["income"] > 0, "income"].median())
        df.loc[df["income"] == 0, "income"] = med
        df = df[~rich]
        df.to_csv("out/prepared.csv", index=False)
    """)
    # one step (adjacent steps on one frame join), with the mask computed again in script order:
    # before the fill changed the incomes it reads
    assert [tuple(s.lines) for s in program.pandas_steps] == [(5, 8)]
    step = program.code[program.code.index("def _pandas_step_5"):]
    order = [step.index(f"\n    {line}") for line in ('rich = df["income"] > 100', "med = int(",
                                                        'df.loc[df["income"] == 0', "df = df[~rich]")]
    assert order == sorted(order)


def test_statements_over_two_frames_are_reported_not_kept() -> None:
    with pytest.raises(RulesUnsupported, match="not kept as a pandas step: it reads the DataFrames df, visits"):
        compiled("""
            df = pd.read_csv("data/people.csv")
            visits = pd.read_csv("data/visits.csv")
            df.loc[df["id"].isin(visits["id"]), "income"] = 0
            df.to_csv("out/prepared.csv", index=False)
        """)


def test_a_value_computed_before_is_recomputed_in_the_step_and_one_set_in_it_must_stay_there() -> None:
    program = compiled("""
        df = pd.read_csv("data/people.csv")
        top = df["city"].value_counts().index[:2]
        df.loc[~df["city"].isin(top), "city"] = "other"
        df.to_csv("out/prepared.csv", index=False)
    """)
    step = program.code[program.code.index("def _pandas_step_5"):]
    assert step.index("\n    top = df[\"city\"].value_counts().index[:2]") < step.index("\n    df.loc[~df")
    with pytest.raises(RulesUnsupported, match="it also sets med, which later statements read"):
        compiled("""
            df = pd.read_csv("data/people.csv")
            med = int(df["income"].median())
            df.loc[df["income"] == 0, "income"] = med
            df = df[df["age"] > 1]
            df["m"] = med
            df.to_csv("out/prepared.csv", index=False)
        """)


def test_groupby_agg_merged_back_is_a_dsl_aggregate_that_drops_missing_keys() -> None:
    program = compiled("""
        df = pd.read_csv("data/people.csv")
        visits = pd.read_csv("data/visits.csv")
        per = visits.groupby("id").agg(n=("amount", "count"), total=("amount", "sum"),
                                       med=("amount", "median")).reset_index()
        df = df.merge(per, on="id", how="left")
        df.to_csv("out/prepared.csv", index=False)
    """)
    assert not program.pandas_steps
    assert ".groupby('id').agg(n=('amount', 'count'), total=('amount', 'sum'), med=('amount', 'median'))" in program.code
    assert "id IS NOT NULL" in program.code


NOTEBOOK = '''
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

df = pd.read_csv("data/customers.csv")
visits = pd.read_csv("data/visits.csv")
df.head()
df.loc[df["income"] <= 0, "income"] = np.nan
df["income"] = df["income"].fillna(df.groupby("city")["income"].transform("median"))
df = df.sort_values("signup").drop_duplicates(subset="email", keep="last")
per = visits.groupby("customer_id").agg(n_visits=("amount", "count"), spent=("amount", "sum")).reset_index()
df = df.merge(per, on="customer_id", how="left")
df["n_visits"] = df["n_visits"].fillna(0)
df["spent"] = df["spent"].fillna(0)
X = df[["income", "n_visits", "spent"]]
y = df["churned"]
model = LogisticRegression(C=0.5)
model.fit(X, y)
'''


def _notebook_data(folder: Path) -> None:
    rng = np.random.default_rng(4)
    n = 240
    (folder / "data").mkdir()
    emails = [f"p{i % 200}@x.org" for i in range(n)]  # 40 people signed up twice
    pd.DataFrame({"customer_id": np.arange(1, n + 1), "email": emails,
                  "city": rng.choice(["Oslo", "Rome", "Lima"], n),
                  "income": np.where(rng.random(n) < 0.1, 0.0, rng.normal(50, 10, n).round(1)),
                  "signup": rng.permutation(n), "churned": rng.integers(0, 2, n)}).to_csv(
        folder / "data" / "customers.csv", index=False)
    pd.DataFrame({"customer_id": rng.integers(1, n + 1, 600), "amount": rng.gamma(2, 10, 600).round(2)}).to_csv(
        folder / "data" / "visits.csv", index=False)


def test_a_notebook_with_pandas_steps_is_valid_and_forgetting_reaches_through_them(tmp_path, monkeypatch) -> None:
    _notebook_data(tmp_path)
    (tmp_path / "notebook.py").write_text(NOTEBOOK)
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("notebook.py", engine="rules", timeout=120)
    assert result.status == "valid", result.report.text()
    assert not result.report.opaque_steps
    assert [tuple(s["lines"]) for s in result.report.pandas_steps] == [(9, 11)]
    assert "pandas steps" in result.report.text() and result.report.to_dict()["pandas_steps"][0]["reason"]
    assert {c.what for c in result.report.validation.checks if c.status == "match"} >= {"X", "y", "model"}
    Path("pipeline.py").write_text(result.code)
    sources = {"customers": "data/customers.csv", "visits": "data/visits.csv"}
    run = lt.run("pipeline.py", sources=sources, store=".lester", cache=False)
    someone = int(run.train["prov:customers"].iloc[0])  # a row position: the source has no key
    report = lt.forget("customers", [someone], store=".lester", verify=True)
    (change,) = report.changes
    assert change.dataprep.startswith("full")  # the steps read whole columns: dataprep re-ran
    new = Path(".lester") / "runs" / change.new_run_id
    kept = pd.concat([pd.read_parquet(new / "train.parquet"), pd.read_parquet(new / "test.parquet")])
    assert str(someone) not in set(kept["prov:customers"].astype(str))
    # the statistics the steps compute (medians per city, dedup by e-mail) are those of the
    # data without the customer, as a fresh run on it gives
    customers = pd.read_csv("data/customers.csv")
    Path("without").mkdir()  # same file name: provenance is labelled by it
    customers.drop(index=someone).to_csv("without/customers.csv", index=False)
    fresh = lt.run("pipeline.py", sources={**sources, "customers": "without/customers.csv"}, store=".fresh",
                   cache=False)
    fresh_rows = pd.concat([pd.read_parquet(Path(fresh.folder) / f"{split}.parquet") for split in ("train", "test")])
    columns = ["income", "n_visits", "spent", "churned"]
    pd.testing.assert_frame_equal(kept[columns].sort_values(columns).reset_index(drop=True),
                                  fresh_rows[columns].sort_values(columns).reset_index(drop=True), check_dtype=False)


def test_a_step_that_depends_on_row_order_sorts_again_as_the_script_did() -> None:
    program = compiled("""
        df = pd.read_csv("data/people.csv")
        df = df.sort_values(["city", "age"])
        df["age_k"] = df["age"] / 10
        df["next_income"] = df.groupby("city")["income"].shift(-1)
        df.to_csv("out/prepared.csv", index=False)
    """)
    (step,) = program.pandas_steps
    code = program.code[program.code.index("def _pandas_step_"):]
    assert code.index('df = df.sort_values(["city", "age"])') < code.index('df["next_income"] =')
    assert ".project('age_k'" in program.code  # the projection between stays declarative


def test_every_blocker_is_reported_at_once_and_what_follows_from_one_is_not() -> None:
    with pytest.raises(RulesUnsupported) as caught:
        compiled("""
            df = pd.read_csv("data/people.csv")
            visits = pd.read_csv("data/visits.csv")
            df.loc[df["id"].isin(visits["id"]), "income"] = 0
            df["x"] = df["income"] * 2
            wide = visits.pivot(index="id", columns="amount")
            both = df.merge(wide, on="id")
            both.to_csv("out/prepared.csv", index=False)
        """)
    blockers = caught.value.blockers
    # line 7 reads df, which line 6 left unknown; line 9 reads both
    assert [b.lines[0] for b in blockers] == [6, 8]
    assert "pivot() makes rows of its own" in blockers[1].reason or "does not change visits" in blockers[1].reason
    assert "2 statements are not translated: line 6" in str(caught.value)


def test_reset_index_in_a_pandas_step_keeps_the_index_that_carries_provenance() -> None:
    program = compiled("""
        df = pd.read_csv("data/people.csv")
        df = df.drop_duplicates(subset="city", keep="last").reset_index(drop=True)
        df.to_csv("out/prepared.csv", index=False)
    """)
    step = program.code[program.code.index("def _pandas_step_"):]
    assert 'df = df.drop_duplicates(subset="city", keep="last")\n' in step and "reset_index" not in step
    assert "columns=['id', 'city', 'income', 'age']" in program.code


def test_dummies_made_apart_and_glued_back_are_one_get_dummies_call() -> None:
    import libcst as cst

    from lester.rewrite.rules.dummies_concat import dummies_in_one_call

    body = list(cst.parse_module(
        "dummies = pd.get_dummies(train[['Education', 'Area']], drop_first=True)\n"
        "train = pd.concat([train.drop(['Education', 'Area'], axis=1), dummies], axis=1)\n").body)
    code = cst.Module(dummies_in_one_call(body, {})).code
    assert code.startswith("train = pd.get_dummies(train, columns = ['Education', 'Area'], drop_first=True)")
    # other columns dropped than encoded: not the same frame, left as written
    other = list(cst.parse_module(
        "dummies = pd.get_dummies(train[['Education']])\n"
        "train = pd.concat([train.drop(['Area'], axis=1), dummies], axis=1)\n").body)
    assert cst.Module(dummies_in_one_call(other, {})).code == cst.Module(other).code


def test_rows_dropped_by_index_keep_the_columns_known() -> None:
    program = compile_script(textwrap.dedent("""
        import os
        import pandas as pd
        df = pd.read_csv("data/h.csv")
        df = df.drop(df[(df["area"] > 4000) & (df["price"] < 300)].index)
        df = pd.get_dummies(df, columns=["zone"], drop_first=True)
        os.makedirs("out", exist_ok=True)
        df[["area", "price"]].to_csv("out/prepared.csv", index=False)
    """), filename="s.py", allow_opaque=False, heads={"data/h.csv": "area,price,zone\n"})
    assert program.pandas_steps  # the drop by index runs as the script's pandas code


def test_a_list_of_column_names_changed_in_place_stays_a_constant() -> None:
    program = compile_script(textwrap.dedent("""
        import os
        import pandas as pd
        df = pd.read_csv("data/h.csv")
        cols = ["area", "price", "zone"]
        cols.remove("zone")
        cols.append("rooms")
        os.makedirs("out", exist_ok=True)
        df[cols].to_csv("out/prepared.csv", index=False)
    """), filename="s.py", allow_opaque=False, heads={"data/h.csv": "area,price,zone,rooms\n"})
    assert "['area', 'price', 'rooms']" in program.code and not program.pandas_steps
