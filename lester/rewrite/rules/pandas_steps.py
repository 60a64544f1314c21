"""Local fallback: statements the rules cannot translate, kept as one ``Frame.pipe`` step.

When a top-level statement cannot be translated but only transforms one DataFrame (a
``df.loc[mask, col] = v``, a ``drop_duplicates(subset=..., keep="last")``, a groupby
``transform``, a loop over columns, a statistic computed and then used on the same frame),
the statement is kept as the script's own pandas code in a generated function, and the
pipeline calls it with :meth:`lester.Frame.pipe`. Row provenance follows the DataFrame's
index there, so the rest of the script stays declarative and forgetting stays exact (the
step is re-run, as any step that reads whole columns). Statements that read a second
DataFrame, or bind something a later statement reads, are not kept this way: the caller
reports them as the blocker they are.

The columns the step returns are read off the statements when they say so (``df["c"] = ``,
``drop(columns=...)``, ``rename``, methods that keep the columns); otherwise the pipeline
finds them when it runs, by calling the step on an empty frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst
import libcst.matchers as m

from lester.rewrite.analysis import StatementNames, root_name
from lester.rewrite.rules.column_names import renamed
from lester.rewrite.rules.expressions import GLOBAL, code_of, is_literal, literal_value
from lester.rewrite.rules.program import RulesUnsupported
from lester.rewrite.rules.values import Frame, Series

# methods returning a frame with the same columns and the same rows (values may change)
_SAME_ROWS = {"fillna", "replace", "astype", "copy", "clip", "round", "abs", "where", "mask", "infer_objects",
              "convert_dtypes", "interpolate", "ffill", "bfill", "apply", "map", "applymap", "transform"}
# methods returning a frame with the same columns and some of the rows
_SOME_ROWS = {"drop_duplicates", "dropna", "sort_values", "sort_index", "query", "head", "tail", "nlargest",
              "nsmallest"}


NO_FRAME = "it reads no DataFrame"


@dataclass(frozen=True)
class PandasStep:
    """One group of statements kept as pandas code: where, and why the rules did not translate it."""

    lines: tuple[int, int]
    reason: str
    function: str


@dataclass
class _Snapshot:
    ops: int
    frames: dict[str, tuple[Frame, str, dict, list | None]]
    helpers: int


def snapshot(reader: Any) -> _Snapshot:
    """What a failed statement may have half-changed, to undo before keeping it as pandas."""
    frames = {name: (v, v.rs.var, dict(v.rs.columns), None if v.columns is None else list(v.columns))
              for name, v in reader.env.items() if isinstance(v, Frame)}
    return _Snapshot(len(reader.plan.ops), frames, len(reader.generated_helpers))


def restore(reader: Any, state: _Snapshot) -> None:
    del reader.plan.ops[state.ops:]
    del reader.generated_helpers[state.helpers:]
    for name, (frame, var, columns, visible) in state.frames.items():
        frame.rs.var, frame.rs.columns, frame.columns = var, columns, visible
        reader.env[name] = frame


def keep_as_pandas(reader: Any, body: list, start: int, error: RulesUnsupported) -> int | str:
    """Keep ``body[start]`` (and the statements that read what it binds) as one pipe step.

    Returns the index of the first statement after the step, or why the statements cannot be
    kept so (they do not transform exactly one DataFrame): the caller reports ``error`` with it.
    """
    facts = [_names(s) for s in body]
    window = _Window(reader, body, facts, start)
    frames = {n for n in _loaded(facts[start]) if isinstance(reader.env.get(n), Frame)}
    # a frame computed from another one read here is recomputed in the step, not a second input
    frames = {n for n in frames if not any(window.recomputable(n, o) for o in frames - {n})}
    if len(frames) != 1:
        return f"it reads the DataFrames {', '.join(sorted(frames))}" if frames else NO_FRAME
    (source,) = frames
    bound = _bound(facts[start])
    if source in bound:
        result, internal = source, bound - {source}
    elif len(bound) == 1 and _frame_chain(body[start], source) and not _renumbering(body, [start], next(iter(bound))):
        result, internal = next(iter(bound)), set()  # new = source.method(...), the same rows
    else:
        result, internal = source, set(bound)  # values the next statements use on source
    group = [start]
    while internal and group[-1] + 1 < len(body) and internal & _loaded(facts[group[-1] + 1]):
        group.append(group[-1] + 1)
        internal |= _bound(facts[group[-1]]) - {result}
    previous = reader.open_pandas_step
    if not (previous is not None and previous.result == source == result and reader.env.get(source) is previous.made
            and previous.ops == len(reader.plan.ops) and previous.helpers == len(reader.generated_helpers)):
        previous = None
    if previous is not None:  # right after a step on the same frame: one step, one pass through pandas
        window.begin = previous.indices[0]
    read = set().union(*(_loaded(facts[i]) for i in group))
    # values the script computed from the frame before, and objects it made before and changes
    # here (no_guest = df["adults"] == 0; le = LabelEncoder(); MEDIAN read by its own functions):
    # computed again inside the step, in the script's order
    made_before = {n for n in internal if n in reader.env and not isinstance(reader.env[n], Frame)}
    helper_globals = _helper_globals(reader, read) - read
    wanted = (read - internal - {source}) | made_before | helper_globals
    again = {n for n in wanted if window.recomputable(n, source)}
    problem = _problem(reader, body, facts, group, source, result, internal, read - again, made_before - again)
    if problem:
        return problem
    other = _other_values(reader, [(body[i], facts[i]) for i in group], internal | {source} | again)
    other += sorted(n for n in helper_globals - again if not _constant_name(reader, n))
    if other:
        return f"it reads {', '.join(other)}, which is not a constant"
    renumbering = _renumbering(body, group, result)
    if renumbering:
        return f"{renumbering}() makes rows of its own, which no input row's provenance follows"
    frame: Frame = reader.env[source]
    if getattr(frame, "aliases", None):
        return f"{source} was built from lists, not read as a DataFrame"
    if frame.dummies:
        return f"{source} went through pd.get_dummies, which the pipeline keeps as a one-hot encoder"
    indices = sorted(set(group) | {window.index_of(n) for n in again} | set(previous.indices if previous else ()))
    # the plan does not keep pandas' row order: a sort the script did is done again first
    order = next((i for i, s in enumerate(body[:start]) if s is frame.order), None)
    if order is not None and order not in indices and _bound(facts[order]) == {source}:
        indices = sorted({order, *indices})
    reason = error.reason
    if previous is not None:
        del reader.plan.ops[previous.ops_before:]
        del reader.generated_helpers[previous.helpers_before:]
        reader.pandas_steps.pop()
        frame = previous.frame
        reason = previous.reason if reason == previous.reason else f"{previous.reason}; {reason}"
    through = sorted(helper_globals & again) + (previous.through if previous else [])
    _emit_step(reader, body, indices, frame, source, result, reason, sorted(set(through)), internal)
    return group[-1] + 1


def _problem(reader: Any, body: list, facts: list, group: list[int], source: str, result: str,
             internal: set[str], read: set[str], changed_before: set[str]) -> str | None:
    """Why the group cannot be one step on ``source``, or None."""
    others = {n for n in read - internal - {source} if isinstance(reader.env.get(n), Frame)}
    if others:
        return f"it reads the DataFrames {', '.join(sorted(others | {source}))}"
    if result == source and source not in set().union(*(_bound(facts[i]) for i in group)):
        return f"it computes {', '.join(sorted(internal))} but does not change {source}"
    later = set().union(*(_loaded(facts[i]) for i in range(len(body)) if i not in group))
    escaping = sorted(internal & later - changed_before)
    if escaping:
        return f"it also sets {', '.join(escaping)}, which later statements read"
    if changed_before:
        return f"it changes {', '.join(sorted(changed_before))}, made before it"
    return None


def _emit_step(reader: Any, body: list, indices: list[int], frame: Frame, source: str, result: str, reason: str,
               through: list[str], internal: set[str]) -> None:
    statements = [body[i] for i in indices]
    ops_before, helpers_before = len(reader.plan.ops), len(reader.generated_helpers)
    columns, same_rows = _columns_after(reader, statements, source, result, frame.columns)
    first = reader.lines(statements[0])[0]
    last = max(reader.lines(s)[1] for s in statements)
    name = reader._fresh_helper(f"_pandas_step_{first}")
    reader.generated_helpers.append(_function_code(name, statements, source, result, reader.filename,
                                                   (first, last), reason, through))
    rs = frame.rs
    if frame.columns is not None and list(rs.columns) != list(frame.columns):
        rs = reader.plan.select(rs, list(frame.columns), first, f"the columns of {source}")
    planned = "" if columns is None else f", columns={columns!r}"
    out = reader.plan.raw(rs, f"{{rs}}.pipe({name}{planned})", first,
                          f"lines {first}-{last} kept as pandas: {reason}",
                          columns=rs.columns if columns is None else {c: rs.columns.get(c) for c in columns},
                          same_rows=same_rows)
    if columns is None:
        out.all_columns_known = False
    made = Frame(out, columns)
    reader.env[result] = made
    for name_ in internal - {result, source}:
        reader.env.pop(name_, None)
    reader.pandas_steps.append(PandasStep((first, last), reason, name))
    reader.open_pandas_step = _Open(frame, made, source, result, indices, through, reason, ops_before,
                                    helpers_before, len(reader.plan.ops), len(reader.generated_helpers))


class _Window:
    """Which earlier statements a step can run again: those that bind one value from the
    step's frame alone (or from constants), with the frame unchanged between them and the step."""

    def __init__(self, reader: Any, body: list, facts: list, begin: int):
        self.reader, self.body, self.facts, self.begin = reader, body, facts, begin

    def index_of(self, name: str) -> int:
        statement = self.reader.bound_by.get(name)
        return next((i for i, s in enumerate(self.body[:self.begin]) if s is statement), -1)

    def recomputable(self, name: str, source: str) -> bool:
        where = self.index_of(name)
        if where < 0 or _bound(self.facts[where]) != {name}:
            return False
        frames = {n for n in _loaded(self.facts[where]) if isinstance(self.reader.env.get(n), Frame)}
        # data from the frame itself, or an object built from constants (never another input)
        wanted = {source} if isinstance(self.reader.env.get(name), (Frame, Series)) else set()
        return frames == wanted and all(source not in _bound(self.facts[i]) for i in range(where + 1, self.begin))


