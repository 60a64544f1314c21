"""pandas 2.2+ and 3.x both: null ids from left joins, nullable and ``str`` dtypes, pd.NA, and the
copy-on-write change to ``df[c].fillna(..., inplace=True)``.

CI runs this file (with the rest of the suite) once under pandas 3 and once under pandas 2.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.pipeline.catalog import Catalog
from lester.rewrite.rules import compile_script
from lester.rewrite.rules.pandas_ops import chained_inplace_writes_back
from tests.rules_harness import compare, run_original, run_pipeline
from tests.test_engines_agree import normalised_rows

PANDAS_MAJOR = int(pd.__version__.split(".")[0])

PIPELINE = textwrap.dedent('''
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import lester as lt


    def dataprep(orders="orders.csv", customers="customers.csv"):
        orders = lt.read_csv(orders, key="order_id")
        customers = lt.read_csv(customers, key="code")
        joined = lt.join(orders, customers, left_on="customer", right_on="code", how="left")
        return joined[["order_id", "amount", "country", "big"]]


    def encode_features():
        return ColumnTransformer([("amount", StandardScaler(), ["amount"])])


    def extract_label(prepared):
        return prepared["big"].astype(int).to_numpy()


    def make_model():
        return LogisticRegression()
''')

CUSTOMER_CODES = {"int": [1, 2, 3], "str": ["c1", "c2", "c3"]}


def _write_sources(folder: Path, codes: list) -> None:
    # orders 3, 4, 8 and 11 name no customer: the left join leaves their customer ids null
    missing = {3: "c9" if isinstance(codes[0], str) else 9, 4: None, 8: None, 11: None}
    pd.DataFrame({
        "order_id": range(12),
        "customer": [missing.get(i, codes[i % 3]) for i in range(12)],
        "amount": [float(i) for i in range(12)],
        "big": [i % 2 == 0 for i in range(12)],
    }).to_csv(folder / "orders.csv", index=False)
    pd.DataFrame({"code": codes, "country": ["DE", "FR", None]}).to_csv(folder / "customers.csv", index=False)


@pytest.fixture(params=sorted(CUSTOMER_CODES))
def left_join_workdir(request, tmp_path: Path) -> tuple[Path, list]:
    codes = CUSTOMER_CODES[request.param]
    _write_sources(tmp_path, codes)
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    return tmp_path, codes


def _unmatched(prepared: pd.DataFrame) -> set[int]:
    return set(prepared.loc[prepared["prov:customers"].isna(), "order_id"].tolist())


def test_run_with_a_left_join_that_leaves_rows_unmatched(left_join_workdir):
    folder, codes = left_join_workdir
    store = folder / ".lester"
    sources = {"orders": folder / "orders.csv", "customers": folder / "customers.csv"}
    result = lt.run(folder / "pipeline.py", sources=sources, store=store)
    prepared = pd.concat([result.train.assign(split="train"), result.test.assign(split="test")])
    assert len(prepared) == 12
    assert _unmatched(prepared) == {3, 4, 8, 11}
    assert result.model is not None and "accuracy" in result.metrics["train"]

    # row provenance: every row has its order, only the matched ones a customer
    catalog = Catalog(store / "catalog.duckdb")
    counts = catalog.query("SELECT source, count(*) AS n FROM row_provenance WHERE run_id = ? GROUP BY source",
                           [result.run_id])
    assert dict(zip(counts["source"], counts["n"])) == {"orders": 12, "customers": 8}

    # trace forwards from a customer, and backwards from an unmatched row
    hits = lt.trace("customers", codes[0], store=store)
    assert len(hits) == int((prepared["prov:customers"].astype(str) == str(codes[0])).sum()) > 0
    split, row = next((s, r) for s, part in (("train", result.train), ("test", result.test))
                      for r in range(len(part)) if pd.isna(part["prov:customers"].iloc[r]))
    back = lt.trace(run=result.run_id, **{f"{split}_row": row}, store=store)
    assert back["source"].tolist() == ["orders"]

    # the order of the stored rows does not depend on the engine's order: a second run agrees
    again = lt.run(folder / "pipeline.py", sources=sources, store=store, cache=False)
    assert again.train["order_id"].tolist() == result.train["order_id"].tolist()


def test_cli_run_and_trace_with_null_parents(left_join_workdir, monkeypatch):
    from click.testing import CliRunner

    from lester.cli import main

    folder, codes = left_join_workdir
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLUMNS", "200")
    (folder / "lester.toml").write_text('pipeline = "pipeline.py"\n')
    runner = CliRunner()
    ran = runner.invoke(main, ["run"])
    assert ran.exit_code == 0, ran.output
    run_id = Catalog(folder / ".lester" / "catalog.duckdb").runs()["run_id"].iloc[0]
    traced = runner.invoke(main, ["trace", "--source", "customers", "--id", str(codes[1])])
    assert traced.exit_code == 0 and run_id in " ".join(traced.output.split()), traced.output
    train = pd.read_parquet(folder / ".lester" / "runs" / run_id / "train.parquet")
    row = int(np.flatnonzero(train["prov:customers"].isna().to_numpy())[0])
    back = runner.invoke(main, ["trace", "--run", run_id, "--train-row", str(row)])
    assert back.exit_code == 0 and "orders" in back.output and "customers" not in back.output, back.output


# -- nullable and str dtypes --------------------------------------------------------------------


def _future_str(values: list) -> pd.Series:
    """pandas 3's default ``str`` dtype (NaN for missing); pandas 2.2/2.3 spell it differently."""
    if PANDAS_MAJOR >= 3:
        return pd.Series(values, dtype="str")
    try:
        dtype = pd.StringDtype(storage="pyarrow", na_value=np.nan)  # pandas 2.3
    except TypeError:
        dtype = pd.StringDtype("pyarrow_numpy")  # pandas 2.2
    return pd.Series(values, dtype=dtype)


