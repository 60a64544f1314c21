"""lester: messy ML scripts into declarative pipelines with provenance and fast deletion.

The dataframe DSL is available at the top level::

    import lester as lt
    customers = lt.read_csv("customers.csv", key="customer_id")
    adults = customers.filter("age >= 18")
    adults.to_pandas(); adults.provenance(); adults.column_provenance()
"""

from lester import (
    rewrite,  # a callable package: lt.rewrite("messy.py") calls lester.rewrite.rewrite
)
from lester.errors import (
    ColumnNotFoundError,
    ExecutionError,
    LesterError,
    PlanError,
    SourceError,
    SqlExpressionError,
    UserFunctionError,
)
from lester.frame import Frame, from_pandas, join, read_csv, read_parquet, union
from lester.ivm import forget, redact
from lester.pipeline import run, runs, show, trace

__version__ = "0.1.0"

__all__ = [
    "ColumnNotFoundError",
    "ExecutionError",
    "Frame",
    "LesterError",
    "PlanError",
    "SourceError",
    "SqlExpressionError",
    "UserFunctionError",
    "forget",
    "from_pandas",
    "join",
    "read_csv",
    "read_parquet",
    "redact",
    "rewrite",
    "run",
    "runs",
    "show",
    "trace",
    "union",
]