@dataclass
class _Open:
    """The last step made, which a step right after it on the same frame joins."""

    frame: Frame  # the frame it started from, with the columns it had
    made: Frame
    source: str
    result: str
    indices: list[int]  # its statements, as positions in the module's body
    through: list[str]
    reason: str
    ops_before: int
    helpers_before: int
    ops: int
    helpers: int


# methods whose result rows are not input rows (new index labels): never in a pipe step's chain
_RENUMBERING = {"pivot", "pivot_table", "melt", "stack", "unstack", "set_index", "merge", "join", "agg",
                "aggregate", "value_counts", "describe", "corr", "cov", "size", "count", "mean", "sum", "transpose"}


def _renumbering(body: list, group: list[int], result: str) -> str | None:
    """The first method that renumbers rows in a chain that makes ``result``, if any."""
    for index in group:
        for assign in m.findall(body[index], m.Assign(targets=[m.AssignTarget(m.Name(result))])):
            value = assign.value
            while isinstance(value, (cst.Call, cst.Subscript, cst.Attribute)):
                if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
                    if value.func.attr.value in _RENUMBERING:
                        return value.func.attr.value
                    value = value.func.value
                elif isinstance(value, cst.Call):
                    break
                else:
                    value = value.value
    return None


def _frame_chain(stmt: cst.CSTNode, source: str) -> bool:
    """``new = source.method(...)[...]``: a statement that makes a new DataFrame from ``source``."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
        return False
    value = stmt.body[0].value
    while True:
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            value = value.func.value
        elif isinstance(value, (cst.Subscript, cst.Attribute)):
            value = value.value
        else:
            break
    return isinstance(value, cst.Name) and value.value == source


def _names(stmt: cst.CSTNode) -> StatementNames:
    names = _StepNames()
    stmt.visit(names)
    if isinstance(stmt, cst.For):
        # a loop binds its target before its body reads it: no earlier value is read
        target = _StepNames()
        stmt.target.visit(target)
        iterated = _StepNames()
        stmt.iter.visit(iterated)
        names.uses -= {n for n in target.uses | target.rebinds if n not in iterated.uses}
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        # a definition binds its name; what its body reads and binds is its own, less its globals
        from lester.rewrite.analysis import function_locals

        local = function_locals(stmt) if isinstance(stmt, cst.FunctionDef) else names.rebinds
        names.uses -= local
        names.rebinds, names.mutates = {stmt.name.value}, set()
    return names


class _StepNames(StatementNames):
    """The def-use facts, with a lambda's parameters local to it (``lambda x: x.fillna(0)``)."""

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        inner = StatementNames()
        node.body.visit(inner)
        params = {p.name.value for p in node.params.params}
        self.uses |= inner.uses - params
        return False


