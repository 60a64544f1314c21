"""Per-row helpers written back into the loop that calls them.

Scripts often move a loop's parsing into a function of their own: ``parsed = parse(line)``,
``if parsed is None: continue``, ``name, amount = parsed``, where ``parse`` splits the line,
returns ``None`` for rows it rejects (a short record, a failing cast in ``try/except``) and a
tuple otherwise. The reader lifts a loop body statement by statement (guards become filters,
assignments columns), so a helper it cannot see into would be one opaque Python function per
row. This substitution puts the helper's body where it is called: its parameters bound to the
call's arguments, each early ``return None`` a ``continue`` (the caller skipped such rows
anyway), the final ``return`` assigned to the call's target, and a returned tuple unpacked
straight into the names the caller unpacks it into. Locals of the helper that would clobber a
name the script uses elsewhere are renamed.

Only what keeps the meaning exactly is rewritten: a helper whose early returns give values
(``return "low"``), that returns from inside a loop of its own, or whose ``None`` the caller
does not test, stays a call.

Example:
    >>> import libcst as cst
    >>> module = cst.parse_module(
    ...     "def parse(line):\\n"
    ...     "    parts = line.strip().split(',')\\n"
    ...     "    if len(parts) < 3:\\n        return None\\n"
    ...     "    return parts[0], float(parts[2])\\n"
    ...     "rows = []\\n"
    ...     "for line in open('a.csv'):\\n"
    ...     "    parsed = parse(line)\\n"
    ...     "    if parsed is None:\\n        continue\\n"
    ...     "    name, amount = parsed\\n"
    ...     "    rows.append((name, amount))\\n")
    >>> body = inline_row_helpers(list(module.body), {})
    >>> print(cst.Module(body[2:]).code)
    for line in open('a.csv'):
        parts = line.strip().split(',')
        if len(parts) < 3:
            continue
        name = parts[0]
        amount = float(parts[2])
        rows.append((name, amount))
    <BLANKLINE>
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from lester.rewrite.analysis import function_locals
from lester.rewrite.rules.substitution import NameSubstitution, Origin, function_call, made_from

_MAX_DEPTH = 4
_NONE_GUARDS = (m.If(test=m.Comparison(left=m.Name(), comparisons=[m.ComparisonTarget(m.Is(), m.Name("None"))]),
                     body=m.IndentedBlock(body=[m.SimpleStatementLine(body=[m.Continue()])]), orelse=None),
                m.If(test=m.UnaryOperation(m.Not(), m.Name()),
                     body=m.IndentedBlock(body=[m.SimpleStatementLine(body=[m.Continue()])]), orelse=None))


def inline_row_helpers(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """Every statement of a loop body that calls a helper of the script, as the helper's body."""
    defined = _module_functions(body)
    functions = {name: f for name, f in defined.items() if f is not None and _plain(f)}
    if not functions:
        return body
    everywhere = Counter(n.value for s in body for n in m.findall(s, m.Name()))
    names_elsewhere = {}
    for name, f in functions.items():
        inside = Counter(n.value for n in m.findall(f, m.Name()))
        names_elsewhere[name] = {n for n, count in everywhere.items() if count > inside[n]}
    out: list[cst.CSTNode] = []
    for stmt in body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            out.append(stmt)
            continue
        new = stmt.visit(_LoopBodies(functions, names_elsewhere))
        out.append(stmt if new is stmt else made_from(new, stmt, origin))
    return out


