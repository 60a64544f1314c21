"""``Frame.pipe``: a pandas function over a whole frame, row provenance kept by index.

Both engines must agree with each other and with pandas itself, provenance must name the
input row each output row came from (after filters, reordering, deduplication, repeats), and
a function that renumbers rows or makes data-dependent columns must be refused, never
believed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lester as lt
from lester.frame.dependence import linear_in

ENGINES = ["duckdb", "pandas"]


@pytest.fixture()
def people() -> lt.Frame:
    frame = pd.DataFrame({"id": [10, 11, 12, 13, 14, 15],
                          "city": ["Oslo", "Rome", "Oslo", None, "Rome", "Lima"],
                          "income": [30.0, np.nan, 50.0, 20.0, 70.0, 40.0]})
    return lt.from_pandas(frame, name="people", key="id")


def clean(df: pd.DataFrame) -> pd.DataFrame:
    df.loc[df["income"].isna(), "income"] = df["income"].median()
    df["city_mean"] = df.groupby("city")["income"].transform("mean")
    return df.sort_values("income", ascending=False).drop_duplicates(subset="city", keep="last")


@pytest.mark.parametrize("engine", ENGINES)
def test_provenance_follows_the_index_through_fills_groups_sorts_and_deduplication(people, engine) -> None:
    piped = people.filter("id > 10").pipe(clean)
    out = piped.to_pandas(engine=engine, provenance=True)
    expected = clean(people.filter("id > 10").to_pandas().set_index(pd.Index([1, 2, 3, 4, 5])))
    pd.testing.assert_frame_equal(out[list(expected.columns)], expected.reset_index(drop=True), check_dtype=False)
    # the key travels as a data column too, so each row's provenance id must equal its own id
    assert out["prov:people"].tolist() == out["id"].tolist()
    assert piped.columns == ["id", "city", "income", "city_mean"]  # found on an empty frame


@pytest.mark.parametrize("engine", ENGINES)
def test_repeated_rows_keep_the_id_of_the_row_they_repeat(people, engine) -> None:
    doubled = people.pipe(lambda df: pd.concat([df, df[df["city"] == "Oslo"]]), name="double")
    out = doubled.to_pandas(engine=engine, provenance=True)
    assert sorted(out["prov:people"].tolist()) == [10, 10, 11, 12, 12, 13, 14, 15]
    assert (out["prov:people"] == out["id"]).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_function_that_renumbers_rows_is_refused(people, engine) -> None:
    renumbered = people.pipe(lambda df: df.dropna().reset_index(drop=True), name="renumber")
    with pytest.raises(lt.ExecutionError, match="index labels it made itself"):
        renumbered.to_pandas(engine=engine)
    grouped = people.pipe(lambda df: df.groupby("city").agg(n=("id", "count")), columns=["n"], name="agg")
    with pytest.raises(lt.ExecutionError, match="index labels it made itself"):
        grouped.to_pandas(engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_columns_that_depend_on_the_data_are_refused(people, engine) -> None:
    dummies = people.pipe(lambda df: pd.get_dummies(df, columns=["city"]), name="dummies")
    assert dummies.columns == ["id", "income"]  # what an empty frame gives: no categories
    with pytest.raises(lt.ExecutionError, match="not the planned"):
        dummies.to_pandas(engine=engine)


def test_columns_can_be_given_and_a_function_that_fails_on_an_empty_frame_needs_them(people) -> None:
    def fill_with_int_median(df: pd.DataFrame) -> pd.DataFrame:
        df["income"] = df["income"].fillna(int(df["income"].median()))
        return df

    with pytest.raises(lt.PlanError, match="pass columns="):
        people.pipe(fill_with_int_median)
    filled = people.pipe(fill_with_int_median, columns=["id", "city", "income"])
    assert filled.to_pandas()["income"].tolist() == [30.0, 40.0, 50.0, 20.0, 70.0, 40.0]
    with pytest.raises(lt.PlanError, match="must return a pandas DataFrame"):
        people.pipe(lambda df: df["income"])


def test_a_pipe_is_not_linear_so_a_deletion_re_runs_it(people) -> None:
    assert linear_in(people.filter("id > 10"), "people")
    assert not linear_in(people.pipe(clean), "people")
    assert people.pipe(clean).column_provenance()["city_mean"] == ["people.city", "people.id", "people.income"]


@pytest.mark.parametrize("engine", ENGINES)
def test_median_std_and_nunique_aggregates_agree_with_pandas(engine) -> None:
    frame = pd.DataFrame({"k": ["a", "a", "b", "c", "a"], "v": [1, 2, 2, None, 2], "w": [1.0, 4.0, 3.0, np.nan, 2.5]})
    got = (lt.from_pandas(frame, name="t").groupby("k")
           .agg(n=("v", "nunique"), m=("w", "median"), s=("w", "std")).to_pandas(engine=engine)
           .sort_values("k").reset_index(drop=True))
    want = frame.groupby("k").agg(n=("v", "nunique"), m=("w", "median"), s=("w", "std")).reset_index()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
