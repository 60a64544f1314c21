"""``lester verify-erasure``: prove that a person's data is gone from every file of a store, or
list each place where something of it remains.

A *subject* is one row of a source (a customer), named by its id (``--id``) or by a predicate
(``--where``). What is searched for:

* the subject's **key** (its id: the key column's value, or its position for a source without
  a key), *structurally*: in the columns that hold ids of that source (``prov:<label>``
  provenance columns, the source's key column, the ``source``/``source_id`` pairs of row
  provenance, the ``row_ids`` arrays of a run), where even a short number like ``7`` is a
  real hit and not noise;
* the subject's **identifying values**: the text values of its row in the source (e-mail,
  name, the key itself when it is text) that pass the noise rule below, *anywhere*: in every
  text column and cell, pickled object, JSON document and, as raw bytes, in files that have
  no structure to read (temporary files, the database file's free space, foreign pickles);
* the 16-hex SHA-256 prefixes of those values, which older audit entries wrote in place of
  ``--where`` literals: a hash anyone can recompute from a guess is no erasure.

The noise rule (:data:`MIN_VALUE_LENGTH`): a value counts as identifying when it is text of
at least 5 characters, holds a letter, and no row of the source other than the subjects' own
holds it (compared without case and surrounding blanks). So ``"yes"``, ``"1"``, ``"DE"``, a
date, a number, or a name that ten customers share are never searched by value: they would
match other people's rows, which rightly stay. Values match whole, case-insensitively, between
non-alphanumeric boundaries (``c2@x.org`` inside ``"write to c2@x.org."``, but not inside
``c2@x.org.uk`` ... which *does* match, since ``.`` is a boundary, while ``C00017`` does not
match inside ``C000170``).

Pickles are unpickled only when they are the store's own: a file's HMAC-SHA256 under the
store's key (``keys/pickle.key``) must equal the digest lester recorded when it wrote the file
(``catalog.json`` for a run's ``model.pkl``/``encoder.pkl``, ``<key>.sig`` for a cache entry),
checked by :func:`lester.pipeline.store.load_verified_pickle` before a byte is unpickled. Any
other pickle (unsigned, modified, unknown) is never unpickled: its raw bytes are scanned (a
pickle keeps strings as UTF-8) and it is listed as *unchecked*, because its objects could not
be walked. The store's key file itself is never read as data.

Nothing personal is printed beyond what was asked: a finding names the file, the place in it
(column, row count, the first row numbers, a path into a pickled object, a JSON path) and
*which* value matched by its source column (``customers.customer_email``), never the value
itself. Subjects named by ``--id`` are shown by that id; subjects found by ``--where`` as
``match 1``, ``match 2``, ...

Example:
    >>> report = verify_erasure("customers", ids=["C00017"], store=".lester")  # doctest: +SKIP
    >>> report.clean, [f.path for f in report.findings][:2]                      # doctest: +SKIP
    (False, ['runs/20261123-101500-a1b2c3/train.parquet/part-00000.parquet', 'cache/4f...pkl'])
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lester.errors import LesterError
from lester.pipeline.catalog import RECORD_FILE, recorded_digest
from lester.pipeline.store import (
    KEY_FILE,
    ArtifactStore,
    PickleIntegrityError,
    load_verified_pickle,
    open_store,
    read_pickle_key,
)

__all__ = [
    "MIN_VALUE_LENGTH",
    "ErasureError",
    "ErasureReport",
    "Finding",
    "Subject",
    "Unchecked",
    "verify_erasure",
]

# The noise rule (see the module docstring): shorter values, values without a letter and values
# another row of the source holds are not searched by value.
MIN_VALUE_LENGTH = 5
# Bounds on walking one unpickled object: a model's arrays can be large, but a store's objects
# are not deep; past these the object is listed as unchecked rather than half-scanned silently.
MAX_DEPTH = 40
MAX_NODES = 2_000_000
# Files larger than this are read for raw bytes in pieces of this size (with an overlap).
RAW_PIECE = 64 << 20
# How many row numbers a finding quotes.
QUOTED_ROWS = 5

_WORD = "0-9A-Za-z"


class ErasureError(LesterError, ValueError):
    """A verify-erasure request is malformed or names something the store does not know."""


@dataclass
class Subject:
    """One person (one source row) to look for. ``values`` are kept out of every report."""

    label: str  # how reports name the subject: the id as given, or "match N" for --where
    key: str  # the id as text, as the catalog stores ids
    values: dict[str, str] = field(default_factory=dict, repr=False)  # "source.column" -> value
    in_source: bool = True  # False: an --id the source no longer has (only its key is searched)


@dataclass
class Finding:
    """One place where something of a subject remains."""

    path: str  # relative to the store
    kind: str  # parquet, npy, npz, pickle, json, catalog, bytes
    category: str  # data, cache, request record, temporary, free space, secret-free metadata
    subject: str
    what: str  # "key" or the source column whose value matched ("customers.customer_email"),
    # with " (sha256 prefix)" for a hashed value
    where: str  # column / pickle path / JSON path / table.column
    count: int = 1  # matching rows or cells

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Unchecked:
    """A file whose contents could not be fully checked (a foreign pickle, a locked database)."""

    path: str
    reason: str


@dataclass
class ErasureReport:
    """The outcome of :func:`verify_erasure`. ``clean`` when nothing was found and every file
    could be checked; ``exit_code`` is what ``lester verify-erasure`` exits with."""

    store: str
    source: str
    subjects: list[str]
    searched: dict[str, list[str]]  # subject -> what is searched ("key", "customers.customer_email")
    findings: list[Finding]
    unchecked: list[Unchecked]
    files: int
    bytes: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    rule: str = ""

    @property
    def clean(self) -> bool:
        return not self.findings and not self.unchecked

    @property
    def exit_code(self) -> int:
        """0 clean, 1 something remains, 3 nothing found but some file could not be checked."""
        if self.findings:
            return 1
        return 3 if self.unchecked else 0

    def places(self) -> list[str]:
        """The files where something remains, each once, in order."""
        return list(dict.fromkeys(f.path for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store, "source": self.source, "clean": self.clean, "exit_code": self.exit_code,
            "subjects": self.subjects, "searched": self.searched,
            "findings": [f.as_dict() for f in self.findings],
            "unchecked": [asdict(u) for u in self.unchecked],
            "files_scanned": self.files, "bytes_scanned": self.bytes, "seconds": self.seconds,
            "notes": self.notes, "rule": self.rule,
        }

    def __repr__(self) -> str:
        state = "clean" if self.clean else f"{len(self.findings)} finding(s) in {len(self.places())} file(s)"
        return f"<ErasureReport {self.source} {self.subjects}: {state}>"


RULE = (f"identifying values: text of at least {MIN_VALUE_LENGTH} characters with a letter that no other row "
        "of the source holds (matched whole, without case); the key is also matched exactly in id columns")


# ----------------------------------------------------------------------------- subjects
def _source_runs(store: ArtifactStore, source: str) -> list[dict[str, Any]]:
    """The catalog's ``sources`` rows for ``source`` (by name or label), newest run first."""
    frame = store.catalog.query(
        "SELECT s.run_id, s.label, s.name, s.path, s.fingerprint, s.key_column, s.rows, r.folder "
        "FROM sources s JOIN runs r USING (run_id) WHERE s.name = ? OR s.label = ? "
        "ORDER BY r.created DESC, s.run_id DESC", [source, source])
    return frame.to_dict(orient="records")


