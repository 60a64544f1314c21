"""Engines execute a logical plan. DuckDB is the default; pandas is the reference."""

from __future__ import annotations

from lester.errors import PlanError
from lester.frame.engines.duckdb_engine import DuckDBEngine
from lester.frame.engines.pandas_engine import PandasEngine

ENGINES = {"duckdb": DuckDBEngine, "pandas": PandasEngine}


def get_engine(engine: str | DuckDBEngine | PandasEngine):
    """An engine instance from its name (``"duckdb"`` or ``"pandas"``) or an instance."""
    if not isinstance(engine, str):
        return engine
    try:
        return ENGINES[engine]()
    except KeyError:
        raise PlanError(f"unknown engine {engine!r}; use one of {sorted(ENGINES)}") from None


__all__ = ["DuckDBEngine", "PandasEngine", "get_engine"]
