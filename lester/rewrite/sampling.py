"""Sample inputs for validation: the first rows and a random sample of every input file.

A sample keeps the file's own format byte for byte (its header, quoting, separators), so the
original script reads it exactly as it reads the real file. Files the user names with
``--data NAME=PATH`` are used whole instead.

Example:
    >>> plan = sample_inputs(analysis, script_dir, rows=200)       # doctest: +SKIP
    >>> plan.copy_into(sandbox)                                     # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lester.errors import LesterError
from lester.rewrite.analysis import InputFile, ScriptAnalysis

HEAD_ROWS = 20  # always kept: headers, and the cases scripts special-case on the first lines
_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".dat", ".data", ".tab",
                  ".psv", ".log", ".arff", ""}
_WHOLE_FILE_LIMIT = 50 * 1024 * 1024  # binary formats we cannot cut are copied up to this size


class SamplingError(LesterError, ValueError):
    """An input cannot be sampled; the message names the input and how to supply it."""


@dataclass(frozen=True)
class SampledInput:
    """One file of the sample: where it goes in the sandbox, where it came from, how big."""

    name: str
    relative_path: str  # where the script expects it (relative to its folder)
    origin: str
    rows: int | None
    total_rows: int | None
    how: str  # "sample" | "whole" | "user"
    content: bytes = field(repr=False, default=b"")

    def describe(self) -> str:
        if self.how == "user":
            return f"{self.name}: {self.relative_path} <- {self.origin} (given with --data)"
        if self.how == "sample":
            return f"{self.name}: {self.relative_path}, {self.rows} of {self.total_rows} rows"
        return f"{self.name}: {self.relative_path}, whole file"


@dataclass
class SamplePlan:
    """The sample files, ready to be copied into any sandbox."""

    files: list[SampledInput]

    def copy_into(self, folder: str | os.PathLike) -> None:
        for sampled in self.files:
            target = Path(folder) / sampled.relative_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(sampled.content)

    def describe(self) -> list[str]:
        return [f.describe() for f in self.files]


def sample_inputs(
    analysis: ScriptAnalysis,
    script_dir: str | os.PathLike,
    *,
    rows: int = 1000,
    data: Mapping[str, str] | None = None,
    seed: int = 0,
) -> SamplePlan:
    """Sample every input of ``analysis`` found relative to ``script_dir``.

    ``rows`` is the size of the random sample taken after the first rows; a file with no more
    than ``rows`` + 20 rows is used whole. ``data`` maps a source name (or the path as the
    script writes it) to a file to use whole instead.
    """
    script_dir = Path(script_dir)
    data = dict(data or {})
    known = {i.name for i in analysis.inputs} | {i.path for i in analysis.inputs}
    unknown = sorted(set(data) - known)
    if unknown:
        listing = ", ".join(f"{i.name} ({i.path})" for i in analysis.inputs) or "none found"
        raise SamplingError(f"--data {unknown[0]}: the script has no such input; its inputs are: {listing}")
    rng = random.Random(seed)
    files: list[SampledInput] = []
    for item in analysis.inputs:
        given = data.get(item.name, data.get(item.path))
        if given is not None:
            files += _user_files(item, Path(given))
            continue
        files += _sample_input(item, script_dir, rows, rng, analysis)
    return SamplePlan(files)


def _user_files(item: InputFile, given: Path) -> list[SampledInput]:
    if not given.exists():
        raise SamplingError(f"--data {item.name}={given}: no such file or folder")
    if item.path.startswith("/") or ".." in Path(item.path).parts:
        raise SamplingError(
            f"input {item.name} ({item.path}) is outside the script's folder, so a sandbox cannot "
            "place it; make the path relative to the script"
        )
    if given.is_dir():
        return [
            SampledInput(item.name, str(Path(item.path.split("*")[0]).parent / f.relative_to(given)) if item.kind == "glob"
                         else str(Path(item.path) / f.relative_to(given)), str(f), None, None, "user", f.read_bytes())
            for f in sorted(given.rglob("*")) if f.is_file()
        ]
    return [SampledInput(item.name, item.path, str(given), None, None, "user", given.read_bytes())]


def _sample_input(item: InputFile, script_dir: Path, rows: int, rng: random.Random, analysis) -> list[SampledInput]:
    where = f"{analysis.filename}, {analysis.locate(item.line)}"
    if Path(item.path).is_absolute() or ".." in Path(item.path).parts:
        raise SamplingError(
            f"input {item.name} ({item.path}, {where}) is outside the script's folder, so a sandbox "
            "cannot place it; make the path relative to the script"
        )
    if item.kind == "glob":
        matches = sorted(glob.glob(str(script_dir / item.path)))
        if not matches:
            raise SamplingError(f"input {item.name}: the pattern {item.path} ({where}) matches no file "
                                f"under {script_dir}; pass --data {item.name}=FOLDER")
        return [_sample_file(item.name, str(Path(m).relative_to(script_dir)), Path(m), rows, rng) for m in matches]
    path = script_dir / item.path
    if item.kind == "folder" or path.is_dir():
        if not path.is_dir():
            raise SamplingError(f"input {item.name}: folder {item.path} ({where}) does not exist under "
                                f"{script_dir}; pass --data {item.name}=FOLDER")
        return [_sample_file(item.name, str(f.relative_to(script_dir)), f, rows, rng)
                for f in sorted(path.rglob("*")) if f.is_file()]
    if not path.exists():
        raise SamplingError(
            f"input {item.name}: {item.path} ({where}) does not exist under {script_dir}; "
            f"run the rewrite next to the data, or pass --data {item.name}=PATH"
        )
    return [_sample_file(item.name, item.path, path, rows, rng)]


def _sample_file(name: str, relative: str, path: Path, rows: int, rng: random.Random) -> SampledInput:
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        records = _records(path.read_bytes())
        total = len(records)
        if total <= rows + HEAD_ROWS:
            return SampledInput(name, relative, str(path), total, total, "whole", b"".join(records))
        chosen = sorted(rng.sample(range(HEAD_ROWS, total), rows))
        picked = records[:HEAD_ROWS] + [records[i] for i in chosen]
        return SampledInput(name, relative, str(path), len(picked), total, "sample", b"".join(picked))
    if suffix in (".parquet", ".pq"):
        return _sample_parquet(name, relative, path, rows, rng)
    if suffix == ".npy":
        import io

        import numpy as np

        array = np.load(path, allow_pickle=False)
        total = len(array) if array.ndim else 1
        if array.ndim and total > rows + HEAD_ROWS:
            index = list(range(HEAD_ROWS)) + sorted(rng.sample(range(HEAD_ROWS, total), rows))
            array = array[index]
        buffer = io.BytesIO()
        np.save(buffer, array)
        how = "sample" if array.ndim and len(array) < total else "whole"
        return SampledInput(name, relative, str(path), len(array) if array.ndim else 1, total, how, buffer.getvalue())
    if path.stat().st_size <= _WHOLE_FILE_LIMIT:
        return SampledInput(name, relative, str(path), None, None, "whole", path.read_bytes())
    raise SamplingError(
        f"input {name}: {relative} is a {suffix or 'binary'} file of {path.stat().st_size >> 20} MiB that "
        f"cannot be sampled; pass a smaller file with --data {name}=PATH"
    )


def _records(content: bytes) -> list[bytes]:
    """Lines, with a line break inside a quoted CSV field kept within its record."""
    lines = content.splitlines(keepends=True)
    records: list[bytes] = []
    pending = b""
    for line in lines:
        pending += line
        if pending.count(b'"') % 2 == 0:
            records.append(pending)
            pending = b""
    if pending:
        records.append(pending)
    return records


def _sample_parquet(name: str, relative: str, path: Path, rows: int, rng: random.Random) -> SampledInput:
    import io

    import pyarrow.parquet as pq

    table = pq.read_table(path)
    total = table.num_rows
    how = "whole"
    if total > rows + HEAD_ROWS:
        index = list(range(HEAD_ROWS)) + sorted(rng.sample(range(HEAD_ROWS, total), rows))
        table = table.take(index)
        how = "sample"
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return SampledInput(name, relative, str(path), table.num_rows, total, how, buffer.getvalue())