def _read_source(record: Mapping[str, Any]) -> tuple[Any, np.ndarray, str]:
    """The source's rows and ids as the run's pipeline reads them (same parsing); when the
    pipeline cannot be loaded, the recorded file read directly, every column as text."""
    import pandas as pd

    from lester.ivm.requests import loaded_source
    from lester.ivm.versions import StoredRun

    stored = StoredRun(str(record["run_id"]), Path(record["folder"]))
    try:
        rows, ids, origin = loaded_source(stored, str(record["name"]), {})
        return rows, np.asarray(ids), str(origin.path or record["path"])
    except Exception:  # noqa: BLE001 - the pipeline may be gone; the file may still be there
        path = str(record["path"])
        try:
            if path.endswith(".parquet"):
                rows = pd.read_parquet(path)
            else:
                rows = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as error:
            raise ErasureError(
                f"cannot read the source {record['name']} ({path}) to learn the subject's values: {error}; "
                "the source must still hold the subject's row (verify before deleting it from the source), "
                "or name the subject by --id to search for its key only") from error
        key = record.get("key_column")
        ids = rows[key].to_numpy() if key and key in rows.columns else np.arange(len(rows))
        return rows, ids, path


def _normal(value: Any) -> str | None:
    """A cell as the text the noise rule compares (None: not text)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text.casefold() if text else None


def _identifying(value: Any) -> bool:
    text = value.strip() if isinstance(value, str) else ""
    return len(text) >= MIN_VALUE_LENGTH and any(c.isalpha() for c in text)


def resolve_subjects(
    store: ArtifactStore, source: str, ids: Sequence[Any] | None, where: str | None
) -> tuple[list[Subject], list[str], set[str], set[str]]:
    """The subjects of a request, with their identifying values read from the source; also
    notes, the provenance labels the source has in the store's runs and its key columns."""
    from lester.ivm.requests import id_mask

    if (ids is None) == (where is None):
        raise ErasureError("name the subject either by id (--id/ids=) or by a predicate (--where/where=), not both")
    if ids is not None and not len(ids):
        raise ErasureError("ids is empty: name at least one subject")
    records = _source_runs(store, source)
    labels = {source} | {str(r["label"]) for r in records} | {str(r["name"]) for r in records}
    keys = {str(r["key_column"]) for r in records if r.get("key_column")}
    notes: list[str] = []
    if not records:
        if where is not None:
            known = store.catalog.query("SELECT DISTINCT name FROM sources ORDER BY name")["name"].tolist()
            raise ErasureError(
                f"no stored run read a source named {source!r}, so its rows cannot be read to evaluate --where; "
                f"the stored runs read {known or 'no source (the store holds no runs)'}; name the subject by "
                "--id to search for its key")
        notes.append(f"no stored run reads {source!r} any more: only the ids given are searched, not their values")
        return [Subject(str(i), str(i), {}, in_source=False) for i in ids], notes, labels, keys
    # one read per distinct file (runs of one pipeline share it)
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        seen.setdefault((str(record["path"]), str(record["fingerprint"])), record)
    wanted = None if ids is None else [str(i) for i in ids]
    if wanted is not None and not keys:
        # rows of a source without a key are named by position: a value given instead would
        # search for nothing and report the store clean
        largest = max(int(r.get("rows") or 0) for r in records) if "rows" in records[0] else None
        bad = [t for t in wanted if not re.fullmatch(r"0|[1-9][0-9]*", t)
               or (largest is not None and int(t) >= largest)]
        if bad:
            name = records[0]["name"]
            raise ErasureError(
                f"{name} has no key column: its rows are identified by their position in the file, and "
                f"{len(bad)} of the {len(wanted)} ids given are no position of it; to name the subject by a "
                f"column's value use --where (where=), e.g. --where \"customer_id = 'C00017'\"")
    found: dict[str, Subject] = {}
    matched_any = False
    for record in seen.values():
        rows, source_ids, path = _read_source(record)
        if where is not None:
            from lester.ivm.predicate import select_matching
            from lester.ivm.requests import RequestError

            try:
                texts = select_matching(rows, source_ids, where, path)
            except RequestError as error:
                raise ErasureError(str(error)) from None
        else:
            texts = set(wanted)
        mask = id_mask(source_ids, texts) if texts else np.zeros(len(source_ids), dtype=bool)
        matched_any = matched_any or bool(mask.any())
        mine = rows[mask]
        others = rows[~mask]
        for (_, row), sid in zip(mine.iterrows(), np.asarray(source_ids)[mask], strict=True):
            key = str(sid)
            subject = found.setdefault(key, Subject(key, key))
            for column, value in row.items():
                if not _identifying(value) or value.strip().casefold() == key.strip().casefold():
                    continue  # too short or common to search; the key is searched as the key
                normal = _normal(value)
                held = others[column] if column in others.columns else None
                if held is not None and (held.dtype == object or str(held.dtype).startswith(("string", "str"))) \
                        and (held.astype("string").str.strip().str.casefold() == normal).any():
                    continue  # someone else has it too: searching it would find them
                subject.values.setdefault(f"{record['name']}.{column}", value.strip())
    if where is not None and not matched_any:
        raise ErasureError(f"--where {where!r} matched no row of {source} ({', '.join(p for p, _ in seen)}); "
                           "the subject's values cannot be learnt from the source: name it by --id to search "
                           "for its key")
    subjects: list[Subject] = []
    if wanted is not None:
        for text in wanted:
            subject = found.get(text)
            if subject is None:
                subject = Subject(text, text, {}, in_source=False)
                notes.append(f"{source} has no row with id {text} now: only that id is searched, not its values")
            subjects.append(subject)
    else:
        for number, key in enumerate(sorted(found), start=1):
            subject = found[key]
            subject.label = f"match {number}"
            subjects.append(subject)
    return subjects, notes, labels, keys


