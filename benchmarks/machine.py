"""What every benchmark records about the machine it ran on (imported by the bench_*.py
scripts, which run with this folder on sys.path)."""

from __future__ import annotations

import os
import platform
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import sklearn

import lester


def load_average() -> float | None:
    """The 1-minute load average: other processes on the cores make every timing noisier."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _duckdb_default_threads() -> int:
    connection = duckdb.connect()
    try:
        return int(connection.execute("SELECT current_setting('threads')").fetchall()[0][0])
    finally:
        connection.close()


def machine_description() -> dict[str, Any]:
    """Cores, platform, library versions and the load average now."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "usable_cores": usable,
        "duckdb_threads": _duckdb_default_threads(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "lester": getattr(lester, "__version__", None),
        "load_average_1m": load_average(),
    }
