"""Row provenance of every operation on the Spark engine, its errors, and when it cannot run.

All tests share one local Spark session (the ``spark_engine`` fixture) and skip, saying why,
where pyspark or Java is missing. The random-plan agreement with DuckDB and pandas is in
tests/test_engines_agree.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.errors import ExecutionError, SqlExpressionError, UserFunctionError
from lester.frame.engines.spark_session import SparkUnavailableError, session, unavailable


@pytest.fixture
def people() -> lt.Frame:
    return lt.from_pandas(pd.DataFrame({
        "id": [10, 11, 12, 13],
        "city": ["a", "b", "a", None],
        "age": [31, 17, 45, 31],
        "tags": [["x", "y"], [], None, ["z"]],
    }), name="people", key="id")


@pytest.fixture
def orders() -> lt.Frame:
    return lt.from_pandas(pd.DataFrame({"person": [10, 10, 12, 99], "amount": [2.5, 4.0, 1.0, 8.0]}), name="orders")


def spark_rows(frame: lt.Frame, sort: bool = True) -> list[tuple]:
    result = frame.to_pandas(provenance=True, engine="spark")
    rows = [tuple(_plain(v) for v in row) for row in result.itertuples(index=False)]
    return sorted(rows, key=repr) if sort else rows


def _plain(value):
    if isinstance(value, (list, np.ndarray)):
        return tuple(sorted(_plain(v) for v in value))
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def test_source_ids_are_the_key_or_the_position(spark_engine, people, tmp_path):
    assert spark_rows(people.select(["age"])) == [(17, 11), (31, 10), (31, 13), (45, 12)]
    path = tmp_path / "rows.csv"
    pd.DataFrame({"v": list(range(50))}).to_csv(path, index=False)
    # the position in the file, whatever Spark's partitioning (7 shuffle partitions here)
    spark_engine.spark.conf.set("spark.sql.shuffle.partitions", "7")
    try:
        frame = lt.read_csv(path, name="rows").filter("v % 5 = 0").distinct()
        assert spark_rows(frame) == sorted([(v, (v,)) for v in range(0, 50, 5)], key=repr)
    finally:
        spark_engine.spark.conf.set("spark.sql.shuffle.partitions", "2")


def test_read_lines_ids_are_line_positions(spark_engine, tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("header\nalpha;1\nbeta;2\ngamma;3\n")
    lines = lt.read_lines(path, skip=1)
    fields = lines.project("name", ["line"], lambda line: line.rstrip("\n").split(";")[0])
    assert spark_rows(fields.filter("name <> 'beta'").select(["name"])) == [("alpha", 0), ("gamma", 2)]


def test_filter_and_project_keep_ids(spark_engine, people):
    sql = people.filter("age > 20").project("older", "age + 1")[["older"]]
    assert spark_rows(sql) == [(32, 10), (32, 13), (46, 12)]
    python = people.filter(lambda c: c == "a", columns="city").project("up", ["city"], str.upper)[["up"]]
    assert spark_rows(python) == [("A", 10), ("A", 12)]
    vectorized = people.project("half", ["age"], lambda a: a / 2, vectorized=True)[["half"]]
    assert spark_rows(vectorized) == sorted([(8.5, 11), (15.5, 10), (15.5, 13), (22.5, 12)], key=repr)


def test_join_carries_the_ids_of_both_sides(spark_engine, people, orders):
    inner = people.join(orders, left_on="id", right_on="person")[["amount"]]
    assert spark_rows(inner) == [(1.0, 12, 2), (2.5, 10, 0), (4.0, 10, 1)]
    left = people.join(orders, left_on="id", right_on="person", how="left")[["id", "amount"]]
    assert spark_rows(left) == [(10, 2.5, 10, 0), (10, 4.0, 10, 1), (11, None, 11, None),
                                (12, 1.0, 12, 2), (13, None, 13, None)]
    self_join = people.join(people, on="city")[["id_x", "id_y"]]
    assert (10, 12, 10, 12) in spark_rows(self_join)
    assert list(self_join.provenance(engine="spark").columns) == ["people", "people_2"]


def test_union_puts_null_under_the_other_sides_ids(spark_engine, people, orders):
    left = people.project("n", "age * 1.0")[["n"]]
    right = orders.rename({"amount": "n"})[["n"]]
    assert spark_rows(left.union(right)) == sorted([
        (31.0, 10, None), (17.0, 11, None), (45.0, 12, None), (31.0, 13, None),
        (2.5, None, 0), (4.0, None, 1), (1.0, None, 2), (8.0, None, 3)], key=repr)


def test_explode_repeats_the_ids_and_drops_empty_lists(spark_engine, people):
    assert spark_rows(people.explode("tags")[["tags"]]) == [("x", 10), ("y", 10), ("z", 13)]


def test_aggregate_lists_the_ids_it_summarises(spark_engine, people, orders):
    joined = people.join(orders, left_on="id", right_on="person", how="left")
    per_city = joined.aggregate("city", n=(None, "count"), total=("amount", "sum"), ages=("age", "list"))
    assert spark_rows(per_city) == sorted([
        ("a", 3, 7.5, (31, 31, 45), (10, 10, 12), (0, 1, 2)),
        ("b", 1, None, (17,), (11,), ()),
        (None, 1, None, (31,), (13,), ()),
    ], key=repr)
    # a second aggregate flattens the lists of ids
    overall = per_city.aggregate(cities=("city", "nunique"))
    assert spark_rows(overall) == [(2, (10, 10, 11, 12, 13), (0, 1, 2))]


def test_list_aggregate_keeps_nulls(spark_engine):
    t = lt.from_pandas(pd.DataFrame({"k": [1, 1], "v": pd.array([None, 2], dtype="Int64")}), name="t")
    result = t.aggregate("k", l=("v", "list")).to_pandas(engine="spark")
    assert sorted(result["l"][0], key=repr) == [2, None]


def test_distinct_lists_the_duplicates(spark_engine, people):
    assert spark_rows(people.select(["age"]).distinct()) == [(17, (11,)), (31, (10, 13)), (45, (12,))]


def test_sort_breaks_ties_by_ids_and_limit_takes_the_first(spark_engine, people):
    ordered = people.sort("age", ascending=False).limit(3)[["age"]]
    assert spark_rows(ordered, sort=False) == [(45, 12), (31, 10), (31, 13)]
    nulls_last = people.sort("city")[["city"]]
    assert spark_rows(nulls_last, sort=False) == [("a", 10), ("a", 12), ("b", 11), (None, 13)]


def test_pipe_keeps_ids_by_index(spark_engine, people):
    def adults_by_age(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["age"] >= 18].sort_values("age")[["age"]]

    assert spark_rows(people.pipe(adults_by_age), sort=False) == [(31, 10), (31, 13), (45, 12)]


def test_an_unsupported_expression_is_an_error_naming_the_step(spark_engine, people):
    replaced = people.project("c2", "regexp_replace(city, 'a', 'b')")
    with pytest.raises(SqlExpressionError) as info:
        replaced.to_pandas(engine="spark")
    assert "Project c2 := regexp_replace(city, 'a', 'b')" in str(info.value)
    assert "not supported on the Spark engine" in str(info.value)
    unknown = people.filter("list_sum([age, 1]) > 3")  # a DuckDB function Spark does not have
    with pytest.raises(SqlExpressionError, match=r"Filter list_sum\(\[age, 1\]\) > 3.*Spark cannot run it"):
        unknown.to_pandas(engine="spark")
    # the same plans run on DuckDB
    assert len(replaced.to_pandas()) == 4 and len(unknown.to_pandas()) == 4


def test_duckdb_meanings_survive_translation(spark_engine, people):
    frame = people.project("first", "tags[1]").project("n", "len(tags)").project("last", "tags[-1]")
    result = frame[["first", "n", "last"]].to_pandas(engine="spark").sort_values("n", na_position="first")
    duck = frame[["first", "n", "last"]].to_pandas().sort_values("n", na_position="first")
    assert result.astype(object).where(result.notna(), None).values.tolist() == \
        duck.astype(object).where(duck.notna(), None).values.tolist()


def test_a_failing_python_function_names_the_row(spark_engine, people):
    frame = people.project("x", ["age"], lambda age: 1 // (age - 17))
    with pytest.raises(UserFunctionError) as info:
        frame.to_pandas(engine="spark")
    assert info.value.row_id == {"people": 11}
    assert "project('x', <lambda>)" in str(info.value) or "Project x" in str(info.value)


def test_results_of_one_column_of_mixed_types_are_refused(spark_engine):
    t = lt.from_pandas(pd.DataFrame({"k": [1, 2]}), name="t")
    with pytest.raises(ExecutionError, match="mixed or unsupported types"):
        t.project("m", ["k"], lambda k: "x" if k == 1 else 2).to_pandas(engine="spark")


def test_without_java_the_engine_says_so(monkeypatch, tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is not installed: the Java check comes after it")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    assert "no Java runtime" in unavailable()
    with pytest.raises(SparkUnavailableError, match="engine 'spark': no Java runtime"):
        session()
