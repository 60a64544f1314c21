"""Rewrite a script's top level into the shape the reader translates, without changing it.

Scripts written in different styles do the same thing; these substitutions make them look
alike before the reader sees them, so one translation rule serves every style:

* :func:`flatten_main` - ``if __name__ == "__main__":`` blocks become top-level statements;
* :func:`inline_calls` - a statement calling a function of the script (``df = load(path)``,
  ``main()``) becomes the function's body, its parameters bound first and its final
  ``return`` assigned to the target; a local that would clobber a module-level name still
  needed is renamed;
* :func:`~lester.rewrite.rules.row_helpers.inline_row_helpers` - ``parsed = parse(line)`` in a
  loop body becomes the helper's body there, its early ``return None`` a ``continue``;
* :func:`inplace_as_assignment` - ``df.drop(columns=c, inplace=True)`` becomes
  ``df = df.drop(columns=c)``;
* :func:`readline_loops` - ``while True: line = f.readline(); if not line: break; ...`` and
  ``line = f.readline()`` + ``while line: ...; line = f.readline()`` become ``for line in f:``;
* :func:`header_flags` - ``first = True`` and ``if first: first = False; continue`` at the top
  of a loop become ``next(reader)`` before it (or ``lines[1:]``), as other scripts skip a header;
* :func:`unrolled_dict_loops` - ``models = {"lr": LogisticRegression(), ...}`` and ``for name,
  model in models.items(): model.fit(...)`` become one block per entry, so the estimator fitted
  last is plain to see;
* :func:`constant_keys` - ``key = "agent_id"`` (a constant, or an inlined function's parameter)
  then ``rec[key]``: the key written out, ``rec["agent_id"]``, where no statement between rebinds it;
* :func:`unrolled_name_loops` - ``for dataset in [train, test]:`` (or over ``combine = [train,
  test]``) with a body that changes ``dataset`` in place: the body once per name, written on it.

Each returns the new statements and records, for every statement it made, the statement of
the script it stands for (``origin``), so errors still name the script's lines.

Example:
    >>> import libcst as cst
    >>> module = cst.parse_module(
    ...     "import pandas as pd\\n"
    ...     "def load(path):\\n    df = pd.read_csv(path)\\n    return df.dropna()\\n"
    ...     "def main():\\n    data = load('a.csv')\\n    data.drop(columns=['x'], inplace=True)\\n"
    ...     "if __name__ == '__main__':\\n    main()\\n")
    >>> body, origin = normalized(module)
    >>> print(cst.Module(body[3:]).code)
    path = 'a.csv'
    df = pd.read_csv(path)
    data = df.dropna()
    data = data.drop(columns=['x'])
    <BLANKLINE>
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from lester.rewrite.analysis import function_locals
from lester.rewrite.rules.dummies_concat import dummies_in_one_call
from lester.rewrite.rules.header_names import fields_by_header_name
from lester.rewrite.rules.row_helpers import inline_row_helpers, parse_then_drop_none
from lester.rewrite.rules.substitution import (
    KeepingPositions,
    NameSubstitution,
    Origin,
    function_call,
    made_from,
)

_INPLACE_METHODS = {
    "fillna", "drop", "dropna", "rename", "replace", "drop_duplicates", "reset_index", "set_index",
    "sort_values", "sort_index", "clip", "where", "mask", "interpolate", "query", "eval", "bfill", "ffill",
}
_MAX_DEPTH = 6



def normalized(module: cst.Module) -> tuple[list[cst.CSTNode], Origin]:
    """All substitutions, in order, on a module's top-level statements."""
    origin: Origin = {}
    body = flatten_main(list(module.body), origin)
    body = inline_calls(body, origin)
    body = fields_by_header_name(body, origin)
    body = parse_then_drop_none(body, origin)
    body = inline_row_helpers(body, origin)
    body = inplace_as_assignment(body, origin)
    body = dummies_in_one_call(body, origin)
    body = readline_loops(body, origin)
    body = header_flags(body, origin)
    body = unrolled_dict_loops(body, origin)
    body = unrolled_name_loops(body, origin)
    body = constant_keys(body, origin)
    return body, origin