def _loaded(facts: StatementNames) -> set[str]:
    return facts.uses - facts.comprehension_locals


def _bound(facts: StatementNames) -> set[str]:
    return (facts.rebinds | facts.mutates) - facts.comprehension_locals


def _other_values(reader: Any, statements: list[tuple[cst.CSTNode, StatementNames]], allowed: set[str]) -> list[str]:
    """The names the statements read that are not an import, a helper, a constant or a builtin
    (or bound before: by an earlier statement, or by a loop's own target)."""
    bound_inside: set[str] = set()
    found: list[str] = []
    for stmt, f in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            bound_inside |= _bound(f)
        found += [n for n in sorted(_loaded(f) - bound_inside - allowed) if not _constant_name(reader, n)]
        bound_inside |= _bound(f)
    return found


class _KeepIndex(cst.CSTTransformer):
    """``x.reset_index(drop=True)`` as ``x``: the step keeps its input's index, which is how its
    rows keep their provenance (a renumbered index would be refused when it runs)."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if (isinstance(updated.func, cst.Attribute) and updated.func.attr.value == "reset_index"
                and len(updated.args) == 1 and updated.args[0].keyword is not None
                and updated.args[0].keyword.value == "drop" and m.matches(updated.args[0].value, m.Name("True"))):
            return updated.func.value
        return updated


def _function_code(name: str, statements: list, source: str, result: str, filename: str,
                   lines: tuple[int, int], reason: str, module_globals: list[str]) -> str:
    where = f"line {lines[0]}" if lines[0] == lines[1] else f"lines {lines[0]}-{lines[1]}"
    body = "".join(_indented(cst.Module(body=[s.visit(_KeepIndex())]).code) for s in statements)
    doc = f'    """{where} of {filename}, kept as pandas: {_one_line(reason)}."""\n'
    # values the script's functions read as globals are set where those functions look
    shared = f"    global {', '.join(module_globals)}\n" if module_globals else ""
    return f"def {name}({source}):\n{doc}{shared}{body}    return {result}\n\n\n"


def _constant_name(reader: Any, name: str) -> bool:
    import builtins

    held = reader.env.get(name)
    return held is GLOBAL or name in reader.constants or (held is None and hasattr(builtins, name))


def _helper_globals(reader: Any, read: set[str]) -> set[str]:
    """The module-level names that the script's functions named in ``read`` read (one level)."""
    from lester.rewrite.analysis import function_locals

    found: set[str] = set()
    for node in reader.copied:
        if isinstance(node, cst.FunctionDef) and node.name.value in read:
            facts = _names(node.body)
            found |= (facts.uses - function_locals(node) - facts.comprehension_locals) - {node.name.value}
    return found