def _module_functions(body: list[cst.CSTNode]) -> dict[str, cst.FunctionDef | None]:
    """Functions of the module's scope: top-level ones and those defined in a ``with`` or ``if``
    block at the top level (no new scope there); None for a name defined twice."""
    found: dict[str, cst.FunctionDef | None] = {}

    class _Defs(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            name = node.name.value
            found[name] = None if name in found else node
            return False  # a function inside a function is its own scope

        def visit_ClassDef(self, node) -> bool:
            return False

    for stmt in body:
        stmt.visit(_Defs())
    return found


def _plain(function: cst.FunctionDef) -> bool:
    """Plain parameters, no generator, closure or recursion: a body that can stand in a loop."""
    params = function.params
    if function.decorators or function.asynchronous or params.posonly_params or params.kwonly_params \
            or params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or params.star_kwarg is not None:
        return False
    banned = m.Yield() | m.FunctionDef() | m.Lambda() | m.ClassDef() | m.Nonlocal() \
        | m.Call(func=m.Name(function.name.value))
    return not m.findall(function.body, banned)


class _LoopBodies(cst.CSTTransformer):
    def __init__(self, functions: dict[str, cst.FunctionDef], names_elsewhere: dict[str, set[str]]):
        self.functions, self.names_elsewhere = functions, names_elsewhere

    def visit_FunctionDef(self, node) -> bool:
        return False

    visit_Lambda = visit_ClassDef = visit_FunctionDef

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        return updated.with_changes(body=self._block(updated.body))

    def leave_While(self, original: cst.While, updated: cst.While) -> cst.While:
        return updated.with_changes(body=self._block(updated.body))

    def _block(self, block: cst.BaseSuite) -> cst.BaseSuite:
        if not isinstance(block, cst.IndentedBlock):
            return block
        statements = list(block.body)
        for _ in range(_MAX_DEPTH):
            changed = self._inline_first(statements)
            if not changed:
                break
        return block.with_changes(body=statements)

    def _inline_first(self, statements: list[cst.BaseStatement]) -> bool:
        for position, stmt in enumerate(statements):
            call, targets = function_call(stmt, self.functions)
            if call is None or len(targets) > 1:
                continue
            made = _inlined(self.functions[call.func.value], call, targets, statements, position,
                            self.names_elsewhere[call.func.value])
            if made is not None:
                statements[position:position + made[1]] = made[0]
                return True
        return False


def _inlined(function: cst.FunctionDef, call: cst.Call, targets: list[cst.AssignTarget],
             statements: Sequence[cst.BaseStatement], position: int,
             names_elsewhere: set[str]) -> tuple[list[cst.BaseStatement], int] | None:
    """The statements standing for ``statements[position]`` (and the caller's ``None`` test and
    unpacking after it, when they are folded in), with how many statements they replace."""
    body = [s for s in function.body.body if not m.matches(s, m.SimpleStatementLine(
        body=[m.Expr(m.SimpleString() | m.ConcatenatedString()) | m.Global()]))]
    returned: cst.BaseExpression | None = None
    if body and m.matches(body[-1], m.SimpleStatementLine(body=[m.Return()])):
        returned = body[-1].body[0].value
        body = body[:-1]
        if returned is None or m.matches(returned, m.Name("None")):
            returned = None
    early = _EarlyReturns()
    cst.Module(body).visit(early)
    if not early.sound:
        return None
    replaced = 1
    if early.found:  # rows the helper rejects: the caller must skip them, or ``continue`` is wrong
        guard = statements[position + 1] if position + 1 < len(statements) else None
        if returned is None or len(targets) != 1 or not isinstance(targets[0].target, cst.Name) \
                or guard is None or not any(m.matches(guard, g) for g in _NONE_GUARDS) \
                or _guarded_name(guard) != targets[0].target.value:
            return None
        if _never_falsy(returned):
            replaced = 2
        body = [s.visit(_ReturnAsContinue()) for s in body]
    # the names the caller assigns from the result are overwritten at once: the helper's locals
    # of the same names may keep them (``name = parts[0]`` ... ``name, amount = parsed``)
    overwritten = {n.value for t in targets for n in m.findall(t.target, m.Name())}
    if position + replaced < len(statements) and targets:
        after = statements[position + replaced]
        if m.matches(after, m.SimpleStatementLine(body=[m.Assign(value=m.Name())])) \
                and after.body[0].value.value in overwritten:
            overwritten |= {n.value for t in after.body[0].targets for n in m.findall(t.target, m.Name())}
    bindings, renames = _bind(function, call, names_elsewhere - overwritten)
    if bindings is None:
        return None
    if renames:
        renamer = NameSubstitution(lambda name: _as_node(renames[name]) if name in renames else None)
        body = [s.visit(renamer) for s in body]
        returned = returned.visit(renamer) if returned is not None else None
    made: list[cst.BaseStatement] = list(bindings) + body
    if returned is not None and targets:
        unpacked = _unpacked(targets[0], returned, statements, position + replaced) \
            or _used_once(targets[0], returned, statements, position + replaced)
        if unpacked is None and isinstance(targets[0].target, (cst.Tuple, cst.List)) and _never_falsy(returned) \
                and isinstance(returned, cst.Tuple):
            elementwise = _elementwise(targets[0].target, returned)
            if elementwise is not None:
                made += elementwise
                return made, replaced
        if unpacked is not None:
            made += unpacked
            replaced += 1
        else:
            made.append(cst.SimpleStatementLine([cst.Assign(targets, returned)]))
    elif returned is not None and not isinstance(returned, (cst.Name, cst.SimpleString)):
        made.append(cst.SimpleStatementLine([cst.Expr(returned)]))
    return made, replaced


def _as_node(value: str | cst.BaseExpression) -> cst.BaseExpression:
    return cst.Name(value) if isinstance(value, str) else value


class _EarlyReturns(cst.CSTVisitor):
    """Returns before the last statement: sound when each gives None and none is in a loop of
    the helper's own (there ``continue`` would mean the inner loop)."""

    def __init__(self) -> None:
        self.found, self.sound, self._loops = 0, True, 0

    def visit_For(self, node) -> None:
        self._loops += 1

    def leave_For(self, node) -> None:
        self._loops -= 1

    visit_While, leave_While = visit_For, leave_For

    def visit_Return(self, node: cst.Return) -> None:
        self.found += 1
        if self._loops or not (node.value is None or m.matches(node.value, m.Name("None"))):
            self.sound = False


class _ReturnAsContinue(cst.CSTTransformer):
    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Continue:
        return cst.Continue()


def _guarded_name(guard: cst.If) -> str | None:
    test = guard.test
    operand = test.left if isinstance(test, cst.Comparison) else test.expression
    return operand.value if isinstance(operand, cst.Name) else None


def _never_falsy(value: cst.BaseExpression) -> bool:
    """A literal tuple, list or dict with elements: the caller's ``None`` test never fires."""
    return isinstance(value, (cst.Tuple, cst.List, cst.Dict)) and len(value.elements) > 0 \
        and all(isinstance(e, (cst.Element, cst.DictElement)) for e in value.elements)


def _bind(function: cst.FunctionDef, call: cst.Call,
          names_elsewhere: set[str]) -> tuple[list[cst.BaseStatement] | None, dict[str, str | cst.BaseExpression]]:
    """Assignments of the parameters, and what stands for the helper's names: a parameter it
    never rebinds is the plain name or the constant it was passed; a local that would clobber a
    name of the script is renamed."""
    params = list(function.params.params)
    positional = [a.value for a in call.args if a.keyword is None]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if len(positional) > len(params) or set(keywords) - {p.name.value for p in params}:
        return None, {}
    local = function_locals(function)
    rebound = _rebound(function)
    renames: dict[str, str] = {}
    aliased: set[str] = set()
    constants: dict[str, cst.BaseExpression] = {}
    values: list[tuple[str, cst.BaseExpression]] = []
    for index, param in enumerate(params):
        name = param.name.value
        value = positional[index] if index < len(positional) else keywords.get(name, param.default)
        if value is None:
            return None, {}
        if name not in rebound and _constant(value):
            constants[name] = value  # ``min_fields=4``: written out where it is read
            aliased.add(name)
            continue
        if isinstance(value, cst.Name) and name not in rebound and value.value not in local - {name}:
            if value.value != name:
                renames[name] = value.value
            aliased.add(name)
            continue
        values.append((name, value))
    taken = names_elsewhere | local
    for name in sorted(local - aliased):
        if name in names_elsewhere:
            fresh, n = f"{function.name.value}_{name}", 2
            while fresh in taken:
                fresh, n = f"{function.name.value}_{name}_{n}", n + 1
            taken.add(fresh)
            renames[name] = fresh
    bindings = [cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(renames.get(n, n)))], v)])
                for n, v in values]
    return bindings, {**renames, **constants}


