"""Style variants of the rewrite corpus: the same script written the other ways people write it.

Issue 11 asks that lester's rules are not tuned to the exact spelling of the corpus. This module
rewrites each corpus script (``<case>/messy.py``) into semantically equivalent variants, one libcst
transformer per variation (codemod style), each applied only where its pattern is present:

| kind | what changes |
|---|---|
| ``header_next`` / ``header_readline`` / ``header_lines`` / ``header_flag`` | a header skipped by hand (``next(f)``, ``f.readline()``, ``E[1:]``) is skipped the other way: ``next(f)``, ``f.readline()`` (files only), ``lines = list(f)`` + ``lines[0]`` + ``lines[1:]``, or a ``first = True`` flag with ``continue`` |
| ``for_as_while`` | ``for line in f`` over a file becomes ``while True: line = f.readline(); if not line: break`` |
| ``split_as_csv_reader`` | ``line.strip().split(",")`` becomes a ``csv.reader`` row (only when no input has quotes, blank lines or padded lines) |
| ``body_to_helper`` | the parsing part of a loop body moves into ``def parse_row(line): ... return ...`` |
| ``rename_variables`` | the script's variables get other names (consistently, never onto a name in use) |
| ``display_exprs`` | notebook displays at statement boundaries: ``df.head()``, ``df.shape``, ``X.shape``, ``print(len(rows))`` |

A variant only counts when it is *checked* equivalent: :func:`observe` runs a script in a copy of
the case folder (subprocess, timeout) and records the files it writes and the ``X``, ``y`` and
class of the last scikit-learn predictor it fits (captured with a profile hook, for scripts that
save nothing); :func:`same_observations` compares two runs byte for byte. A variant that differs
is a bug of this generator, never a rewrite failure: callers drop it and count it.

:func:`check_rewrite` is the independent check of a rewrite's "valid" verdict: it runs the module's
``dataprep``/``encode_features``/``extract_label`` itself and compares with what the variant wrote.

Run by hand (prints what applies and whether it is equivalent)::

    python benchmarks/rewrite_variants.py CASE ... [--rows 200] [--kind KIND] [--show]
"""

from __future__ import annotations

import argparse
import builtins
import hashlib
import json
import keyword
import math
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import FunctionScope, GlobalScope, MetadataWrapper, ScopeProvider

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "rewrite_corpus"
SCRIPT = "messy.py"


# --------------------------------------------------------------------------------------------
# What a transformer may know about the case besides the source
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Facts about the case's data that decide whether a variation applies.

    ``csv_safe``: no input file has a quote, a blank line, a ``\\r`` or a line with leading or
    trailing blanks, so ``line.strip().split(sep)`` and ``csv.reader`` give the same fields.
    """

    csv_safe: bool = False

    @classmethod
    def for_case(cls, folder: Path) -> Context:
        try:
            inputs = json.loads((folder / "expect.json").read_text())["inputs"]
        except (OSError, ValueError, KeyError):
            inputs = [str(p.relative_to(folder)) for p in (folder / "data").rglob("*") if p.is_file()]
        return cls(csv_safe=bool(inputs) and all(_csv_safe(folder / p) for p in inputs))


def _csv_safe(path: Path) -> bool:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    if '"' in text or "\r" in text:
        return False
    return all(line and line == line.strip() for line in text.split("\n")[:-1]) and text.endswith("\n")


# --------------------------------------------------------------------------------------------
# Small libcst helpers
# --------------------------------------------------------------------------------------------


class Names:
    """Fresh identifiers: never one the module uses (as a name or attribute) or a builtin."""

    def __init__(self, module: cst.Module) -> None:
        self.taken: set[str] = set(dir(builtins)) | set(keyword.kwlist)

        class _Collect(cst.CSTVisitor):
            def visit_Name(inner, node: cst.Name) -> None:  # 'inner': the outer self is the Names
                self.taken.add(node.value)

        module.visit(_Collect())

    def fresh(self, base: str) -> str:
        name, n = base, 2
        while name in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name)
        return name


def _stmt(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def _expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def _name_of(node: cst.BaseExpression | None) -> str | None:
    return node.value if isinstance(node, cst.Name) else None


def _single_small(stmt: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


def _is_call(node: cst.BaseExpression, dotted: str) -> bool:
    """``node`` calls ``dotted`` (``"open"``, ``"csv.reader"``, ``"pd.read_csv"``)."""
    return isinstance(node, cst.Call) and _dotted(node.func) == dotted


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        left = _dotted(node.value)
        return f"{left}.{node.attr.value}" if left else None
    return None


def _file_names(module: cst.Module) -> set[str]:
    """Names bound to ``open(...)``: ``f = open(...)`` or ``with open(...) as f``."""
    found: set[str] = set()

    class _Visit(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if _is_call(node.value, "open") and len(node.targets) == 1:
                name = _name_of(node.targets[0].target)
                if name:
                    found.add(name)

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if _is_call(node.item, "open") and node.asname is not None:
                name = _name_of(node.asname.name)
                if name:
                    found.add(name)

    module.visit(_Visit())
    return found


def _names_in(node: cst.CSTNode) -> list[str]:
    """Identifiers read or written in ``node`` (attribute names and keywords left out)."""
    found: list[str] = []

    class _Visit(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

        def visit_Arg(self, n: cst.Arg) -> bool:
            n.value.visit(self)
            return False

    node.visit(_Visit())
    return found


class BlockTransformer(cst.CSTTransformer):
    """Base of the transformers that replace a statement by several: ``rewrite_block`` sees the
    statements of the module and of every indented block (inner blocks first)."""

    def __init__(self, module: cst.Module, context: Context) -> None:
        super().__init__()
        self.names = Names(module)
        self.files = _file_names(module)
        self.context = context
        self.changed = 0

    def rewrite_block(self, body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        raise NotImplementedError

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self.rewrite_block(list(updated.body)))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self.rewrite_block(list(updated.body)))


# --------------------------------------------------------------------------------------------
# Header handling
# --------------------------------------------------------------------------------------------


@dataclass
class HeaderSkip:
    """A header skipped before ``for target in iterable``: ``source`` names the iterator (a file,
    a csv reader) for ``next``/``readline`` forms, ``listed`` the expression of an ``E[1:]`` form;
    ``keep`` is the variable the header line is assigned to, if any."""

    loop: cst.For
    source: str | None = None
    listed: cst.BaseExpression | None = None
    keep: str | None = None
    form: str = ""


def _header_call(node: cst.BaseExpression) -> tuple[str, str] | None:
    """``next(F)`` -> (F, "next"); ``F.readline()`` -> (F, "readline")."""
    if isinstance(node, cst.Call):
        if _dotted(node.func) == "next" and len(node.args) == 1 and _name_of(node.args[0].value):
            return _name_of(node.args[0].value), "next"  # type: ignore[return-value]
        if (isinstance(node.func, cst.Attribute) and node.func.attr.value == "readline" and not node.args
                and _name_of(node.func.value)):
            return _name_of(node.func.value), "readline"  # type: ignore[return-value]
    return None


def _skip_statement(stmt: cst.BaseStatement) -> tuple[str, str, str | None] | None:
    small = _single_small(stmt)
    if isinstance(small, cst.Expr):
        found = _header_call(small.value)
        return (found[0], found[1], None) if found else None
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and _name_of(small.targets[0].target):
        found = _header_call(small.value)
        return (found[0], found[1], _name_of(small.targets[0].target)) if found else None
    return None


def _sliced_from_one(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``E[1:]`` -> ``E``."""
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        part = node.slice[0].slice
        if (isinstance(part, cst.Slice) and isinstance(part.lower, cst.Integer) and part.lower.value == "1"
                and part.upper is None and part.step is None):
            return node.value
    return None


