"""Substitutions on a script's syntax tree that keep track of the statements they stand for.

The rules reader names the script's lines in its errors; a statement made by a substitution
(an inlined function body, an unrolled loop) must still point at the script's statement it
came from. :data:`Origin` records that, :func:`made_from` fills it, and
:class:`KeepingPositions` hands back the script's own nodes wherever nothing changed.

Example:
    >>> import libcst as cst
    >>> stmt = cst.parse_statement("y = x + 1\\n")
    >>> renamed = stmt.visit(NameSubstitution(lambda n: cst.Name("z") if n == "x" else None))
    >>> origin = {}
    >>> made_from(renamed, stmt, origin) is renamed, origin[id(renamed)] is stmt
    (True, True)
    >>> cst.Module([renamed]).code
    'y = z + 1\\n'
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst
import libcst.matchers as m

Origin = dict[int, cst.CSTNode]  # id(new statement) -> the script's statement it stands for


class KeepingPositions(cst.CSTTransformer):
    """A transformer that hands back the script's own nodes wherever it changed nothing, so
    their positions (the lines errors name) stay known."""

    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        if result is updated_node and updated_node is not original_node and updated_node.deep_equals(original_node):
            return original_node
        return result


def bound_once(body: list[cst.CSTNode], name: str) -> bool:
    """Whether ``name`` is assigned (``=``, ``+=``, a ``for`` target) exactly once in ``body``."""
    stores = m.AssignTarget(target=m.Name(name)) | m.AugAssign(target=m.Name(name)) | m.For(target=m.Name(name))
    return sum(len(m.findall(s, stores)) for s in body) == 1


def function_call(stmt: cst.CSTNode, functions: dict) -> tuple[cst.Call | None, list[cst.AssignTarget]]:
    """``f(...)`` or ``a = f(...)`` calling one of the script's ``functions`` (no ``*args``): the
    call and the assignment's targets, else ``(None, [])``."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None, []
    small = stmt.body[0]
    value, targets = (small.value, list(small.targets)) if isinstance(small, cst.Assign) else (
        (small.value, []) if isinstance(small, cst.Expr) else (None, []))
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in functions \
            and all(a.star == "" for a in value.args):
        return value, targets
    return None, []


def made_from(new: cst.CSTNode, old: cst.CSTNode, origin: Origin) -> cst.CSTNode:
    """Record that ``new`` stands for ``old`` (or for what ``old`` stood for) and return it."""
    origin[id(new)] = origin.get(id(old), old)
    return new


class NameSubstitution(KeepingPositions):
    """Replace variables (not attribute or keyword names) by what ``replacement`` gives for
    them (None: keep the name)."""

    def __init__(self, replacement: Callable[[str], cst.BaseExpression | None]):
        self.replacement = replacement

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        new = self.replacement(updated.value)
        return updated if new is None else new

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        # df.fillna: the attribute's name is no variable
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)