# ----------------------------------------------------------------------------- matching
@dataclass
class _Term:
    text: str  # as searched
    subject: str
    what: str


class Matcher:
    """What to look for, compiled once: values by text (pyarrow RE2 and Python regexes, bytes
    in UTF-8, JSON escapes and UTF-32, the form numpy stores text in), keys by exact id."""

    def __init__(self, subjects: Sequence[Subject], labels: Iterable[str], key_columns: Iterable[str]):
        self.labels = set(labels)
        self.key_columns = set(key_columns)
        self.id_columns = {f"prov:{label}" for label in self.labels} | self.key_columns
        self.keys: dict[str, list[str]] = defaultdict(list)  # key text -> subjects
        terms: list[_Term] = []
        for subject in subjects:
            self.keys[subject.key].append(subject.label)
            if _identifying(subject.key):
                terms.append(_Term(subject.key, subject.label, "key"))
            for what, value in subject.values.items():
                if value.casefold() != subject.key.strip().casefold():
                    terms.append(_Term(value, subject.label, what))
            for text, what in [(subject.key, "key"), *((v, w) for w, v in subject.values.items())]:
                digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]
                terms.append(_Term(digest, subject.label, f"{what} (sha256 prefix)"))
                if text.strip() != text:
                    digest = "sha256:" + hashlib.sha256(text.strip().encode()).hexdigest()[:16]
                    terms.append(_Term(digest, subject.label, f"{what} (sha256 prefix)"))
        self.terms = terms
        self.by_text: dict[str, list[_Term]] = defaultdict(list)
        for term in terms:
            self.by_text[term.text.casefold()].append(term)
        alternatives = sorted({re.escape(t.text) for t in terms}, key=len, reverse=True)
        self.empty = not alternatives
        body = "|".join(alternatives) or "(?!)"
        self.regex = re.compile(f"(?<![{_WORD}])({body})(?![{_WORD}])", re.IGNORECASE)
        # RE2 (pyarrow) has no look-around: boundaries are matched as characters
        self.re2 = f"(?:^|[^{_WORD}])(?:{body})(?:[^{_WORD}]|$)"
        self.byte_patterns = self._byte_patterns(terms)
        self.needles = sorted({form for t in terms for text in {t.text, t.text.lower()}
                               for form in (text.encode().lower(), json.dumps(text)[1:-1].encode().lower(),
                                            text.encode("utf-32-le").lower())})

    @staticmethod
    def _byte_patterns(terms: Sequence[_Term]) -> list[tuple[re.Pattern[bytes], str]]:
        patterns: list[tuple[re.Pattern[bytes], str]] = []
        utf8: dict[bytes, None] = {}
        utf32: dict[bytes, None] = {}
        for term in terms:
            utf8[re.escape(term.text.encode())] = None
            escaped = json.dumps(term.text)[1:-1]
            if escaped != term.text:
                utf8[re.escape(escaped.encode())] = None
            # numpy keeps text as UTF-32: case folding by hand, one alternative per letter
            parts = []
            for char in term.text:
                forms = {char.lower(), char.upper()} if char.isalpha() else {char}
                options = [re.escape(f.encode("utf-32-le")) for f in sorted(forms)]
                parts.append(options[0] if len(options) == 1 else b"(?:" + b"|".join(options) + b")")
            utf32[b"".join(parts)] = None
        if utf8:
            boundary = _WORD.encode()
            body = b"|".join(sorted(utf8, key=len, reverse=True))
            patterns.append((re.compile(b"(?<![" + boundary + b"])(" + body + b")(?![" + boundary + b"])",
                                        re.IGNORECASE), "utf-8"))
        if utf32:
            patterns.append((re.compile(b"(" + b"|".join(sorted(utf32, key=len, reverse=True)) + b")"), "utf-32"))
        return patterns

    # -- text
    def text_terms(self, text: str) -> list[_Term]:
        """The terms found in one text."""
        if self.empty or not text:
            return []
        out = []
        for match in self.regex.finditer(text):
            out.extend(self.by_text.get(match.group(1).casefold(), ()))
        return out

    def bytes_terms(self, data: bytes) -> list[_Term]:
        # a plain search of the lowered bytes first (bytes.lower lowers ASCII letters in UTF-8
        # and in UTF-32 alike): the regexes, much slower, run only on data that may match
        lowered = data.lower()
        if not any(needle in lowered for needle in self.needles):
            return []
        found: list[_Term] = []
        for pattern, encoding in self.byte_patterns:
            for match in pattern.finditer(data):
                raw = match.group(1)
                try:
                    text = raw.decode("utf-32-le" if encoding == "utf-32" else "utf-8")
                except UnicodeDecodeError:
                    continue
                if encoding == "utf-8" and "\\" in text:
                    try:
                        text = json.loads(f'"{text}"')
                    except ValueError:
                        pass
                found.extend(self.by_text.get(text.casefold(), ()))
        return found

    # -- columns (pyarrow arrays)
    def column_hits(self, name: str, values: Any, structural: bool) -> list[tuple[str, str, int, list[int]]]:
        """``(subject, what, count, first rows)`` for one column. ``structural``: the column
        holds this source's ids, so keys are compared exactly."""
        import pyarrow as pa
        import pyarrow.compute as pc

        array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else _arrow_text(values)
        if array is None:
            return []
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks else pa.array([], pa.string())
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        hits: dict[tuple[str, str], list[int]] = defaultdict(list)
        if structural and self.keys:
            try:
                as_text = array.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                as_text = None
            if as_text is not None:
                mask = pc.is_in(as_text, value_set=pa.array(sorted(self.keys), pa.string()))
                rows = np.flatnonzero(mask.fill_null(False).to_numpy(zero_copy_only=False))
                if len(rows):
                    texts = as_text.take(pa.array(rows)).to_pylist()
                    for row, text in zip(rows.tolist(), texts, strict=True):
                        for subject in self.keys[text]:
                            hits[(subject, "key")].append(row)
        if not self.empty and (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
                               or pa.types.is_string_view(array.type)):
            mask = pc.match_substring_regex(array, pattern=self.re2, ignore_case=True)
            rows = np.flatnonzero(mask.fill_null(False).to_numpy(zero_copy_only=False))
            if len(rows):
                texts = array.take(pa.array(rows)).to_pylist()
                for row, text in zip(rows.tolist(), texts, strict=True):
                    for term in {(t.subject, t.what) for t in self.text_terms(text)}:
                        if not (structural and term[1] == "key" and row in hits.get(term, ())):
                            hits[term].append(row)
        return [(subject, what, len(rows), sorted(set(rows))[:QUOTED_ROWS])
                for (subject, what), rows in hits.items()]