def _one_line(text: str) -> str:
    return " ".join(text.replace('"""', "'''").replace("\\", "/").split())


def _indented(code: str) -> str:
    return "".join(("    " + line if line.strip() else line) for line in code.splitlines(keepends=True))


# -- the columns a step returns ----------------------------------------------------------------
def _columns_after(reader: Any, statements: list, source: str, result: str,
                   columns: list[str] | None) -> tuple[list[str] | None, bool]:
    """The frame's columns after ``statements`` (None: known only when it runs), and whether
    it still has exactly its rows."""
    current = None if columns is None else list(columns)
    same_rows = True
    for stmt in statements:
        if isinstance(stmt, cst.For) and current is not None:
            written = _loop_columns(reader, stmt, source)
            if written is None:
                return None, False
            current += [c for c in written if c not in current]
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            return None, False
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Subscript) and root_name(target) == source:
                    added = _assigned_columns(reader, target, source)
                    if added is None:
                        return None, same_rows
                    if current is not None:
                        current += [c for c in added if c not in current]
                    continue
                if (isinstance(target, cst.Attribute) and target.attr.value == "columns"
                        and isinstance(target.value, cst.Name) and target.value.value == source):
                    current = renamed(small.value, source, current) if current is not None else None
                    if current is None:
                        return None, same_rows
                    continue
                if isinstance(target, cst.Name) and target.value != result:
                    continue  # a value used inside the step
                if isinstance(target, cst.Name):
                    current, rows_kept = _chain(reader, small.value, source, current)
                    same_rows = same_rows and rows_kept
                    if current is None:
                        return None, same_rows
                    continue
            return None, False
    return current, same_rows