class HeaderStyle(BlockTransformer):
    """Rewrites every recognised header skip into the form ``target`` (one of ``next``,
    ``readline``, ``lines``, ``flag``); a skip already in that form, or one the form cannot
    express (``readline`` on a csv reader), is left alone."""

    target = ""

    def rewrite_block(self, body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        i = 0
        while i < len(body):
            stmt = body[i]
            nxt = body[i + 1] if i + 1 < len(body) else None
            skip = _skip_statement(stmt)
            if (skip and isinstance(nxt, cst.For) and nxt.orelse is None and nxt.asynchronous is None
                    and _name_of(nxt.iter) == skip[0]):
                found = HeaderSkip(nxt, source=skip[0], keep=skip[2], form=skip[1])
                replaced = self.emit(found)
                if replaced is not None:
                    out.extend(replaced)
                    i += 2
                    continue
            if isinstance(stmt, cst.For) and stmt.orelse is None and _sliced_from_one(stmt.iter) is not None:
                replaced = self.emit(HeaderSkip(stmt, listed=_sliced_from_one(stmt.iter), form="lines"))
                if replaced is not None:
                    out.extend(replaced)
                    i += 1
                    continue
            out.append(stmt)
            i += 1
        return out

    def emit(self, skip: HeaderSkip) -> list[cst.BaseStatement] | None:
        if skip.form == self.target:
            return None
        made = getattr(self, f"_as_{self.target}")(skip)
        if made is not None:
            self.changed += 1
        return made

    def _iterator(self, skip: HeaderSkip) -> tuple[list[cst.BaseStatement], str]:
        """Statements that give a name to iterate over, and that name."""
        if skip.source is not None:
            return [], skip.source
        it = self.names.fresh("row_iter")
        return [cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(it))],
                                                    cst.Call(cst.Name("iter"), [cst.Arg(skip.listed)]))])], it

    def _header(self, skip: HeaderSkip, call: str) -> cst.BaseStatement:
        return _stmt(f"{skip.keep} = {call}\n" if skip.keep else f"{call}\n")

    def _as_next(self, skip: HeaderSkip) -> list[cst.BaseStatement] | None:
        before, it = self._iterator(skip)
        return [*before, self._header(skip, f"next({it})"), skip.loop.with_changes(iter=cst.Name(it))]

    def _as_readline(self, skip: HeaderSkip) -> list[cst.BaseStatement] | None:
        if skip.source is None or skip.source not in self.files:
            return None  # only a file object has readline()
        return [self._header(skip, f"{skip.source}.readline()"), skip.loop]

    def _as_lines(self, skip: HeaderSkip) -> list[cst.BaseStatement] | None:
        lines = self.names.fresh("lines")
        made = [_stmt(f"{lines} = list({skip.source})\n")]
        if skip.keep:
            made.append(_stmt(f"{skip.keep} = {lines}[0]\n"))
        return [*made, skip.loop.with_changes(iter=_expr(f"{lines}[1:]"))]

    def _as_flag(self, skip: HeaderSkip) -> list[cst.BaseStatement] | None:
        target = _name_of(skip.loop.target)
        if skip.keep and target is None:
            return None  # the header row cannot be kept through a tuple target
        flag = self.names.fresh("first")
        guard_lines = [f"if {flag}:", f"    {flag} = False"]
        if skip.keep:
            guard_lines.append(f"    {skip.keep} = {target}")
        guard = _stmt("\n".join([*guard_lines, "    continue", ""]))
        iterable = cst.Name(skip.source) if skip.source is not None else skip.listed
        loop = skip.loop.with_changes(iter=iterable,
                                      body=skip.loop.body.with_changes(body=[guard, *skip.loop.body.body]))
        return [_stmt(f"{flag} = True\n"), loop]


class HeaderNext(HeaderStyle):
    target = "next"


class HeaderReadline(HeaderStyle):
    target = "readline"


class HeaderLines(HeaderStyle):
    target = "lines"


class HeaderFlag(HeaderStyle):
    target = "flag"