def _arrow_text(values: Any) -> Any:
    """A column (numpy array, pandas Series or Index, list) as a pyarrow array: text stays
    text, numbers stay numbers (for exact key matching), anything else is its ``str``."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(values, (pd.Series, pd.Index)):
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        array = array.reshape(-1)
    if array.dtype.kind in "iub":
        return pa.array(array.astype(np.int64))
    if array.dtype.kind == "f":
        return pa.array(array)
    if array.dtype.kind in "US":
        return pa.array(array.astype(str))
    if array.dtype.kind == "O":
        texts = [v if isinstance(v, str) else (None if v is None else str(v)) for v in array.tolist()]
        return pa.array(texts, pa.string())
    return None


# ----------------------------------------------------------------------------- scanning
class _Scanner:
    def __init__(self, store: ArtifactStore, matcher: Matcher):
        self.store = store
        self.root = store.root
        self.matcher = matcher
        self.findings: list[Finding] = []
        self.unchecked: list[Unchecked] = []
        self.files = 0
        self.bytes = 0
        self.key = read_pickle_key(self.root)
        self._records: dict[Path, dict[str, Any] | None] = {}

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    def add(self, path: Path, kind: str, category: str, subject: str, what: str, where: str, count: int = 1) -> None:
        self.findings.append(Finding(self.rel(path), kind, category, subject, what, where, int(count)))

    # which files, and what they are
    def files_of_store(self) -> Iterator[Path]:
        for top, folders, files in os.walk(self.root):
            folders.sort()
            for name in sorted(files):
                path = Path(top) / name
                if path.parent == self.root / KEY_FILE.parent or path.is_symlink():
                    continue  # the store's keys are secrets, not data; links point elsewhere
                yield path

    def category(self, path: Path) -> str:
        rel = self.rel(path)
        parts = rel.split("/")
        if any(p.startswith(".") for p in parts[:-1]) or rel.endswith((".partial", ".sig-partial")) \
                or parts[-1].startswith(".") and parts[-1] != ".gitignore":
            return "temporary"
        if parts[0] == "cache":
            return "cache"
        return "data"

    def scan(self) -> None:
        by_inode: dict[tuple[int, int], list[Finding]] = {}
        for path in self.files_of_store():
            try:
                stat = path.stat()
            except OSError:
                continue
            self.files += 1
            inode = (stat.st_dev, stat.st_ino)
            if inode in by_inode:  # a hard link: the same bytes, remaining at another path too
                for finding in by_inode[inode]:
                    self.findings.append(Finding(self.rel(path), finding.kind, self.category(path), finding.subject,
                                                 finding.what, finding.where, finding.count))
                continue
            self.bytes += stat.st_size
            before = len(self.findings)
            try:
                self.scan_file(path)
            except Exception as error:  # noqa: BLE001 - one unreadable file must not hide the others
                self.unchecked.append(Unchecked(self.rel(path), f"could not be read ({type(error).__name__}: "
                                                                f"{str(error).splitlines()[0][:200] if str(error) else ''})"))
                self.scan_raw(path, "bytes", self.category(path))
            by_inode[inode] = self.findings[before:]

    def scan_file(self, path: Path) -> None:
        name = path.name
        category = self.category(path)
        if category == "temporary" and not name.endswith(".parquet"):
            self.scan_raw(path, "bytes", category)
        elif name.endswith(".parquet"):
            self.scan_parquet(path, category)
        elif name.endswith(".npy"):
            self.scan_npy(path, category)
        elif name.endswith(".npz"):
            self.scan_npz(path, category)
        elif name.endswith((".pkl", ".pickle", ".joblib")):
            self.scan_pickle(path, category)
        elif name.endswith(".json"):
            self.scan_json(path, category)
        elif name == "catalog.duckdb" or name.endswith(".duckdb"):
            self.scan_database(path)
        else:  # toml, sig, lock, logs, wal files, anything else: as bytes
            self.scan_raw(path, "bytes", category)

    # raw bytes
    def scan_raw(self, path: Path, kind: str, category: str, *, skip: set[tuple[str, str]] | None = None,
                 where: str = "raw bytes") -> None:
        if self.matcher.empty:
            return
        counts: dict[tuple[str, str], int] = defaultdict(int)
        longest = max((len(t.text) for t in self.matcher.terms), default=0) * 4 + 16
        with open(path, "rb") as handle:
            tail = b""
            while True:
                piece = handle.read(RAW_PIECE)
                if not piece:
                    break
                data = tail + piece
                for term in self.matcher.bytes_terms(data):
                    counts[(term.subject, term.what)] += 1
                tail = data[-longest:]
                if len(piece) < RAW_PIECE:
                    break
        for (subject, what), count in counts.items():
            if skip and (subject, what) in skip:
                continue
            self.add(path, kind, category, subject, what, where, count)

    # tables
    def _structural(self, name: str) -> bool:
        return name in self.matcher.id_columns

    def scan_table(self, path: Path, kind: str, category: str, columns: Iterable[tuple[str, Any]],
                   prefix: str = "") -> None:
        columns = list(columns)
        names = [n for n, _ in columns]
        provenance = "source" in names and "source_id" in names
        for name, values in columns:
            for subject, what, count, rows in self.matcher.column_hits(name, values, self._structural(name)):
                if provenance and name == "source_id" and what == "key":
                    continue  # found below, where the source column says whose id it is
                self.add(path, kind, category, subject, what, f"{prefix}column {name!r}, {_rows(count, rows)}", count)
        if "source" in names and "source_id" in names:  # row provenance: ids of this source
            import pyarrow as pa
            import pyarrow.compute as pc

            source = dict(columns)["source"]
            ids = dict(columns)["source_id"]
            source = source if isinstance(source, (pa.Array, pa.ChunkedArray)) else _arrow_text(source)
            ids = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else _arrow_text(ids)
            mine = pc.is_in(source.cast(pa.string()), value_set=pa.array(sorted(self.matcher.labels), pa.string()))
            mask = mine.fill_null(False)
            if isinstance(mask, pa.ChunkedArray):
                mask = mask.combine_chunks()
            rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
            if len(rows) and self.matcher.keys:
                texts = ids.cast(pa.string()).take(pa.array(rows)).to_pylist()
                hits: dict[str, list[int]] = defaultdict(list)
                for row, text in zip(rows.tolist(), texts, strict=True):
                    for subject in self.matcher.keys.get(text, ()):
                        hits[subject].append(row)
                for subject, found in hits.items():
                    self.add(path, kind, category, subject, "key",
                             f"{prefix}column 'source_id' (provenance), {_rows(len(found), found)}", len(found))

    def scan_parquet(self, path: Path, category: str) -> None:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        self.scan_table(path, "parquet", category, ((n, table.column(n)) for n in table.column_names))

    def _provenance_columns(self, folder: Path) -> list[str] | None:
        """The provenance labels of a run folder's ``row_ids`` arrays (from its run.json)."""
        try:
            return list(json.loads((folder / "run.json").read_text())["provenance_columns"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def scan_npy(self, path: Path, category: str) -> None:
        array = np.load(path, allow_pickle=False, mmap_mode="r")
        if path.name.startswith("row_ids_") and array.ndim == 2:
            labels = self._provenance_columns(path.parent) or []
            for index in range(array.shape[1]):
                name = labels[index] if index < len(labels) else f"#{index}"
                for subject, what, count, rows in self.matcher.column_hits(
                        name, np.asarray(array[:, index]), structural=name in self.matcher.id_columns or not labels):
                    self.add(path, "npy", category, subject, what, f"column {name!r}, {_rows(count, rows)}", count)
            return
        self.scan_array(path, "npy", category, array, "array")

    def scan_array(self, path: Path, kind: str, category: str, array: np.ndarray, where: str) -> None:
        if array.dtype.kind not in "USO":
            return  # numbers: features, labels, model statistics hold no text; keys are checked in id columns
        for subject, what, count, rows in self.matcher.column_hits(where, np.asarray(array).reshape(-1), False):
            self.add(path, kind, category, subject, what, f"{where}, {_rows(count, rows, 'elements')}", count)

    def scan_npz(self, path: Path, category: str) -> None:
        with np.load(path, allow_pickle=False) as data:
            for name in data.files:
                self.scan_array(path, "npz", category, data[name], f"array {name!r}")

    # JSON documents (run.json, catalog.json)
    def scan_json(self, path: Path, category: str) -> None:
        try:
            document = json.loads(path.read_text())
        except (UnicodeDecodeError, ValueError):
            self.scan_raw(path, "bytes", category)
            return
        for subject, what, where in self.walk_json(document, "$"):
            top = where.split(".")[1].split("[")[0] if "." in where else ""
            kind = "request record" if top in ("ivm_changes", "derived_by", "audit") else category
            self.add(path, "json", kind, subject, what, where)

    def walk_json(self, value: Any, where: str) -> Iterator[tuple[str, str, str]]:
        if isinstance(value, dict):
            for key, item in value.items():
                label = key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_:]{0,40}", str(key)) and not \
                    self.matcher.text_terms(str(key)) else "<key>"
                yield from self.walk_json(item, f"{where}.{label}")
                if not isinstance(key, str):
                    continue
                for term in self.matcher.text_terms(key):
                    yield term.subject, term.what, f"{where} (a key)"
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from self.walk_json(item, f"{where}[{index}]")
        elif isinstance(value, str):
            for term in {(t.subject, t.what) for t in self.matcher.text_terms(value)}:
                yield term[0], term[1], where
            # a JSON list of ids (a request's ids, a lineage's changes): a key given as text
            if value in self.matcher.keys and not _identifying(value) and re.search(r"\.ids\[\d+\]$", where):
                for subject in self.matcher.keys[value]:
                    yield subject, "key", where
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and re.search(r"\.ids\[\d+\]$", where):
            text = str(value)
            for subject in self.matcher.keys.get(text, ()):
                yield subject, "key", where

    def matcher_key(self, subject: str) -> str:
        return next((k for k, labels in self.matcher.keys.items() if subject in labels), "")

    # pickles
    def _record(self, folder: Path) -> dict[str, Any] | None:
        if folder not in self._records:
            try:
                self._records[folder] = json.loads((folder / RECORD_FILE).read_text())
            except (OSError, ValueError):
                self._records[folder] = None
        return self._records[folder]

    def _digest(self, path: Path) -> str | None:
        """The digest lester recorded for a pickle of the store, or None for a foreign one."""
        signature = path.with_suffix(".sig")
        if path.parent == self.root / "cache":
            try:
                return signature.read_text().strip()
            except OSError:
                return None
        record = self._record(path.parent)
        return recorded_digest(record, path.name) if record else None

    def scan_pickle(self, path: Path, category: str) -> None:
        digest = self._digest(path)
        if digest is None:
            self.unchecked.append(Unchecked(self.rel(path), "a pickle lester did not record a digest for: not "
                                                            "unpickled (it could run code); its raw bytes were scanned"))
            self.scan_raw(path, "bytes", category)
            return
        try:
            value = load_verified_pickle(path, digest, self.key)
        except PickleIntegrityError as error:
            self.unchecked.append(Unchecked(self.rel(path), f"not unpickled: {str(error).split(': ', 1)[-1]}; "
                                                            "its raw bytes were scanned"))
            self.scan_raw(path, "bytes", category)
            return
        if path.parent == self.root / "cache" and isinstance(value, tuple) and len(value) == 2:
            value = value[1]  # (cache key, value)
        walker = _Walker(self, path, category)
        walker.walk(value, "", 0)
        if walker.truncated:
            self.unchecked.append(Unchecked(self.rel(path), f"its object is larger than {MAX_NODES} parts or "
                                                            f"deeper than {MAX_DEPTH}; the rest was scanned as raw bytes"))
            self.scan_raw(path, "bytes", category, skip={(f.subject, f.what) for f in self.findings
                                                         if f.path == self.rel(path)})

    # the catalog database
    def scan_database(self, path: Path) -> None:
        import duckdb

        found: set[tuple[str, str]] = set()
        con = None
        deadline = time.monotonic() + 5.0
        while con is None:
            try:
                con = duckdb.connect(str(path), read_only=True)
            except duckdb.Error as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    self.unchecked.append(Unchecked(self.rel(path), f"could not be opened "
                                                                    f"({str(error).splitlines()[0][:160]}); its raw "
                                                                    "bytes were scanned"))
                    self.scan_raw(path, "bytes", "data")
                    return
                time.sleep(0.05)
        try:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY ALL").fetchall()
            before = len(self.findings)
            for schema, table in tables:
                arrow = con.sql(f'SELECT * FROM "{schema}"."{table}"').to_arrow_table()
                category = "request record" if "audit" in table else "data"
                self.scan_table(path, "catalog", category, ((n, arrow.column(n)) for n in arrow.column_names),
                                prefix=f"table {table}: ")
                # JSON cells (a request's ids) are read as documents: an id in a list is a key
                for name in arrow.column_names:
                    if not _is_text_type(arrow.column(name).type):
                        continue
                    for row, cell in enumerate(arrow.column(name).to_pylist()):
                        if not (isinstance(cell, str) and cell[:1] in "{["):
                            continue
                        try:
                            document = json.loads(cell)
                        except ValueError:
                            continue
                        for subject, what, where in self.walk_json(document, "$"):
                            if what == "key" and not _identifying(self.matcher_key(subject)):
                                self.add(path, "catalog", category, subject, what,
                                         f"table {table}: column {name!r}, row {row}, {where}")
            found = {(f.subject, f.what) for f in self.findings[before:]}
        finally:
            con.close()
        # deleted rows stay in the file's free blocks until they are overwritten
        self.scan_raw(path, "bytes", "free space", skip=found, where="raw bytes outside any table row "
                                                                     "(deleted, not yet overwritten)")


def _is_text_type(kind: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _rows(count: int, rows: Sequence[int], noun: str = "rows") -> str:
    shown = ", ".join(str(r) for r in list(rows)[:QUOTED_ROWS])
    more = ", ..." if count > len(list(rows)[:QUOTED_ROWS]) else ""
    return f"{count} {noun if count != 1 else noun[:-1]} (at {shown}{more})"


class _Walker:
    """Walks one unpickled object (a model, an encoder, a cached stage's value) for the
    subject's keys and values; paths name attributes and positions, never a data value."""

    def __init__(self, scanner: _Scanner, path: Path, category: str):
        self.scanner = scanner
        self.path = path
        self.category = category
        self.seen: set[int] = set()
        self.nodes = 0
        self.truncated = False
        self.text_hits: dict[tuple[str, str, str], int] = defaultdict(int)

    def report(self, where: str, subject: str, what: str, count: int = 1) -> None:
        self.scanner.add(self.path, "pickle", self.category, subject, what, where or "(the object)", count)

    def walk(self, value: Any, where: str, depth: int) -> None:
        import pandas as pd
        import scipy.sparse as sp

        if value is None or isinstance(value, (bool, int, float, complex)):
            return
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            self.truncated = True
            return
        if isinstance(value, str):
            for subject, what in {(t.subject, t.what) for t in self.scanner.matcher.text_terms(value)}:
                self.report(where, subject, what)
            return
        if isinstance(value, (bytes, bytearray)):
            for subject, what in {(t.subject, t.what) for t in self.scanner.matcher.bytes_terms(bytes(value))}:
                self.report(where, subject, what)
            return
        marker = id(value)
        if marker in self.seen:
            return
        self.seen.add(marker)
        if isinstance(value, pd.DataFrame):
            self.scanner.scan_table(self.path, "pickle", self.category,
                                    ((str(c), value[c]) for c in value.columns), prefix=f"{where or '(frame)'}: ")
            self.walk_labels(value.columns, f"{where}.columns", depth)
            return
        if isinstance(value, (pd.Series, pd.Index)):
            name = str(value.name) if value.name is not None else ""
            for subject, what, count, rows in self.scanner.matcher.column_hits(
                    name, value, self.scanner._structural(name)):
                self.report(f"{where}: {_rows(count, rows, 'elements')}", subject, what, count)
            return
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "US":
                self.array_hits(value, where)
            elif value.dtype.kind == "O":
                flat = value.reshape(-1)
                texts = [v for v in flat.tolist() if isinstance(v, str)]
                if texts:
                    self.array_hits(np.array(texts, dtype=object), where)
                for index, item in enumerate(flat.tolist()):
                    if not isinstance(item, (str, int, float, bool)) and item is not None:
                        self.walk(item, f"{where}[{index}]", depth + 1)
            return
        if sp.issparse(value):
            return
        if isinstance(value, Mapping):
            small = len(value) <= 64
            for index, (key, item) in enumerate(value.items()):
                shown = (f"[{key!r}]" if small and isinstance(key, str) and key.isidentifier() and len(key) <= 40
                         and not self.scanner.matcher.text_terms(key) else f"[<key #{index}>]")
                if isinstance(key, str):
                    for subject, what in {(t.subject, t.what) for t in self.scanner.matcher.text_terms(key)}:
                        self.report(f"{where}[<key #{index}>] (a key)", subject, what)
                elif not isinstance(key, (int, float, bool)) and key is not None:
                    self.walk(key, f"{where}[<key #{index}>]", depth + 1)
                self.walk(item, f"{where}{shown}", depth + 1)
            return
        if isinstance(value, (list, tuple)):
            if value and all(isinstance(v, str) for v in value[:64]) and len(value) > 64:
                self.array_hits(np.array(value, dtype=object), where)
                rest = [(i, v) for i, v in enumerate(value) if not isinstance(v, str)]
            else:
                rest = list(enumerate(value))
            for index, item in rest:
                self.walk(item, f"{where}[{index}]", depth + 1)
            return
        if isinstance(value, (set, frozenset)):
            for index, item in enumerate(sorted(value, key=repr)):
                self.walk(item, f"{where}{{#{index}}}", depth + 1)
            return
        if callable(value) and not hasattr(value, "__dict__") or isinstance(value, type):
            return
        if _is_arrow(value):
            self.walk_arrow(value, where)
            return
        state = getattr(value, "__dict__", None)
        if isinstance(state, dict):
            for name, item in state.items():
                self.walk(item, f"{where}.{name}", depth + 1)
        for name in _slots(value):
            try:
                self.walk(getattr(value, name), f"{where}.{name}", depth + 1)
            except AttributeError:
                continue

    def walk_labels(self, labels: Any, where: str, depth: int) -> None:
        for subject, what, count, rows in self.scanner.matcher.column_hits("", labels, False):
            self.report(f"{where}: {_rows(count, rows, 'elements')}", subject, what, count)

    def array_hits(self, array: np.ndarray, where: str) -> None:
        for subject, what, count, rows in self.scanner.matcher.column_hits("", array.reshape(-1), False):
            self.report(f"{where}: {_rows(count, rows, 'elements')}", subject, what, count)

    def walk_arrow(self, value: Any, where: str) -> None:
        import pyarrow as pa

        if isinstance(value, pa.Table):
            self.scanner.scan_table(self.path, "pickle", self.category,
                                    ((n, value.column(n)) for n in value.column_names), prefix=f"{where}: ")
        elif isinstance(value, (pa.Array, pa.ChunkedArray)):
            for subject, what, count, rows in self.scanner.matcher.column_hits("", value, False):
                self.report(f"{where}: {_rows(count, rows, 'elements')}", subject, what, count)


def _is_arrow(value: Any) -> bool:
    return type(value).__module__.startswith("pyarrow")


def _slots(value: Any) -> list[str]:
    names: list[str] = []
    for klass in type(value).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else [s for s in slots if s not in ("__dict__", "__weakref__")])
    return names


# ----------------------------------------------------------------------------- the API
def verify_erasure(
    source: str,
    ids: Sequence[Any] | None = None,
    *,
    where: str | None = None,
    store: str | os.PathLike | ArtifactStore = ".lester",
) -> ErasureReport:
    """Scan every file of the store for what remains of the subjects (rows of ``source``
    named by ``ids`` or by ``where``): their key in id columns, their identifying values
    anywhere (see the module docstring for the noise rule and for how pickles are opened).

    Parameters
    ----------
    source : str
        The source the subjects are rows of, as the catalog names it (``customers``).
    ids : sequence, optional
        The subjects' ids (key values, or positions for a source without a key).
    where : str, optional
        A SQL predicate over the source's columns choosing the subjects, evaluated on the
        source as the stored runs read it.
    store : path or ArtifactStore
        The store (default ``.lester``); it must exist.

    Returns
    -------
    ErasureReport
        ``clean`` when nothing remains; ``findings`` lists each place (file, kind, subject,
        which value, where in the file).

    Raises
    ------
    ErasureError
        The subjects are not named exactly one way, ``where`` matches no row or is refused, or
        the source cannot be read.
    StoreNotFoundError
        ``store`` holds no store.
    """
    started = time.perf_counter()
    artifacts = store if isinstance(store, ArtifactStore) else open_store(store, create=False)
    subjects, notes, labels, keys = resolve_subjects(artifacts, source, ids, where)
    matcher = Matcher(subjects, labels, keys)
    scanner = _Scanner(artifacts, matcher)
    scanner.scan()
    searched = {s.label: ["key", *sorted(s.values)] for s in subjects}
    findings = sorted(scanner.findings, key=lambda f: (f.path, f.subject, f.what, f.where))
    return ErasureReport(str(artifacts.root), source, [s.label for s in subjects], searched, findings,
                         scanner.unchecked, scanner.files, scanner.bytes, time.perf_counter() - started,
                         notes, RULE)
