"""The DuckDB catalog of runs: what ran, on which data, and where every row came from.

Tables (all keyed by ``run_id``):

* ``runs``: one row per run (pipeline, created, folder, resolved config, parent run);
* ``sources``: the sources a run read (label, path, content fingerprint, rows, key column);
* ``row_provenance``: for every train/test row, the source ids it was derived from;
* ``column_provenance``: for every prepared column, the source columns it was computed from;
* ``matrix_provenance``: for every feature-matrix column, the prepared columns it encodes;
* ``metrics``: evaluation metrics per split;
* ``row_chunks``: the row chunks a run's per-row files are stored in (split, part, first row,
  rows), which turn a chunk's row numbers into positions in the split;
* ``audit_log``: deletions and redactions applied to runs.

A run folder is the unit of registration. The store writes everything of a run into a hidden
staging folder, including ``catalog.json`` (the run's record, its small catalog tables and any
audit entries) and ``row_provenance.parquet``, then renames the folder into ``runs/``: a run
is registered exactly when its folder is there, whole or not at all, and capturing a run costs
no database transaction. ``catalog.duckdb`` is an index over the folders, brought up to date in
one transaction whenever it is opened (:meth:`Catalog.sync`); ``row_provenance``, the one large
table, stays in the run folders and is read through a view.

Source ids are stored as text so that integer and string keys share one column.

A run's record also holds the digests of its pickles (``artifact_digests``: ``{"model.pkl":
"hmac-sha256:..."}``), written with the run and checked before the files are unpickled (see
:func:`lester.pipeline.store.load_verified_pickle`); they are not copied into the database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lester.errors import LesterError

# The record file that makes a folder under runs/ a registered run.
RECORD_FILE = "catalog.json"
# The record's entry of pickle digests: {file name in the run folder: digest}.
ARTIFACT_DIGESTS = "artifact_digests"

# Catalog tables: name -> (column, DuckDB type). All but row_provenance are stored in the
# database; row_provenance is a view over the run folders' Parquet files.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "runs": (("run_id", "VARCHAR"), ("created", "TIMESTAMP"), ("pipeline", "VARCHAR"),
             ("folder", "VARCHAR"), ("config", "JSON"), ("parent_run", "VARCHAR"),
             ("model", "VARCHAR"), ("train_rows", "BIGINT"), ("test_rows", "BIGINT"),
             ("seconds", "DOUBLE")),
    "sources": (("run_id", "VARCHAR"), ("label", "VARCHAR"), ("name", "VARCHAR"),
                ("path", "VARCHAR"), ("fingerprint", "VARCHAR"), ("rows", "BIGINT"),
                ("key_column", "VARCHAR")),
    "column_provenance": (("run_id", "VARCHAR"), ("column", "VARCHAR"), ("source", "VARCHAR"),
                          ("source_column", "VARCHAR")),
    "matrix_provenance": (("run_id", "VARCHAR"), ("matrix_column", "BIGINT"),
                          ("feature", "VARCHAR"), ("transformer", "VARCHAR"),
                          ("prepared_column", "VARCHAR")),
    "metrics": (("run_id", "VARCHAR"), ("split", "VARCHAR"), ("name", "VARCHAR"),
                ("value", "DOUBLE")),
    "row_chunks": (("run_id", "VARCHAR"), ("split", "VARCHAR"), ("part", "VARCHAR"),
                   ("first_row", "BIGINT"), ("rows", "BIGINT")),
    "audit_log": (("entry_id", "VARCHAR"), ("created", "TIMESTAMP"), ("action", "VARCHAR"),
                  ("request", "JSON"), ("run_id", "VARCHAR"), ("new_run_id", "VARCHAR"),
                  ("rows_removed", "BIGINT"), ("strategy", "VARCHAR"), ("seconds", "DOUBLE")),
}
ROW_PROVENANCE: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR"), ("split", "VARCHAR"), ("row", "BIGINT"), ("source", "VARCHAR"),
    ("source_id", "VARCHAR"),
)
# Tables a run brings in its catalog.json (runs and audit_log rows come from its record).
RUN_TABLES = ("sources", "column_provenance", "matrix_provenance", "metrics", "row_chunks")
# Columns of a row provenance chunk file (run, split and the chunk's first row come from
# row_chunks: a chunk file is shared, hard-linked, by the versions that did not change it).
CHUNK_PROVENANCE = ("row", "source", "source_id")


def chunk_provenance_path(folder: Path, split: str, part: str) -> Path:
    return folder / "row_provenance" / f"{split}-{part}.parquet"


def write_provenance_chunk(folder: Path, split: str, part: str, chunk: pa.Table) -> None:
    """Write one chunk of a run's row provenance (``row`` counts from the chunk's first row)."""
    # no dictionary: source ids are mostly distinct, and trying one costs more than the write
    pq.write_table(chunk.select(list(CHUNK_PROVENANCE)), chunk_provenance_path(folder, split, part),
                   compression="none", use_dictionary=False, write_statistics=False)


def write_row_provenance(folder: Path, chunks: dict[tuple[str, str], pa.Table]) -> None:
    """Write a run's row provenance into its (staging) folder: ``{(split, part): table}``
    chunks (runs stored before chunking have one ``row_provenance.parquet``; readers accept
    both)."""
    (folder / "row_provenance").mkdir(exist_ok=True)
    for (split, part), chunk in chunks.items():
        write_provenance_chunk(folder, split, part, chunk)


def write_record(folder: Path, record: dict[str, Any], tables: dict[str, Sequence[dict[str, Any]]],
                 audit: Sequence[dict[str, Any]] = (), digests: Mapping[str, str] | None = None) -> None:
    """Write ``catalog.json``: the run's ``runs`` row, its small tables (lists of row dicts),
    audit entries and the digests of its pickles (``{file name: digest}``)."""
    unknown = set(tables) - set(RUN_TABLES)
    if unknown:
        raise ValueError(f"unknown catalog tables {sorted(unknown)}; expected {list(RUN_TABLES)}")
    payload = {
        "run": {column: record.get(column) for column, _ in TABLES["runs"] if column != "folder"},
        "tables": {
            name: [[row.get(column) for column, _ in TABLES[name][1:]] for row in tables[name]]
            for name in RUN_TABLES if name in tables
        },
        "audit": [{column: entry.get(column) for column, _ in TABLES["audit_log"]} for entry in audit],
        ARTIFACT_DIGESTS: dict(digests or {}),
    }
    (folder / RECORD_FILE).write_text(json.dumps(payload, default=_json_value))


def recorded_digest(payload: Mapping[str, Any], name: str) -> str | None:
    """The digest a run's record (the parsed ``catalog.json``) holds for its file ``name``.

    Parameters
    ----------
    payload : mapping
        The run's record, as :func:`write_record` wrote it.
    name : str
        A file of the run folder, e.g. ``model.pkl``.

    Returns
    -------
    str or None
        The digest; None when none was recorded (a run stored before pickles were signed).
    """
    digests = payload.get(ARTIFACT_DIGESTS)
    digest = digests.get(name) if isinstance(digests, Mapping) else None
    return digest if isinstance(digest, str) else None


def _json_value(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


class CatalogError(LesterError, LookupError):
    """A catalog lookup found nothing (an unknown run, say)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Catalog:
    """The catalog database ``<store>/catalog.duckdb``; opened per call, never held open,
    so that several processes can take turns on one store.

    ``runs_dir`` is the folder of run folders the catalog indexes (default: ``runs`` beside
    the database).
    """

    def __init__(self, path: str | Path, runs_dir: str | Path | None = None):
        self.path = Path(path)
        self.runs_dir = Path(runs_dir) if runs_dir is not None else self.path.parent / "runs"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.path))
        try:
            for name, columns in TABLES.items():
                body = ", ".join(f"{_quote(c)} {t}" for c, t in columns)
                con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")
            self._sync(con)
            select = ", ".join(f"CAST({_quote(c)} AS {t}) AS {_quote(c)}" for c, t in ROW_PROVENANCE)
            files = [str(self.runs_dir / run_id / "row_provenance.parquet") for (run_id,) in
                     con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]
            files = [f for f in files if os.path.exists(f)]  # runs stored before row chunks
            bodies = []
            if files:
                listed = ", ".join(f"'{_sql_string(f)}'" for f in files)
                bodies.append(f"SELECT {select} FROM read_parquet([{listed}], union_by_name=true)")
            chunks = con.execute("SELECT run_id, split, part FROM row_chunks ORDER BY ALL").fetchall()
            if chunks:
                prefix = _sql_string(str(self.runs_dir) + os.sep)
                listed = ", ".join(
                    f"'{_sql_string(chunk_provenance_path(self.runs_dir / r, s, p))}'" for r, s, p in chunks)
                bodies.append(
                    "SELECT CAST(c.run_id AS VARCHAR) AS run_id, CAST(c.split AS VARCHAR) AS split, "
                    "CAST(c.first_row + p.row AS BIGINT) AS row, CAST(p.source AS VARCHAR) AS source, "
                    "CAST(p.source_id AS VARCHAR) AS source_id "
                    f"FROM read_parquet([{listed}], filename=true) p JOIN row_chunks c ON p.filename = "
                    f"'{prefix}' || c.run_id || '{os.sep}row_provenance{os.sep}' || c.split || '-' || c.part || '.parquet'"
                )
            if bodies:
                body = " UNION ALL ".join(bodies)
            else:
                nulls = ", ".join(f"NULL AS {_quote(c)}" for c, _ in ROW_PROVENANCE)
                body = f"SELECT {select} FROM (SELECT {nulls}) WHERE false"
            con.execute(f"CREATE OR REPLACE TEMP VIEW row_provenance AS {body}")
        except BaseException:
            con.close()
            raise
        return con

    def sync(self) -> None:
        """Bring the database up to date with the run folders (done on every open)."""
        with self._connect():
            pass

    def _sync(self, con: duckdb.DuckDBPyConnection) -> None:
        # Registered runs are the folders with a record; staging folders start with a dot.
        on_disk = {
            entry.name for entry in os.scandir(self.runs_dir)
            if entry.is_dir() and not entry.name.startswith(".")
            and os.path.exists(os.path.join(entry.path, RECORD_FILE))
        } if self.runs_dir.is_dir() else set()
        known = {run_id for (run_id,) in con.execute("SELECT run_id FROM runs").fetchall()}
        added, removed = sorted(on_disk - known), sorted(known - on_disk)
        if not added and not removed:
            return
        con.execute("BEGIN TRANSACTION")
        try:
            for run_id in removed:  # a run folder deleted by hand leaves the index too
                for name in ("runs", *RUN_TABLES):
                    con.execute(f"DELETE FROM {name} WHERE run_id = ?", [run_id])
            for run_id in added:
                self._insert_run(con, run_id)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _insert_run(self, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
        folder = self.runs_dir / run_id
        try:
            payload = json.loads((folder / RECORD_FILE).read_text())
        except (OSError, ValueError) as error:
            raise CatalogError(f"{folder / RECORD_FILE}: unreadable run record ({error})") from error
        run = {**payload["run"], "run_id": run_id, "folder": str(folder)}
        columns = [c for c, _ in TABLES["runs"]]
        run["config"] = json.dumps(run.get("config") or {})
        con.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(columns))})",
                    [run.get(c) for c in columns])
        for name, rows in payload.get("tables", {}).items():
            if rows:
                width = len(TABLES[name])
                con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * width)})",
                                [[run_id, *row] for row in rows])
        for entry in payload.get("audit", []):
            entry = {**entry, "request": json.dumps(entry.get("request"))}
            columns = [c for c, _ in TABLES["audit_log"]]
            con.execute(f"INSERT INTO audit_log VALUES ({', '.join('?' * len(columns))})",
                        [entry.get(c) for c in columns])

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