# --------------------------------------------------------------------------------------------
# for line in f  ->  while True: line = f.readline()
# --------------------------------------------------------------------------------------------


class ForAsWhile(BlockTransformer):
    """``for line in F`` over a file (a name bound to ``open``, or ``open(...)`` itself) becomes a
    ``readline`` loop; ``continue`` still reads the next line because the read heads the body."""

    def rewrite_block(self, body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        for stmt in body:
            target = _name_of(stmt.target) if isinstance(stmt, cst.For) else None
            if not (isinstance(stmt, cst.For) and target and stmt.orelse is None and stmt.asynchronous is None):
                out.append(stmt)
                continue
            source = _name_of(stmt.iter) if _name_of(stmt.iter) in self.files else None
            if source is None and _is_call(stmt.iter, "open"):
                source = self.names.fresh("fh")
                out.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(source))], stmt.iter)]))
            if source is None:
                out.append(stmt)
                continue
            head = [_stmt(f"{target} = {source}.readline()\n"), _stmt(f"if not {target}:\n    break\n")]
            out.append(cst.While(test=cst.Name("True"), body=stmt.body.with_changes(body=[*head, *stmt.body.body]),
                                 leading_lines=stmt.leading_lines))
            self.changed += 1
        return out


# --------------------------------------------------------------------------------------------
# line.strip().split(",")  ->  csv.reader rows
# --------------------------------------------------------------------------------------------

_STRIPS = {("strip", ""), ("rstrip", '"\\n"'), ("rstrip", "'\\n'"), ("rstrip", "")}


