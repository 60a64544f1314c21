"""What a name of the script holds, as far as the rules compiler follows it.

The compiler reads the script top to bottom and binds every name to one of these abstract
values instead of real data: a file, a set of rows and how each row's fields map to columns,
a dict used as a join index or built up as a group-by, a feature vector over a row set...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lester.rewrite.rules.plan import RowExpr, RowSet


@dataclass
class FileIn:
    """``open(path)`` for reading; ``skipped`` counts header lines consumed by hand."""

    path: str
    line: int
    skipped: int = 0
    encoding: str | None = None


@dataclass
class Lines:
    """The lines of a file as a list (``f.readlines()``), possibly sliced past a header."""

    file: FileIn
    skipped: int = 0


@dataclass
class CsvReader:
    """``csv.reader(f)`` / ``csv.DictReader(f)``."""

    file: FileIn
    dict_rows: bool
    options: dict[str, str]
    skipped: int = 0
    fieldnames: list[str] | None = None


@dataclass
class Output:
    """A prepared-data file the script writes: its column names and the rows written into it."""

    path: str
    header: list[str] | None = None
    parts: list[tuple[RowSet, list[RowExpr], int]] = field(default_factory=list)
    line: int = 0
    dict_fields: list[str] | None = None  # csv.DictWriter fieldnames


@dataclass
class FileOut:
    output: Output
    separator: str = ","


@dataclass
class Writer:
    """``csv.writer(f)`` (or ``csv.DictWriter``) over an output file."""

    output: Output
    delimiter: str = ","
    dict_writer: bool = False


@dataclass
class Shape:
    """How one element of a row collection maps to columns.

    ``kind`` is ``"tuple"`` (positions), ``"dict"`` (keys) or ``"scalar"`` (one column).
    """

    kind: str
    fields: dict  # position or key -> column  (scalar: {None: column})

    def columns(self) -> list[str]:
        return list(self.fields.values())


@dataclass
class Rows:
    """A collection of rows over a row set (a list built in a loop, a file's rows)."""

    rs: RowSet
    shape: Shape


@dataclass
class Collector:
    """A list the script appends to inside loops; becomes :class:`Rows` once complete."""

    name: str
    line: int
    parts: list[tuple[RowSet, Shape, int]] = field(default_factory=list)
    done: Rows | None = None


@dataclass
class ListsByKey:
    """``out = {"a": [], "b": []}``: one list per column, filled with ``out["a"].append(v)``."""

    name: str
    lists: dict  # key -> Collector


@dataclass
class DictCollector:
    """A dict the script fills inside loops: a join index (``d[k] = v``) or a group-by."""

    name: str
    line: int
    default: str | None = None  # defaultdict(int) -> "int", defaultdict(list) -> "list", Counter -> "int"
    index: tuple | None = None  # (rs, key column, Shape of the value)
    aggs: list = field(default_factory=list)  # (rs, key column, value column or None, function)
    initialised: set = field(default_factory=set)
    done: Any = None


@dataclass
class Index:
    """A dict from a key column to a value (a column or a tuple/dict of columns), used as a join."""

    rs: RowSet
    key: str
    value: Shape
    name: str


@dataclass
class Frame:
    """A pandas DataFrame: a row set and its visible columns (``None``: all the row set has)."""

    rs: RowSet
    columns: list[str] | None
    # pd.get_dummies(df, columns=[...]): column -> drop_first; the columns stay whole in the
    # plan and become a one-hot encoder where the frame is the feature matrix
    dummies: dict[str, bool] = field(default_factory=dict)
    index: list[str] | None = None  # the columns pandas holds as the index (a groupby's keys)
    order: Any = None  # the statement that sorted the rows (sort_values), which the plan leaves out
    categories: dict[str, list] = field(default_factory=dict)  # pd.cut(..., labels=[...]): their order

    def like(self, rs: RowSet, columns: list[str] | None) -> Frame:
        """Another view of these rows (a filter, a column subset) keeping what is one-hot encoded
        and how they were sorted."""
        kept = {c: d for c, d in self.dummies.items() if columns is None or c in columns}
        return Frame(rs, columns, kept, order=self.order, categories=dict(self.categories))


@dataclass
class Series:
    """A pandas Series over a row set: a column, or a vectorized expression not yet projected."""

    rs: RowSet
    column: str | None = None
    expr: Any = None  # a cst expression over the frame (for masks and derived series)
    frame_name: str | None = None


@dataclass
class Model:
    """A scikit-learn estimator built by the script (its constructor call, as code)."""

    code: str
    line: int


@dataclass
class Ignored:
    """A value only used for printing or bookkeeping (a header line, a counter)."""

    why: str


@dataclass
class Count:
    """``len(rows)``: the number of rows of a row set (``offset``: ``len(rows) - 1`` is -1)."""

    rs: RowSet
    offset: int = 0


# -- feature values --------------------------------------------------------------------------
@dataclass
class Vec:
    """A per-row number vector over a row set: a column, optionally scaled (standard, minmax...)."""

    rs: RowSet
    column: str
    scaler: str | None = None
    stage: str = ""  # partial pattern state: "centered", "shifted"


@dataclass
class Stat:
    """``v.mean()`` and friends of a vector: a number known only once data is there."""

    vec: Vec
    kind: str  # mean, std, min, max, range, std1 (ddof=1); sum, ssd (squared deviations), var, var1


@dataclass
class Categories:
    """The distinct values of a column in a fixed order ("sorted" or "first_seen" or literal)."""

    rs: RowSet
    column: str
    order: str
    values: list | None = None  # literal categories
    symbol: str = ""


@dataclass
class CategoryIndex:
    """``{category: position}`` built from :class:`Categories`."""

    categories: Categories


@dataclass
class Block:
    """Columns of a feature matrix: ``kind`` is onehot, passthrough, standard, minmax, std1."""

    kind: str
    columns: list[str]
    categories: Categories | None = None
    then: str | None = None  # a scaler the script applies after the one-hot ("standard", "minmax")
    code: str | None = None  # kind "encoder": the script's own fitted transformer, as code


@dataclass
class Matrix:
    rs: RowSet
    blocks: list[Block]


@dataclass
class Zeros:
    """``np.zeros((n, width))`` being filled row by row; ``cells`` maps an offset to a block."""

    rs: RowSet | None
    width: dict  # linear form: symbol -> coefficient ("" is the constant)
    cells: list = field(default_factory=list)  # (offset linear form, Block, width linear form)
    line: int = 0
    vector: str | None = None  # a 1-d vector of this dtype ("int", "float") filled per row (a label)
    done: Any = None  # the vector's column once its filling loop is read (a Vec)


@dataclass
class Label:
    """A label vector: a column of the prepared rows, encoded as the script encodes it."""

    rs: RowSet
    column: str | None = None
    encoding: str | None = None  # "label" (LabelEncoder: positions among the sorted classes), "binarize"
    classes: list | None = None  # label_binarize's two classes: 1 for the second


@dataclass
class EncodedLabel:
    """``LabelEncoder().fit_transform(df["c"])`` or ``label_binarize(df["c"], classes=[a, b])``."""

    vec: Vec
    encoding: str
    classes: list | None = None


Value = Any


@dataclass
class Grouped:
    """``df.groupby(keys)`` (optionally ``[columns]``), waiting for its aggregation."""

    frame: Frame
    keys: list[str]
    selection: list[str] | None = None
    dropna: bool = True


@dataclass
class Blocked:
    """A name bound by a statement the rules could not read (the line that did)."""

    line: int
