"""Run configuration of a lester pipeline (``lester.toml``).

A configuration names the pipeline file, its data sources, how to split the prepared rows, and
the parameters passed to ``make_model(**model)`` and ``encode_features(**features)``::

    include = ["base.toml"]          # optional: a string or a list, relative to this file
    pipeline = "pipeline.py"

    [sources]
    customers = "data/customers.csv"

    [split]
    kind = "group"                   # "random" (default), "group" or "time"
    group = "customer_id"            # kind = "group": one customer never sits on both sides
    test_size = 0.25                 # default 0.2
    seed = 7                         # default 0

    [model]
    C = 0.5

    [engine]                         # optional: where the data preparation runs
    name = "spark"                   # "duckdb" (default), "pandas" or "spark"
    spark_master = "local[4]"        # default $LESTER_SPARK_MASTER or local[*]

Resolution order, later wins: included files (in order, recursively), the file itself, the
caller's ``base`` mapping (command-line ``--source NAME=PATH``), then ``--set key=value``
overrides. Tables merge key by key; scalars and lists replace. Relative paths in ``pipeline`` and
``sources`` are made absolute against the folder of the file that set them (the working directory
for ``base`` and overrides), so a base file kept in another folder still points at its own data.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import difflib
import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from lester.errors import LesterError

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "SPLIT_KINDS",
    "ConfigError",
    "RunConfig",
    "SplitConfig",
    "dumps_toml",
    "load_config",
    "parse_override",
]

DEFAULT_CONFIG_NAME = "lester.toml"
SPLIT_KINDS = ("random", "group", "time")

TOP_LEVEL_KEYS = ("include", "pipeline", "sources", "split", "model", "features", "compliance", "engine")
SPLIT_KEYS = ("kind", "test_size", "seed", "group", "time_column")
# [compliance] is about the store, not the run: kept out of ``raw`` (and so of run fingerprints)
COMPLIANCE_KEYS = ("purge_within",)
# [engine] says where the plan runs, not what it computes (the engines agree): kept out of raw too
ENGINE_KEYS = ("name", "spark_master")
ENGINE_NAMES = ("duckdb", "pandas", "spark")
_SECTIONS = ("sources", "split", "model", "features", "compliance", "engine")

_OVERRIDE_FORM = "section.key=value (for example model.C=0.5 or split.kind=group)"
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


class ConfigError(LesterError, ValueError):
    """A run configuration is missing, malformed, or names an unknown or ill-typed setting.

    ``path`` is the file at fault (``None`` for an override or a mapping given in code);
    ``line`` and ``column`` are set for TOML syntax errors.

    Example message::

        exp/lester.toml, line 4, column 13: invalid TOML: Invalid value
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        column: int | None = None,
    ):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class SplitConfig:
    """How prepared rows are divided into train and test.

    ``kind`` is ``"random"`` (shuffled with ``seed``), ``"group"`` (rows sharing a value of the
    ``group`` column stay on one side) or ``"time"`` (the latest ``test_size`` fraction by
    ``time_column`` is the test set).

    >>> SplitConfig(kind="group", group="customer_id").test_size
    0.2
    """

    kind: str = "random"
    test_size: float = 0.2
    seed: int = 0
    group: str | None = None
    time_column: str | None = None


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """A fully resolved run configuration.

    Treat it as read-only: ``raw`` is what is stored with the run and fingerprinted, and the
    other fields are views of it. ``files`` lists the config files read, includes first; it is
    not part of the configuration itself (two runs with equal ``raw`` are configured alike).

    >>> cfg = load_config(overrides=["model.C=0.5"])
    >>> cfg.split.kind, cfg.model
    ('random', {'C': 0.5})
    """

    pipeline: Path | None
    sources: dict[str, Path]
    split: SplitConfig
    model: dict[str, Any]
    features: dict[str, Any]
    raw: dict[str, Any]
    files: tuple[Path, ...] = dataclasses.field(default=(), compare=False)
    # [compliance] settings (purge_within = "24h"), read by `lester purge`; not part of raw
    compliance: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    # [engine] settings (name = "spark", spark_master = "spark://host:7077"); not part of raw
    engine: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "configuration") -> RunConfig:
        """Validate a configuration mapping, e.g. one read back from a stored run.

        Relative paths are taken against the working directory; ``include`` is not allowed.

        >>> RunConfig.from_dict({"split": {"seed": 3}}).split.seed
        3
        """
        layer = _plain(data, where)
        _check_layer(layer, where, allow_include=False)
        _resolve_paths(layer, Path.cwd())
        merged: dict[str, Any] = {}
        origins: dict[tuple[str, ...], str] = {}
        _merge(merged, layer, where, origins)
        return _finish(merged, origins, ())

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the resolved configuration (``raw``)."""
        return copy.deepcopy(self.raw)

    def to_toml(self) -> str:
        """The resolved configuration as TOML text; ``load_config`` reads it back unchanged.

        >>> print(load_config(overrides=["model.C=0.5"]).to_toml())  # doctest: +ELLIPSIS
        [sources]
        <BLANKLINE>
        [split]
        kind = "random"
        ...
        """
        return dumps_toml(self.raw)

    def fingerprint(self) -> str:
        """sha256 (hex) of the canonical JSON of ``raw``: equal configurations, equal digests.

        >>> load_config().fingerprint() == load_config(overrides=["split.seed=0"]).fingerprint()
        True
        """
        text = json.dumps(
            self.raw,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=True,
            default=_json_default,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    *,
    base: Mapping[str, Any] | None = None,
) -> RunConfig:
    """Load a run configuration, following includes, then apply ``base`` and ``overrides``.

    ``path=None`` starts from the defaults (random split, test_size 0.2, seed 0, no model or
    feature parameters). ``base`` is merged after the files and before the overrides; relative
    paths in it and in overrides are taken against the working directory.

    >>> cfg = load_config(None, ["split.kind=group", "split.group=customer_id", "model.C=0.5"])
    >>> cfg.split.group, cfg.model["C"]
    ('customer_id', 0.5)
    """
    if isinstance(overrides, (str, bytes)):
        # A lone string would otherwise be iterated character by character.
        raise ConfigError(
            f"overrides must be a list of strings of the form {_OVERRIDE_FORM}, "
            f"not a single string {overrides!r}"
        )
    merged: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}
    files: list[Path] = []
    if path is not None:
        start = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
        _load_file(start, merged, origins, files, chain=(), included_by=None)
    cwd = Path.cwd()
    if base is not None:
        where = "base settings"
        layer = _plain(base, where)
        _check_layer(layer, where, allow_include=False)
        _resolve_paths(layer, cwd)
        _merge(merged, layer, where, origins)
    for text in overrides:
        keys, value = parse_override(text)
        where = f"override {text!r}"
        if _is_path_key(keys) and not isinstance(value, str):
            # "sources.x=2024.csv" or "pipeline=1" parse as numbers; a path is always text.
            value = text.partition("=")[2].strip()
        nested: Any = value
        for key in reversed(keys):
            nested = {key: nested}
        _check_layer(nested, where, allow_include=False)
        _resolve_paths(nested, cwd)
        _merge(merged, nested, where, origins)
    return _finish(merged, origins, tuple(files))


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split a ``--set`` override into its key path and its value.

    The value is read as a TOML value; text that is not one (a bare word) is taken as a string.

    >>> parse_override("model.C=0.5")
    (['model', 'C'], 0.5)
    >>> parse_override("split.kind=group")
    (['split', 'kind'], 'group')
    >>> parse_override('model.layers=[64, 32]')
    (['model', 'layers'], [64, 32])
    """
    if not isinstance(text, str):
        raise ConfigError(f"malformed override {text!r}: expected a string {_OVERRIDE_FORM}")
    key_text, sep, value_text = text.partition("=")
    if not sep:
        raise ConfigError(f"malformed override {text!r}: no '='; expected {_OVERRIDE_FORM}")
    keys = [k.strip() for k in key_text.strip().split(".")]
    bad = [k for k in keys if not _KEY_SEGMENT.match(k)]
    if bad:
        raise ConfigError(
            f"malformed override {text!r}: {key_text.strip()!r} is not a dotted key path "
            f"(letters, digits, '_' and '-' between dots); expected {_OVERRIDE_FORM}"
        )
    value_text = value_text.strip()
    if not value_text:
        raise ConfigError(
            f"malformed override {text!r}: no value after '='; expected {_OVERRIDE_FORM} "
            f'(write "" for an empty string)'
        )
    return keys, _parse_value(text, value_text)


