"""The DuckDB catalog of runs: what ran, on which data, and where every row came from.

Tables (all keyed by ``run_id``):

* ``runs``: one row per run (pipeline, created, folder, resolved config, parent run);
* ``sources``: the sources a run read (label, path, content fingerprint, rows, key column);
* ``row_provenance``: for every train/test row, the source ids it was derived from;
* ``column_provenance``: for every prepared column, the source columns it was computed from;
* ``matrix_provenance``: for every feature-matrix column, the prepared columns it encodes;
* ``metrics``: evaluation metrics per split;
* ``audit_log``: deletions and redactions applied to runs.

``runs`` and ``audit_log`` are tables in ``catalog.duckdb``. The per-run tables live as
``<table>.parquet`` in each run's own folder, written before the run is registered, and every
catalog connection sees them as views over the folders of registered runs. Registering a run
is then one row in one small transaction, not bulk inserts and a checkpoint of ~100k
provenance rows, and a run folder is self-describing.

Source ids are stored as text so that integer and string keys share one column.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lester.errors import LesterError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, created TIMESTAMP, pipeline VARCHAR, folder VARCHAR,
    config JSON, parent_run VARCHAR, model VARCHAR, train_rows BIGINT, test_rows BIGINT,
    seconds DOUBLE
);
CREATE TABLE IF NOT EXISTS audit_log (
    entry_id VARCHAR, created TIMESTAMP, action VARCHAR, request JSON, run_id VARCHAR,
    new_run_id VARCHAR, rows_removed BIGINT, strategy VARCHAR, seconds DOUBLE
);
"""

# The per-run tables, stored as Parquet in each run folder: name -> (column, DuckDB type).
RUN_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "sources": (("run_id", "VARCHAR"), ("label", "VARCHAR"), ("name", "VARCHAR"),
                ("path", "VARCHAR"), ("fingerprint", "VARCHAR"), ("rows", "BIGINT"),
                ("key_column", "VARCHAR")),
    "row_provenance": (("run_id", "VARCHAR"), ("split", "VARCHAR"), ("row", "BIGINT"),
                       ("source", "VARCHAR"), ("source_id", "VARCHAR")),
    "column_provenance": (("run_id", "VARCHAR"), ("column", "VARCHAR"), ("source", "VARCHAR"),
                          ("source_column", "VARCHAR")),
    "matrix_provenance": (("run_id", "VARCHAR"), ("matrix_column", "BIGINT"),
                          ("feature", "VARCHAR"), ("transformer", "VARCHAR"),
                          ("prepared_column", "VARCHAR")),
    "metrics": (("run_id", "VARCHAR"), ("split", "VARCHAR"), ("name", "VARCHAR"),
                ("value", "DOUBLE")),
}


def write_run_table(folder: Path, name: str, frame: pd.DataFrame | pa.Table) -> None:
    """Write one per-run table into a run folder, in the catalog's column order."""
    columns = [column for column, _ in RUN_TABLES[name]]
    if isinstance(frame, pa.Table):
        pq.write_table(frame.select(columns), folder / f"{name}.parquet")
    else:
        frame.reindex(columns=columns).to_parquet(folder / f"{name}.parquet", index=False)


