"""Data sources: where rows enter a plan, and where their provenance ids are born.

A :class:`Source` knows its schema without loading its data (so plans are validated eagerly
and executed lazily), loads its rows on first use, and fingerprints its content so that a
provenance id always refers to one exact version of the data.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lester.errors import ColumnNotFoundError, SourceError

# Provenance columns ride along the data under this prefix; user columns may not use it.
PROVENANCE_PREFIX = "__prov__"

# read_csv options that would change row identity or the frame's shape behind our back.
_FORBIDDEN_CSV_OPTIONS = {"index_col", "iterator", "chunksize", "squeeze", "nrows"}


# path -> ((mtime_ns, size), sha256): every plan built over a file makes a new Source, and
# rehashing a 30 MB CSV for each (a deletion request builds several) costs ~15 ms a time.
_FILE_DIGESTS: dict[str, tuple[tuple, str]] = {}


def _file_digest(path: str, signature: tuple | None) -> str:
    """The sha256 of a file's bytes, recomputed only when its size or mtime changed."""
    key = os.path.abspath(path)
    known = _FILE_DIGESTS.get(key)
    if known is not None and known[0] == signature:
        return known[1]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    _FILE_DIGESTS[key] = (signature, digest.hexdigest())
    return digest.hexdigest()


def _default_name(path: str) -> str:
    stem = Path(path).name.split(".")[0] or "source"
    name = re.sub(r"\W+", "_", stem).strip("_") or "source"
    return name if not name[0].isdigit() else f"s_{name}"


