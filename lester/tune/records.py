"""The tournament tables of the catalog (``<store>/catalog.duckdb``), queryable with SQL.

* ``tune_results``: one row per (candidate, fold) result ever computed, keyed by a digest of
  the fold's data, the pipeline's code, the encoder setting, the estimator and its
  parameters, the fold and the metric: the cache a tournament resumes from;
* ``tournaments``: one row per tournament (settings, winner, test score, final run, the
  forget-set position it read the sources at, what it computed and reused);
* ``tune_tasks``: which results each tournament used;
* ``tune_ranking``: each tournament's ranked table.

Like the catalog's durable tables these are written in place, under the store's writer lock,
and never rebuilt from run folders::

    SELECT rank, candidate, mean, stderr FROM tune_ranking WHERE tournament_id = '...' ORDER BY rank
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from lester.errors import LesterError

CATALOG_FILE = "catalog.duckdb"

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "tune_results": (("key", "VARCHAR"), ("contender", "VARCHAR"), ("estimator", "VARCHAR"),
                     ("params", "JSON"), ("features", "JSON"), ("fold", "INTEGER"),
                     ("fold_fingerprint", "VARCHAR"), ("metric", "VARCHAR"), ("score", "DOUBLE"),
                     ("fit_seconds", "DOUBLE"), ("score_seconds", "DOUBLE"), ("error", "VARCHAR"),
                     ("created", "TIMESTAMP")),
    "tournaments": (("tournament_id", "VARCHAR"), ("created", "TIMESTAMP"), ("pipeline", "VARCHAR"),
                    ("settings", "JSON"), ("metric", "VARCHAR"), ("folds", "INTEGER"),
                    ("sources", "JSON"), ("forget_set_seq", "BIGINT"), ("candidates", "INTEGER"),
                    ("tasks", "INTEGER"), ("computed", "INTEGER"), ("cached", "INTEGER"),
                    ("failed", "INTEGER"), ("winner", "VARCHAR"), ("winner_contender", "VARCHAR"),
                    ("winner_params", "JSON"), ("winner_features", "JSON"),
                    ("validation_score", "DOUBLE"), ("test_score", "DOUBLE"), ("final_run", "VARCHAR"),
                    ("refreshed_from", "VARCHAR"), ("winner_changed", "BOOLEAN"),
                    ("seconds", "DOUBLE"), ("folder", "VARCHAR")),
    "tune_tasks": (("tournament_id", "VARCHAR"), ("candidate_key", "VARCHAR"), ("fold", "INTEGER"),
                   ("result_key", "VARCHAR")),
    "tune_ranking": (("tournament_id", "VARCHAR"), ("rank", "INTEGER"), ("contender", "VARCHAR"),
                     ("candidate", "VARCHAR"), ("candidate_key", "VARCHAR"), ("params", "JSON"),
                     ("features", "JSON"), ("mean", "DOUBLE"), ("stderr", "DOUBLE"),
                     ("fit_seconds", "DOUBLE"), ("folds", "INTEGER"), ("failed_folds", "INTEGER"),
                     ("error", "VARCHAR")),
}
_JSON = {name: {c for c, t in columns if t == "JSON"} for name, columns in TABLES.items()}
WAIT = 60.0


class RecordsError(LesterError, RuntimeError):
    """The tournament tables could not be read or written (the catalog stayed busy)."""


def _connect(root: Path, write: bool) -> duckdb.DuckDBPyConnection | None:
    path = Path(root) / CATALOG_FILE
    if not write and not path.exists():
        return None
    deadline, pause = time.monotonic() + WAIT, 0.01
    while True:
        try:
            con = duckdb.connect(str(path), read_only=not write)
        except duckdb.Error as error:
            if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                raise RecordsError(f"could not open {path} ({str(error).splitlines()[0]}); another "
                                   "lester process may hold it: run the command again") from error
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
            continue
        if write:
            for name, columns in TABLES.items():
                body = ", ".join(f'"{c}" {t}' for c, t in columns)
                con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")
        return con


def ensure_tables(store: Any) -> None:
    """Create the tournament tables where missing (under the store's writer lock)."""
    with store.write_lock(command="lester tune (creating its tables)"):
        _connect(store.root, write=True).close()


def has_tournaments(store: Any) -> bool:
    """Whether the store's catalog holds the tournament tables (read only: creates nothing)."""
    con = _connect(store.root, write=False)
    if con is None:
        return False
    try:
        return _has_table(con, "tournaments")
    finally:
        con.close()


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchall()[0][0])


def insert(store: Any, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append rows (dicts) to one tournament table, under the store's writer lock.

    ``tune_results`` rows whose key is already there are skipped: a result is stored once.
    """
    if not rows:
        return
    columns = [c for c, _ in TABLES[table]]
    values = [[json.dumps(row.get(c), default=str) if c in _JSON[table] else row.get(c) for c in columns]
              for row in rows]
    with store.write_lock(command="lester tune (recording results)"):
        con = _connect(store.root, write=True)
        try:
            if table == "tune_results":
                known = set(_keys_in(con, [row["key"] for row in rows]))
                values = [v for v, row in zip(values, rows) if row["key"] not in known]
            if values:
                con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", values)
        finally:
            con.close()


def _keys_in(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> list[str]:
    frame = pd.DataFrame({"key": list(keys)})
    con.register("wanted", frame)
    try:
        return [k for (k,) in con.execute("SELECT r.key FROM tune_results r JOIN wanted USING (key)").fetchall()]
    finally:
        con.unregister("wanted")


def cached_results(store: Any, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored results among ``keys``: ``{key: {score, fit_seconds, score_seconds, error}}``."""
    con = _connect(store.root, write=False)
    if con is None:
        return {}
    try:
        if not _has_table(con, "tune_results"):
            return {}
        con.register("wanted", pd.DataFrame({"key": list(keys)}))
        found = con.execute("SELECT r.key, r.score, r.fit_seconds, r.score_seconds, r.error "
                            "FROM tune_results r JOIN wanted USING (key)").fetchall()
    finally:
        con.close()
    return {key: {"score": score, "fit_seconds": fit, "score_seconds": scored, "error": error}
            for key, score, fit, scored, error in found}


def query(store: Any, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
    """A read query over the catalog that sees the tournament tables (empty ones when none).

    Example:
        >>> query(store, "SELECT * FROM tournaments ORDER BY created DESC")   # doctest: +SKIP
    """
    con = _connect(store.root, write=False)
    if con is None or not _has_table(con, "tune_ranking"):
        if con is not None:
            con.close()
        ensure_tables(store)
        con = _connect(store.root, write=False)
    try:
        return con.execute(sql, list(parameters)).df()
    finally:
        con.close()


def tournament(store: Any, tournament_id: str) -> dict[str, Any]:
    """One tournament's row (``tournament_id`` may be a unique prefix), JSON columns parsed."""
    found = query(store, "SELECT * FROM tournaments WHERE starts_with(tournament_id, ?)", [tournament_id])
    if len(found) != 1:
        recent = query(store, "SELECT tournament_id FROM tournaments ORDER BY created DESC LIMIT 5")
        what = "no tournament" if len(found) == 0 else f"{len(found)} tournaments"
        raise RecordsError(f"{what} matches {tournament_id!r}; recent tournaments: "
                           f"{recent['tournament_id'].tolist() or '(none)'}")
    record = found.iloc[0].to_dict()
    for column in _JSON["tournaments"]:
        if isinstance(record.get(column), str):
            record[column] = json.loads(record[column])
    return record