class CatalogError(LesterError, LookupError):
    """A catalog lookup found nothing (an unknown run, say)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Catalog:
    """The catalog database ``<store>/catalog.duckdb``; opened per call, never held open,
    so that several processes can take turns on one store.

    ``runs_dir`` is the folder of run folders whose Parquet files back the per-run tables
    (default: ``runs`` beside the database).
    """

    def __init__(self, path: str | Path, runs_dir: str | Path | None = None):
        self.path = Path(path)
        self.runs_dir = Path(runs_dir) if runs_dir is not None else self.path.parent / "runs"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._schema_ready = False

    def _connect(self, views: bool = True) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.path))
        if not self._schema_ready:
            con.execute(_SCHEMA)
            self._schema_ready = True
        if views:
            for name, columns in RUN_TABLES.items():
                select = ", ".join(f"CAST({_quote(c)} AS {t}) AS {_quote(c)}" for c, t in columns)
                if any(self.runs_dir.glob(f"*/{name}.parquet")):
                    pattern = _sql_string(self.runs_dir / "*" / f"{name}.parquet")
                    body = (f"SELECT {select} FROM read_parquet('{pattern}', union_by_name=true) "
                            "WHERE run_id IN (SELECT run_id FROM runs)")  # registered runs only
                else:
                    body = f"SELECT {select} FROM (SELECT {', '.join(f'NULL AS {_quote(c)}' for c, _ in columns)}) WHERE false"
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {body}")
        return con

    def register(self, run: dict[str, Any]) -> None:
        """Register a run whose folder (with its per-run tables) is already in place."""
        with self._connect(views=False) as con:
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run["run_id"], run["created"], run["pipeline"], run["folder"],
                 json.dumps(run["config"]), run.get("parent_run"), run["model"],
                 run["train_rows"], run["test_rows"], run["seconds"]],
            )

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a read query against the catalog and return the result."""
        with self._connect() as con:
            return con.execute(sql, list(parameters)).df()

    def runs(self) -> pd.DataFrame:
        """All runs, newest first, with their headline metrics."""
        return self.query(
            """
            SELECT r.run_id, r.created, r.pipeline, r.model, r.train_rows, r.test_rows,
                   r.seconds, r.parent_run,
                   (SELECT list(m.name || '=' || round(m.value, 4) ORDER BY m.name)
                      FROM metrics m WHERE m.run_id = r.run_id AND m.split = 'test') AS test_metrics
            FROM runs r ORDER BY r.created DESC, r.run_id DESC
            """
        )

    def run(self, run_id: str) -> dict[str, Any]:
        """One run's record, with its sources and metrics; ``run_id`` may be a unique prefix."""
        matches = self.query("SELECT * FROM runs WHERE starts_with(run_id, ?)", [run_id])
        if len(matches) != 1:
            known = self.query("SELECT run_id FROM runs ORDER BY created DESC LIMIT 5")["run_id"].tolist()
            what = "no run" if len(matches) == 0 else f"{len(matches)} runs"
            raise CatalogError(f"{what} matches {run_id!r}; recent runs: {known}")
        record = matches.iloc[0].to_dict()
        record["config"] = json.loads(record["config"]) if record["config"] else {}
        rid = record["run_id"]
        record["sources"] = self.query("SELECT * EXCLUDE (run_id) FROM sources WHERE run_id = ?", [rid])
        record["metrics"] = self.query("SELECT * EXCLUDE (run_id) FROM metrics WHERE run_id = ?", [rid])
        return record

    def trace_source_row(self, source: str, source_id: Any) -> pd.DataFrame:
        """Every run, split and row derived from one source row."""
        return self.query(
            """
            SELECT p.run_id, p.split, p.row, r.model, r.folder
            FROM row_provenance p JOIN runs r USING (run_id)
            WHERE p.source = ? AND p.source_id = ?
            ORDER BY r.created, p.run_id, p.split, p.row
            """,
            [source, str(source_id)],
        )

    def trace_run_row(self, run_id: str, split: str, row: int) -> pd.DataFrame:
        """The source rows one train/test row was derived from."""
        rid = self.run(run_id)["run_id"]
        return self.query(
            """
            SELECT p.source, p.source_id, s.path, s.fingerprint
            FROM row_provenance p LEFT JOIN sources s ON s.run_id = p.run_id AND s.label = p.source
            WHERE p.run_id = ? AND p.split = ? AND p.row = ?
            ORDER BY p.source, p.source_id
            """,
            [rid, split, int(row)],
        )


def _sql_string(value: Any) -> str:
    return str(value).replace("'", "''")
