"""Fields looked up by the header's names, read as named fields.

Exports whose column order changes are read by name: ``header = lines[0].split(",")``, then
``i_score = header.index("score")``, and in the loop over ``lines[1:]`` the split line
indexed by those positions, ``p[i_score]``. That is what ``csv.DictReader`` does: this
substitution writes the loop as ``for p in csv.DictReader(lines):`` with ``p["score"]``, which
the reader translates as a scan by column name, so the pipeline too finds each column by its
name whatever the order of the file.

Only the exact shape is rewritten: the header split with the same separator as every row, the
positions bound once at the top level from literal names, and the split row used only through
them.

Example:
    >>> import libcst as cst
    >>> module = cst.parse_module(
    ...     "lines = open('a.csv').read().splitlines()\\n"
    ...     "header = lines[0].split(',')\\n"
    ...     "i_score = header.index('score')\\n"
    ...     "for line in lines[1:]:\\n"
    ...     "    p = line.split(',')\\n"
    ...     "    scores.append(float(p[i_score]))\\n")
    >>> print(cst.Module(fields_by_header_name(list(module.body), {})).code)
    import csv
    lines = open('a.csv').read().splitlines()
    header = lines[0].split(',')
    i_score = header.index('score')
    for p in csv.DictReader(lines, delimiter=','):
        scores.append(float(p['score']))
    <BLANKLINE>
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from lester.rewrite.rules.substitution import Origin, bound_once, made_from


def fields_by_header_name(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    headers = _headers(body)  # header name -> (lines name, separator)
    if not headers:
        return body
    positions = _positions(body, headers)  # i_score -> (header name, "score")
    if not positions:
        return body
    out, changed = [], False
    for stmt in body:
        new = _by_name(stmt, headers, positions) if isinstance(stmt, cst.For) else None
        if new is not None:
            out.append(made_from(new, stmt, origin))
            changed = True
        else:
            out.append(stmt)
    if changed and not any(m.matches(s, m.SimpleStatementLine(body=[m.Import(names=[m.ImportAlias(
            name=m.Name("csv"), asname=None)])])) for s in body):
        out.insert(0, cst.parse_statement("import csv\n"))
    return out


def _split_separator(node: cst.BaseExpression, of: m.BaseMatcherNode) -> str | None:
    """The literal separator of ``X.split(sep)`` (after ``strip()``/``rstrip()`` of X), X matching ``of``."""
    if not m.matches(node, m.Call(func=m.Attribute(attr=m.Name("split")), args=[m.Arg(m.SimpleString())])):
        return None
    inner = node.func.value
    while m.matches(inner, m.Call(func=m.Attribute(attr=m.Name("strip") | m.Name("rstrip")), args=[])):
        inner = inner.func.value
    if not m.matches(inner, of):
        return None
    separator = node.args[0].value.evaluated_value
    return separator if isinstance(separator, str) and len(separator) == 1 else None


def _assignments(body: list[cst.CSTNode]):
    """(name, value) of every top-level ``name = value``."""
    for stmt in body:
        if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name())])])):
            yield stmt.body[0].targets[0].target.value, stmt.body[0].value


def _headers(body: list[cst.CSTNode]) -> dict[str, tuple[str, str]]:
    found = {}
    first_line = m.Subscript(value=m.Name(), slice=[m.SubscriptElement(m.Index(m.Integer("0")))])
    for name, value in _assignments(body):
        separator = _split_separator(value, first_line)
        if separator is not None:
            inner = value.func.value
            while isinstance(inner, cst.Call):
                inner = inner.func.value
            found[name] = (inner.value.value, separator)
    return {h: v for h, v in found.items() if bound_once(body, h)}


def _positions(body: list[cst.CSTNode], headers: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    found = {}
    lookup = m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("index")), args=[m.Arg(m.SimpleString())])
    for name, value in _assignments(body):
        if m.matches(value, lookup) and value.func.value.value in headers:
            field = value.args[0].value.evaluated_value
            if isinstance(field, str):
                found[name] = (value.func.value.value, field)
    return {p: v for p, v in found.items() if bound_once(body, p)}


def _by_name(loop: cst.For, headers: dict, positions: dict) -> cst.For | None:
    """``for line in L[1:]: p = line.split(sep); ... p[i] ...`` as ``for p in csv.DictReader(L): ... p["name"]``."""
    if loop.orelse is not None or not isinstance(loop.target, cst.Name) or not m.matches(
            loop.iter, m.Subscript(value=m.Name(), slice=[m.SubscriptElement(m.Slice(lower=m.Integer("1"),
                                                                                      upper=None))])):
        return None
    lines, line = loop.iter.value.value, loop.target.value
    statements = list(loop.body.body)
    assigned = list(_assignments(statements[:1]))
    if not assigned:
        return None
    row, value = assigned[0]
    separator = _split_separator(value, m.Name(line))
    if separator is None:
        return None
    rest = cst.Module(statements[1:])
    lookups = m.findall(rest, m.Subscript(value=m.Name(row), slice=[m.SubscriptElement(m.Index(m.Name()))]))
    fields = {}
    for lookup in lookups:
        position = lookup.slice[0].slice.value.value
        if position not in positions or headers[positions[position][0]] != (lines, separator):
            return None
        fields[id(lookup)] = positions[position][1]
    if not lookups or len(m.findall(rest, m.Name(row))) != len(lookups) or m.findall(rest, m.Name(line)):
        return None

    class _Fields(cst.CSTTransformer):
        def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
            if id(original) in fields:
                key = cst.SimpleString(repr(fields[id(original)]))
                return updated.with_changes(slice=[cst.SubscriptElement(cst.Index(key))])
            return updated

    body = [s.visit(_Fields()) for s in statements[1:]]
    reader = cst.parse_expression(f"csv.DictReader({lines}, delimiter={separator!r})")
    return loop.with_changes(target=cst.Name(row), iter=reader, body=loop.body.with_changes(body=body))