def _people() -> pd.DataFrame:
    return pd.DataFrame({
        "pid": pd.array(["p1", "p2", "p3", "p4", "p5"], dtype="string[pyarrow]"),
        "age": pd.array([31, pd.NA, 45, 19, pd.NA], dtype="Int64"),
        "active": pd.array([True, pd.NA, False, True, True], dtype="boolean"),
        "city": _future_str(["Oslo", None, "Rome", "Oslo", "Lima"]),
        "note": pd.array(["a", pd.NA, "c", None, "e"], dtype="string[python]"),
    })


def _visits() -> pd.DataFrame:
    return pd.DataFrame({
        "vid": [1, 2, 3, 4, 5, 6],
        "pid": _future_str(["p1", "p2", "p9", "p3", None, "p1"]),
        "spent": pd.array([10, 20, pd.NA, 5, 7, 1], dtype="Int64"),
    })


def _bang(note):
    return (note or "") + "!"


PLANS = {
    "filter_sql_int": (lambda p, v: p.filter("age > 20"), {"p1", "p3"}),
    "filter_sql_bool": (lambda p, v: p.filter("active"), {"p1", "p4", "p5"}),
    "filter_python_str": (lambda p, v: p.filter(lambda c: c == "Oslo", ["city"]), {"p1", "p4"}),
    "filter_vectorized_int": (lambda p, v: p.filter(lambda a: a > 20, ["age"], vectorized=True), {"p1", "p3"}),
    "project_sql": (lambda p, v: p.project("older", "age + 1").filter("older IS NULL"), {"p2", "p5"}),
    "project_python": (lambda p, v: p.project("t", ["note"], _bang).filter("t = '!'"), {"p2", "p4"}),
    "project_vectorized_str": (
        lambda p, v: p.project("up", ["city"], lambda c: c.str.upper(), vectorized=True).filter("up = 'OSLO'"),
        {"p1", "p4"}),
    "inner_join": (lambda p, v: lt.join(v, p, on="pid"), {"p1", "p2", "p3"}),
    "left_join": (lambda p, v: lt.join(v, p, on="pid", how="left").filter("age IS NULL"), {"p2", None}),
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_nullable_and_str_dtypes_agree_on_both_engines(name):
    build, expected_people = PLANS[name]
    frame = build(lt.from_pandas(_people(), name="people", key="pid"),
                  lt.from_pandas(_visits(), name="visits", key="vid"))
    results = {engine: frame.to_pandas(provenance=True, engine=engine) for engine in ("duckdb", "pandas")}
    rows = {engine: sorted(normalised_rows(result), key=repr) for engine, result in results.items()}
    assert rows["duckdb"] == rows["pandas"]
    for result in results.values():
        people = {None if pd.isna(v) else v for v in result["prov:people"]}
        assert people == expected_people
        assert list(result.columns) == frame.columns + [c for c in result.columns if c.startswith("prov:")]


def test_nullable_columns_keep_their_type_on_both_engines():
    # age (Int64) and active (boolean) hold pd.NA in the rows kept; DuckDB's Arrow results
    # made them float64 (31.0) and object
    frame = lt.from_pandas(_people(), name="people", key="pid").filter("note IS NULL OR age IS NULL")
    for engine in ("duckdb", "pandas"):
        result = frame.to_pandas(engine=engine)
        assert str(result["age"].dtype) == "Int64", engine
        assert str(result["active"].dtype) == "boolean", engine
        assert [type(v) for v in result["age"].dropna().tolist()] == [int], engine


@pytest.mark.filterwarnings("error::FutureWarning")
def test_union_ids_are_null_on_the_other_side_with_the_same_dtype_on_both_engines():
    # pandas 2's concat warns that it skips an all-null column when typing the result, and
    # pandas 3 no longer skips it: the ids of one side must not depend on either
    numbers = lt.from_pandas(pd.DataFrame({"x": [1, 2]}), name="numbers", key="x")
    codes = lt.from_pandas(pd.DataFrame({"x": [3], "code": _future_str(["q"])}), name="codes", key="code")
    frame = numbers.union(codes[["x"]])
    results = {engine: frame.to_pandas(provenance=True, engine=engine) for engine in ("duckdb", "pandas")}
    assert results["duckdb"]["prov:numbers"].dtype == results["pandas"]["prov:numbers"].dtype
    assert results["duckdb"]["prov:codes"].dtype == results["pandas"]["prov:codes"].dtype
    for result in results.values():
        assert result["prov:codes"].isna().tolist() == [True, True, False]
        assert result["prov:numbers"].isna().tolist() == [False, False, True]


def test_nullable_csv_source_with_str_keys_runs_and_stores_its_dtypes(tmp_path):
    pd.DataFrame({"pid": ["p1", "p2", "p3", "p4"], "age": [31, None, 45, 19],
                  "active": [True, None, False, True], "note": ["a", None, "c", "d"]}
                 ).to_csv(tmp_path / "people.csv", index=False)
    pd.DataFrame({"vid": range(6), "pid": ["p1", "p2", "p9", None, "p4", "p1"]}
                 ).to_csv(tmp_path / "visits.csv", index=False)
    (tmp_path / "pipeline.py").write_text(textwrap.dedent('''
        import lester as lt

        def dataprep(people="people.csv", visits="visits.csv"):
            people = lt.read_csv(people, key="pid",
                                 dtype={"age": "Int64", "active": "boolean", "note": "string[pyarrow]"})
            visits = lt.read_csv(visits, key="vid")
            joined = lt.join(visits, people, on="pid", how="left")
            return joined.project("older", "age + 1")
    '''))
    store = tmp_path / ".lester"
    result = lt.run(tmp_path / "pipeline.py", sources={"people": tmp_path / "people.csv",
                                                        "visits": tmp_path / "visits.csv"}, store=store)
    prepared = pd.concat([result.train, result.test])
    assert len(prepared) == 6
    assert sorted(prepared["older"].dropna().astype(int).tolist()) == [20, 32, 32]
    assert {str(v) for v in prepared["prov:people"].dropna()} == {"p1", "p2", "p4"}
    stored = pd.read_parquet(result.folder / "train.parquet")
    assert len(stored) == len(result.train)
    counts = Catalog(store / "catalog.duckdb").query(
        "SELECT source, count(*) AS n FROM row_provenance WHERE run_id = ? GROUP BY source", [result.run_id])
    assert dict(zip(counts["source"], counts["n"])) == {"visits": 6, "people": 4}
    assert set(lt.trace("people", "p1", store=store)["split"]) <= {"train", "test"}
    assert len(lt.trace("people", "p1", store=store)) == 2


@pytest.mark.parametrize("dtype", ["Int64", "UInt8", "int64"])
def test_a_nullable_dtype_option_names_the_value_it_cannot_read(dtype, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("pid,age\np1,31\np2,\np3,4.5\n")
    with pytest.raises(lt.SourceError) as caught:
        lt.read_csv(path, key="pid", dtype={"age": dtype}).to_pandas()
    # a nullable integer column may be empty (line 3); numpy's int64 may not
    assert caught.value.line == (3 if dtype == "int64" else 4), str(caught.value)
    assert "column 'age'" in str(caught.value)


# -- df[c].fillna(..., inplace=True) -----------------------------------------------------------


def test_chained_inplace_detection_matches_what_pandas_does():
    frame = pd.DataFrame({"x": [1.0, None]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about this very call on both versions
        frame["x"].fillna(0.0, inplace=True)
    assert chained_inplace_writes_back() == (frame["x"].isna().sum() == 0)
    assert chained_inplace_writes_back() == (PANDAS_MAJOR < 3)


INPLACE_SCRIPT = '''import os
import pandas as pd
os.makedirs("out", exist_ok=True)
df = pd.read_csv("data/t.csv")
df = df[df["id"] >= 0]
{statement}
df["y"] = df["x"] * 2
df.to_csv("out/prepared.csv", index=False)
'''


def _inplace_data(folder: Path) -> None:
    (folder / "data").mkdir()
    pd.DataFrame({"id": range(6), "x": [1.0, None, 3.0, None, 5.0, 6.0]}).to_csv(folder / "data" / "t.csv",
                                                                               index=False)


@pytest.mark.filterwarnings("ignore::Warning")
@pytest.mark.parametrize("statement", ['filled = df["x"].fillna(0, inplace=True)',
                                       'df["x"].fillna(0, inplace=True)'])
def test_chained_inplace_fillna_translates_as_the_installed_pandas_runs_it(statement, tmp_path):
    _inplace_data(tmp_path)
    script = tmp_path / "messy.src"
    script.write_text(INPLACE_SCRIPT.format(statement=statement))
    original = run_original(script, tmp_path)
    # the script itself: pandas 2 fills the frame's column, pandas 3 a temporary copy
    assert original["prepared"]["x"].isna().sum() == (0 if PANDAS_MAJOR < 3 else 2)
    program = compile_script(script.read_text(), filename="messy.py")
    candidate = run_pipeline(program.code, tmp_path, original)
    assert compare(original, candidate) == []
    assert program.opaque_steps == []  # translated declaratively, not run as the script
    assert ("fillna(0)" in program.code) == (PANDAS_MAJOR < 3)
    if PANDAS_MAJOR >= 3:
        assert any("copy-on-write" in note for note in program.notes)
