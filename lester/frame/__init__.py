"""The declarative dataframe DSL: a lazy logical plan with row and column provenance."""

from lester.frame.frame import Frame, GroupBy, from_pandas, join, read_csv, read_parquet, union

__all__ = ["Frame", "GroupBy", "from_pandas", "join", "read_csv", "read_parquet", "union"]
