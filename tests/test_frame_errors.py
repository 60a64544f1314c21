"""Errors are part of the API: each names the operation, column, function, row, file or line."""

from __future__ import annotations

import pandas as pd
import pytest

import lester as lt


def test_unknown_column_in_sql_names_operation_and_columns(mails):
    with pytest.raises(lt.ColumnNotFoundError) as info:
        mails.filter("year(mail_dat) >= 2022")
    message = str(info.value)
    assert "filter(year(mail_dat) >= 2022)" in message
    assert "'mail_dat'" in message
    assert "['mail_id', 'email', 'mail_date', 'mail_text']" in message
    assert info.value.missing == ["mail_dat"]


@pytest.mark.parametrize(
    "build, operation, missing",
    [
        (lambda f: f.project("n", ["txt"], len), "project('n', len)", "txt"),
        (lambda f: f.project("n", "length(txt)"), "project('n', 'length(txt)')", "txt"),
        (lambda f: f.filter(bool, columns=["nope"]), "filter(bool)", "nope"),
        (lambda f: f[["mail_id", "nope"]], "select(['mail_id', 'nope'])", "nope"),
        (lambda f: f.drop("nope"), "drop(['nope'])", "nope"),
        (lambda f: f.rename({"nope": "x"}), "rename({'nope': 'x'})", "nope"),
        (lambda f: f.explode("nope"), "explode('nope')", "nope"),
        (lambda f: f.sort("nope"), "sort(by=['nope'])", "nope"),
        (lambda f: f.groupby("nope").agg(n=(None, "count")), "aggregate(by=['nope'])", "nope"),
        (lambda f: f.aggregate(s=("nope", "sum")), "aggregate(by=[])", "nope"),
    ],
)
def test_unknown_column_in_every_operation(mails, build, operation, missing):
    with pytest.raises(lt.ColumnNotFoundError) as info:
        build(mails)
    assert str(info.value).startswith(operation)
    assert repr(missing) in str(info.value)
    assert "mail_text" in str(info.value)  # the columns that exist


def test_unknown_join_key_names_the_side(mails, customers):
    with pytest.raises(lt.ColumnNotFoundError) as info:
        lt.join(mails, customers, left_on="email", right_on="mail")
    assert "on the right input" in str(info.value)
    assert "customer_email" in str(info.value)


def test_sql_syntax_error_names_the_expression(mails):
    with pytest.raises(lt.SqlExpressionError) as info:
        mails.filter("year(mail_date) >= AND 2022")
    assert "year(mail_date) >= AND 2022" in str(info.value)


def test_user_function_error_names_function_and_row(mails, customers, engine):
    def shout(text):
        if "broken" in text:
            raise ValueError("cannot shout about broken things")
        return text.upper()

    joined = lt.join(mails, customers, left_on="email", right_on="customer_email")
    shouted = joined.project("loud", ["mail_text"], shout)
    with pytest.raises(lt.UserFunctionError) as info:
        shouted.to_pandas(engine=engine)
    error = info.value
    assert error.function == "shout"
    assert error.row_id == {"mails": 12, "customers": 2}
    assert error.arguments == {"mail_text": "my card is broken"}
    message = str(error)
    assert message.startswith("Project loud := shout(mail_text): function shout() raised ValueError")
    assert "{'mails': 12, 'customers': 2}" in message
    assert isinstance(error.__cause__, ValueError)


def test_filter_predicate_error_names_row(mails, engine):
    frame = mails.filter(lambda email: email.endswith("x.org"), columns=["email"])
    with pytest.raises(lt.UserFunctionError) as info:
        frame.to_pandas(engine=engine)
    assert info.value.row_id == {"mails": 14}  # the row whose email is missing
    assert "AttributeError" in str(info.value)


def test_vectorized_function_of_wrong_length(mails, engine):
    frame = mails.project("x", "mail_id", lambda ids: [1], vectorized=True)
    with pytest.raises(lt.UserFunctionError, match="must return 5 values"):
        frame.to_pandas(engine=engine)