def dumps_toml(data: Mapping[str, Any]) -> str:
    """Write a mapping as TOML (str, int, float, bool, dates, lists and nested tables).

    >>> print(dumps_toml({"a": 1, "t": {"b": [1.5, "x"]}}), end="")
    a = 1
    <BLANKLINE>
    [t]
    b = [1.5, "x"]
    """
    lines: list[str] = []
    _dump_table(data, (), lines)
    text = "\n".join(lines).lstrip("\n")
    return text + "\n" if text else ""


# --------------------------------------------------------------------------- loading files


def _load_file(
    path: Path,
    merged: dict[str, Any],
    origins: dict[tuple[str, ...], str],
    files: list[Path],
    chain: tuple[Path, ...],
    included_by: Path | None,
) -> None:
    if path in chain:
        loop = " -> ".join(str(p) for p in (*chain, path))
        raise ConfigError(f"include cycle: {loop}", path=path)
    data = _read_toml(path, included_by)
    _check_layer(data, str(path), allow_include=True)
    includes = data.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    for name in includes:
        target = Path(os.path.expanduser(name))
        if not target.is_absolute():
            target = path.parent / target
        target = Path(os.path.normpath(target))
        _load_file(target, merged, origins, files, (*chain, path), included_by=path)
    _resolve_paths(data, path.parent)
    _merge(merged, data, str(path), origins)
    files.append(path)