# -- if __name__ == "__main__" ------------------------------------------------------------------
def flatten_main(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for stmt in body:
        if isinstance(stmt, cst.If) and m.matches(stmt.test, m.Comparison(left=m.Name("__name__"))) \
                and stmt.orelse is None:
            out += list(stmt.body.body)
        else:
            out.append(stmt)
    return out


# -- calls of the script's functions -------------------------------------------------------------
def inline_calls(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    functions = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef) and _inlinable(s)}
    for _ in range(_MAX_DEPTH):
        changed = False
        out: list[cst.CSTNode] = []
        taken = {n.value for s in body for n in m.findall(s, m.Name())}
        for position, stmt in enumerate(body):
            call, targets = function_call(stmt, functions)
            if call is None:
                hoisted = _hoisted(stmt, functions, taken, origin)
                out += hoisted or [stmt]
                changed = changed or hoisted is not None
                continue
            inlined = _inline(functions[call.func.value], call, targets, stmt, body, position, origin)
            if inlined is None:
                out.append(stmt)
            else:
                out += inlined
                changed = True
        body = out
        if not changed:
            break
    return body


def _hoisted(stmt: cst.CSTNode, functions: dict, taken: set[str], origin: Origin) -> list[cst.CSTNode] | None:
    """``df = df.merge(profile(df), on="id")`` as ``profile_result = profile(df)`` then
    ``df = df.merge(profile_result, on="id")``, so the call can be inlined: the first call of
    the script's own functions inside a statement, where it is evaluated first anyway (not in a
    lambda, a comprehension, or a branch of ``if``/``and``/``or``)."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], (cst.Assign, cst.Expr))):
        return None
    finder = _FirstCall(functions)
    stmt.body[0].value.visit(finder)
    if finder.found is None:
        return None
    base = f"{finder.found.func.value}_result"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    replaced = stmt.visit(_Replace(finder.found, cst.Name(name)))
    return [made_from(_assign([cst.AssignTarget(cst.Name(name))], finder.found), stmt, origin),
            made_from(replaced, stmt, origin)]


class _FirstCall(cst.CSTVisitor):
    def __init__(self, functions: dict):
        self.functions, self.found = functions, None

    def visit_Call(self, node: cst.Call) -> bool:
        if self.found is None and isinstance(node.func, cst.Name) and node.func.value in self.functions \
                and all(a.star == "" for a in node.args):
            self.found = node
            return False
        return self.found is None

    def visit_Lambda(self, node) -> bool:
        return False

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_IfExp = visit_Lambda
    visit_BooleanOperation = visit_Lambda


class _Replace(cst.CSTTransformer):
    def __init__(self, target: cst.CSTNode, by: cst.CSTNode):
        self.target, self.by = target, by

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        return self.by if original is self.target else updated


def _inlinable(function: cst.FunctionDef) -> bool:
    """One return at most, as the last statement; no generator, no nested function, plain
    parameters; not recursive."""
    if function.decorators or function.asynchronous:
        return False
    params = function.params
    if params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or params.star_kwarg is not None \
            or params.posonly_params or params.kwonly_params:
        return False
    statements = list(function.body.body)
    returns = m.findall(function.body, m.Return())
    if m.findall(function.body, m.Yield() | m.FunctionDef() | m.Lambda() | m.ClassDef()):
        return False
    if m.findall(function.body, m.Call(func=m.Name(function.name.value))):
        return False
    if not returns:
        return True
    last = statements[-1] if statements else None
    return len(returns) == 1 and m.matches(last, m.SimpleStatementLine(body=[m.Return()]))


def _inline(function: cst.FunctionDef, call: cst.Call, targets: list[cst.AssignTarget], stmt: cst.CSTNode,
            body: list[cst.CSTNode], position: int, origin: Origin) -> list[cst.CSTNode] | None:
    params = list(function.params.params)
    positional = [a for a in call.args if a.keyword is None]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if len(positional) > len(params) or set(keywords) - {p.name.value for p in params}:
        return None
    bound: list[tuple[str, cst.BaseExpression]] = []
    for index, param in enumerate(params):
        name = param.name.value
        if index < len(positional):
            bound.append((name, positional[index].value))
        elif name in keywords:
            bound.append((name, keywords[name]))
        elif param.default is not None:
            bound.append((name, param.default))
        else:
            return None
    statements = [s for s in function.body.body if not m.matches(s, m.SimpleStatementLine(
        body=[m.Expr(m.SimpleString() | m.ConcatenatedString())]))]
    returned: cst.BaseExpression | None = None
    if statements and m.matches(statements[-1], m.SimpleStatementLine(body=[m.Return()])):
        returned = statements[-1].body[0].value
        statements = statements[:-1]
    statements = [s for s in statements if not m.matches(s, m.SimpleStatementLine(body=[m.Global()]))]
    local = function_locals(function)
    renames = _clashes(function, local, targets, body, position)
    assigned = {n.value for t in targets for n in m.findall(t.target, m.Name())}
    later = {n.value for s in body[position + 1:] for n in m.findall(s, m.Name())}
    bindings: list[tuple[str, cst.BaseExpression]] = []
    for name, value in bound:
        if isinstance(value, cst.Name) and value.value == name and not (name in renames and _rebinds(function, name)):
            renames.pop(name, None)  # clean(rows) into def clean(rows): the same object, the same name
            continue
        if isinstance(value, cst.Name) and value.value not in local:
            rebinds, mutates = _rebinds(function, name), _mutates(function, name)
            if not rebinds:
                renames[name] = value.value  # an alias: what the body changes, the caller sees
                continue
            if mutates and value.value in later and value.value not in assigned:
                return None  # rebinds and changes the caller's object: neither reading is exact
        bindings.append((renames.get(name, name), value))
    if renames:
        renamer = NameSubstitution(lambda name: cst.Name(renames[name]) if name in renames else None)
        statements = [s.visit(renamer) for s in statements]
        returned = returned.visit(renamer) if returned is not None else None
    made: list[cst.CSTNode] = [made_from(_assign([cst.AssignTarget(cst.Name(n))], v), stmt, origin)
                               for n, v in bindings]
    made += statements
    if returned is not None and targets:
        made.append(made_from(_assign(targets, returned), stmt, origin))
    elif returned is not None and not isinstance(returned, (cst.Name, cst.SimpleString)):
        made.append(made_from(cst.SimpleStatementLine([cst.Expr(returned)]), stmt, origin))
    return made


def _rebinds(function: cst.FunctionDef, name: str) -> bool:
    return bool(m.findall(function.body, m.AssignTarget(target=m.Name(name)) | m.AugAssign(target=m.Name(name))
                          | m.For(target=m.Name(name))))


def _mutates(function: cst.FunctionDef, name: str) -> bool:
    """``d["x"] = ...``, ``d.drop(..., inplace=True)``, ``d.append(...)`` on the parameter."""
    stores = m.findall(function.body, m.AssignTarget(target=m.Subscript(value=m.Name(name)) | m.Attribute(
        value=m.Name(name))))
    calls = [c for c in m.findall(function.body, m.Call(func=m.Attribute(value=m.Name(name))))
             if any(a.keyword is not None and a.keyword.value == "inplace" for a in c.args)
             or c.func.attr.value in ("append", "extend", "update", "pop", "insert", "remove", "clear", "sort")]
    return bool(stores or calls)


def _assign(targets: list[cst.AssignTarget], value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Assign(targets, value)])


def _clashes(function: cst.FunctionDef, local: set[str], targets, body, position) -> dict[str, str]:
    """Locals of the function that name a module-level value still read after the call."""
    assigned = {n.value for t in targets for n in m.findall(t.target, m.Name())}
    later = {n.value for s in body[position + 1:] for n in m.findall(s, m.Name())}
    earlier = {n.value for s in body[:position] if not isinstance(s, cst.FunctionDef)
               for n in m.findall(s, m.Name())}
    prefix = function.name.value
    return {name: f"{prefix}_{name}" for name in local if name in earlier and name in later
            and name not in assigned}


def inplace_as_assignment(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    transformer = _Inplace(origin)
    return [stmt.visit(transformer) for stmt in body]


class _Inplace(KeepingPositions):
    def __init__(self, origin: Origin):
        self.origin = origin

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # in a function, the caller's frame would no longer change

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Expr):
            return updated
        call = updated.body[0].value
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and isinstance(call.func.value, cst.Name) and call.func.attr.value in _INPLACE_METHODS):
            return updated
        flags = [a for a in call.args if a.keyword is not None and a.keyword.value == "inplace"]
        if len(flags) != 1 or not m.matches(flags[0].value, m.Name("True")):
            return updated
        args = [a for a in call.args if a is not flags[0]]
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        target = call.func.value
        new = _assign([cst.AssignTarget(cst.Name(target.value))], call.with_changes(args=args))
        return made_from(new, original, self.origin)


# -- readline loops ----------------------------------------------------------------------------
def readline_loops(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    transformer = _Readline(origin)
    out = []
    for stmt in body:
        stmt = stmt.visit(transformer)
        out.append(stmt)
    return _primed_loops(out, origin)


def _readline_of(stmt: cst.CSTNode) -> tuple[str, cst.BaseExpression] | None:
    """``line = f.readline()``: ("line", f)."""
    if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())],
                                                             value=m.Call(func=m.Attribute(attr=m.Name("readline")),
                                                                          args=[]))])):
        small = stmt.body[0]
        return small.targets[0].target.value, small.value.func.value
    return None


def _is_end_test(stmt: cst.CSTNode, name: str) -> bool:
    """``if not line: break`` (or ``if line == "": break``)."""
    if not (isinstance(stmt, cst.If) and stmt.orelse is None):
        return False
    inner = stmt.body.body
    if not (len(inner) == 1 and m.matches(inner[0], m.SimpleStatementLine(body=[m.Break()]))):
        return False
    test = stmt.test
    return m.matches(test, m.UnaryOperation(operator=m.Not(), expression=m.Name(name))) or m.matches(
        test, m.Comparison(left=m.Name(name), comparisons=[m.ComparisonTarget(
            operator=m.Equal() | m.Is(), comparator=m.SimpleString() | m.Name("None"))]))


class _Readline(KeepingPositions):
    def __init__(self, origin: Origin):
        self.origin = origin

    def leave_While(self, original: cst.While, updated: cst.While) -> cst.CSTNode:
        if not m.matches(updated.test, m.Name("True") | m.Integer("1")) or updated.orelse is not None:
            return updated
        inner = list(updated.body.body)
        if len(inner) < 2:
            return updated
        read = _readline_of(inner[0])
        if read is None or not _is_end_test(inner[1], read[0]):
            return updated
        rest = inner[2:]
        if m.findall(cst.IndentedBlock(rest), m.Break()) or not rest:
            return updated  # another way out of the loop: not a plain loop over lines
        loop = cst.For(target=cst.Name(read[0]), iter=read[1], body=updated.body.with_changes(body=rest))
        return made_from(loop, original, self.origin)


def _primed_loops(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """``line = f.readline()`` then ``while line: ...; line = f.readline()``."""
    out: list[cst.CSTNode] = []
    index = 0
    while index < len(body):
        stmt = body[index]
        read = _readline_of(stmt)
        after = body[index + 1] if index + 1 < len(body) else None
        if read is not None and isinstance(after, cst.While) and m.matches(after.test, m.Name(read[0])) \
                and after.orelse is None:
            inner = list(after.body.body)
            again = _readline_of(inner[-1]) if inner else None
            if again is not None and again[0] == read[0] and not m.findall(
                    cst.IndentedBlock(inner[:-1]), m.Break() | m.Continue()):
                loop = cst.For(target=cst.Name(read[0]), iter=read[1],
                               body=after.body.with_changes(body=inner[:-1]))
                out.append(made_from(loop, after, origin))
                index += 2
                continue
        out.append(stmt)
        index += 1
    return out


# -- header flags -------------------------------------------------------------------------------
def header_flags(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """``if first: first = False; continue`` at the top of a loop: the loop skips its first row."""
    counts: dict[str, int] = {}
    for node in m.findall(cst.Module(body=body), m.Name()):
        counts[node.value] = counts.get(node.value, 0) + 1
    iterators, lists = _iterables(body)
    transformer = _HeaderFlag(counts, iterators, lists, origin)
    out: list[cst.CSTNode] = []
    for stmt in body:
        new = stmt.visit(transformer)
        if isinstance(new, cst.FlattenSentinel):
            out += list(new.nodes)
        else:
            out.append(new)
    return out


def _iterables(body: list[cst.CSTNode]) -> tuple[set[str], set[str]]:
    """Names bound to iterators over rows (files, csv readers) and to lists of lines."""
    iterators: set[str] = set()
    lists: set[str] = set()
    module = cst.Module(body=body)
    for item in m.findall(module, m.WithItem(asname=m.AsName(name=m.Name()))):
        iterators.add(item.asname.name.value)
    for assign in m.findall(module, m.Assign(targets=[m.AssignTarget(m.Name())])):
        name, value = assign.targets[0].target.value, assign.value
        called = cst.Module([]).code_for_node(value.func) if isinstance(value, cst.Call) else ""
        if called in ("open", "iter") or called.endswith(("csv.reader", "csv.DictReader")) or called in (
                "reader", "DictReader"):
            iterators.add(name)
        elif called.endswith((".readlines", ".splitlines", ".split")) or called == "list":
            lists.add(name)
    return iterators, lists


class _HeaderFlag(KeepingPositions):
    def __init__(self, counts: dict[str, int], iterators: set[str], lists: set[str], origin: Origin):
        self.counts, self.iterators, self.lists, self.origin = counts, iterators, lists, origin

    def leave_For(self, original: cst.For, updated: cst.For):
        inner = list(updated.body.body)
        found = _flag_test(inner[0]) if inner else None
        flag, kept = found if found is not None else (None, [])
        # the flag appears three times: set before the loop, tested, cleared
        if flag is None or self.counts.get(flag) != 3 or updated.orelse is not None:
            return updated
        if kept and not isinstance(updated.target, cst.Name):
            return updated
        iterable, start = updated.iter, None
        if m.matches(iterable, m.Call(func=m.Name("enumerate"))) and iterable.args and not iterable.args[0].keyword:
            start = iterable.args[1].value if len(iterable.args) > 1 else cst.Integer("0")
            if not isinstance(start, cst.Integer):
                return updated
            iterable = iterable.args[0].value
        before: list[cst.CSTNode] = []
        skipped = iterable
        if (m.matches(iterable, m.Call(func=m.Attribute(value=m.Name("csv"), attr=m.Name("reader")) | m.Name("reader"),
                                       args=[m.Arg(m.Name())]))):
            skipped = iterable.args[0].value  # csv.reader(f): the header row is the first line of f
        listed = (isinstance(iterable, cst.Name) and iterable.value in self.lists) or m.matches(
            iterable, m.Call(func=m.Attribute(attr=m.Name("readlines") | m.Name("splitlines")) | m.Name("list")))
        if isinstance(skipped, cst.Name) and (skipped.value in self.iterators or skipped is not iterable):
            first_row = cst.Call(cst.Name("next"), [cst.Arg(skipped if skipped is iterable else iterable)])
            rows = iterable
        elif listed:
            first_row = cst.Subscript(iterable, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])
            rows = cst.Subscript(iterable, [cst.SubscriptElement(cst.Slice(lower=cst.Integer("1"), upper=None))])
            if not isinstance(iterable, cst.Name) and kept:
                return updated  # the list would be read twice
        else:
            return updated
        if kept:  # the first row, then what the script kept of it
            before.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(updated.target)], first_row)]))
            before += [cst.SimpleStatementLine([small]) for small in kept]
        elif rows is iterable:
            before.append(cst.SimpleStatementLine([cst.Expr(cst.Call(cst.Name("next"), [cst.Arg(skipped)]))]))
        if start is not None:  # enumerate counts the skipped row, as the flag's loop did
            rows = cst.Call(cst.Name("enumerate"), [cst.Arg(rows), cst.Arg(cst.Integer(str(int(start.value) + 1)))])
        loop = made_from(updated.with_changes(iter=rows, body=updated.body.with_changes(body=inner[1:])), original,
                     self.origin)
        return cst.FlattenSentinel([*(made_from(b, original, self.origin) for b in before), loop])


def _flag_test(stmt: cst.CSTNode) -> tuple[str, list[cst.BaseSmallStatement]] | None:
    """``if flag: flag = False; continue`` (in either order), and the assignments the block
    makes besides (``header = line``: what the script keeps of the first row)."""
    if not (isinstance(stmt, cst.If) and isinstance(stmt.test, cst.Name) and stmt.orelse is None):
        return None
    flag = stmt.test.value
    if not all(isinstance(line, cst.SimpleStatementLine) for line in stmt.body.body):
        return None
    smalls = [small for line in stmt.body.body for small in line.body]
    cleared = [s for s in smalls if m.matches(s, m.Assign(targets=[m.AssignTarget(m.Name(flag))], value=m.Name("False")))]
    skipped = [s for s in smalls if isinstance(s, cst.Continue)]
    kept = [s for s in smalls if s not in cleared and s not in skipped]
    if len(cleared) != 1 or len(skipped) != 1 or not isinstance(smalls[-1], cst.Continue):
        return None
    if not all(m.matches(s, m.Assign(targets=[m.AssignTarget(m.Name())])) for s in kept):
        return None
    return flag, kept


# -- loops over a dict of constructors -------------------------------------------------------
def unrolled_dict_loops(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """``for k, v in d.items():`` over a dict literal of calls bound once and read nowhere else:
    one copy of the body per entry, ``k`` the key and ``v`` the entry's constructor."""
    out: list[cst.CSTNode] = []
    for position, stmt in enumerate(body):
        loop = stmt
        unpacked = _dict_loop(loop)
        if unpacked is None:
            out.append(stmt)
            continue
        key, value, name = unpacked
        entries = _dict_literal(body[:position], name)
        uses = sum(len(m.findall(s, m.Name(name))) for s in body)
        if entries is None or uses != 2 or m.findall(loop.body, m.Break() | m.Continue() | m.Return()):
            out.append(stmt)
            continue
        for entry_key, entry_value in entries:
            bindings = [_assign([cst.AssignTarget(cst.Name(key))], entry_key),
                        _assign([cst.AssignTarget(cst.Name(value))], entry_value)]
            out += [made_from(b, loop, origin) for b in bindings] + list(loop.body.body)
    return out


