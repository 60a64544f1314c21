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

This module owns the contract: the stage table (:data:`STAGES`) and how each stage is called
(:meth:`Pipeline.prepare`, :meth:`Pipeline.encoder`, :meth:`Pipeline.fit_encoder`,
:meth:`Pipeline.labels`, :meth:`Pipeline.model`, :meth:`Pipeline.fit_model`). ``lester run``
and the rewrite sandbox both call the stages through these, so a rewrite is validated exactly
as it will run.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lester.errors import LesterError

STAGES = ("dataprep", "encode_features", "extract_label", "make_model")


class PipelineDefinitionError(LesterError, ValueError):
    """The pipeline module is missing a stage function or cannot be imported."""


class PipelineRunError(LesterError, RuntimeError):
    """A stage of the pipeline failed or returned something the next stage cannot use."""


class StageError(PipelineRunError):
    """One stage raised: ``stage`` names it, ``__cause__`` is what it raised."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage


def call_stage(stage: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call one stage (or a method of what a stage returned); what it raises becomes a
    :class:`StageError` that names the stage.

    Example:
        >>> call_stage("make_model", lambda C: {"C": C}, C=0.5)
        {'C': 0.5}
        >>> call_stage("extract_label", lambda rows: rows["y"], {})
        Traceback (most recent call last):
        ...
        lester.pipeline.definition.StageError: extract_label() raised KeyError: 'y'
    """
    try:
        return func(*args, **kwargs)
    except LesterError:
        raise
    except Exception as exc:
        raise StageError(stage.split(" ")[0], f"{stage}() raised {type(exc).__name__}: {exc}") from exc


def optional_stage(stage: str, func: Callable[..., Any] | None, *args: Any, **kwargs: Any) -> Any:
    """Call a stage a data preparation pipeline may leave out: None when the module does not
    define it or it raises NotImplementedError (how a rewrite marks a stage the script lacks).

    Example:
        >>> def make_model():
        ...     raise NotImplementedError("the script fits no model")
        >>> optional_stage("make_model", make_model) is None
        True
    """
    if func is None:
        return None
    try:
        return call_stage(stage, func, *args, **kwargs)
    except StageError as error:
        if isinstance(error.__cause__, NotImplementedError):
            return None
        raise


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

    # -- how each stage is called (by `lester run` and by the rewrite sandbox alike) --------
    def prepare(self, paths: Mapping[str, str]) -> Any:
        """``dataprep(**paths)``, checked to be a lester Frame."""
        # imported here: reading the stage table must not load the DSL's engines
        from lester.frame import Frame

        frame = call_stage("dataprep", self.dataprep, **paths)
        if not isinstance(frame, Frame):
            raise StageError("dataprep", f"dataprep() must return a lester Frame, got {type(frame).__name__}")
        return frame

    def encoder(self, params: Mapping[str, Any]) -> Any:
        """The unfitted encoder ``encode_features(**params)``; None for a data preparation pipeline."""
        return optional_stage("encode_features", self.encode_features, **params)

    def labels(self, rows: Any) -> Any:
        """``extract_label(rows)``; None for a pipeline without labels."""
        return optional_stage("extract_label", self.extract_label, rows)

    def fit_encoder(self, encoder: Any, rows: Any) -> Any:
        """Fit ``encoder`` on ``rows`` and return their matrix. A supervised step
        (SelectPercentile(chi2), a target encoder) gets the rows' labels; a label stage that
        fails here reports its error where the labels are extracted, not here."""
        try:
            y = self.labels(rows)
        except Exception:  # noqa: BLE001
            y = None
        return call_stage("encode_features (fit)", encoder.fit_transform, rows, y)

    def model(self, params: Mapping[str, Any]) -> Any:
        """The unfitted estimator ``make_model(**params)``; None without a model stage."""
        return optional_stage("make_model", self.make_model, **params)

    def fit_model(self, model: Any, X: Any, y: Any) -> Any:
        """A clone of ``model`` fitted on ``X`` and ``y`` (the stage's object stays unfitted)."""
        from sklearn.base import clone

        return call_stage("make_model (fit)", clone(model).fit, X, y)


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