def _read_toml(path: Path, included_by: Path | None) -> dict[str, Any]:
    via = f" (included by {included_by})" if included_by is not None else ""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}{via}", path=path) from None
    except IsADirectoryError:
        raise ConfigError(
            f"config path is a directory, not a file: {path}{via}", path=path
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}{via}: {exc}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: not UTF-8 text (TOML files must be UTF-8){via}",
            path=path,
            line=line,
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
            detail = message[: found.start()]
        else:
            # tomllib reports a truncated file as "(at end of document)".
            lines = text.split("\n")
            line, column = len(lines), len(lines[-1]) + 1
            detail = _TOML_AT_END.sub("", message)
        raise ConfigError(
            f"{path}, line {line}, column {column}: invalid TOML: {detail}{via}",
            path=path,
            line=line,
            column=column,
        ) from None


# --------------------------------------------------------------------------- checking


def _check_layer(data: dict[str, Any], where: str, *, allow_include: bool) -> None:
    """Check one layer (a file, ``base`` or an override) on its own, so errors name it."""
    path = where if allow_include else None  # only file layers have a path
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(
                f"{where}: unknown key {key!r}{_did_you_mean(key, TOP_LEVEL_KEYS)}; "
                f"allowed top-level keys: {', '.join(TOP_LEVEL_KEYS)}",
                path=path,
            )
    if "include" in data:
        includes = data["include"]
        if not allow_include:
            raise ConfigError(f"{where}: 'include' can only be used in a config file")
        if not (
            isinstance(includes, str)
            or (isinstance(includes, list) and all(isinstance(i, str) for i in includes))
        ):
            raise ConfigError(
                f"{where}: include = {includes!r} must be a file name or a list of file names",
                path=path,
            )
    if "pipeline" in data and not _is_path_value(data["pipeline"]):
        raise ConfigError(
            f"{where}: pipeline = {data['pipeline']!r} must be the path of the pipeline file "
            f'as a string, e.g. pipeline = "pipeline.py"',
            path=path,
        )
    for section in _SECTIONS:
        if section in data and not isinstance(data[section], dict):
            raise ConfigError(
                f"{where}: {section} = {data[section]!r} must be a table ([{section}])",
                path=path,
            )
    for name, value in data.get("sources", {}).items():
        if not _is_path_value(value):
            raise ConfigError(
                f"{where}: sources.{name} = {value!r} must be a file path as a string, "
                f'e.g. {name} = "data/{name}.csv"',
                path=path,
            )
    split = data.get("split", {})
    for key in split:
        if key not in SPLIT_KEYS:
            raise ConfigError(
                f"{where}: unknown key split.{key}{_did_you_mean(key, SPLIT_KEYS)}; "
                f"allowed split keys: {', '.join(SPLIT_KEYS)}",
                path=path,
            )
    _check_split_values(split, where, path)
    _check_engine(data.get("engine", {}), where, path)
    for key, value in data.get("compliance", {}).items():
        if key not in COMPLIANCE_KEYS:
            raise ConfigError(
                f"{where}: unknown key compliance.{key}{_did_you_mean(key, COMPLIANCE_KEYS)}; "
                f"allowed compliance keys: {', '.join(COMPLIANCE_KEYS)}",
                path=path,
            )
        if not (isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*(s|sec|m|min|h|d|w)\s*", value)):
            raise ConfigError(
                f"{where}: compliance.{key} = {value!r} must be a duration as text, a number and a "
                f'unit (s, m, h, d or w), e.g. {key} = "24h"',
                path=path,
            )


def _check_engine(engine: Mapping[str, Any], where: str, path: str | None) -> None:
    for key, value in engine.items():
        if key not in ENGINE_KEYS:
            raise ConfigError(
                f"{where}: unknown key engine.{key}{_did_you_mean(key, ENGINE_KEYS)}; "
                f"allowed engine keys: {', '.join(ENGINE_KEYS)}",
                path=path,
            )
        if not (isinstance(value, str) and value):
            raise ConfigError(f"{where}: engine.{key} = {value!r} must be a non-empty string", path=path)
    if "name" in engine and engine["name"] not in ENGINE_NAMES:
        raise ConfigError(
            f"{where}: engine.name = {engine['name']!r} must be one of "
            f"{', '.join(repr(n) for n in ENGINE_NAMES)}",
            path=path,
        )


def _check_split_values(split: Mapping[str, Any], where: str, path: str | None) -> None:
    if "kind" in split and split["kind"] not in SPLIT_KINDS:
        raise ConfigError(
            f"{where}: split.kind = {split['kind']!r} must be one of "
            f"{', '.join(repr(k) for k in SPLIT_KINDS)}",
            path=path,
        )
    if "test_size" in split:
        size = split["test_size"]
        ok = isinstance(size, (int, float)) and not isinstance(size, bool)
        if not (ok and math.isfinite(size) and 0 < size < 1):
            raise ConfigError(
                f"{where}: split.test_size = {size!r} must be a number strictly between 0 and 1 "
                f"(the fraction of rows in the test set, e.g. 0.2)",
                path=path,
            )
    if "seed" in split:
        seed = split["seed"]
        if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32):
            raise ConfigError(
                f"{where}: split.seed = {seed!r} must be an integer from 0 to 2**32 - 1",
                path=path,
            )
    for key in ("group", "time_column"):
        if key in split and not (isinstance(split[key], str) and split[key]):
            raise ConfigError(
                f"{where}: split.{key} = {split[key]!r} must be a column name (a non-empty string)",
                path=path,
            )


