"""Engines execute a logical plan. DuckDB is the default; pandas is the reference."""

from __future__ import annotations

from lester.errors import PlanError
from lester.frame.engines.duckdb_engine import DuckDBEngine
from lester.frame.engines.pandas_engine import PandasEngine

ENGINES = {"duckdb": DuckDBEngine, "pandas": PandasEngine}
_shared: dict[str, DuckDBEngine | PandasEngine] = {}


def get_engine(engine: str | DuckDBEngine | PandasEngine):
    """An engine instance from its name (``"duckdb"`` or ``"pandas"``) or an instance.

    Named engines are shared within the process, so the DuckDB database is opened once.
    """
    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise PlanError(f"unknown engine {engine!r}; use one of {sorted(ENGINES)}")
    if engine not in _shared:
        _shared[engine] = ENGINES[engine]()
    return _shared[engine]


__all__ = ["DuckDBEngine", "PandasEngine", "get_engine"]
