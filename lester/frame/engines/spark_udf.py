"""Python ``project``/``filter`` functions on Spark, as Arrow batch functions (``mapInArrow``).

Each Spark worker gets the rows in Arrow record batches and runs the same code the other
engines run (:func:`lester.frame.python_functions.evaluate`), so a function sees the same
Python values, fails with the same error (naming the row's provenance ids), and its result
is typed the same way. A row-wise function is called per row; a vectorized one once per batch,
so on Spark it must be element-wise, as ``project``/``filter`` functions are meant to be.

A project's result type is known only once the function ran, and Spark needs it before: a
first pass over the batches reports each batch's Arrow type, and the second pass casts every
batch to their common type (the one pandas would give the whole column: ints next to a batch
with None become floats everywhere).

Errors cross from the workers as text: a lester error raised in a worker is pickled into the
message of the exception Spark forwards, and :func:`raise_worker_error` raises it again.
"""

from __future__ import annotations

import base64
import pickle
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from lester.errors import ExecutionError, LesterError
from lester.frame.expressions import PyFunc
from lester.frame.python_functions import as_arrow_column, as_mask, evaluate

_MARK = "LESTER-ERROR:"
_CARRIED = re.compile(re.escape(_MARK) + r"([A-Za-z0-9+/=]+)")


class _Carried(RuntimeError):
    """A lester error on its way from a worker to the driver."""


def _carry(exc: LesterError) -> _Carried:
    state = {"type": type(exc), "args": exc.args, "dict": exc.__dict__}
    try:
        payload = pickle.dumps(state)
    except Exception:  # noqa: BLE001 - an unpicklable attribute: carry the message alone
        payload = pickle.dumps({"type": ExecutionError, "args": (str(exc),), "dict": {}})
    return _Carried(_MARK + base64.b64encode(payload).decode())


def raise_worker_error(exc: BaseException) -> None:
    """Raise again the lester error a worker carried in ``exc``'s message, if it carries one."""
    found = _CARRIED.search(str(exc))
    if found is None:
        return
    state = pickle.loads(base64.b64decode(found.group(1)))
    error = state["type"].__new__(state["type"])
    Exception.__init__(error, *state["args"])
    error.__dict__.update(state["dict"])
    raise error from None


def _row_id(batch: pa.RecordBatch, labels: list[tuple[str, str]]):
    def row_id(i: int) -> dict[str, Any]:
        ids = {}
        for label, column in labels:
            value = batch.column(column)[i].as_py()
            if value is not None:
                ids[label] = value
        return ids

    return row_id


class Step:
    """What a worker needs to run one Python step: picklable, no Spark objects."""

    def __init__(self, expression: PyFunc, operation: str, provenance: list[tuple[str, str]],
                 output: str | None = None, schema: pa.Schema | None = None):
        self.expression = expression
        self.operation = operation
        self.provenance = provenance  # (label, physical column) of the input's ids
        self.output = output
        self.schema = schema  # the Arrow schema of the output batches (project, second pass)

    def values(self, batch: pa.RecordBatch) -> Any:
        columns = {c: batch.column(c) for c in self.expression.columns}
        return evaluate(self.expression, columns, self.operation, _row_id(batch, self.provenance))

    def result(self, batch: pa.RecordBatch) -> pa.Array:
        return as_arrow_column(self.values(batch), self.operation, self.expression.name)

    # -- the three batch functions Spark calls ------------------------------------------------
    def probe(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """One row per batch: the serialized Arrow type of the function's result on it."""
        try:
            for batch in batches:
                if batch.num_rows:
                    kind = pa.schema([pa.field("v", self.result(batch).type)]).serialize().to_pybytes()
                    yield pa.RecordBatch.from_pydict({"type": [kind]}, schema=pa.schema([("type", pa.binary())]))
        except LesterError as exc:
            raise _carry(exc) from None

    def project(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        assert self.schema is not None and self.output is not None
        kind = self.schema.field(self.output).type
        try:
            for batch in batches:
                values = self.result(batch) if batch.num_rows else pa.array([], type=kind)
                try:
                    values = values.cast(kind)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise _mixed(self, exc) from None
                table = pa.Table.from_batches([batch])
                if self.output in table.column_names:
                    table = table.set_column(table.column_names.index(self.output), self.output, values)
                else:
                    table = table.append_column(self.output, values)
                yield from table.select(self.schema.names).cast(self.schema).to_batches()
        except LesterError as exc:
            raise _carry(exc) from None

    def filter(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        try:
            for batch in batches:
                if batch.num_rows:
                    mask = as_mask(self.values(batch), self.operation, self.expression.name)
                    yield batch.filter(pa.array(mask, type=pa.bool_()))
        except LesterError as exc:
            raise _carry(exc) from None


def _mixed(step: Step, exc: Exception) -> ExecutionError:
    return ExecutionError(f"{step.operation}: function {step.expression.name}() returned values of mixed or "
                          f"unsupported types in different batches of rows ({exc})")


def common_type(step: Step, serialized: list[bytes]) -> pa.DataType:
    """The one type of a project's result over all batches, as pandas would type the column."""
    kinds = [pa.ipc.read_schema(pa.py_buffer(s)).field("v").type for s in serialized]
    kinds = [k for k in kinds if not pa.types.is_null(k)]
    if not kinds:
        return pa.null()  # no value anywhere (no rows, say): as on DuckDB, a NULL-typed column
    try:
        schema = pa.unify_schemas([pa.schema([("v", k)]) for k in kinds], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _mixed(step, exc) from None
    kind = schema.field("v").type
    if pa.types.is_large_string(kind):
        kind = pa.string()
    return kind
