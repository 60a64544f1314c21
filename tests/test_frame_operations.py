"""Every DSL operation, on both engines, with its provenance."""

from __future__ import annotations

import pandas as pd

import lester as lt
from tests.conftest import rows


def test_filter_sql_expression(mails, engine):
    recent = mails.filter("year(mail_date) >= 2022")
    assert rows(recent[["mail_id"]], engine) == [(11,), (12,), (13,), (14,)]
    assert rows(recent[["mail_id"]], engine, provenance=True) == [
        (11, 11), (12, 12), (13, 13), (14, 14)
    ]


def test_filter_python_predicate_sees_none_for_missing(mails, engine):
    seen = []

    def has_email(email):
        seen.append(email)
        return email is not None and email.startswith("ann")

    ann = mails.filter(has_email, columns=["email"])
    assert rows(ann[["mail_id"]], engine) == [(10,), (11,)]
    assert None in seen


def test_filter_vectorized_predicate(mails, engine):
    long = mails.filter(lambda text: text.str.len() > 10, columns="mail_text", vectorized=True)
    assert rows(long[["mail_id"]], engine) == [(10,), (11,), (12,)]


def test_filter_null_result_drops_the_row(customers, engine):
    adults = customers.filter("age >= 18")  # age is null for customer 4
    assert rows(adults[["customer_id"]], engine) == [(1,), (3,)]


def test_project_sql_and_python(mails, engine):
    framed = mails.project("n_chars", "length(mail_text)")
    framed = framed.project("n_words", ["mail_text"], lambda t: len(t.split()))
    framed = framed.project("mail_text", ["mail_text"], str.upper)  # replaces in place
    assert framed.columns == ["mail_id", "email", "mail_date", "mail_text", "n_chars", "n_words"]
    got = rows(framed[["mail_id", "mail_text", "n_chars", "n_words"]], engine)
    assert got[0] == (10, "CARD STOLEN", 11, 2)
    assert framed.column_provenance()["n_words"] == ["mails.mail_text"]


def test_project_python_function_over_two_columns(customers, engine):
    label = customers.project(
        "label", ["country", "age"], lambda c, a: f"{c}-{'adult' if a and a >= 18 else 'minor'}"
    )
    assert rows(label[["customer_id", "label"]], engine) == [
        (1, "DE-adult"), (2, "FR-minor"), (3, "DE-adult"), (4, "NL-minor")
    ]
    assert label.column_provenance()["label"] == ["customers.age", "customers.country"]


def test_inner_join_carries_both_ids(mails, customers, engine):
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    assert rows(joined[["mail_id", "country"]], engine, provenance=True) == [
        (10, "DE", 10, 1), (11, "DE", 11, 1), (12, "FR", 12, 2)
    ]
    assert joined.provenance(engine=engine).columns.tolist() == ["mails", "customers"]


def test_left_join_keeps_unmatched_rows_with_null_ids(mails, customers, engine):
    joined = mails.join(customers, left_on="email", right_on="customer_email", how="left")
    got = rows(joined[["mail_id", "customer_id"]], engine, provenance=True)
    assert got == [
        (10, 1, 10, 1), (11, 1, 11, 1), (12, 2, 12, 2), (13, None, 13, None), (14, None, 14, None)
    ]


def test_join_null_keys_never_match(engine):
    left = lt.from_pandas(pd.DataFrame({"k": ["a", None], "x": [1, 2]}), name="l")
    right = lt.from_pandas(pd.DataFrame({"k": ["a", None], "y": [3, 4]}), name="r")
    assert rows(left.join(right, on="k"), engine) == [("a", 1, 3)]


def test_join_on_two_keys_and_suffixes(engine):
    left = lt.from_pandas(pd.DataFrame({"a": [1, 1], "b": ["x", "y"], "v": [1, 2]}), name="l")
    right = lt.from_pandas(pd.DataFrame({"a": [1, 1], "b": ["y", "z"], "v": [3, 4]}), name="r")
    joined = left.join(right, on=["a", "b"])
    assert joined.columns == ["a", "b", "v_x", "v_y"]
    assert rows(joined, engine) == [(1, "y", 2, 3)]
    assert joined.column_provenance()["a"] == ["l.a", "r.a"]
    custom = left.join(right, on=["a", "b"], suffixes=("_left", "_right"))
    assert custom.columns == ["a", "b", "v_left", "v_right"]


