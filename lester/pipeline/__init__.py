"""Declarative ML pipelines: matrix-column provenance for fitted feature encoders."""

from lester.pipeline.matrix_provenance import (
    MatrixColumn,
    MatrixProvenanceError,
    matrix_column_provenance,
    matrix_ranges_by_input_column,
)

__all__ = [
    "MatrixColumn",
    "MatrixProvenanceError",
    "matrix_column_provenance",
    "matrix_ranges_by_input_column",
]
