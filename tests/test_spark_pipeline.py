"""``lester run --engine spark`` and ``[engine]`` in lester.toml; the store and forget work
unchanged on runs whose data was prepared by Spark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import lester as lt
from lester.cli import main
from lester.ivm import forget
from tests.test_ivm_forget import _prepared, _row_set, _sources, workdir  # noqa: F401 - a fixture


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """The rows as comparable text, each list of ids sorted (an aggregate's order is the engine's)."""
    frame = frame.assign(**{c: frame[c].map(lambda ids: sorted(ids)) for c in columns
                            if frame[c].dtype == object and len(frame) and hasattr(frame[c].iloc[0], "__len__")
                            and not isinstance(frame[c].iloc[0], str)})
    return _row_set(frame, columns)


def _cli_run(folder: Path, store: str, *engine: str) -> Path:
    sources = [f"--source={name}={path}" for name, path in _sources(folder).items()]
    result = CliRunner().invoke(main, ["run", str(folder / "aggregate.py"), *sources, "--store",
                                       str(folder / store), "--no-cache", "-q", *engine])
    assert result.exit_code == 0, result.output
    return folder / store / "runs" / result.output.strip()


def test_a_spark_run_stores_what_a_duckdb_run_stores(spark_engine, workdir):  # noqa: F811 - the fixture
    on_spark = _cli_run(workdir, "spark-store", "--engine", "spark", "--spark-master", "local[2]")
    on_duckdb = _cli_run(workdir, "duckdb-store")
    columns = ["customer_id", "country", "mails", "length", "score", "prov:customers", "prov:mails"]
    assert _rows(_prepared(on_spark), columns) == _rows(_prepared(on_duckdb), columns)
    for split in ("train", "test"):  # the split is a function of the rows: the same rows on each side
        assert _rows(pd.read_parquet(on_spark / f"{split}.parquet"), columns) == \
            _rows(pd.read_parquet(on_duckdb / f"{split}.parquet"), columns)


def test_engine_in_lester_toml_and_forget_rederives_on_spark(spark_engine, workdir, monkeypatch):  # noqa: F811
    (workdir / "lester.toml").write_text('[engine]\nname = "spark"\n')
    runs = {}
    for engine, config in (("spark", workdir / "lester.toml"), ("duckdb", None)):
        runs[engine] = lt.run(workdir / "aggregate.py", sources=_sources(workdir), config=config,
                              store=workdir / engine, cache=False)
    gone = pd.read_csv(workdir / "mails.csv")["mail_id"].iloc[:30].tolist()
    changes = {}
    for engine in ("spark", "duckdb"):
        # the aggregate is not linear in mails: forgetting mails re-derives the data
        # preparation, on the engine $LESTER_ENGINE names
        monkeypatch.setenv("LESTER_ENGINE", engine)
        (changes[engine],) = forget("mails", gone, store=workdir / engine).changes
    assert changes["spark"].dataprep == changes["duckdb"].dataprep
    assert changes["spark"].dataprep.startswith("full")
    columns = ["customer_id", "country", "mails", "length", "score", "prov:customers", "prov:mails"]
    new = {engine: _prepared(workdir / engine / "runs" / change.new_run_id) for engine, change in changes.items()}
    assert _rows(new["spark"], columns) == _rows(new["duckdb"], columns)
    assert not set(gone) & {i for ids in new["spark"]["prov:mails"] for i in ids}
    assert new["spark"]["mails"].sum() == 400 - 30
