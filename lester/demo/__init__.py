"""``lester demo``: the compliance story, offline.

:mod:`lester.demo.data` writes the synthetic customers and mails and holds the messy script;
:mod:`lester.demo.story` runs the demo (``lester demo`` on the command line);
:mod:`lester.demo.limits` says how many customers it can run with.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["messy_script", "run_demo", "write_demo_data"]

# loaded when first used: the command line imports lester.demo.limits to check --customers
# and should not pay for pandas and scikit-learn to do so
_HOMES = {"messy_script": "lester.demo.data", "write_demo_data": "lester.demo.data",
          "run_demo": "lester.demo.story"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'lester.demo' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