def test_self_join_names_the_second_occurrence(customers, engine):
    pairs = customers.join(customers, on="country")
    assert list(pairs.provenance(engine=engine).columns) == ["customers", "customers_2"]
    got = rows(pairs[["customer_id_x", "customer_id_y"]], engine, provenance=True)
    assert (1, 3, 1, 3) in got and (3, 1, 3, 1) in got and len(got) == 6


def test_union_carries_the_id_of_the_contributing_input(engine):
    a = lt.from_pandas(pd.DataFrame({"k": ["p", "q"], "v": [1, 2]}), name="part_a", key="k")
    b = lt.from_pandas(pd.DataFrame({"v": [3], "k": ["r"]}), name="part_b", key="k")
    both = lt.union(a, b)
    assert both.columns == ["k", "v"]
    assert rows(both, engine, provenance=True) == [
        ("p", 1, "p", None), ("q", 2, "q", None), ("r", 3, None, "r")
    ]
    assert both.column_provenance()["v"] == ["part_a.v", "part_b.v"]


def test_union_of_one_source_shares_its_id_column(customers, engine):
    split = customers.filter("country = 'DE'").union(customers.filter("country <> 'DE'"))
    assert list(split.provenance(engine=engine).columns) == ["customers"]
    assert sorted(split.provenance(engine=engine)["customers"].tolist()) == [1, 2, 3, 4]


def test_select_getitem_drop_rename(customers, engine):
    assert customers[["country", "customer_id"]].columns == ["country", "customer_id"]
    assert customers["country"].columns == ["country"]
    dropped = customers.drop(["age", "customer_email"])
    assert dropped.columns == ["customer_id", "country"]
    renamed = dropped.rename({"country": "land"})
    assert renamed.columns == ["customer_id", "land"]
    assert renamed.column_provenance() == {
        "customer_id": ["customers.customer_id"], "land": ["customers.country"]
    }
    assert rows(renamed, engine)[0] == (1, "DE")


def test_explode_keeps_the_source_id(engine):
    tags = lt.from_pandas(
        pd.DataFrame({"id": [1, 2, 3], "tags": [["a", "b"], [], None]}), name="docs", key="id"
    )
    exploded = tags.explode("tags")
    assert rows(exploded, engine, provenance=True) == [(1, "a", 1), (1, "b", 1)]
    assert exploded.column_provenance()["tags"] == ["docs.tags"]


def test_explode_a_list_made_by_a_python_project(mails, engine):
    words = mails.project("word", ["mail_text"], str.split).explode("word")
    got = rows(words[["mail_id", "word"]], engine, provenance=True)
    assert (12, "broken", 12) in got and len(got) == 11


def test_aggregate_functions_and_list_provenance(mails, engine):
    per_email = mails.groupby("email").agg(
        n=(None, "count"),
        first=("mail_date", "min"),
        last=("mail_date", "max"),
        ids=("mail_id", "list"),
        total=("mail_id", "sum"),
        mean=("mail_id", "mean"),
        texts=("mail_text", "count"),
    )
    got = {r[0]: r for r in rows(per_email, engine, provenance=True)}
    assert got["ann@x.org"] == (
        "ann@x.org", 2, "2021-05-01T00:00:00", "2022-03-04T00:00:00", (10, 11), 21, 10.5, 2, (10, 11)
    )
    # nulls form a group, as in SQL
    assert got[None][1] == 1 and got[None][-1] == (14,)
    assert per_email.column_provenance()["n"] == []
    assert per_email.column_provenance()["total"] == ["mails.mail_id"]


def test_aggregate_without_keys_and_null_sums(engine):
    frame = lt.from_pandas(pd.DataFrame({"g": ["a", "b"], "v": [None, 2.0]}), name="t")
    whole = frame.aggregate(total=("v", "sum"), n=("v", "count"))
    assert rows(whole, engine, provenance=True) == [(2, 1, (0, 1))]
    by_group = frame.aggregate(by="g", total=("v", "sum"))
    assert rows(by_group, engine) == [("a", None), ("b", 2)]