def _split_of(node: cst.BaseExpression, line: str, bare_ok: bool) -> str | None:
    """The one-character separator of ``line.strip().split(sep)`` (or ``rstrip("\\n")``,
    ``rstrip()``; a bare ``line.split(sep)`` when ``bare_ok``), else None."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "split"
            and len(node.args) == 1 and isinstance(node.args[0].value, cst.SimpleString)):
        return None
    sep = node.args[0].value.evaluated_value
    if not isinstance(sep, str) or len(sep) != 1 or sep in "\n\r\"'":
        return None
    inner = node.func.value
    if _name_of(inner) == line:
        return sep if bare_ok else None
    if (isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and _name_of(inner.func.value) == line
            and (inner.func.attr.value, "".join(cst.Module([]).code_for_node(a.value) for a in inner.args))
            in _STRIPS):
        return sep
    return None


class SplitAsCsvReader(BlockTransformer):
    """``for line in E: ... line.strip().split(sep) ...`` (``line`` read only there) becomes
    ``for row in csv.reader(E, delimiter=sep): ... row ...``; only on csv-safe data."""

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        line = _name_of(updated.target)
        if not self.context.csv_safe or line is None or updated.orelse is not None:
            return updated
        # lines from splitlines()/split("\n") carry no newline, so a bare split(sep) is safe there
        iter_code = cst.Module([]).code_for_node(updated.iter)
        bare_ok = "splitlines" in iter_code or 'split("\\n")' in iter_code or "split('\\n')" in iter_code
        uses = [n for n in _names_in(updated.body) if n == line]
        splits: list[str] = []

        class _Find(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                sep = _split_of(node, line, bare_ok)
                if sep:
                    splits.append(sep)

        updated.body.visit(_Find())
        if len(uses) != 1 or len(splits) != 1:
            return updated
        row = self.names.fresh("row")
        sep = splits[0]

        class _Replace(cst.CSTTransformer):
            def leave_Call(self, orig: cst.Call, upd: cst.Call) -> cst.BaseExpression:
                return cst.Name(row) if _split_of(orig, line, bare_ok) else upd

        reader = f"csv.reader({iter_code})" if sep == "," else f"csv.reader({iter_code}, delimiter={sep!r})"
        self.changed += 1
        return updated.with_changes(target=cst.Name(row), iter=_expr(reader), body=updated.body.visit(_Replace()))

    def rewrite_block(self, body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        return list(body)


# --------------------------------------------------------------------------------------------
# Loop body -> def parse_row(line): ... return ...
# --------------------------------------------------------------------------------------------


def _assigned(small: cst.BaseSmallStatement) -> list[str] | None:
    """Names a plain ``a = ...`` / ``a, b = ...`` assigns, None for anything else."""
    if not isinstance(small, cst.Assign):
        return None
    names: list[str] = []
    for target in small.targets:
        node = target.target
        elements = [e.value for e in node.elements] if isinstance(node, (cst.Tuple, cst.List)) else [node]
        for element in elements:
            if not isinstance(element, cst.Name):
                return None
            names.append(element.value)
    return names


def _is_continue_guard(stmt: cst.BaseStatement) -> bool:
    if not isinstance(stmt, cst.If) or stmt.orelse is not None:
        return False
    inner = stmt.body.body
    return len(inner) == 1 and isinstance(_single_small(inner[0]) if isinstance(stmt.body, cst.IndentedBlock)
                                          else inner[0], cst.Continue)


def _has(node: cst.CSTNode, kinds: tuple[type, ...]) -> bool:
    found = []

    class _Visit(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            if isinstance(n, kinds):
                found.append(n)
            return not found

    node.visit(_Visit())
    return bool(found)


class BodyToHelper(BlockTransformer):
    """The first run of plain assignments and ``if ...: continue`` guards in a loop body moves
    into a helper defined just before the loop (a closure, so it reads what the body read); the
    loop calls it, skips the row when it returns None, and unpacks the assigned names."""

    def rewrite_block(self, body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        for stmt in body:
            made = self._lift(stmt) if isinstance(stmt, cst.For) else None
            out.extend(made or [stmt])
        return out

    def _lift(self, loop: cst.For) -> list[cst.BaseStatement] | None:
        target = loop.target
        params = [target] if isinstance(target, cst.Name) else (
            [e.value for e in target.elements] if isinstance(target, cst.Tuple) else [])
        if not params or not all(isinstance(p, cst.Name) for p in params) or loop.orelse is not None:
            return None
        param_names = [p.value for p in params]  # type: ignore[union-attr]
        statements = list(loop.body.body)
        start = next((i for i, s in enumerate(statements) if self._eligible(s) == "assign"), None)
        if start is None:
            return None
        end = start
        while end < len(statements) and self._eligible(statements[end]):
            end += 1
        run = statements[start:end]
        everything = set(assigned_all(run))
        assigned: list[str] = []
        known = set(param_names)
        for stmt in run:  # a name read before the helper assigns it would be an unbound local
            small = _single_small(stmt)
            reads = _names_in(small.value) if isinstance(small, cst.Assign) else _names_in(stmt)
            if any(n in everything and n not in known for n in reads):
                return None
            for name in (_assigned(small) or []) if small is not None else []:
                known.add(name)
                if name not in assigned:
                    assigned.append(name)
        if _has(cst.Module(run), (cst.Yield, cst.Await, cst.NamedExpr, cst.Lambda)):
            return None
        guarded = any(_is_continue_guard(s) for s in run)
        helper, parsed = self.names.fresh("parse_row"), self.names.fresh("parsed")

        class _Return(cst.CSTTransformer):
            def leave_Continue(self, orig: cst.Continue, upd: cst.Continue) -> cst.Return:
                return cst.Return(cst.Name("None"))

        returned = ", ".join(assigned) + ("," if len(assigned) == 1 and guarded else "")
        body = [s.visit(_Return()) for s in run] + [_stmt(f"return {returned}\n")]
        definition = _stmt(f"def {helper}({', '.join(param_names)}):\n    pass\n")
        definition = definition.with_changes(body=definition.body.with_changes(body=body))
        call = f"{helper}({', '.join(param_names)})"
        if guarded:
            head = [_stmt(f"{parsed} = {call}\n"), _stmt(f"if {parsed} is None:\n    continue\n"),
                    _stmt(f"{returned} = {parsed}\n")]
        else:
            head = [_stmt(f"{returned} = {call}\n")]
        self.changed += 1
        new_body = statements[:start] + head + statements[end:]
        return [definition.with_changes(leading_lines=loop.leading_lines),
                loop.with_changes(body=loop.body.with_changes(body=new_body), leading_lines=())]

    @staticmethod
    def _eligible(stmt: cst.BaseStatement) -> str | None:
        small = _single_small(stmt)
        if small is not None and _assigned(small):
            return "assign"
        return "guard" if _is_continue_guard(stmt) else None


def assigned_all(run: Sequence[cst.BaseStatement]) -> list[str]:
    """Every name the plain assignments of ``run`` assign."""
    names: list[str] = []
    for stmt in run:
        small = _single_small(stmt)
        names += (_assigned(small) or []) if small is not None else []
    return names


# --------------------------------------------------------------------------------------------
# Renamed variables
# --------------------------------------------------------------------------------------------

SYNONYMS = {
    "rows": "records", "row": "record", "line": "raw_line", "lines": "raw_lines", "f": "handle", "fh": "handle",
    "fp": "handle", "df": "frame", "data": "dataset", "X": "features", "y": "target", "r": "rec", "parts": "fields",
    "p": "fields", "reader": "csv_rows", "rd": "csv_rows", "out": "sink", "clf": "estimator", "model": "estimator",
    "labels": "targets", "train": "train_frame", "test": "test_frame", "i": "idx", "t": "item", "w": "writer_obj",
}


class RenameVariables(cst.CSTTransformer):
    """Every variable assigned in the module or in a function (not parameters, imports, defs,
    ``global``/``nonlocal`` names or dunders) gets another name, with all its uses; a new name is
    never one the module already uses."""

    METADATA_DEPENDENCIES = (ScopeProvider,)

    def __init__(self, module: cst.Module, context: Context) -> None:
        super().__init__()
        self.names = Names(module)
        self.context = context
        self.nodes: dict[cst.Name, str] = {}
        self.changed = 0
        self.source = module.code

    def visit_Module(self, node: cst.Module) -> None:
        if any(f"{call}(" in self.source for call in ("globals", "locals", "vars", "eval", "exec")):
            return  # names reached through strings or namespaces cannot be renamed safely
        declared = {n.value for n in _declared(node)}
        scopes = {s for s in self.metadata[ScopeProvider].values() if isinstance(s, (GlobalScope, FunctionScope))}
        mapping: dict[str, str] = {}
        for scope in sorted(scopes, key=lambda s: isinstance(s, FunctionScope)):
            for assignment in scope.assignments:
                name = assignment.name
                if (not isinstance(getattr(assignment, "node", None), cst.Name) or name in declared
                        or name.startswith("__") or f"@{name}" in self.source):
                    continue
                if name not in mapping:
                    mapping[name] = self.names.fresh(SYNONYMS.get(name, f"my_{name}"))
                self.nodes[assignment.node] = mapping[name]
                for access in assignment.references:
                    if isinstance(access.node, cst.Name):
                        self.nodes[access.node] = mapping[name]

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if original in self.nodes:
            self.changed += 1
            return updated.with_changes(value=self.nodes[original])
        return updated


def _declared(module: cst.Module) -> list[cst.Name]:
    """Names in ``global``/``nonlocal`` statements, and names bound by defs, classes, imports or
    parameters anywhere: any of those shared with a variable keeps the variable's name."""
    found: list[cst.Name] = []

    class _Visit(cst.CSTVisitor):
        def visit_Global(self, node: cst.Global) -> None:
            found.extend(item.name for item in node.names)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            found.extend(item.name for item in node.names)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            found.append(node.name)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            found.append(node.name)

        def visit_Param(self, node: cst.Param) -> None:
            found.append(node.name)

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            bound = node.asname.name if node.asname else node.name
            if isinstance(bound, cst.Name):
                found.append(bound)
            elif isinstance(bound, cst.Attribute):
                root = bound
                while isinstance(root, cst.Attribute):
                    root = root.value
                if isinstance(root, cst.Name):
                    found.append(root)

    module.visit(_Visit())
    return found


