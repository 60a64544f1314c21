from __future__ import annotations

import pandas as pd
import pytest

import lester as lt


@pytest.fixture(params=["duckdb", "pandas"])
def engine(request) -> str:
    """Every DSL test runs on both engines."""
    return request.param


@pytest.fixture
def customers_df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "customer_email": ["ann@x.org", "bob@x.org", "cid@x.org", None],
            "country": ["DE", "FR", "DE", "NL"],
            "age": [34, 17, 51, None],
        }
    )


@pytest.fixture
def mails_df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mail_id": [10, 11, 12, 13, 14],
            "email": ["ann@x.org", "ann@x.org", "bob@x.org", "zed@x.org", None],
            "mail_date": pd.to_datetime(
                ["2021-05-01", "2022-03-04", "2023-01-09", "2022-07-07", "2022-08-08"]
            ),
            "mail_text": ["card stolen", "thanks a lot", "my card is broken", "hello", "spam"],
        }
    )


@pytest.fixture
def customers(customers_df) -> lt.Frame:
    return lt.from_pandas(customers_df, name="customers", key="customer_id")


@pytest.fixture
def mails(mails_df) -> lt.Frame:
    return lt.from_pandas(mails_df, name="mails", key="mail_id")


def rows(frame: lt.Frame, engine: str, provenance: bool = False, sort: bool = True) -> list[tuple]:
    """The result as comparable tuples (missing values as None), sorted unless asked not to."""
    result = frame.to_pandas(provenance=provenance, engine=engine)
    out = []
    for record in result.itertuples(index=False):
        out.append(tuple(_plain(v) for v in record))
    return sorted(out, key=repr) if sort else out


def _plain(value):
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist() if hasattr(value, "tolist") else list(value)
        if isinstance(value, list):
            return tuple(sorted((_plain(v) for v in value), key=repr))
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        return int(value) if value.is_integer() else round(value, 9)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@pytest.fixture(scope="session")
def spark_engine():
    """The Spark engine, on one local session shared by the whole test session (2 cores, as CI
    has); skips the test, saying why, where pyspark or Java is missing."""
    from lester.frame.engines import configure_engine, get_engine
    from lester.frame.engines.spark_session import unavailable

    reason = unavailable()
    if reason is not None:
        pytest.skip(f"Spark engine unavailable: {reason}")
    configure_engine("spark", master="local[2]")
    engine = get_engine("spark")
    engine.spark.conf.set("spark.sql.shuffle.partitions", "2")  # tiny tables: few tasks
    return engine
