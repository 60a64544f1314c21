"""Prompt templates (``prompts/*.txt`` with ``{{slot}}`` slots) and the DSL reference inside them.

The DSL reference is generated from the signatures and docstrings of ``lester.frame``, so
the prompt describes the API that exists, not one remembered from an older version.

Example:
    >>> text = render("repair", problems="X differs", functions="dataprep")   # doctest: +SKIP
    >>> print(dsl_reference()[:60])                                            # doctest: +SKIP
    lt.read_csv(path, *, name=None, key=None, **options)
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from pathlib import Path

from lester.errors import LesterError

_SLOT = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_FUNCTIONS = ("read_csv", "read_parquet", "from_pandas", "join", "union")
_SKIP_METHODS = {"to_pandas", "provenance", "column_provenance", "explain"}


class PromptError(LesterError, ValueError):
    """A template is missing or its slots do not match the values given."""


def prompts_dir() -> Path:
    """``$LESTER_PROMPTS``, else the templates installed with lester (the project's
    ``prompts/`` folder, which ``lester/rewrite/prompt_templates`` links to)."""
    configured = os.environ.get("LESTER_PROMPTS")
    if configured:
        return Path(configured)
    return Path(__file__).parent / "prompt_templates"


def template(name: str) -> str:
    path = prompts_dir() / f"{name}.txt"
    if not path.exists():
        raise PromptError(f"{path}: no such prompt template (set LESTER_PROMPTS to a folder that has it)")
    return path.read_text(encoding="utf-8")


def slots(name: str) -> set[str]:
    """The slot names a template uses."""
    return set(_SLOT.findall(template(name)))


def render(name: str, **values: object) -> str:
    """Fill template ``name``; every slot must be given a value, and every value a slot."""
    text = template(name)
    wanted = set(_SLOT.findall(text))
    missing, extra = sorted(wanted - set(values)), sorted(set(values) - wanted)
    if missing or extra:
        raise PromptError(f"prompt template {name}.txt: slots without values {missing}, values without slots {extra}")
    return _SLOT.sub(lambda m: str(values[m.group(1)]), text)


@functools.lru_cache(maxsize=1)
def dsl_reference() -> str:
    """Signatures and docstrings of the DSL's constructors and Frame methods, as prompt text."""
    import lester.frame as frame_module
    from lester.frame import Frame, GroupBy

    parts: list[str] = ["import lester as lt", ""]
    for name in _FUNCTIONS:
        func = getattr(frame_module, name)
        parts.append(_entry(f"lt.{name}", func))
    for name, member in inspect.getmembers(Frame):
        if name.startswith("_") and name != "__getitem__" or name in _SKIP_METHODS:
            continue
        if isinstance(member, property):
            continue
        if name == "__getitem__":
            parts.append("frame[[column, ...]]\n    The same as frame.select([column, ...]).\n")
        elif callable(member):
            parts.append(_entry(f"frame.{name}", member, method=True))
    parts.append(_entry("frame.groupby(by).agg", GroupBy.agg, method=True))
    parts.append(_entry("frame.to_pandas", Frame.to_pandas, method=True))
    return "\n".join(parts).rstrip() + "\n"


def _entry(label: str, func, method: bool = False) -> str:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        params = []
    if method and params and params[0].name == "self":
        params = params[1:]
    shown = "(" + ", ".join(_parameter(p, params) for p in params) + ")"
    doc = inspect.getdoc(func) or ""
    doc = re.sub(r"\s*# doctest: \+SKIP", "", doc)
    body = "\n".join("    " + line if line else "" for line in doc.splitlines())
    return f"{label}{shown}\n{body}\n"


def _parameter(param: inspect.Parameter, params: list[inspect.Parameter]) -> str:
    # annotations are strings under ``from __future__ import annotations``: show them unquoted
    text = param.name
    if param.kind is param.VAR_POSITIONAL:
        text = "*" + text
    elif param.kind is param.VAR_KEYWORD:
        text = "**" + text
    elif (param.kind is param.KEYWORD_ONLY and param is next(p for p in params if p.kind is p.KEYWORD_ONLY)
          and not any(p.kind is p.VAR_POSITIONAL for p in params)):
        text = "*, " + text
    if param.annotation is not param.empty:
        annotation = param.annotation if isinstance(param.annotation, str) else inspect.formatannotation(param.annotation)
        text += f": {annotation}"
    if param.default is not param.empty:
        text += f" = {param.default!r}"
    return text
