"""What every engine shares: the result layout and the provenance ids of a row."""

from __future__ import annotations

from typing import Any

import pandas as pd

from lester.frame.plan import Node, provenance_column


def output_columns(node: Node) -> list[str]:
    """The physical layout of an engine's result: data columns, then provenance columns."""
    return list(node.columns) + [provenance_column(label) for label in node.provenance]


def row_provenance(node: Node, frame: pd.DataFrame, position: int) -> dict[str, Any]:
    """The provenance ids of one row of an intermediate result, for error messages."""
    ids: dict[str, Any] = {}
    for label in node.provenance:
        value = frame[provenance_column(label)].iloc[position]
        if hasattr(value, "tolist"):
            value = value.tolist()
        if value is not None and value == value:
            ids[label] = value
    return ids
