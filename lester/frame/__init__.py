"""The declarative dataframe DSL: a lazy logical plan with row and column provenance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lester import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from lester.frame.frame import Frame, GroupBy, from_pandas, join, read_csv, read_lines, read_parquet, union

__all__ = ["Frame", "GroupBy", "from_pandas", "join", "read_csv", "read_lines", "read_parquet", "union"]
# imported on first use, so that importing a light submodule (expressions) costs no pandas
__getattr__, __dir__ = lazy_exports(globals(), dict.fromkeys(__all__, "lester.frame.frame"))