def test_aggregate_after_join_lists_both_sources(mails, customers, engine):
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    per_country = joined.aggregate(by="country", n=(None, "count"))
    assert rows(per_country, engine, provenance=True) == [("DE", 2, (10, 11), (1, 1)), ("FR", 1, (12,), (2,))]


def test_aggregate_of_aggregate_flattens_provenance(mails, engine):
    per_email = mails.aggregate(by="email", n=(None, "count"))
    per_count = per_email.aggregate(by="n", emails=("email", "count"))
    got = rows(per_count, engine, provenance=True)
    assert got == [(1, 2, (12, 13, 14)), (2, 1, (10, 11))]  # count skips the null email


def test_distinct_lists_the_duplicates(customers, engine):
    countries = customers[["country"]].distinct()
    assert rows(countries, engine, provenance=True) == [("DE", (1, 3)), ("FR", (2,)), ("NL", (4,))]


def test_sort_and_limit_are_deterministic(customers, engine):
    ordered = customers.sort(["country", "age"], ascending=[True, False])
    assert rows(ordered[["customer_id"]], engine, sort=False) == [(3,), (1,), (2,), (4,)]
    # ties are broken by provenance id, so limit is the same on every engine
    top = customers.sort("country").limit(2)
    assert rows(top[["customer_id"]], engine, sort=False) == [(1,), (3,)]


def test_read_csv_with_pandas_options(tmp_path, engine):
    path = tmp_path / "mails.txt"
    path.write_text("1;ann@x.org;2022-01-02\n2;bob@x.org;2021-03-04\n")
    mails = lt.read_csv(
        path, sep=";", header=None, names=["id", "email", "day"], parse_dates=["day"],
        dtype={"id": "int64"}, key="id",
    )
    assert mails.columns == ["id", "email", "day"]
    assert rows(mails.filter("year(day) = 2022"), engine, provenance=True) == [
        (1, "ann@x.org", "2022-01-02T00:00:00", 1)
    ]
    assert mails.sources["mails"].fingerprint() == lt.read_csv(path, sep=";", header=None).sources["mails"].fingerprint()


def test_read_parquet(tmp_path, customers_df, engine):
    path = tmp_path / "customers.parquet"
    customers_df.to_parquet(path)
    frame = lt.read_parquet(path, key="customer_id", columns=["customer_id", "country"])
    assert frame.columns == ["customer_id", "country"]
    assert rows(frame.filter("country = 'DE'"), engine, provenance=True) == [(1, "DE", 1), (3, "DE", 3)]


def test_row_position_ids_without_a_key(tmp_path, engine):
    path = tmp_path / "points.csv"
    path.write_text("x\n5\n6\n7\n")
    points = lt.read_csv(path)
    assert rows(points.filter("x > 5"), engine, provenance=True) == [(6, 1), (7, 2)]


def test_fingerprint_follows_content(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x\n1\n")
    frame = lt.read_csv(path)
    before = frame.sources["t"].fingerprint()
    path.write_text("x\n2\n")
    assert frame.sources["t"].fingerprint() != before
    assert frame.to_pandas()["x"].tolist() == [2]  # the cached rows are refreshed too


def test_column_provenance_through_a_pipeline(mails, customers):
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    joined = joined.project("title", ["mail_text", "country"], lambda t, c: f"{c}: {t}")
    joined = joined.rename({"country": "land"})
    assert joined.column_provenance()["title"] == ["customers.country", "mails.mail_text"]
    assert joined.column_provenance()["land"] == ["customers.country"]
    assert joined.column_provenance()["email"] == ["mails.email"]


def test_explain_and_repr_show_the_plan(mails, customers):
    joined = lt.join(mails.filter("year(mail_date) >= 2022"), customers,
                     left_on="email", right_on="customer_email")
    text = joined.explain()
    assert "Join inner on email = customer_email" in text
    assert "Filter year(mail_date) >= 2022" in text
    assert "prov(mails, customers)" in text
    assert "lester.Frame" in repr(joined)
    html = joined._repr_html_()
    assert "<table" in html and "Join inner" in html


def test_results_are_cached_per_frame_so_rows_and_ids_align(mails, customers):
    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    data, ids = joined.to_pandas(), joined.provenance()
    assert (data["mail_id"].to_numpy() == ids["mails"].to_numpy()).all()
    assert (data["customer_id"].to_numpy() == ids["customers"].to_numpy()).all()
