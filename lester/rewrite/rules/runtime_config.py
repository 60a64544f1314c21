"""Run-time configuration as the values a run without any gets: argparse defaults and
environment defaults, substituted into the statements that read them.

The sandbox runs the script with no command-line arguments and without the user's
environment, so ``args.data_dir`` is its ``default=`` and ``os.environ.get("K", "v")`` is
``"v"``; the pipeline takes those values (paths become ``dataprep``'s parameters, where
``lester run`` can change them). Only literal defaults are read; anything else stays as it is
and the reader reports it.

Example:
    >>> import libcst as cst
    >>> body = list(cst.parse_module(
    ...     "import argparse\\n"
    ...     "p = argparse.ArgumentParser()\\n"
    ...     "p.add_argument('--data-dir', default='data')\\n"
    ...     "p.add_argument('--depth', type=int, default=3)\\n"
    ...     "args = p.parse_args()\\n"
    ...     "path = args.data_dir + '/a.csv'\\n"
    ...     "depth = args.depth\\n").body)
    >>> [cst.Module([s]).code.strip() for s in with_defaults(body, {})[-2:]]
    ["path = 'data' + '/a.csv'", 'depth = 3']
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import libcst.matchers as m

from lester.rewrite.rules.expressions import is_literal, literal_value
from lester.rewrite.rules.substitution import KeepingPositions, Origin, made_from

_PARSER = m.Call(func=m.Attribute(value=m.Name("argparse"), attr=m.Name("ArgumentParser")) | m.Name("ArgumentParser"))


def with_defaults(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """``body`` with argparse results and environment reads replaced by their defaults."""
    parsers: dict[str, dict[str, Any]] = {}  # parser variable -> dest -> default
    namespaces: dict[str, dict[str, Any]] = {}  # args variable -> dest -> default
    environment: dict[str, str] = {}  # os.environ.setdefault("K", "v") seen so far
    out = []
    for stmt in body:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else None
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and m.matches(small.value, _PARSER):
            target = small.targets[0].target
            if isinstance(target, cst.Name):
                parsers[target.value] = {}
        elif isinstance(small, cst.Expr) and _adds_argument(small.value, parsers):
            _add_argument(small.value, parsers)
        elif isinstance(small, cst.Assign) and len(small.targets) == 1:
            parsed = _parsed(small.targets[0].target, small.value, parsers)
            if parsed is not None:
                namespaces[parsed[0]] = parsers[parsed[1]]
        elif isinstance(small, cst.Expr) and _sets_default(small.value):
            key, value = (literal_value(a.value) for a in small.value.args[:2])
            environment.setdefault(key, value)
        if namespaces or environment:
            new = stmt.visit(_Defaults(namespaces, environment))
            if new is not stmt:
                stmt = made_from(new, stmt, origin)
        out.append(stmt)
    return out


def _adds_argument(value: cst.BaseExpression, parsers: dict) -> bool:
    return (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "add_argument" and isinstance(value.func.value, cst.Name)
            and value.func.value.value in parsers)


def _add_argument(call: cst.Call, parsers: dict) -> None:
    flags = [literal_value(a.value) for a in call.args if a.keyword is None and is_literal(a.value)]
    options = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    names = [f for f in flags if isinstance(f, str)]
    if not names:
        return
    long = next((f for f in names if f.startswith("--")), names[0])
    dest = literal_value(options["dest"]) if "dest" in options and is_literal(options["dest"]) else \
        long.lstrip("-").replace("-", "_")
    if "default" in options and is_literal(options["default"]):
        default = literal_value(options["default"])
        kind = options.get("type")
        if isinstance(kind, cst.Name) and kind.value in ("int", "float", "str") and isinstance(default, str):
            default = {"int": int, "float": float, "str": str}[kind.value](default)
    elif "action" in options and is_literal(options["action"]) and literal_value(options["action"]) == "store_true":
        default = False
    elif "action" in options and is_literal(options["action"]) and literal_value(options["action"]) == "store_false":
        default = True
    else:
        default = None if long.startswith("-") else _REQUIRED
    if default is not _REQUIRED:
        parsers[call.func.value.value][dest] = default


_REQUIRED = object()  # a positional argument: no value without a command line


def _parsed(target: cst.BaseExpression, value: cst.BaseExpression, parsers: dict) -> tuple[str, str] | None:
    """``args = parser.parse_args()``, ``args, _ = parser.parse_known_args()`` or
    ``args = parser.parse_known_args()[0]``."""
    if (isinstance(value, cst.Subscript) and isinstance(target, cst.Name) and len(value.slice) == 1
            and m.matches(value.slice[0].slice, m.Index(m.Integer("0")))):
        inner = _parsed(cst.Tuple([cst.Element(target)]), value.value, parsers)
        return inner if inner is not None and value.value.func.attr.value == "parse_known_args" else None
    if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
            and isinstance(value.func.value, cst.Name) and value.func.value.value in parsers and not value.args):
        return None
    if value.func.attr.value == "parse_args" and isinstance(target, cst.Name):
        return target.value, value.func.value.value
    if (value.func.attr.value == "parse_known_args" and isinstance(target, cst.Tuple) and target.elements
            and isinstance(target.elements[0].value, cst.Name)):
        return target.elements[0].value.value, value.func.value.value
    return None


def _sets_default(value: cst.BaseExpression) -> bool:
    return (m.matches(value, m.Call(func=m.Attribute(value=m.Attribute(value=m.Name("os"), attr=m.Name("environ")),
                                                     attr=m.Name("setdefault"))))
            and len(value.args) >= 2 and all(is_literal(a.value) for a in value.args[:2])
            and all(isinstance(literal_value(a.value), str) for a in value.args[:2]))


class _Defaults(KeepingPositions):
    def __init__(self, namespaces: dict[str, dict[str, Any]], environment: dict[str, str]):
        self.namespaces, self.environment = namespaces, environment

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if isinstance(updated.value, cst.Name) and updated.value.value in self.namespaces:
            values = self.namespaces[updated.value.value]
            if updated.attr.value in values:
                return _literal(values[updated.attr.value]) or updated
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        # os.environ.get("K", "v"), os.getenv("K", "v"): the default, or what setdefault set
        if m.matches(updated.func, m.Attribute(value=m.Attribute(value=m.Name("os"), attr=m.Name("environ")),
                                               attr=m.Name("get")) | m.Attribute(value=m.Name("os"),
                                                                                  attr=m.Name("getenv"))):
            args = [a.value for a in updated.args]
            if args and is_literal(args[0]) and isinstance(literal_value(args[0]), str):
                key = literal_value(args[0])
                if key in self.environment:
                    return _literal(self.environment[key]) or updated
                if len(args) > 1 and is_literal(args[1]):
                    return _literal(literal_value(args[1])) or updated
        return updated

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
        # os.environ["K"] after os.environ.setdefault("K", "v")
        if (m.matches(updated.value, m.Attribute(value=m.Name("os"), attr=m.Name("environ")))
                and len(updated.slice) == 1 and isinstance(updated.slice[0].slice, cst.Index)
                and is_literal(updated.slice[0].slice.value)):
            key = literal_value(updated.slice[0].slice.value)
            if key in self.environment:
                return _literal(self.environment[key]) or updated
        return updated


def _literal(value: Any) -> cst.BaseExpression | None:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return cst.parse_expression(repr(value))
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        return cst.parse_expression(repr(value))
    return None
