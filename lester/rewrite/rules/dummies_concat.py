"""One-hot columns made apart and glued back, as the one call that does both.

Notebooks often encode a few columns on their own and put them back next to the rest:
``dummies = pd.get_dummies(df[cols], drop_first=True).astype(int)`` and then
``df = pd.concat([df.drop(cols, axis=1), dummies], axis=1)``. pandas'
``pd.get_dummies(df, columns=cols, drop_first=True, dtype=int)`` gives the same frame (the
other columns first, in their order, then each encoded column's indicators, named
``<column>_<value>``), and the reader translates that form into a one-hot encoder. The
substitution applies when the two statements use the same frame and the same columns, and the
dummies are read nowhere else.

Example:
    >>> import libcst as cst
    >>> module = cst.parse_module(
    ...     "dummies = pd.get_dummies(df[cat_cols], drop_first=True).astype(int)\\n"
    ...     "df.shape\\n"
    ...     "df = pd.concat([df.drop(cat_cols, axis=1), dummies], axis=1)\\n")
    >>> print(cst.Module(dummies_in_one_call(list(module.body), {})).code)
    df.shape
    df = pd.get_dummies(df, columns = cat_cols, drop_first=True, dtype = int)
    <BLANKLINE>
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from lester.rewrite.rules.substitution import Origin, made_from

_GET_DUMMIES = m.Call(func=m.Attribute(value=m.Name("pd"), attr=m.Name("get_dummies")) | m.Name("get_dummies"))


def dummies_in_one_call(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    out = list(body)
    position = 0
    while position < len(out):
        fused = _fused(out, position, origin)
        if fused is not None:
            out = fused
            continue
        position += 1
    return out


def _fused(body: list[cst.CSTNode], position: int, origin: Origin) -> list[cst.CSTNode] | None:
    made = _dummies(body[position])
    if made is None:
        return None
    name, call, frame, columns, dtype = made
    for later in range(position + 1, len(body)):
        stmt = body[later]
        if m.findall(stmt, m.AssignTarget(target=m.Name(frame)) | m.AugAssign(target=m.Name(frame))) \
                and not m.findall(stmt, m.Name(name)):
            return None  # the frame changes before the dummies are glued back
        if not m.findall(stmt, m.Name(name)):
            continue
        target = _glued(stmt, name, frame, columns)
        if target is None or any(m.findall(s, m.Name(name)) for s in body[later + 1:]):
            return None
        args = [cst.Arg(cst.Name(frame)), cst.Arg(columns, keyword=cst.Name("columns"))]
        args += [a for a in call.args[1:]]
        if dtype is not None:
            if any(a.keyword is not None and a.keyword.value == "dtype" for a in call.args):
                return None
            args.append(cst.Arg(dtype, keyword=cst.Name("dtype")))
        args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]
        one_call = call.with_changes(args=args)
        new = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], one_call)])
        return body[:position] + body[position + 1:later] + [made_from(new, stmt, origin)] + body[later + 1:]
    return None


def _dummies(stmt: cst.CSTNode):
    """``D = pd.get_dummies(F[COLS], ...)`` (``.astype(T)`` after it): (D, call, F, COLS, T)."""
    if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name())])])):
        return None
    name, value = stmt.body[0].targets[0].target.value, stmt.body[0].value
    dtype = None
    if m.matches(value, m.Call(func=m.Attribute(attr=m.Name("astype")), args=[m.Arg(keyword=None)])):
        dtype, value = value.args[0].value, value.func.value
    if not m.matches(value, _GET_DUMMIES) or not value.args or value.args[0].keyword is not None:
        return None
    if any(a.keyword is not None and a.keyword.value == "columns" for a in value.args):
        return None
    selected = value.args[0].value
    if not m.matches(selected, m.Subscript(value=m.Name(), slice=[m.SubscriptElement(m.Index(m.List() | m.Name()))])):
        return None
    return name, value, selected.value.value, selected.slice[0].slice.value, dtype


def _glued(stmt: cst.CSTNode, name: str, frame: str, columns: cst.BaseExpression) -> cst.BaseAssignTargetExpression | None:
    """The target of ``T = pd.concat([F.drop(COLS, axis=1), D], axis=1)``."""
    if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name())], value=m.Call(
            func=m.Attribute(value=m.Name("pd"), attr=m.Name("concat")), args=[m.Arg(m.List()), m.Arg()]))])):
        return None
    call = stmt.body[0].value
    axis = call.args[1]
    if not (axis.keyword is not None and axis.keyword.value == "axis"
            and m.matches(axis.value, m.Integer("1") | m.SimpleString("'columns'") | m.SimpleString('"columns"'))):
        return None
    parts = [e.value for e in call.args[0].value.elements]
    if len(parts) != 2 or not m.matches(parts[1], m.Name(name)):
        return None
    drop = parts[0]
    if not m.matches(drop, m.Call(func=m.Attribute(value=m.Name(frame), attr=m.Name("drop")))):
        return None
    dropped, axis_ok = None, False
    for arg in drop.args:
        if arg.keyword is None:
            dropped = arg.value
        elif arg.keyword.value == "columns":
            dropped, axis_ok = arg.value, True
        elif arg.keyword.value == "axis":
            axis_ok = m.matches(arg.value, m.Integer("1") | m.SimpleString("'columns'") | m.SimpleString('"columns"'))
        else:
            return None
    if dropped is None or not axis_ok or not dropped.deep_equals(columns):
        return None
    return stmt.body[0].targets[0].target
