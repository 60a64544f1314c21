"""Declarative ML pipelines: the runner, artifact store, catalog and provenance queries."""

from lester.pipeline.matrix_provenance import (
    MatrixColumn,
    MatrixProvenanceError,
    matrix_column_provenance,
    matrix_ranges_by_input_column,
)
from lester.pipeline.queries import runs, show, trace
from lester.pipeline.runner import RunResult, run

__all__ = [
    "MatrixColumn",
    "MatrixProvenanceError",
    "RunResult",
    "matrix_column_provenance",
    "matrix_ranges_by_input_column",
    "run",
    "runs",
    "show",
    "trace",
]