def test_malformed_csv_names_file_and_line(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("id,email\n1,a@x.org\n2,b@x.org,extra\n3,c@x.org\n")
    frame = lt.read_csv(path)
    with pytest.raises(lt.SourceError) as info:
        frame.to_pandas()
    assert info.value.path == str(path)
    assert info.value.line == 3
    assert f"{path}, line 3" in str(info.value)


def test_bad_typed_value_names_line_and_column(tmp_path):
    path = tmp_path / "ages.csv"
    path.write_text("id,age\n1,30\n2,31\n3,thirty\n")
    with pytest.raises(lt.SourceError) as info:
        lt.read_csv(path, dtype={"age": "int64"}).to_pandas()
    assert info.value.line == 4
    assert "'age'" in str(info.value) and "'thirty'" in str(info.value)


def test_unparseable_date_names_line(tmp_path):
    path = tmp_path / "mails.csv"
    path.write_text("id,day\n1,2022-01-01\n2,yesterday\n")
    with pytest.raises(lt.SourceError) as info:
        lt.read_csv(path, parse_dates=["day"]).to_pandas()
    assert info.value.line == 3 and "yesterday" in str(info.value)


def test_undecodable_bytes_name_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name\n1,ok\n2,M\xfcller\n".encode("latin-1"))
    with pytest.raises(lt.SourceError) as info:
        lt.read_csv(path).to_pandas()
    assert info.value.line == 3


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(lt.SourceError, match="no such file"):
        lt.read_csv(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(lt.SourceError, match="empty"):
        lt.read_csv(empty)


def test_duplicate_or_missing_key_is_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,v\n1,a\n1,b\n")
    with pytest.raises(lt.SourceError, match=r"key column 'id' is not unique: repeated values include \[1\]"):
        lt.read_csv(path, key="id").to_pandas()
    with pytest.raises(lt.ColumnNotFoundError, match="'customer_id'"):
        lt.read_csv(path, key="customer_id")
    with pytest.raises(lt.SourceError, match="empty in row 1"):
        lt.from_pandas(pd.DataFrame({"id": [1, None]}), key="id")


def test_reserved_prefix_and_duplicate_columns_are_refused():
    with pytest.raises(lt.SourceError, match="__prov__"):
        lt.from_pandas(pd.DataFrame({"__prov__x": [1]}))
    with pytest.raises(lt.PlanError, match="__prov__"):
        lt.from_pandas(pd.DataFrame({"x": [1]})).project("__prov__y", "x + 1")


def test_plan_errors(mails, customers):
    with pytest.raises(lt.PlanError, match="how must be 'inner' or 'left'"):
        mails.join(customers, left_on="email", right_on="customer_email", how="outer")
    with pytest.raises(lt.PlanError, match="same columns"):
        mails.union(customers)
    with pytest.raises(lt.PlanError, match="unknown aggregate function 'mode'"):
        mails.aggregate(by="email", m=("mail_id", "mode"))
    with pytest.raises(lt.PlanError, match="needs columns="):
        mails.filter(lambda x: True)
    with pytest.raises(lt.PlanError, match="duplicate columns"):
        mails.rename({"email": "mail_text"})


def test_union_refuses_two_different_sources_with_one_name(tmp_path):
    for part in ("a", "b"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "data.csv").write_text("x\n1\n")
    a = lt.read_csv(tmp_path / "a" / "data.csv")
    b = lt.read_csv(tmp_path / "b" / "data.csv")
    with pytest.raises(lt.PlanError, match="share the name 'data'.*pass name="):
        a.union(b)
    both = a.union(lt.read_csv(tmp_path / "b" / "data.csv", name="data_b"))
    assert list(both.provenance().columns) == ["data", "data_b"]


def test_join_type_mismatch_is_an_execution_error(engine):
    left = lt.from_pandas(pd.DataFrame({"k": [1, 2]}), name="l")
    right = lt.from_pandas(pd.DataFrame({"k": ["a", "b"]}), name="r")
    with pytest.raises(lt.LesterError) as info:
        left.join(right, on="k").to_pandas(engine=engine)
    assert "Join inner on k = k" in str(info.value)