@dataclass(eq=False)
class Source:
    """One input of a plan: a CSV file, a Parquet file or an in-memory pandas DataFrame.

    ``key`` names a column whose values identify rows stably (a customer id, say); without it,
    a row is identified by its position in the source, which is only stable together with the
    source's :meth:`fingerprint`.
    """

    name: str
    kind: str
    columns: tuple[str, ...]
    path: str | None = None
    key: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    _frame: pd.DataFrame | None = field(default=None, repr=False)
    _loaded_signature: tuple | None = field(default=None, repr=False)
    _fingerprint: str | None = field(default=None, repr=False)

    # -- identity -------------------------------------------------------------------------
    @property
    def identity(self) -> tuple:
        """Two sources with equal identity hold the same rows with the same ids."""
        if self.kind == "pandas":
            return (self.kind, id(self._frame), self.key)
        opts = tuple(sorted((k, repr(v)) for k, v in self.options.items()))
        return (self.kind, os.path.abspath(self.path or ""), self.key, opts)

    @property
    def label(self) -> str:
        return self.name

    def describe(self) -> str:
        where = self.path if self.path is not None else "DataFrame"
        key = f", key={self.key!r}" if self.key else ""
        return f"{self.kind}({where!s}{key})"

    # -- content ----------------------------------------------------------------------------
    def _signature(self) -> tuple | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise SourceError(self.path, "no such file") from None
        return (st.st_mtime_ns, st.st_size)

    def fingerprint(self) -> str:
        """A content hash (sha256, hex) of the source's bytes or of the DataFrame's values."""
        if self.path is not None:
            return _file_digest(self.path, self._signature())
        if self._fingerprint is not None:
            return self._fingerprint
        digest = hashlib.sha256()
        frame = self.load()  # a DataFrame: hashed from its values
        digest.update(repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def load(self) -> pd.DataFrame:
        """The source's rows (cached until the file changes), with the key column checked."""
        signature = self._signature()
        if self._frame is not None and signature == self._loaded_signature:
            return self._frame
        if self.kind == "csv":
            frame = _read_csv_checked(self.path, self.options)
        elif self.kind == "parquet":
            frame = pd.read_parquet(self.path, **self.options)
        elif self.kind == "lines":
            frame = _read_lines(self.path, self.options)
        else:  # pragma: no cover - pandas sources are loaded at construction
            raise AssertionError(self.kind)
        frame = frame.reset_index(drop=True)
        if tuple(frame.columns) != self.columns:
            raise SourceError(
                self.path or "DataFrame",
                f"the columns changed since the plan was built: expected {list(self.columns)}, "
                f"found {list(frame.columns)}",
            )
        _check_key(frame, self.key, self.path or f"DataFrame {self.name!r}")
        self._frame, self._loaded_signature = frame, signature
        return frame

    def ids(self, frame: pd.DataFrame) -> np.ndarray:
        """The provenance id of every row: the key column's values, else the row position."""
        if self.key is not None:
            return frame[self.key].to_numpy()
        return np.arange(len(frame), dtype=np.int64)


def _check_columns(columns: Sequence[Any], where: str) -> tuple[str, ...]:
    names = tuple(str(c) for c in columns)
    bad = [c for c in names if c.startswith(PROVENANCE_PREFIX)]
    if bad:
        raise SourceError(where, f"column names may not start with {PROVENANCE_PREFIX!r}: {bad}")
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise SourceError(where, f"duplicate column names {dupes}")
    return names


def _check_key(frame: pd.DataFrame, key: str | None, where: str) -> None:
    if key is None:
        return
    values = frame[key]
    if values.isna().any():
        position = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise SourceError(where, f"key column {key!r} is empty in row {position}")
    numbers = values.to_numpy()
    if numbers.dtype.kind in "iu" and (len(numbers) < 2 or (numbers[1:] > numbers[:-1]).all()):
        return  # strictly increasing integers, the common case, are unique: skip hashing
    duplicated = values.duplicated(keep=False)
    if duplicated.any():
        examples = sorted(set(values[duplicated].tolist()), key=str)[:5]
        raise SourceError(
            where, f"key column {key!r} is not unique: repeated values include {examples}"
        )


_LINE_RE = re.compile(r"line (\d+)")


def _header_lines(options: dict[str, Any]) -> int:
    header = options.get("header", "infer")
    if options.get("names") is not None and header == "infer":
        return 0
    if header is None:
        return 0
    if isinstance(header, int):
        return header + 1
    return 1


def _decode_error(path: str, options: dict[str, Any], exc: UnicodeDecodeError) -> SourceError:
    """The file and line of an undecodable byte: pandas reports the offset within its read
    buffer, so the file is decoded again to find the line."""
    data = Path(path).read_bytes()
    try:
        data.decode(options.get("encoding") or "utf-8")
        line = None
    except UnicodeDecodeError as located:
        line = data[: located.start].count(b"\n") + 1
    return SourceError(path, f"cannot decode as {exc.encoding}: {exc.reason}", line)


def _read_csv_checked(path: str, options: dict[str, Any]) -> pd.DataFrame:
    """pandas.read_csv, with every failure turned into an error naming the file and line."""
    try:
        frame = pd.read_csv(path, **options)
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except pd.errors.ParserError as exc:
        match = _LINE_RE.search(str(exc))
        line = int(match.group(1)) if match else None
        detail = str(exc).replace("Error tokenizing data. C error: ", "")
        raise SourceError(path, f"malformed CSV: {detail}", line) from None
    except UnicodeDecodeError as exc:
        raise _decode_error(path, options, exc) from None
    except (ValueError, TypeError) as exc:
        located = _locate_bad_value(path, options)
        if located is not None:
            line, column, value, wanted = located
            raise SourceError(
                path, f"column {column!r}: cannot read {value!r} as {wanted} ({exc})", line
            ) from None
        raise SourceError(path, f"cannot read CSV: {exc}") from None
    for column in _parse_date_columns(options):
        if column in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[column]):
            located = _first_unparseable(frame[column].astype("string"), "datetime")
            line = None if located is None else located + _header_lines(options) + 1
            value = None if located is None else frame[column].iloc[located]
            raise SourceError(path, f"column {column!r}: cannot parse {value!r} as a date", line)
    return frame


def _parse_date_columns(options: dict[str, Any]) -> list[str]:
    parse_dates = options.get("parse_dates")
    if isinstance(parse_dates, (list, tuple)):
        return [c for c in parse_dates if isinstance(c, str)]
    return []


def _first_unparseable(values: pd.Series, wanted: str) -> int | None:
    if wanted == "datetime":
        converted = pd.to_datetime(values, errors="coerce")
    elif wanted in ("int", "float", "number"):
        converted = pd.to_numeric(values, errors="coerce")
    else:
        return None
    bad = converted.isna() & values.notna()
    positions = np.flatnonzero(bad.to_numpy())
    return int(positions[0]) if len(positions) else None


