"""lester: messy ML scripts into declarative pipelines with provenance and fast deletion.

The dataframe DSL is available at the top level::

    import lester as lt
    customers = lt.read_csv("customers.csv", key="customer_id")
    adults = customers.filter("age >= 18")
    adults.to_pandas(); adults.provenance(); adults.column_provenance()

The names below are imported on first use (PEP 562): ``import lester``, and so ``lester
--help`` and shell completion, stay free of pandas, scikit-learn, DuckDB and libcst.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "ColumnNotFoundError": "lester.errors",
    "ExecutionError": "lester.errors",
    "LesterError": "lester.errors",
    "PlanError": "lester.errors",
    "SourceError": "lester.errors",
    "SqlExpressionError": "lester.errors",
    "UserFunctionError": "lester.errors",
    "Frame": "lester.frame",
    "from_pandas": "lester.frame",
    "join": "lester.frame",
    "read_csv": "lester.frame",
    "read_lines": "lester.frame",
    "read_parquet": "lester.frame",
    "union": "lester.frame",
    "forget": "lester.ivm",
    "purge": "lester.ivm.purge",
    "redact": "lester.ivm",
    "verify_erasure": "lester.ivm.erasure",
    "run": "lester.pipeline",
    "runs": "lester.pipeline",
    "show": "lester.pipeline",
    "trace": "lester.pipeline",
    "tune": "lester.tune",
}
# a callable package: lt.rewrite("messy.py") calls lester.rewrite.rewrite
_SUBMODULES = {"rewrite"}

__all__ = [
    "ColumnNotFoundError",
    "ExecutionError",
    "Frame",
    "LesterError",
    "PlanError",
    "SourceError",
    "SqlExpressionError",
    "UserFunctionError",
    "forget",
    "from_pandas",
    "join",
    "purge",
    "read_csv",
    "read_lines",
    "read_parquet",
    "redact",
    "rewrite",
    "run",
    "runs",
    "show",
    "trace",
    "tune",
    "union",
    "verify_erasure",
]

if TYPE_CHECKING:  # pragma: no cover
    from lester import rewrite
    from lester.errors import (
        ColumnNotFoundError,
        ExecutionError,
        LesterError,
        PlanError,
        SourceError,
        SqlExpressionError,
        UserFunctionError,
    )
    from lester.frame import Frame, from_pandas, join, read_csv, read_parquet, union
    from lester.ivm import forget, redact
    from lester.ivm.erasure import verify_erasure
    from lester.ivm.purge import purge
    from lester.pipeline import run, runs, show, trace
    from lester.tune import tune


def lazy_exports(namespace: dict[str, Any], exports: dict[str, str],
                 submodules: Iterable[str] = ()) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's PEP 562 ``__getattr__`` and ``__dir__`` that import ``exports`` (``{name:
    module}``) and ``submodules`` on first use; lester's packages share it.

    An export named like a submodule (``lester.ivm.forget``, the function, in the module
    ``lester.ivm.forget``) stays the export when the submodule is imported later, as it was
    when packages imported everything at once.

    Example:
        >>> __getattr__, __dir__ = lazy_exports(globals(), {"Frame": "lester.frame.frame"})  # doctest: +SKIP
    """
    package = namespace["__name__"]
    submodules = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # the next look-up is an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports, *submodules})

    shadowed = {name for name, module in exports.items() if module == f"{package}.{name}"}
    if shadowed:
        sys.modules[package].__class__ = _shadowing_package(shadowed)
    return __getattr__, __dir__


def _shadowing_package(names: set[str]) -> type[types.ModuleType]:
    class _Package(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            # the import system binds each imported submodule on its package; these names
            # belong to the package's functions
            if name in names and isinstance(value, types.ModuleType):
                return
            super().__setattr__(name, value)

    return _Package


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, _SUBMODULES)