# --------------------------------------------------------------------------------------------
# Display expressions
# --------------------------------------------------------------------------------------------

_FRAME_MAKERS = {"pd.read_csv", "pd.DataFrame", "pd.merge", "pd.concat", "pd.get_dummies", "pd.read_json"}
_FRAME_METHODS = {"merge", "dropna", "copy", "drop", "fillna", "rename", "sort_values", "drop_duplicates",
                  "reset_index", "query", "assign", "head"}
_ARRAY_MAKERS = {"np.array", "np.asarray", "np.hstack", "np.vstack", "np.column_stack", "np.concatenate",
                 "np.zeros", "np.ones", "np.where"}


class DisplayExprs(BlockTransformer):
    """After an assignment of a DataFrame, ``df.head()`` and ``df.shape``; of a numpy array,
    ``X.shape``; after a loop that appends to a list made empty in the same block,
    ``print(len(rows))``. In the module, in functions and in ``with`` blocks, never in loops."""

    def __init__(self, module: cst.Module, context: Context) -> None:
        super().__init__(module, context)
        self.frames: set[str] = set()
        self.depth = 0  # loops entered: displays inside a loop would run once per row

    def visit_For(self, node: cst.For) -> None:
        self.depth += 1

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        self.depth -= 1
        return updated

    def visit_While(self, node: cst.While) -> None:
        self.depth += 1

    def leave_While(self, original: cst.While, updated: cst.While) -> cst.While:
        self.depth -= 1
        return updated

    def visit_Assign(self, node: cst.Assign) -> None:
        # frames are recorded in source order, before the blocks are rewritten on the way out
        name = _name_of(node.targets[0].target) if len(node.targets) == 1 else None
        if name and self._kind(node.value) == "frame":
            self.frames.add(name)

    def _kind(self, value: cst.BaseExpression) -> str | None:
        if isinstance(value, cst.Call):
            func = _dotted(value.func)
            if any(arg.keyword and arg.keyword.value == "inplace" for arg in value.args):
                return None
            if func in _FRAME_MAKERS:
                return "frame"
            if func in _ARRAY_MAKERS:
                return "array"
            if (isinstance(value.func, cst.Attribute) and value.func.attr.value in _FRAME_METHODS
                    and _name_of(value.func.value) in self.frames):
                return "frame"
        if isinstance(value, cst.Subscript) and _name_of(value.value) in self.frames:
            return "frame"
        return None

    def rewrite_block(self, body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        if self.depth:
            return list(body)
        out: list[cst.BaseStatement] = []
        empty_lists: set[str] = set()
        for stmt in body:
            out.append(stmt)
            small = _single_small(stmt)
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and _name_of(small.targets[0].target):
                name = _name_of(small.targets[0].target)
                if isinstance(small.value, cst.List) and not small.value.elements:
                    empty_lists.add(name)  # type: ignore[arg-type]
                kind = self._kind(small.value)
                shown = {"frame": [f"{name}.head()", f"{name}.shape"], "array": [f"{name}.shape"]}.get(kind or "", [])
                out.extend(_stmt(f"{code}\n") for code in shown)
                self.changed += bool(shown)
            elif isinstance(stmt, (cst.For, cst.While)):
                code = cst.Module([stmt]).code
                for name in sorted(empty_lists):
                    if f"{name}.append(" in code:
                        out.append(_stmt(f"print(len({name}))\n"))
                        self.changed += 1
        return out

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        parent_is_loop = self.depth > 0
        return updated if parent_is_loop else super().leave_IndentedBlock(original, updated)


# --------------------------------------------------------------------------------------------
# The variations
# --------------------------------------------------------------------------------------------

Transformer = Callable[[cst.Module, Context], Any]
KINDS: dict[str, Transformer] = {
    "header_next": HeaderNext,
    "header_readline": HeaderReadline,
    "header_lines": HeaderLines,
    "header_flag": HeaderFlag,
    "for_as_while": ForAsWhile,
    "split_as_csv_reader": SplitAsCsvReader,
    "body_to_helper": BodyToHelper,
    "rename_variables": RenameVariables,
    "display_exprs": DisplayExprs,
}


def make_variant(source: str, kind: str, context: Context = Context()) -> str | None:
    """The script rewritten by the variation ``kind``, or None where the variation does not apply
    (nothing matched, or the result is the same text)."""
    module = cst.parse_module(source)
    transformer = KINDS[kind](module, context)
    if isinstance(transformer, RenameVariables):
        changed = MetadataWrapper(module).visit(transformer)
    else:
        changed = module.visit(transformer)
    if not transformer.changed:
        return None
    if kind == "split_as_csv_reader":
        imports = CodemodContext()
        AddImportsVisitor.add_needed_import(imports, "csv")
        changed = AddImportsVisitor(imports).transform_module(changed)
    code = changed.code
    return code if code != source else None


# --------------------------------------------------------------------------------------------
# Running a script and observing what it produces
# --------------------------------------------------------------------------------------------

# Runs the script as __main__ in its folder; a profile hook keeps the X, y and class of the last
# outermost fit of a scikit-learn predictor (a Pipeline's last step rather than the Pipeline, an
# ensemble rather than its trees), so that scripts which save nothing can still be compared.
_OBSERVE = r'''
import pickle, runpy, sys
capture, script = sys.argv[1], sys.argv[2]
last = {}

def _copy(value):
    import numpy as np
    if value is None:
        return None
    if hasattr(value, "toarray"):  # a sparse matrix (tf-idf, one-hot output) as a dense one
        value = value.toarray()
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.array(value, copy=True)

open_fits = set()  # frames of predictor fits under way: an ensemble's inner fits are not the script's

def _profile(frame, event, arg):
    if frame.f_code.co_name != "fit":
        return
    if event == "return":
        open_fits.discard(id(frame))
        return
    if event != "call":
        return
    self = frame.f_locals.get("self")
    kind = type(self)
    # a Pipeline's fit is not recorded: its last step's fit, nested in it, is
    if not kind.__module__.startswith("sklearn") or not hasattr(self, "predict") or hasattr(self, "steps"):
        return
    if open_fits:
        return
    open_fits.add(id(frame))
    names = frame.f_code.co_varnames[1:frame.f_code.co_argcount]
    X = frame.f_locals.get(names[0]) if names else None
    y = frame.f_locals.get(names[1]) if len(names) > 1 else None
    last["fit"] = (kind.__name__, _copy(X), _copy(y))

sys.argv = [script]
sys.setprofile(_profile)
try:
    runpy.run_path(script, run_name="__main__")
finally:
    sys.setprofile(None)
    with open(capture, "wb") as fh:
        pickle.dump(last.get("fit"), fh)
'''


@dataclass
class Observation:
    """What one run produced: ``files`` (path under the folder -> sha256 of the bytes, for the
    files the run created or changed), ``fit`` (estimator class, X, y of the last predictor fit, or
    None), ``error`` (the end of stderr when the run failed), ``unstable`` (files whose bytes
    differ between two runs of the same script)."""

    files: dict[str, str] = field(default_factory=dict)
    fit: tuple[str, Any, Any] | None = None
    error: str | None = None
    seconds: float = 0.0
    unstable: set[str] = field(default_factory=set)

    @property
    def observable(self) -> bool:
        return bool(self.files) or self.fit is not None


def _snapshot(folder: Path) -> dict[str, str]:
    skip = {"__pycache__", ".lester"}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not skip & set(p.relative_to(folder).parts)}