def _locate_bad_value(path: str, options: dict[str, Any]) -> tuple[int, str, Any, str] | None:
    """Find the first value a ``dtype=`` option could not convert, re-reading as text."""
    dtype = options.get("dtype")
    if not isinstance(dtype, dict):
        return None
    text_options = {k: v for k, v in options.items() if k not in ("dtype", "parse_dates")}
    try:
        text = pd.read_csv(path, dtype=str, **text_options)
    except Exception:  # noqa: BLE001 - the original error is reported instead
        return None
    for column, wanted in dtype.items():
        if column not in text.columns:
            continue
        try:
            # pandas_dtype, not np.dtype: it also knows "Int64", "boolean", "string[pyarrow]", "str"
            resolved = pd.api.types.pandas_dtype(wanted)
        except TypeError:
            continue
        wanted_kind = {"i": "int", "u": "int", "f": "float"}.get(resolved.kind)
        if wanted_kind is None:
            continue
        # a nullable integer (Int64) holds missing values; only numpy's int64 refuses them
        nullable = isinstance(resolved, pd.api.extensions.ExtensionDtype)
        values = text[column]
        position = _first_unparseable(values, wanted_kind)
        if position is None and wanted_kind == "int":
            numbers = pd.to_numeric(values, errors="coerce")
            fractional = numbers.notna() & (numbers != np.floor(numbers.fillna(0)))
            missing = values.isna() & (not nullable)
            hits = np.flatnonzero((fractional | missing).to_numpy())
            position = int(hits[0]) if len(hits) else None
        if position is not None:
            line = position + _header_lines(options) + 1
            return line, column, values.iloc[position], str(wanted)
    return None


def csv_source(
    path: str | os.PathLike,
    *,
    name: str | None,
    key: str | None,
    options: dict[str, Any],
) -> Source:
    path = os.fspath(path)
    bad = sorted(set(options) & _FORBIDDEN_CSV_OPTIONS)
    if bad:
        raise SourceError(path, f"read_csv does not support the options {bad}")
    if not os.path.exists(path):
        raise SourceError(path, "no such file")
    try:
        header = pd.read_csv(path, nrows=0, **options)
    except pd.errors.EmptyDataError:
        raise SourceError(path, "the file is empty", 1) from None
    except UnicodeDecodeError as exc:
        # pandas 2 decodes a whole buffer even for the header, so a bad byte further down
        # surfaces here: name its line, as reading the rows does
        raise _decode_error(path, options, exc) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise SourceError(path, f"cannot read the header: {exc}", 1) from None
    columns = _check_columns(header.columns, path)
    source = Source(name or _default_name(path), "csv", columns, path, key, dict(options))
    if key is not None and key not in columns:
        raise ColumnNotFoundError(f"read_csv({path!r}, key={key!r})", [key], columns)
    return source


def parquet_source(
    path: str | os.PathLike, *, name: str | None, key: str | None, options: dict[str, Any]
) -> Source:
    import pyarrow.parquet as pq

    path = os.fspath(path)
    if not os.path.exists(path):
        raise SourceError(path, "no such file")
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
        raise SourceError(path, f"not a readable Parquet file: {exc}") from None
    columns = [c for c in schema.names if not c.startswith("__index_level_")]
    if options.get("columns"):
        columns = list(options["columns"])
    columns = _check_columns(columns, path)
    if key is not None and key not in columns:
        raise ColumnNotFoundError(f"read_parquet({path!r}, key={key!r})", [key], columns)
    return Source(name or _default_name(path), "parquet", columns, path, key, dict(options))


def lines_source(path: str | os.PathLike, *, name: str | None, skip: int = 0, encoding: str = "utf-8") -> Source:
    """A text file as rows of one column, ``line``: each line as Python's text-mode iteration
    gives it (``\\n`` included), after the first ``skip``; a row's id is its position among them."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SourceError(path, "no such file")
    if not isinstance(skip, int) or skip < 0:
        raise SourceError(path, f"read_lines: skip must be a non-negative integer, got {skip!r}")
    return Source(name or _default_name(path), "lines", ("line",), path, None, {"skip": skip, "encoding": encoding})


def _read_lines(path: str, options: dict[str, Any]) -> pd.DataFrame:
    try:
        with open(path, encoding=options.get("encoding", "utf-8")) as f:
            lines = f.readlines()[options.get("skip", 0):]
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not {options.get('encoding', 'utf-8')} text: {exc.reason} at byte {exc.start}") from None
    return pd.DataFrame({"line": pd.Series(lines, dtype=object)})


def pandas_source(frame: pd.DataFrame, *, name: str, key: str | None) -> Source:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"from_pandas expects a pandas DataFrame, got {type(frame).__name__}")
    where = f"DataFrame {name!r}"
    columns = _check_columns(frame.columns, where)
    if key is not None and key not in columns:
        raise ColumnNotFoundError(f"from_pandas(name={name!r}, key={key!r})", [key], columns)
    data = frame.reset_index(drop=True)
    data.columns = list(columns)
    _check_key(data, key, where)
    return Source(name, "pandas", columns, None, key, {}, _frame=data)