def _finish(
    merged: dict[str, Any], origins: dict[tuple[str, ...], str], files: tuple[Path, ...]
) -> RunConfig:
    """Check what only the merged result can show, fill defaults, and build the RunConfig."""
    split_in = merged.get("split", {})
    kind = split_in.get("kind")
    if kind is None:
        # A group or time column without a kind would silently give a random split, which
        # leaks one customer's rows into both sides: make the user say which split is meant.
        for key, implied in (("group", "group"), ("time_column", "time")):
            if key in split_in:
                raise ConfigError(
                    f"split.{key} is set (in {origins.get(('split', key), '?')}) but split.kind "
                    f'is not; add kind = "{implied}" to [split] (the default kind is "random")'
                )
        kind = "random"
    needs = {"group": "group", "time": "time_column"}.get(kind)
    if needs is not None and needs not in split_in:
        example = "customer_id" if needs == "group" else "mail_date"
        what = (
            "the column whose values must not appear on both sides"
            if needs == "group"
            else "the column ordering the rows in time (the latest rows go to test)"
        )
        raise ConfigError(
            f"split.kind = {kind!r} (set in {origins.get(('split', 'kind'), '?')}) needs "
            f'split.{needs}, {what}, e.g. {needs} = "{example}"'
        )

    split_raw: dict[str, Any] = {
        "kind": kind,
        "test_size": float(split_in.get("test_size", 0.2)),
        "seed": int(split_in.get("seed", 0)),
    }
    for key in ("group", "time_column"):
        if key in split_in:
            split_raw[key] = split_in[key]

    raw: dict[str, Any] = {}
    if "pipeline" in merged:
        raw["pipeline"] = merged["pipeline"]
    raw["sources"] = dict(merged.get("sources", {}))
    raw["split"] = split_raw
    raw["model"] = copy.deepcopy(merged.get("model", {}))
    raw["features"] = copy.deepcopy(merged.get("features", {}))

    return RunConfig(
        pipeline=Path(raw["pipeline"]) if "pipeline" in raw else None,
        sources={name: Path(p) for name, p in raw["sources"].items()},
        split=SplitConfig(
            kind=kind,
            test_size=split_raw["test_size"],
            seed=split_raw["seed"],
            group=split_raw.get("group"),
            time_column=split_raw.get("time_column"),
        ),
        model=copy.deepcopy(raw["model"]),
        features=copy.deepcopy(raw["features"]),
        raw=raw,
        files=files,
        compliance=dict(merged.get("compliance", {})),
        engine=dict(merged.get("engine", {})),
    )


