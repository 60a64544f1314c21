"""A pipeline module: plain functions the runner discovers by name.

    def dataprep(customers="data/customers.csv", mails="data/mails.csv") -> lt.Frame
    def encode_features() -> ColumnTransformer        # unfitted
    def extract_label(prepared: pd.DataFrame) -> y
    def make_model() -> estimator                      # unfitted

Only ``dataprep`` is required. A module without the other stages (or whose stage raises
``NotImplementedError``, as a rewrite of a script that computes no features does) is a data
preparation pipeline: its runs store the prepared data and its provenance, and no model.

``dataprep``'s parameters are the pipeline's sources: the runner passes each a path (its
default, the configuration's, or ``--source NAME=PATH``). ``encode_features`` and
``make_model`` may take keyword parameters, filled from the ``[features]`` and ``[model]``
tables of the configuration.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lester.errors import LesterError

STAGES = ("dataprep", "encode_features", "extract_label", "make_model")


class PipelineDefinitionError(LesterError, ValueError):
    """The pipeline module is missing a stage function or cannot be imported."""


@dataclass(frozen=True)
class Pipeline:
    """The four stage functions of a pipeline module, and where they came from."""

    path: Path | None
    dataprep: Callable[..., Any]
    encode_features: Callable[..., Any] | None = None
    extract_label: Callable[..., Any] | None = None
    make_model: Callable[..., Any] | None = None

    def source_defaults(self) -> dict[str, Any]:
        """The source parameters of ``dataprep`` and their default paths (None if none)."""
        defaults = {}
        for name, parameter in inspect.signature(self.dataprep).parameters.items():
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            default = parameter.default
            defaults[name] = None if default is parameter.empty else default
        return defaults

    def stage_code(self, stage: str) -> str:
        """A hash of the code a stage runs: its function and the module helpers it calls."""
        func = getattr(self, stage)
        return "absent" if func is None else _code_fingerprint(func)


def load_pipeline(path: str | os.PathLike) -> Pipeline:
    """Import a pipeline module from a file and find its stage functions.

    Example:
        >>> pipeline = load_pipeline("pipeline.py")                     # doctest: +SKIP
        >>> pipeline.source_defaults()                                   # doctest: +SKIP
        {'customers': 'data/customers.csv', 'mails': 'data/mails.csv'}
    """
    path = Path(path)
    if not path.exists():
        raise PipelineDefinitionError(f"{path}: no such pipeline file")
    try:
        ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as exc:
        raise PipelineDefinitionError(
            f"{path}, line {exc.lineno}, column {exc.offset}: syntax error: {exc.msg}"
        ) from None
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"lester_pipeline_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise PipelineDefinitionError(
            f"{path}: importing the pipeline raised {type(exc).__name__}: {exc}"
        ) from exc
    return pipeline_from_module(module, path)


def pipeline_from_module(module: types.ModuleType, path: Path | None = None) -> Pipeline:
    """The stage functions of an already imported module (or any object with them)."""
    where = str(path) if path else getattr(module, "__name__", "the pipeline")
    if not callable(getattr(module, "dataprep", None)):
        raise PipelineDefinitionError(
            f"{where}: the pipeline must define dataprep() (and, for a model, "
            f"{list(STAGES[1:])}); it defines none of {list(STAGES)}"
            if not any(callable(getattr(module, s, None)) for s in STAGES)
            else f"{where}: the pipeline must define dataprep(); it is missing"
        )
    stages = [getattr(module, s, None) for s in STAGES]
    return Pipeline(path, *(f if callable(f) else None for f in stages))


def _code_fingerprint(func: Callable[..., Any]) -> str:
    digest = hashlib.sha256()
    seen: set[int] = set()
    _hash_function(func, digest, seen)
    return digest.hexdigest()


def _hash_function(func: Any, digest: Any, seen: set[int]) -> None:
    if id(func) in seen:
        return
    seen.add(id(func))
    try:
        digest.update(inspect.getsource(func).encode())
    except (OSError, TypeError):
        code = getattr(func, "__code__", None)
        digest.update(code.co_code if code is not None else repr(func).encode())
    code = getattr(func, "__code__", None)
    module_globals = getattr(func, "__globals__", {})
    if code is None:
        return
    # Helpers defined in the same module are part of the stage's code: a changed helper
    # body must invalidate the cache just as a changed stage body does.
    for name in _names(code):
        value = module_globals.get(name)
        if inspect.isfunction(value) and value.__module__ == func.__module__ or inspect.isclass(value) and value.__module__ == func.__module__:
            _hash_function(value, digest, seen)
        elif value is not None and isinstance(value, (int, float, str, bool, tuple)):
            digest.update(f"{name}={value!r}".encode())


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names
