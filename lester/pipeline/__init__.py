"""Declarative ML pipelines: the runner, artifact store, catalog and provenance queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lester import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from lester.pipeline.matrix_provenance import (
        MatrixColumn,
        MatrixProvenanceError,
        matrix_column_provenance,
        matrix_ranges_by_input_column,
    )
    from lester.pipeline.queries import runs, show, trace
    from lester.pipeline.runner import RunResult, run

_EXPORTS = {
    "MatrixColumn": "lester.pipeline.matrix_provenance",
    "MatrixProvenanceError": "lester.pipeline.matrix_provenance",
    "matrix_column_provenance": "lester.pipeline.matrix_provenance",
    "matrix_ranges_by_input_column": "lester.pipeline.matrix_provenance",
    "runs": "lester.pipeline.queries",
    "show": "lester.pipeline.queries",
    "trace": "lester.pipeline.queries",
    "RunResult": "lester.pipeline.runner",
    "run": "lester.pipeline.runner",
}
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
# imported on first use: the command line reaches lester.pipeline.* without scikit-learn
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