# --------------------------------------------------------------------------- merging


def _merge(
    dst: dict[str, Any],
    src: Mapping[str, Any],
    origin: str,
    origins: dict[tuple[str, ...], str],
    prefix: tuple[str, ...] = (),
) -> None:
    for key, value in src.items():
        here = (*prefix, key)
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            origins[here] = origin
            _merge(dst[key], value, origin, origins, here)
        else:
            dst[key] = copy.deepcopy(value)
            _record_origin(value, here, origin, origins)


def _record_origin(
    value: Any, here: tuple[str, ...], origin: str, origins: dict[tuple[str, ...], str]
) -> None:
    origins[here] = origin
    if isinstance(value, dict):
        for key, sub in value.items():
            _record_origin(sub, (*here, key), origin, origins)


def _resolve_paths(layer: dict[str, Any], directory: Path) -> None:
    """Make ``pipeline`` and ``sources`` paths absolute against the layer's own folder."""

    def absolute(value: str | os.PathLike[str]) -> str:
        path = os.path.expanduser(os.fspath(value))
        return os.path.normpath(os.path.join(directory, path))

    if "pipeline" in layer:
        layer["pipeline"] = absolute(layer["pipeline"])
    if "sources" in layer:
        layer["sources"] = {name: absolute(p) for name, p in layer["sources"].items()}


def _plain(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A deep copy with plain dicts (callers may pass any Mapping)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")

    def convert(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        return value

    return convert(data)


def _is_path_value(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or isinstance(value, os.PathLike)


def _is_path_key(keys: Sequence[str]) -> bool:
    return list(keys) == ["pipeline"] or (len(keys) == 2 and keys[0] == "sources")


def _did_you_mean(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------- override values


def _parse_value(text: str, value_text: str) -> Any:
    try:
        parsed = tomllib.loads(f"v = {value_text}")
    except tomllib.TOMLDecodeError as exc:
        if value_text[0] in "\"'[{":
            # It was meant as a TOML string, array or table: a typo there should not
            # silently become a string.
            detail = _TOML_POSITION.sub("", _TOML_AT_END.sub("", str(exc)))
            raise ConfigError(
                f"malformed override {text!r}: the value {value_text!r} is not a valid TOML "
                f"value ({detail}); expected {_OVERRIDE_FORM}"
            ) from None
        return value_text
    if set(parsed) != {"v"}:
        # Something like "1\nx = 2" smuggled in a second key; keep the text as written.
        return value_text
    return parsed["v"]


# --------------------------------------------------------------------------- TOML writer

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _dump_table(table: Mapping[str, Any], prefix: tuple[str, ...], lines: list[str]) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    if prefix:
        # Always write the header so that empty tables (e.g. [model]) survive a round trip.
        lines.append("")
        lines.append("[" + ".".join(_key(k) for k in prefix) + "]")
    for key, value in scalars:
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables:
        _dump_table(value, (*prefix, key), lines)


def _key(key: Any) -> str:
    key = str(key)
    return key if _BARE_KEY.match(key) else _string(key)


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # repr round-trips exactly and is valid TOML ("1e-05", "0.5")
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, os.PathLike):
        return _string(os.fspath(value))
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        raise ConfigError("TOML has no null value: remove the setting instead of setting None")
    raise ConfigError(f"cannot write a {type(value).__name__} value ({value!r}) as TOML")


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        # Tagged so that a date and a string with the same text fingerprint differently.
        return {f"__{type(value).__name__}__": value.isoformat()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot fingerprint a {type(value).__name__} value ({value!r})")
