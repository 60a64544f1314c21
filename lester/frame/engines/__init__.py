"""Engines execute a logical plan. DuckDB is the default; pandas is the reference; Spark runs
the same plan on a cluster (``pip install 'lester[spark]'``, imported only when asked for)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from lester.errors import PlanError
from lester.frame.engines.duckdb_engine import DuckDBEngine
from lester.frame.engines.pandas_engine import PandasEngine


def _spark(**options: Any) -> Any:
    from lester.frame.engines.spark_engine import SparkEngine

    return SparkEngine(**options)


ENGINES = {"duckdb": DuckDBEngine, "pandas": PandasEngine, "spark": _spark}
DEFAULT_ENGINE_VARIABLE = "LESTER_ENGINE"
_shared: dict[str, Any] = {}


def default_engine() -> str:
    """The engine a frame runs on when none is named: ``$LESTER_ENGINE``, else ``"duckdb"``.

    ``lester run --engine`` sets the variable, so every derivation of the run (and of a
    ``forget`` or ``redact`` started from it) runs on one engine.

    >>> default_engine() in ENGINES
    True
    """
    return os.environ.get(DEFAULT_ENGINE_VARIABLE) or "duckdb"


def configure_engine(engine: str, **options: Any) -> None:
    """Make ``engine`` (started with ``options``, e.g. ``master=`` for Spark) the shared
    instance of that name from now on."""
    if engine not in ENGINES:
        raise PlanError(f"unknown engine {engine!r}; use one of {sorted(ENGINES)}")
    _shared[engine] = ENGINES[engine](**options)


def engine_for(settings: Mapping[str, str]) -> Any:
    """The engine a run's ``[engine]`` settings name (``name``, and ``spark_master`` for
    Spark), or the :func:`default_engine` when they name none.

    >>> engine_for({}).name == default_engine()
    True
    """
    name = settings.get("name") or default_engine()
    master = settings.get("spark_master")
    if name == "spark" and master and getattr(_shared.get("spark"), "master", None) != master:
        configure_engine("spark", master=master)
    return get_engine(name)


def get_engine(engine: str | Any | None = None) -> Any:
    """An engine instance from its name (``"duckdb"``, ``"pandas"``, ``"spark"``), an
    instance, or None (the :func:`default_engine`).

    Named engines are shared within the process, so the DuckDB database is opened once (and
    the Spark session started once).
    """
    if engine is None:
        engine = default_engine()
    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise PlanError(f"unknown engine {engine!r}; use one of {sorted(ENGINES)}")
    if engine not in _shared:
        _shared[engine] = ENGINES[engine]()
    return _shared[engine]


__all__ = ["DuckDBEngine", "PandasEngine", "configure_engine", "default_engine", "engine_for", "get_engine"]