def _loop_columns(reader: Any, loop: cst.For, source: str) -> list[str] | None:
    """``for c in COLUMNS: df[c] = ...``: the columns a loop over constant names writes (None:
    it does something else to the frame, or its names are not constants)."""
    names = _names_in(_constant(reader, loop.iter))
    if names is None or not isinstance(loop.target, cst.Name) or loop.orelse is not None:
        return None
    var = loop.target.value
    written: list[str] = []
    for stmt in loop.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return None
        for small in stmt.body:
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                if isinstance(small, cst.Expr) or _names(small).mutates.isdisjoint({source}):
                    continue  # a print, or a value used in the loop
                return None
            target = small.targets[0].target
            if isinstance(target, cst.Name) and target.value not in (source, var):
                continue
            if not (isinstance(target, cst.Subscript) and root_name(target) == source):
                return None
            key = target.slice[-1].slice.value if isinstance(target.slice[-1].slice, cst.Index) else None
            if isinstance(key, cst.Name) and key.value == var:
                written += [n for n in names if n not in written]
                continue
            added = _assigned_columns(reader, target, source)
            if added is None:
                return None
            written += [c for c in added if c not in written]
    return written


def _constant(reader: Any, node: cst.BaseExpression) -> Any:
    if is_literal(node):
        return literal_value(node)
    if isinstance(node, cst.Name) and node.value in reader.constants:
        return reader.constants[node.value]
    return None


def _names_in(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _assigned_columns(reader: Any, target: cst.Subscript, source: str) -> list[str] | None:
    """``df["c"] = ``, ``df[["a", "b"]] = ``, ``df.loc[mask, "c"] = ``: the columns written."""
    owner = target.value
    if isinstance(owner, cst.Name) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
        return _names_in(_constant(reader, target.slice[0].slice.value))
    if (isinstance(owner, cst.Attribute) and owner.attr.value in ("loc", "iloc") and isinstance(owner.value, cst.Name)
            and owner.value.value == source and len(target.slice) == 2
            and isinstance(target.slice[1].slice, cst.Index)):
        if owner.attr.value == "iloc":
            return []
        return _names_in(_constant(reader, target.slice[1].slice.value))
    return None


def _chain(reader: Any, value: cst.BaseExpression, source: str,
           columns: list[str] | None) -> tuple[list[str] | None, bool]:
    """``source.method(...).method(...)`` or ``source[mask]``: the columns after it and whether
    every row is kept."""
    if isinstance(value, cst.Name):
        return (columns, True) if value.value == source else (None, False)
    if isinstance(value, cst.Subscript):
        inner, kept = _chain(reader, value.value, source, columns)
        if inner is None or len(value.slice) != 1 or not isinstance(value.slice[0].slice, cst.Index):
            return None, False
        picked = _names_in(_constant(reader, value.slice[0].slice.value))
        return (picked, kept) if picked is not None else (inner, False)  # a list of columns, or a mask
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        inner, kept = _chain(reader, value.func.value, source, columns)
        if inner is None:
            return None, False
        method = value.func.attr.value
        kwargs = {a.keyword.value: a.value for a in value.args if a.keyword is not None}
        args = [a.value for a in value.args if a.keyword is None]
        if method in _SAME_ROWS and "axis" not in kwargs and (method != "apply" or not args):
            return inner, kept
        if method == "reset_index" and set(kwargs) == {"drop"} and not args:
            return inner, kept  # left out of the step's code: see _KeepIndex
        if method in _SOME_ROWS and "axis" not in kwargs:
            return inner, False
        if method == "drop" and "columns" not in kwargs and (
                "index" in kwargs or (args and code_of(kwargs.get("axis", cst.Integer("0"))) in ("0", "'index'", '"index"'))):
            return inner, False  # df.drop(df[mask].index): rows, not columns
        if method == "drop":
            dropped = kwargs.get("columns") or (args[0] if args and "axis" in kwargs else None)
            names = _names_in(_constant(reader, dropped)) if dropped is not None else None
            if names is None:
                return None, False
            return [c for c in inner if c not in names], kept
        if method == "rename" and isinstance(kwargs.get("columns"), cst.Lambda):
            names = renamed(kwargs["columns"], "", inner)
            return (names, kept) if names is not None else (None, False)
        if method == "rename" and "columns" in kwargs:
            mapping = _constant(reader, kwargs["columns"])
            if not isinstance(mapping, dict):
                return None, False
            return [mapping.get(c, c) for c in inner], kept
        if method == "assign" and not args:
            return inner + [k for k in kwargs if k not in inner], kept
    return None, False