def observe(folder: Path, script: str = SCRIPT, timeout: float = 120) -> Observation:
    """Run ``folder/script`` (its ``out/`` removed first) and record what it writes and fits."""
    import time

    shutil.rmtree(folder / "out", ignore_errors=True)
    before = _snapshot(folder)
    with tempfile.TemporaryDirectory(prefix="lester-variant-observe-") as tmp:
        capture = Path(tmp) / "fit.pkl"
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", _OBSERVE, str(capture), script], cwd=folder,
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return Observation(error=f"timed out after {timeout} s")
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            return Observation(error=done.stderr.strip()[-600:] or f"exit {done.returncode}", seconds=seconds)
        fit = pickle.loads(capture.read_bytes()) if capture.exists() else None
    after = _snapshot(folder)
    written = {k: v for k, v in after.items() if before.get(k) != v}
    return Observation(files=written, fit=fit, seconds=seconds)


def _same_array(a: Any, b: Any) -> bool:
    import numpy as np
    import pandas as pd

    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        try:
            return bool(np.array_equal(a.astype(float), b.astype(float), equal_nan=True))
        except (TypeError, ValueError):
            pass
    return pd.DataFrame(a.reshape(len(a), -1) if a.ndim else a.reshape(1, 1)).equals(
        pd.DataFrame(b.reshape(len(b), -1) if b.ndim else b.reshape(1, 1)))


def same_observations(original: Observation, variant: Observation) -> str | None:
    """None when both runs wrote the same bytes and fitted the same thing, else what differs."""
    if variant.error:
        return f"the variant failed: {variant.error.splitlines()[-1] if variant.error else ''}"
    if original.files.keys() != variant.files.keys():
        return f"written files differ: {sorted(original.files.keys() ^ variant.files.keys())}"
    # a file whose bytes change from one run of the original to the next (a pickled model) is
    # compared by name only
    differ = sorted(k for k, v in variant.files.items() if original.files[k] != v and k not in original.unstable)
    if differ:
        return f"written files differ: {differ}"
    if (original.fit is None) != (variant.fit is None):
        return "one run fitted a model, the other did not"
    if original.fit is not None and variant.fit is not None:
        if original.fit[0] != variant.fit[0]:
            return f"fitted {original.fit[0]} vs {variant.fit[0]}"
        if not _same_array(original.fit[1], variant.fit[1]):
            return "the fitted X differs"
        if not _same_array(original.fit[2], variant.fit[2]):
            return "the fitted y differs"
    return None


# --------------------------------------------------------------------------------------------
# Making and checking the variants of one case
# --------------------------------------------------------------------------------------------


@dataclass
class Variant:
    """One variation of one case: ``status`` is ``equivalent`` (``folder`` holds it as messy.py,
    with the case's data), ``not_applicable``, or ``generator_bug`` (``reason`` says why)."""

    case: str
    kind: str
    status: str
    source: str | None = None
    folder: Path | None = None
    observation: Observation | None = None
    reason: str = ""


