"""Column names a script computes from column names: ``df.columns = df.columns.str.lower()``,
``[c.strip().replace(" ", "_") for c in df.columns]``, ``df.rename(columns=lambda c: c.upper())``.

They are evaluated when the rules read the script, on the names the input's header gives, so
the plan knows its columns. Only ``str`` methods with literal arguments are evaluated; anything
else leaves the names unknown (the caller then keeps the rename for run time).

Example:
    >>> import libcst as cst
    >>> renamed(cst.parse_expression("[c.strip().lower() for c in df.columns]"), "df", [" Age", "CITY "])
    ['age', 'city']
"""

from __future__ import annotations

import libcst as cst

from lester.rewrite.rules.expressions import is_literal, literal_value

_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "replace", "title", "capitalize", "casefold",
            "removeprefix", "removesuffix", "zfill"}


def renamed(node: cst.BaseExpression, frame: str, columns: list[str]) -> list[str] | None:
    """The names ``node`` gives ``frame``'s ``columns``, or None when they cannot be read off."""
    if (isinstance(node, cst.ListComp) and not node.for_in.ifs and node.for_in.inner_for_in is None
            and _is_columns(node.for_in.iter, frame) and isinstance(node.for_in.target, cst.Name)):
        return _each(node.elt, node.for_in.target.value, columns)
    if isinstance(node, cst.Lambda) and len(node.params.params) == 1 and not isinstance(node.params.star_arg, cst.Param):
        return _each(node.body, node.params.params[0].name.value, columns)
    # df.columns.str.lower().str.replace(" ", "_")
    steps: list[tuple[str, list]] = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
            isinstance(node.func.value, cst.Attribute) and node.func.value.attr.value == "str":
        args = _literal_args(node)
        if args is None or node.func.attr.value not in _METHODS:
            return None
        steps.append((node.func.attr.value, args))
        node = node.func.value.value
    if not steps or not _is_columns(node, frame):
        return None
    out = []
    for name in columns:
        for method, args in reversed(steps):
            name = getattr(name, method)(*args)
        out.append(name)
    return out


def _is_columns(node: cst.BaseExpression, frame: str) -> bool:
    return (isinstance(node, cst.Attribute) and node.attr.value == "columns" and isinstance(node.value, cst.Name)
            and node.value.value == frame)


def _literal_args(call: cst.Call) -> list | None:
    if any(a.keyword is not None or a.star for a in call.args):
        return None
    if not all(is_literal(a.value) for a in call.args):
        return None
    values = [literal_value(a.value) for a in call.args]
    return values if all(isinstance(v, (str, int)) for v in values) else None


def _each(body: cst.BaseExpression, var: str, columns: list[str]) -> list[str] | None:
    out = []
    for name in columns:
        value = _apply(body, var, name)
        if not isinstance(value, str):
            return None
        out.append(value)
    return out


def _apply(node: cst.BaseExpression, var: str, name: str) -> object:
    if isinstance(node, cst.Name) and node.value == var:
        return name
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _METHODS:
        inner = _apply(node.func.value, var, name)
        args = _literal_args(node)
        if isinstance(inner, str) and args is not None:
            return getattr(inner, node.func.attr.value)(*args)
    return None
