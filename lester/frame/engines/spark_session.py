"""The Spark session the Spark engine runs in: found or started once per process.

pyspark is an optional extra (``pip install 'lester[spark]'``) and needs a Java runtime (17 or
newer); :func:`unavailable` says which of the two is missing, so callers (and the tests) can
explain themselves instead of failing inside py4j.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import threading
import warnings
from typing import Any

from lester.errors import LesterError

DEFAULT_MASTER = "local[*]"

# DuckDB's semantics where Spark lets one choose: timestamps without a time zone, errors (not
# NULLs) on bad casts and overflow, NULL sizes of NULL lists; and no UI or chatter in consoles.
SESSION_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.legacy.sizeOfNull": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}

_lock = threading.Lock()
# pyspark warns about pandas 3 on import and on every Arrow batch function; lester converts
# through Arrow itself, so the warning says nothing about lester's results
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


class SparkUnavailableError(LesterError, RuntimeError):
    """The Spark engine was asked for, but pyspark or a Java runtime is missing."""


def unavailable() -> str | None:
    """Why the Spark engine cannot run here (None when it can).

    Examples
    --------
    >>> reason = unavailable()
    >>> reason is None or "installed" in reason or "Java" in reason
    True
    """
    for package in ("pyspark", "sqlglot"):
        if importlib.util.find_spec(package) is None:
            return f"{package} is not installed (pip install 'lester[spark]')"
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else shutil.which("java")
    if java is None or not os.path.exists(java):
        return ("no Java runtime found for Spark (install OpenJDK 17, e.g. apt-get install "
                "openjdk-17-jre-headless, or set JAVA_HOME)")
    try:
        subprocess.run([java, "-version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"the Java runtime {java} does not run ({exc})"
    return None


def session(master: str | None = None, settings: dict[str, str] | None = None) -> Any:
    """The process's SparkSession: the active one if there is one, else a new one on ``master``
    (default ``$LESTER_SPARK_MASTER`` or ``local[*]``) with :data:`SESSION_SETTINGS`.

    An existing session is reused as it is, except for the SQL settings above, which are set
    on it: the engine's semantics depend on them.
    """
    reason = unavailable()
    if reason is not None:
        raise SparkUnavailableError(f"engine 'spark': {reason}")
    with _lock:
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is None:
            # workers run this interpreter and import what the driver imports (user modules too)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
            paths = [p for p in sys.path if p]
            os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
            builder = SparkSession.builder.master(master or os.environ.get("LESTER_SPARK_MASTER", DEFAULT_MASTER))
            builder = builder.appName("lester")
            for key, value in {**SESSION_SETTINGS, **(settings or {})}.items():
                builder = builder.config(key, value)
            active = builder.getOrCreate()
            active.sparkContext.setLogLevel("FATAL")
            # pyspark logs each refused expression with the JVM's stack; lester raises its own error
            for logger in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
                logging.getLogger(logger).setLevel(logging.CRITICAL)
        for key, value in SESSION_SETTINGS.items():
            if key.startswith("spark.sql."):
                active.conf.set(key, value)
        return active