def prepare_case(case: Path, workdir: Path, rows: int, timeout: float = 300) -> Path:
    """A copy of ``case`` under ``workdir`` with its data generated (``make_data.py data ROWS``)."""
    folder = workdir / case.name
    shutil.copytree(case, folder, ignore=shutil.ignore_patterns("data", "out", "__pycache__", ".lester"))
    made = subprocess.run([sys.executable, "make_data.py", "data", str(rows)], cwd=folder,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if made.returncode != 0:
        raise RuntimeError(f"{case.name}: make_data.py failed: {made.stderr.strip()[-300:]}")
    return folder


def variants_of(folder: Path, kinds: Sequence[str] = tuple(KINDS), timeout: float = 120,
                original: Observation | None = None) -> tuple[Observation, list[Variant]]:
    """Every variation of the prepared case ``folder`` that applies, each run and compared with
    the original; each equivalent one is left in ``folder.parent/<case>__<kind>/messy.py``."""
    source = (folder / SCRIPT).read_text()
    context = Context.for_case(folder)
    if original is None:
        original = observe(folder, timeout=timeout)
        again = observe(folder, timeout=timeout)
        if again.error is None:
            original.unstable = {k for k, v in original.files.items() if again.files.get(k) != v}
    if original.error or not original.observable:
        raise RuntimeError(f"{folder.name}: the original script gives nothing to compare: {original.error}")
    # a variant's copy starts as the case did: without what the original's runs wrote
    written = {folder / name for name in original.files}

    def leave_out(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in ("out", "__pycache__", ".lester") or Path(directory, n) in written}

    found: list[Variant] = []
    for kind in kinds:
        try:
            code = make_variant(source, kind, context)
        except Exception as exc:  # noqa: BLE001 - a transformer crash is a generator bug, reported as one
            found.append(Variant(folder.name, kind, "generator_bug", reason=f"{type(exc).__name__}: {exc}"))
            continue
        if code is None:
            found.append(Variant(folder.name, kind, "not_applicable"))
            continue
        target = folder.parent / f"{folder.name}__{kind}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target, ignore=leave_out)
        (target / SCRIPT).write_text(code)
        seen = observe(target, timeout=timeout)
        differs = same_observations(original, seen)
        if differs:
            found.append(Variant(folder.name, kind, "generator_bug", code, target, seen, differs))
        else:
            found.append(Variant(folder.name, kind, "equivalent", code, target, seen))
    return original, found


# --------------------------------------------------------------------------------------------
# Independent check of a rewrite's verdict
# --------------------------------------------------------------------------------------------

# Runs the rewritten module's stages the straightforward way, in the variant's folder.
_RUN_MODULE = r'''
import importlib.util, pickle, sys
module_path, result_path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("lester_variant_pipeline", module_path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
prepared = module.dataprep()
if hasattr(prepared, "to_pandas"):
    prepared = prepared.to_pandas()
result = {"prepared": prepared}

def stage(name, *args):
    # the module of a prep-only script has stages that raise NotImplementedError: no such output
    try:
        return getattr(module, name)(*args) if hasattr(module, name) else None
    except NotImplementedError:
        return None

y = stage("extract_label", prepared)
encoder = stage("encode_features")
if encoder is not None:
    try:
        X = encoder.fit_transform(prepared, y)
    except TypeError:
        X = encoder.fit_transform(prepared)
    result["X"] = X.toarray() if hasattr(X, "toarray") else X
result["y"] = y
model = stage("make_model")
result["model"] = type(model).__name__ if model is not None else None
with open(result_path, "wb") as fh:
    pickle.dump(result, fh)
'''


def _canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if math.isnan(number):
            return "nan"
        return float(f"{number:.9g}")
    return "nan" if value is None else str(value)


def _rows(frame: Any, columns: Sequence[str]) -> Counter:
    return Counter(tuple(_canonical(v) for v in row) for row in frame[list(columns)].itertuples(index=False))


def _compare_prepared(written: Path, prepared: Any) -> str | None:
    import io

    import pandas as pd

    theirs = pd.read_csv(written, keep_default_na=True)
    buffer = io.StringIO()
    prepared.to_csv(buffer, index=False)  # the same round trip as the file, so types are read alike
    mine = pd.read_csv(io.StringIO(buffer.getvalue()), keep_default_na=True)
    missing = [c for c in theirs.columns if c not in mine.columns]
    if missing:
        return f"prepared: the module has no column {missing}"
    if _rows(theirs, theirs.columns) != _rows(mine, theirs.columns):
        return f"prepared: rows differ ({len(theirs)} written, {len(mine)} from the module)"
    return None


def _compare_xy(X: Any, y: Any, X_mod: Any, y_mod: Any, subset: bool) -> str | None:
    """X rows paired with their labels, compared in any row order (``subset``: the script's fitted
    rows are a train split of the module's, compared as a multiset of rounded pairs); X's columns
    may come in another order: columns with the same sorted values are tried in every order."""
    import numpy as np

    X, X_mod = np.asarray(X, dtype=float), np.asarray(X_mod, dtype=float)
    if subset and X.ndim == 2 and X_mod.ndim == 2 and X.shape[1] != X_mod.shape[1]:
        # fitted on a train split: an encoder whose width depends on the rows it saw (a
        # vocabulary, one-hot categories) has fewer columns than the module's fitted on every row
        return (f"unchecked: the script fits on a split, and its encoder's width ({X.shape[1]} columns) "
                f"depends on the rows it saw (the module's, on every row: {X_mod.shape[1]})")
    if X.ndim != 2 or X_mod.ndim != 2 or X.shape[1] != X_mod.shape[1]:
        return f"X: shape {X.shape} vs the module's {X_mod.shape}"
    if not subset and X.shape[0] != X_mod.shape[0]:
        return f"X: {X.shape[0]} rows vs the module's {X_mod.shape[0]}"
    labels = _label_codes(y, y_mod, len(X), len(X_mod))
    # the module columns each script column could be (same sorted values, or contained for a split)
    options: list[list[int]] = []
    for j in range(X.shape[1]):
        if subset:
            fits = [c for c in range(X_mod.shape[1]) if np.isin(np.round(X[:, j], 6), np.round(X_mod[:, c], 6)).all()]
        else:
            mine = _signature(X[:, j], labels[0], np.nansum(X, axis=1))
            fits = [c for c in range(X_mod.shape[1])
                    if np.allclose(_signature(X_mod[:, c], labels[1], np.nansum(X_mod, axis=1)), mine,
                                   rtol=1e-6, atol=1e-8, equal_nan=True)]
        if not fits and subset:
            # fitted on a train split: a column the script scaled on the split alone has other
            # values than the module's scaled on every row, so nothing can be concluded
            return f"unchecked: the script fits on a split, and its column {j} has values the module's have not"
        if not fits:
            return f"X: the script's column {j} matches no column of the module"
        options.append(fits)
    budget = [20000]  # search steps: many interchangeable columns (binary flags) make too many orders
    for order in _orders(options, [], budget):
        if _same_pairs(X, labels[0], X_mod[:, order], labels[1], subset):
            return None
    if budget[0] <= 0:
        return "unchecked: too many ways to order X's columns"
    return "X, y: the (row, label) pairs differ"


def _orders(options: list[list[int]], chosen: list[int], budget: list[int]) -> Any:
    """Every assignment of distinct module columns to the script's columns, depth first, until
    ``budget`` steps are spent."""
    if len(chosen) == len(options):
        yield list(chosen)
        return
    for column in options[len(chosen)]:
        budget[0] -= 1
        if budget[0] <= 0:
            return
        if column not in chosen:
            chosen.append(column)
            yield from _orders(options, chosen, budget)
            chosen.pop()


def _signature(column: Any, labels: Any, row_sums: Any) -> Any:
    """A column's values with each row's label and row sum (which no column order changes),
    sorted: two columns that can be the same column of X in another row order have equal ones."""
    import numpy as np

    stacked = np.column_stack([column, labels, row_sums])
    keys = np.round(np.nan_to_num(stacked, nan=-1e300), 6)
    return stacked[np.lexsort(keys.T[::-1])]


def _label_codes(y: Any, y_mod: Any, n: int, n_mod: int) -> tuple[Any, Any]:
    """Both label vectors as integer codes over their joint values (zeros when absent)."""
    import numpy as np
    import pandas as pd

    if y is None or y_mod is None:
        return np.zeros(n), np.zeros(n_mod)
    joint = [_canonical(v) for v in np.asarray(y).ravel()] + [_canonical(v) for v in np.asarray(y_mod).ravel()]
    codes, _ = pd.factorize(pd.Series(joint, dtype=object), sort=False)
    return codes[:len(joint) - n_mod].astype(float), codes[len(joint) - n_mod:].astype(float)


def _same_pairs(X: Any, y: Any, X_mod: Any, y_mod: Any, subset: bool) -> bool:
    import numpy as np

    if subset:
        pairs = Counter((tuple(np.round(row, 6)), t) for row, t in zip(X, y))
        pairs_mod = Counter((tuple(np.round(row, 6)), t) for row, t in zip(X_mod, y_mod))
        return not pairs - pairs_mod
    # sort both by (label, rounded row), then compare with a tolerance: near-equal rows that the
    # rounding orders differently are equal within the tolerance anyway
    def ordered(M: Any, t: Any) -> Any:
        keys = np.column_stack([np.round(np.nan_to_num(M, nan=-1e300), 6), t])
        return np.column_stack([M, t])[np.lexsort(keys.T[::-1])]

    return bool(np.allclose(ordered(X, y), ordered(X_mod, y_mod), rtol=1e-6, atol=1e-8, equal_nan=True))


def check_rewrite(folder: Path, code: str, seen: Observation, timeout: float = 120) -> tuple[bool | None, str]:
    """Does the rewritten module really reproduce what the script in ``folder`` produced?

    Returns (True, how), (False, what differs) or (None, why it could not be checked). The
    prepared table is compared with ``out/prepared.csv``; X and y with ``out/X.npy``/``out/y.npy``
    or, when the script saves none, with the X and y of its last fit (only as a subset when the
    script splits before fitting); the model's class with the fitted one.
    """
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="lester-variant-check-") as tmp:
        module, result = Path(tmp) / "pipeline.py", Path(tmp) / "result.pkl"
        module.write_text(code)
        try:
            done = subprocess.run([sys.executable, "-c", _RUN_MODULE, str(module), str(result)], cwd=folder,
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return False, "the module timed out"
        if done.returncode != 0:
            return False, f"the module failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}"
        ran = pickle.loads(result.read_bytes())
    checked: list[str] = []
    if "out/prepared.csv" in seen.files:
        differs = _compare_prepared(folder / "out/prepared.csv", ran["prepared"])
        if differs:
            return False, differs
        checked.append("prepared")
    if "out/X.npy" in seen.files and "X" in ran:
        y = np.load(folder / "out/y.npy", allow_pickle=False) if "out/y.npy" in seen.files else None
        differs = _compare_xy(np.load(folder / "out/X.npy", allow_pickle=False), y, ran["X"],
                              ran["y"] if y is not None else None, subset=False)
        if differs and differs.startswith("unchecked: "):
            return None, differs.removeprefix("unchecked: ")
        if differs:
            return False, differs
        checked.append("X, y")
    elif seen.fit is not None and "X" in ran and seen.fit[1] is not None:
        split = "train_test_split" in (folder / SCRIPT).read_text()
        differs = _compare_xy(seen.fit[1], seen.fit[2], ran["X"], ran["y"], subset=split)
        if differs and differs.startswith("unchecked: "):
            return None, differs.removeprefix("unchecked: ")
        if differs:
            return False, differs
        checked.append("fitted X, y" + (" (as a subset: the script splits)" if split else ""))
    if seen.fit is not None and ran.get("model"):
        if ran["model"] != seen.fit[0]:
            return False, f"model: the script fits {seen.fit[0]}, the module makes {ran['model']}"
        checked.append("model")
    if not checked:
        return None, "nothing the check can compare"
    return True, ", ".join(checked) + " match"


# --------------------------------------------------------------------------------------------
# By hand
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: every case of the corpus)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--kind", action="append", dest="kinds", choices=sorted(KINDS))
    parser.add_argument("--show", action="store_true", help="print each variant's source")
    args = parser.parse_args(argv)
    names = args.cases or sorted(p.name for p in args.corpus.iterdir() if (p / SCRIPT).is_file())
    bugs = 0
    with tempfile.TemporaryDirectory(prefix="lester-variants-") as tmp:
        for name in names:
            folder = prepare_case(args.corpus / name, Path(tmp), args.rows)
            _, found = variants_of(folder, args.kinds or tuple(KINDS))
            for v in found:
                bugs += v.status == "generator_bug"
                print(f"{name:<36} {v.kind:<20} {v.status:<15} {v.reason}")
                if args.show and v.source:
                    print(v.source)
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