def _constant(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        value = value.expression
    return isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)) or m.matches(
        value, m.Name("True") | m.Name("False") | m.Name("None"))


def _rebound(function: cst.FunctionDef) -> set[str]:
    found = m.findall(function.body, m.AssignTarget(target=m.Name()) | m.AugAssign(target=m.Name())
                      | m.For(target=m.Name()) | m.AnnAssign(target=m.Name()))
    return {f.target.value for f in found}


def _unpacked(target: cst.AssignTarget, returned: cst.BaseExpression, statements: Sequence[cst.BaseStatement],
              position: int) -> list[cst.BaseStatement] | None:
    """``parsed = (a, b)`` then ``x, y = parsed`` as ``x = a`` and ``y = b``, when ``parsed`` is
    read nowhere else and no element reads a name assigned before it."""
    if not (isinstance(target.target, cst.Name) and isinstance(returned, cst.Tuple) and _never_falsy(returned)):
        return None
    name = target.target.value
    following = statements[position] if position < len(statements) else None
    if not m.matches(following, m.SimpleStatementLine(body=[m.Assign(
            targets=[m.AssignTarget(m.Tuple() | m.List())], value=m.Name(name))])):
        return None
    if any(m.findall(s, m.Name(name)) for s in statements[position + 1:]):
        return None
    return _elementwise(following.body[0].targets[0].target, returned)


def _elementwise(target: cst.Tuple | cst.List, returned: cst.Tuple) -> list[cst.BaseStatement] | None:
    """``a, b = x, y`` as ``a = x`` and ``b = y`` (``a = a`` left out), when no element reads a
    name assigned before it."""
    names = target.elements
    if len(names) != len(returned.elements) or not all(
            isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in names):
        return None
    made, assigned = [], set()
    for element, value in zip(names, returned.elements):
        if {n.value for n in m.findall(value.value, m.Name())} & assigned:
            return None
        assigned.add(element.value.value)
        if m.matches(value.value, m.Name(element.value.value)):
            continue  # ``name = name``: the helper's local already is the caller's
        made.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(element.value)], value.value)]))
    return made