def _dict_loop(stmt: cst.CSTNode) -> tuple[str, str, str] | None:
    if not (isinstance(stmt, cst.For) and stmt.orelse is None and isinstance(stmt.target, cst.Tuple)
            and len(stmt.target.elements) == 2 and all(isinstance(e.value, cst.Name) for e in stmt.target.elements)
            and m.matches(stmt.iter, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("items")), args=[]))):
        return None
    key, value = (e.value.value for e in stmt.target.elements)
    return key, value, stmt.iter.func.value.value


def _dict_literal(before: list[cst.CSTNode], name: str) -> list[tuple[cst.BaseExpression, cst.BaseExpression]] | None:
    """The entries of ``name = {"k": Call(...), ...}``, the last binding of ``name`` before."""
    for stmt in reversed(before):
        for assign in m.findall(stmt, m.Assign(targets=[m.AssignTarget(m.Name(name))])):
            value = assign.value
            if isinstance(value, cst.Dict) and value.elements and all(
                    isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                    and isinstance(e.value, cst.Call) for e in value.elements):
                return [(e.key, e.value) for e in value.elements]
            return None
    return None


# -- constant subscript keys ------------------------------------------------------------------
def constant_keys(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """``rec[key]`` as ``rec["agent_id"]`` after ``key = "agent_id"``, in straight-line order: a
    statement that binds ``key`` anywhere (a loop, a with, a function's global) ends it."""
    from lester.rewrite.analysis import StatementNames

    known: dict[str, cst.BaseExpression] = {}
    out: list[cst.CSTNode] = []
    for stmt in body:
        facts = StatementNames()
        stmt.visit(facts)
        # a comprehension's own variable of the same name is not the constant
        bound = facts.rebinds | facts.mutates | facts.declared_global | facts.comprehension_locals
        usable = {k: v for k, v in known.items() if k not in bound}
        if usable and not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            new = stmt.visit(_KeySubstitution(usable))
            if new is not stmt:
                stmt = made_from(new, stmt, origin)
        out.append(stmt)
        for name in bound:
            known.pop(name, None)
        value = _literal_assignment(stmt)
        if value is not None:
            known[value[0]] = value[1]
    return out


def _literal_assignment(stmt: cst.CSTNode) -> tuple[str, cst.BaseExpression] | None:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)
            and len(stmt.body[0].targets) == 1 and isinstance(stmt.body[0].targets[0].target, cst.Name)):
        return None
    value = stmt.body[0].value
    if isinstance(value, (cst.SimpleString, cst.Integer)):
        return stmt.body[0].targets[0].target.value, value
    return None


class _KeySubstitution(KeepingPositions):
    def __init__(self, known: dict[str, cst.BaseExpression]):
        self.known = known

    def visit_FunctionDef(self, node) -> bool:
        return False

    def visit_Lambda(self, node) -> bool:
        return False

    def leave_SubscriptElement(self, original: cst.SubscriptElement, updated: cst.SubscriptElement):
        index = updated.slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.Name) and index.value.value in self.known:
            return updated.with_changes(slice=index.with_changes(value=self.known[index.value.value]))
        return updated


# -- loops over a list of variables ---------------------------------------------------------
def unrolled_name_loops(body: list[cst.CSTNode], origin: Origin) -> list[cst.CSTNode]:
    """``for d in [train, test]: d["x"] = ...``: ``d`` is each frame in turn, changed in place,
    so the body written once for ``train`` and once for ``test`` does the same. A body that
    rebinds ``d`` (``d = d.drop(...)``) changes nothing outside the loop: it is left alone."""
    from lester.rewrite.analysis import StatementNames

    lists: dict[str, list[str]] = {}
    out: list[cst.CSTNode] = []
    for stmt in body:
        names = _loop_over_names(stmt, lists)
        if names is not None:
            var = stmt.target.value
            facts = StatementNames()
            stmt.body.visit(facts)
            if var not in facts.rebinds and not m.findall(stmt.body, m.Break() | m.Continue()) and stmt.orelse is None:
                for name in names:
                    renamer = NameSubstitution(lambda n, name=name: cst.Name(name) if n == var else None)
                    out += [made_from(s.visit(renamer), stmt, origin) for s in stmt.body.body]
                continue
        listed = _name_list_assignment(stmt)
        facts = StatementNames()
        stmt.visit(facts)
        for changed in facts.rebinds | facts.mutates:  # combine.append(x), combine = ...
            lists.pop(changed, None)
        if listed is not None:
            lists[listed[0]] = listed[1]
        out.append(stmt)
    return out


def _name_list_assignment(stmt: cst.CSTNode) -> tuple[str, list[str]] | None:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)
            and len(stmt.body[0].targets) == 1 and isinstance(stmt.body[0].targets[0].target, cst.Name)):
        return None
    names = _names_of_list(stmt.body[0].value)
    return (stmt.body[0].targets[0].target.value, names) if names else None


def _names_of_list(node: cst.BaseExpression) -> list[str] | None:
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements and all(
            isinstance(e.value, cst.Name) for e in node.elements):
        return [e.value.value for e in node.elements]
    return None


def _loop_over_names(stmt: cst.CSTNode, lists: dict[str, list[str]]) -> list[str] | None:
    if not (isinstance(stmt, cst.For) and isinstance(stmt.target, cst.Name)):
        return None
    if isinstance(stmt.iter, cst.Name):
        return lists.get(stmt.iter.value)
    return _names_of_list(stmt.iter)