def _used_once(target: cst.AssignTarget, returned: cst.BaseExpression, statements: Sequence[cst.BaseStatement],
               position: int) -> list[cst.BaseStatement] | None:
    """``parsed = (a, b)`` then ``rows.append(parsed)`` as ``rows.append((a, b))``, when the
    next statement reads ``parsed`` once, as a plain statement, and nothing after it does."""
    if not (isinstance(target.target, cst.Name) and isinstance(returned, (cst.Tuple, cst.List, cst.Dict))):
        return None
    name = target.target.value
    following = statements[position] if position < len(statements) else None
    if not isinstance(following, cst.SimpleStatementLine) or len(m.findall(following, m.Name(name))) != 1 \
            or m.findall(following, m.AssignTarget(target=m.Name(name))):
        return None
    if any(m.findall(s, m.Name(name)) for s in statements[position + 1:]):
        return None
    value = returned.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) \
        if isinstance(returned, cst.Tuple) else returned
    return [following.visit(NameSubstitution(lambda n: value if n == name else None))]


def parse_then_drop_none(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """``records = [parse(l) for l in lines]`` and later ``records = [r for r in records if r is
    not None]`` (the helper returns None for rows it rejects) as one loop that skips those rows:
    ``for l in lines: r = parse(l); if r is None: continue; records.append(r)``, which
    :func:`inline_row_helpers` then reads into. Statements between the two that only display
    the list (``print(sum(r is None for r in records))``) are left out: no output reads them."""
    functions = {s.name.value for s in body if isinstance(s, cst.FunctionDef)}
    out = list(body)
    position = 0
    while position < len(out):
        fused = _fused(out, position, functions, origin)
        if fused is not None:
            out = fused
        position += 1
    return out


def _fused(body: list[cst.CSTNode], position: int, functions: set[str], origin: Origin) -> list[cst.CSTNode] | None:
    mapped = _list_comprehension(body[position])
    if mapped is None:
        return None
    name, comp = mapped
    if comp.for_in.ifs or comp.for_in.inner_for_in is not None or not isinstance(comp.for_in.target, cst.Name) \
            or not m.matches(comp.elt, m.Call(func=m.Name())) or comp.elt.func.value not in functions:
        return None
    display: list[int] = []
    for later in range(position + 1, len(body)):
        stmt = body[later]
        if not m.findall(stmt, m.Name(name)):
            continue
        kept = _list_comprehension(stmt)
        if kept is not None and _drops_none(kept[1], name):
            result, row = kept[0], kept[1].elt.value
            if result != name and any(m.findall(s, m.Name(name)) for s in body[later + 1:]):
                return None
            for_in = comp.for_in
            loop = cst.parse_statement(
                f"for {for_in.target.value} in ITERABLE:\n    {row} = CALL\n    if {row} is None:\n"
                f"        continue\n    {result}.append({row})\n")
            placeholders = {"ITERABLE": for_in.iter, "CALL": comp.elt}
            loop = loop.visit(NameSubstitution(placeholders.get))
            start = cst.parse_statement(f"{result} = []\n")
            made = [made_from(start, body[position], origin), made_from(loop, body[position], origin)]
            return body[:position] + made + [s for i, s in enumerate(body[position + 1:], position + 1)
                                              if i != later and i not in display]
        if m.matches(stmt, m.SimpleStatementLine(body=[m.Expr()])):
            display.append(later)  # print(...) / a bare expression reading the list
            continue
        return None
    return None


def _list_comprehension(stmt: cst.CSTNode) -> tuple[str, cst.ListComp] | None:
    if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name())],
                                                            value=m.ListComp())])):
        assign = stmt.body[0]
        return assign.targets[0].target.value, assign.value
    return None


def _drops_none(comp: cst.ListComp, source: str) -> bool:
    """``[r for r in source if r is not None]`` or ``[r for r in source if r]``."""
    for_in = comp.for_in
    if not (isinstance(for_in.target, cst.Name) and m.matches(comp.elt, m.Name(for_in.target.value))
            and m.matches(for_in.iter, m.Name(source)) and len(for_in.ifs) == 1 and for_in.inner_for_in is None):
        return False
    row, test = for_in.target.value, for_in.ifs[0].test
    return m.matches(test, m.Name(row)) or m.matches(test, m.Comparison(
        left=m.Name(row), comparisons=[m.ComparisonTarget(m.IsNot(), m.Name("None"))]))
