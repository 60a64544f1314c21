"""Static analysis of a messy script with libcst: inputs, outputs, roles, stages and chunks.

A script is read as a list of top-level statements (notebook code cells in order; the body of
``if __name__ == "__main__":`` counts as top level). Each statement defines and uses names;
def-use chains between statements give backward slices from the script's results:

* ``dataprep``: what the prepared data (a written table, or the data both X and y come from)
  depends on;
* ``encode_features``: what X needs beyond that; ``extract_label``: what y needs beyond that;
* ``make_model``: the estimator and its fit;
* ``output``: statements that write result files; ``imports`` and ``helpers`` are shared;
* ``irrelevant``: everything else (prints, plots, dead code).

Example:
    >>> analysis = analyze_source(open("messy.py").read(), filename="messy.py")   # doctest: +SKIP
    >>> [(i.name, i.path) for i in analysis.inputs]                               # doctest: +SKIP
    [('customers', 'data/customers.csv'), ('mails', 'data/mails.csv')]
    >>> analysis.stages["dataprep"].lines                                          # doctest: +SKIP
    [(8, 21)]
"""

from __future__ import annotations

import ast
import codecs
import io
import json
import keyword
import os
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from lester.errors import LesterError
from lester.pipeline.definition import STAGES

STAGE_ORDER = (
    "imports", "helpers", "dataprep", "encode_features", "extract_label", "make_model",
    "output", "irrelevant",
)
PIPELINE_STAGES = STAGES  # the pipeline contract's stages, in order (lester.pipeline.definition)

# Calls whose first argument (or ``path=``/``filepath_or_buffer=``) is a file that is read.
_READERS = {
    "read_csv", "read_table", "read_parquet", "read_json", "read_excel", "read_feather",
    "read_pickle", "read_fwf", "read_orc", "load", "loadtxt", "genfromtxt", "fromfile",
    "read_text", "read_bytes", "listdir", "glob", "iglob", "scandir",
}
_WRITERS_METHOD = {"to_csv", "to_parquet", "to_json", "to_pickle", "to_excel", "to_feather",
                   "write_text", "write_bytes"}
_WRITERS_FIRST_ARG = {"save", "savez", "savez_compressed", "savetxt", "tofile"}
_WRITERS_SECOND_ARG = {"dump"}  # joblib.dump(obj, path), pickle.dump(obj, open(path, "wb"))
# Method calls that change their receiver: the statement (re)defines that name.
_MUTATORS = {
    "append", "extend", "update", "add", "insert", "pop", "remove", "setdefault", "clear",
    "sort", "fit", "fit_transform", "partial_fit", "write", "writerow", "writerows",
    "discard", "appendleft", "popitem", "reverse", "set_params", "setflags", "resize",
}
_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".pq", ".npy", ".npz",
                  ".pkl", ".pickle", ".xlsx", ".xls", ".feather", ".dat", ".data", ".gz", ".zip",
                  ".tab", ".psv", ".orc", ".arff", ".log", ".xml", ".html")
_FIT_METHODS = {"fit"}
_BUILTINS = set(dir(__import__("builtins")))
_ENCODE_METHODS = {"fit_transform"}


class ScriptSyntaxError(LesterError, SyntaxError):
    """The script (or a notebook cell) does not parse; the message names file, line, column."""

    def __init__(self, where: str, line: int, column: int, detail: str):
        self.where, self.line, self.column, self.detail = where, line, column, detail
        LesterError.__init__(self, f"{where}, line {line}, column {column}: syntax error: {detail}")

    def __str__(self) -> str:
        return self.args[0]


class ScriptReadError(LesterError, ValueError):
    """A script or notebook cannot be read as one: binary, undecodable, empty, or a notebook
    whose JSON is not nbformat-shaped. The message names the file (and the line or cell)."""

    def __init__(self, path: str, detail: str, line: int | None = None):
        self.path, self.detail, self.line = path, detail, line
        super().__init__(f"{path}{f', line {line}' if line is not None else ''}: {detail}")


@dataclass(frozen=True)
class InputFile:
    """A file (or a glob/folder of files) the script reads, with the source name it gets."""

    name: str
    path: str  # exactly as written in the script
    line: int
    kind: str = "file"  # "file" | "glob" | "folder"


@dataclass(frozen=True)
class OutputFile:
    """A file the script writes, and the variable written when there is one."""

    path: str
    line: int
    variable: str | None = None


@dataclass(frozen=True)
class Statement:
    index: int
    start: int
    end: int
    code: str
    defines: frozenset[str]
    rebinds: frozenset[str]
    uses: frozenset[str]
    kind: str  # "import" | "def" | "statement"


@dataclass(frozen=True)
class Stage:
    """The statements of one stage, as line ranges and code."""

    name: str
    statements: tuple[int, ...]
    lines: tuple[tuple[int, int], ...]
    code: str

    def describe(self) -> str:
        return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in self.lines) or "-"


@dataclass(frozen=True)
class Chunk:
    """A piece of the script small enough for one LLM call (whole stages, or a part of one)."""

    stages: tuple[str, ...]
    lines: tuple[tuple[int, int], ...]
    code: str
    tokens: int


@dataclass
class ScriptAnalysis:
    """Everything the engines and the validator need to know about a script."""

    filename: str
    source: str  # Python source (a notebook's code cells joined)
    statements: list[Statement]
    inputs: list[InputFile]
    outputs: list[OutputFile]
    roles: dict[str, str]  # "prepared" | "X" | "y" | "model" -> variable name
    stages: dict[str, Stage]
    helpers: list[str]
    cell_of_line: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def sources(self) -> dict[str, str]:
        """Source name -> path as written: the parameters ``dataprep`` should take."""
        return {i.name: i.path for i in self.inputs}

    @property
    def pipeline_stages(self) -> list[str]:
        """The pipeline functions this script needs (``dataprep`` always)."""
        return [s for s in PIPELINE_STAGES if s == "dataprep" or self.stages[s].statements]

    def locate(self, line: int) -> str:
        """``line 7``, or ``cell 3, line 2`` for a notebook."""
        if line in self.cell_of_line:
            cell, inner = self.cell_of_line[line]
            return f"cell {cell}, line {inner}"
        return f"line {line}"

    def chunks(self, token_budget: int) -> list[Chunk]:
        """Pipeline stages grouped into pieces of at most ``token_budget`` tokens each.

        Stages are kept whole when they fit; a stage larger than the budget is split between
        its top-level statements (a single statement larger than the budget stays whole).
        """
        pieces: list[tuple[str, Statement]] = [
            (name, self.statements[i]) for name in PIPELINE_STAGES for i in self.stages[name].statements
        ]
        chunks: list[Chunk] = []
        current: list[tuple[str, Statement]] = []

        def flush() -> None:
            if current:
                code = "\n".join(s.code for _, s in current)
                names = tuple(dict.fromkeys(n for n, _ in current))
                chunks.append(Chunk(names, _ranges(s for _, s in current), code, estimate_tokens(code)))
                current.clear()

        for name, statement in pieces:
            size = sum(estimate_tokens(s.code) for _, s in current)
            if current and size + estimate_tokens(statement.code) > token_budget:
                flush()
            current.append((name, statement))
        flush()
        return chunks

    def summary(self) -> dict:
        return {
            "inputs": [vars(i) for i in self.inputs],
            "outputs": [vars(o) for o in self.outputs],
            "roles": dict(self.roles),
            "stages": {n: [list(r) for r in s.lines] for n, s in self.stages.items() if s.statements},
        }


def estimate_tokens(text: str) -> int:
    """A model-independent token estimate (about four characters per token)."""
    return max(1, (len(text) + 3) // 4)


# -- entry points -----------------------------------------------------------------------------
def analyze_path(path: str | os.PathLike) -> ScriptAnalysis:
    """Analyse a ``.py`` script or an ``.ipynb`` notebook.

    Raises :class:`ScriptReadError` for a file that is not a script or notebook at all and
    :class:`ScriptSyntaxError` for one that does not parse.
    """
    path = Path(path)
    if not path.exists():
        raise LesterError(f"{path}: no such script")
    if path.suffix == ".ipynb":
        source, cells = notebook_source(_notebook_text(path), str(path))
        analysis = analyze_source(source, filename=str(path), cell_of_line=cells, folder=path.parent)
    else:
        analysis = analyze_source(read_script(path), filename=str(path), folder=path.parent)
    if not analysis.statements:
        raise ScriptReadError(str(path), "no code to rewrite (only comments and blank lines)")
    return analysis


_CODING = re.compile(r"^([ \t\f]*#.*?coding[:=][ \t]*)([-\w.]+)")


def read_script(path: str | os.PathLike) -> str:
    """The text of a Python script, decoded as Python decodes it (a BOM, or a PEP 263 coding
    line; UTF-8 otherwise).

    The coding line of a script in another encoding is rewritten to say ``utf-8`` (in place,
    so line numbers hold): from here on the source is text, and every copy of it (the
    sandboxed run of the script, the module) is written as UTF-8, which Python would misread
    under the old declaration.
    """
    path = Path(path)
    data = _read_bytes(path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ScriptReadError(str(path), "UTF-16 text, which Python does not read as source; save it as UTF-8")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown encoding, or a BOM that contradicts the coding line
        raise ScriptReadError(str(path), f"{_first_line(str(exc))}; use a coding line Python knows "
                              "(e.g. # -*- coding: utf-8 -*-), or save the file as UTF-8") from None
    text = _decoded(path, data, encoding)
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        lines = text.split("\n")
        for number in range(min(2, len(lines))):  # PEP 263: only the first two lines count
            if _CODING.match(lines[number]):
                lines[number] = _CODING.sub(r"\g<1>utf-8", lines[number], count=1)
                break
        text = "\n".join(lines)
    return text


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ScriptReadError(str(path), "a folder, not a script") from None
    except OSError as exc:
        raise ScriptReadError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    if not data.strip():
        raise ScriptReadError(str(path), "the file is empty")
    # no 8-bit text holds NUL bytes (Python refuses them too, with a less helpful message)
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        kind = "notebook" if path.suffix == ".ipynb" else "Python script"
        raise ScriptReadError(str(path), f"a binary file, not a {kind} (it holds NUL bytes)")
    return data


def _decoded(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start:exc.start + 1]
        if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
            detail = (f"not UTF-8: byte {byte!r} at column {column} cannot be decoded (a script in another "
                      "encoding needs a coding line such as # -*- coding: latin-1 -*-, or to be saved as UTF-8)")
            if path.suffix == ".ipynb":
                detail = (f"not UTF-8: byte {byte!r} at column {column} cannot be decoded "
                          "(notebooks are UTF-8 JSON)")
        else:
            detail = (f"not {encoding}, as its coding line declares: byte {byte!r} at column {column} cannot "
                      "be decoded; correct the coding line or the file")
        raise ScriptReadError(str(path), detail, line=line) from None


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def _notebook_text(path: Path) -> str:
    # nbformat notebooks are UTF-8 JSON; some editors add a BOM
    return _decoded(path, _read_bytes(path), "utf-8-sig")


def _kind(value: object) -> str:
    return type(value).__name__


def notebook_source(text: str, filename: str = "<notebook>") -> tuple[str, dict[int, tuple[int, int]]]:
    """The code cells of a notebook joined in order, and where each line came from.

    IPython magics and shell escapes (``%matplotlib``, ``!pip``) become comments. A notebook
    whose JSON is not nbformat 4 shaped raises :class:`ScriptReadError` naming the cell
    (``cells[i]``, counting every cell from 0, as the JSON does).
    """
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScriptSyntaxError(filename, exc.lineno, exc.colno, f"not a notebook: {exc.msg}") from None
    if not isinstance(notebook, dict):
        raise ScriptReadError(filename, f"not a notebook: the JSON is a {_kind(notebook)}, "
                              "not an object with \"cells\"")
    if "cells" not in notebook:
        if "worksheets" in notebook:
            raise ScriptReadError(filename, "an nbformat 3 notebook; convert it to nbformat 4 with "
                                  "`jupyter nbconvert --to notebook --nbformat 4`")
        raise ScriptReadError(filename, "not a notebook: it has no \"cells\" (nbformat 4)")
    cells = notebook["cells"]
    if not isinstance(cells, list):
        raise ScriptReadError(filename, f"not a notebook: \"cells\" is a {_kind(cells)}, not a list")
    lines: list[str] = []
    where: dict[int, tuple[int, int]] = {}
    number = 0
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise ScriptReadError(filename, f"cells[{index}] is a {_kind(cell)}, not an object")
        if cell.get("cell_type") != "code":
            continue
        number += 1
        if "source" not in cell:
            raise ScriptReadError(filename, f"cells[{index}] has no \"source\" (code cell {number})")
        body = cell["source"]
        if isinstance(body, list):
            wrong = next((part for part in body if not isinstance(part, str)), None)
            if wrong is not None:
                raise ScriptReadError(filename, f"cells[{index}]: \"source\" is a list holding a {_kind(wrong)}, "
                                      "not only strings")
            body = "".join(body)
        elif not isinstance(body, str):
            raise ScriptReadError(filename, f"cells[{index}]: \"source\" is a {_kind(body)}, not a string "
                                  "or a list of strings")
        for inner, line in enumerate(body.splitlines(), start=1):
            if line.lstrip().startswith(("%", "!")):
                line = "# " + line
            lines.append(line)
            where[len(lines)] = (number, inner)
        lines.append("")
    if not number:
        raise ScriptReadError(filename, "no code to rewrite: the notebook has no code cells")
    return "\n".join(lines) + "\n", where


def analyze_source(
    source: str,
    *,
    filename: str = "<script>",
    cell_of_line: dict[int, tuple[int, int]] | None = None,
    folder: str | os.PathLike | None = None,
) -> ScriptAnalysis:
    """Analyse Python source; ``folder`` (the script's folder) lets literal paths of existing
    files count as inputs even when the call that opens them is not recognised."""
    cell_of_line = cell_of_line or {}

    def located(line: int, column: int, detail: str) -> ScriptSyntaxError:
        where = filename
        if line in cell_of_line:
            cell, line = cell_of_line[line]
            where = f"{filename}, cell {cell}"
        return ScriptSyntaxError(where, line, column, detail)

    try:
        # Python's own parser words syntax errors best ("'(' was never closed")
        ast.parse(source)
    except SyntaxError as exc:
        raise located(exc.lineno or 1, exc.offset or 1, exc.msg) from None
    except ValueError as exc:  # NUL bytes in source text (the file reader refuses them earlier)
        raise located(1, 1, str(exc)) from None
    except (MemoryError, RecursionError):
        raise located(1, 1, "nested too deeply for Python's parser") from None
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise located(exc.raw_line, exc.raw_column + 1, exc.message) from None
    try:
        return _analysis(module, source, filename, cell_of_line, folder)
    except RecursionError:  # libcst's tree and its visitors recurse where Python's parser does not
        raise ScriptReadError(filename, "nested too deeply to be analysed (brackets or expressions "
                              "hundreds of levels deep); split the expression") from None


def _analysis(module: cst.Module, source: str, filename: str, cell_of_line: dict[int, tuple[int, int]],
              folder: str | os.PathLike | None) -> ScriptAnalysis:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    constants = _string_constants(module)
    body = _top_level(module)
    statements = [_statement(i, node, module, positions) for i, node in enumerate(body)]

    functions = {node.name.value: node for node in module.body if isinstance(node, cst.FunctionDef)}
    paths = _PathFinder(constants, positions, functions)
    module.visit(paths)
    inputs = _name_inputs(paths.reads, paths.written, source, folder, constants, positions, module)
    outputs = [OutputFile(p, line, var) for p, line, var in paths.writes]
    roles = _roles(module, outputs, paths, statements, positions)
    stages = _stages(statements, roles, paths, positions)
    helpers = [n for s in statements if s.kind == "def" for n in s.defines]
    return ScriptAnalysis(filename, source, statements, inputs, outputs, roles, stages, helpers,
                          cell_of_line)


# -- statements and def-use -----------------------------------------------------------------
def _top_level(module: cst.Module) -> list[cst.CSTNode]:
    body: list[cst.CSTNode] = []
    for node in module.body:
        if isinstance(node, cst.If) and _is_main_guard(node.test):
            body.extend(node.body.body)
        else:
            body.append(node)
    return body


def _is_main_guard(test: cst.BaseExpression) -> bool:
    code = cst.Module([]).code_for_node(test).replace("'", '"').replace(" ", "")
    return code in ('__name__=="__main__"', '"__main__"==__name__')


class StatementNames(cst.CSTVisitor):
    """Names a statement loads, binds, and changes in place (the script's def-use facts, for the
    stages here and for the rules engine's slice). ``mutators`` are the methods taken to change
    their receiver."""

    mutators: frozenset[str] = frozenset(_MUTATORS)

    def __init__(self) -> None:
        self.uses: set[str] = set()
        self.rebinds: set[str] = set()
        self.mutates: set[str] = set()
        self.comprehension_locals: set[str] = set()
        self.declared_global: set[str] = set()

    def _targets(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.rebinds.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._targets(element.value)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value)
        elif isinstance(target, (cst.Subscript, cst.Attribute)):
            root = root_name(target)
            if root:
                self.mutates.add(root)
                self.uses.add(root)
            target.visit(self)

    def visit_Assign(self, node: cst.Assign) -> bool:
        for target in node.targets:
            self._targets(target.target)
        node.value.visit(self)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        self._targets(node.target)
        if node.value is not None:
            node.value.visit(self)
        return False

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        root = root_name(node.target)
        if root:
            self.mutates.add(root)
            self.uses.add(root)
        node.target.visit(self)
        node.value.visit(self)
        return False

    def visit_For(self, node: cst.For) -> bool:
        self._targets(node.target)
        return True

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        # comprehension variables are local to the comprehension
        before = set(self.rebinds)
        self._targets(node.target)
        self.comprehension_locals |= self.rebinds - before
        self.rebinds = before
        return True

    def visit_WithItem(self, node: cst.WithItem) -> bool:
        if node.asname is not None:
            self._targets(node.asname.name)
        node.item.visit(self)
        return False

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        self._targets(node.target)
        return True

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            self.rebinds.add(dotted_name(name).split(".")[0])
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            self.rebinds.add(dotted_name(name))
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.rebinds.add(node.name.value)
        return True

    def visit_Global(self, node: cst.Global) -> bool:
        self.declared_global |= {n.name.value for n in node.names}
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.rebinds.add(node.name.value)
        return True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            inplace = any(
                a.keyword is not None and a.keyword.value == "inplace"
                and isinstance(a.value, cst.Name) and a.value.value == "True" for a in node.args
            )
            if func.attr.value in self.mutators or inplace:
                root = root_name(func.value)
                if root:
                    self.mutates.add(root)

    def visit_Name(self, node: cst.Name) -> None:
        self.uses.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # the attribute's own name is not a variable
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # keyword names are not variables
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        if node.default is not None:
            node.default.visit(self)
        return False


def _statement(index: int, node: cst.CSTNode, module: cst.Module, positions) -> Statement:
    names = StatementNames()
    node.visit(names)
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        # a definition binds its name; what its body binds is local, what it loads is free
        params = StatementNames()
        if isinstance(node, cst.FunctionDef):
            for param in _all_params(node.params):
                params.rebinds.add(param.name.value)
        local = names.rebinds | names.mutates | params.rebinds
        names.uses = names.uses - local - names.comprehension_locals
        names.rebinds, names.mutates = {node.name.value}, set()
    else:
        names.uses -= names.comprehension_locals - names.rebinds
    kind = "statement"
    if isinstance(node, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in node.body
    ):
        kind = "import"
    elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        kind = "def"
    position = positions[node]
    code = module.code_for_node(node)
    # leading comments belong to the statement in libcst; start at its first code line
    start = position.start.line
    defines = names.rebinds | names.mutates
    return Statement(index, start, position.end.line, code.strip("\n"), frozenset(defines),
                     frozenset(names.rebinds - names.mutates), frozenset(names.uses), kind)


def function_locals(function: cst.FunctionDef) -> set[str]:
    """The names a function binds for itself: its parameters and what its body assigns,
    less what it declares ``global``."""
    names = StatementNames()
    function.body.visit(names)
    params = {p.name.value for p in _all_params(function.params)}
    return (params | names.rebinds) - names.declared_global


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    found = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def _dependencies(statements: Sequence[Statement]) -> list[set[int]]:
    """For each statement, the statements whose definitions it may read."""
    deps: list[set[int]] = []
    for statement in statements:
        found: set[int] = set()
        for name in statement.uses:
            for earlier in range(statement.index - 1, -1, -1):
                other = statements[earlier]
                if name in other.defines:
                    found.add(earlier)
                    if name in other.rebinds:
                        break  # a plain rebinding hides everything before it
        deps.append(found)
    return deps


def _slice(starts: Iterable[int], deps: Sequence[set[int]]) -> set[int]:
    seen: set[int] = set()
    todo = list(starts)
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(deps[current])
    return seen


def _ranges(statements: Iterable[Statement]) -> tuple[tuple[int, int], ...]:
    ranges: list[list[int]] = []
    for s in sorted(statements, key=lambda s: s.start):
        if ranges and s.start <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], s.end)
        else:
            ranges.append([s.start, s.end])
    return tuple((a, b) for a, b in ranges)


# -- paths --------------------------------------------------------------------------------------
def _string_constants(module: cst.Module) -> dict[str, list[str]]:
    """Names bound to string literals (or lists of them), or to paths built from them: at top
    level, and inside functions (assignments and parameter defaults) where a name has one value."""
    constants: dict[str, list[str]] = {}
    for node in _top_level(module):
        if not isinstance(node, cst.SimpleStatementLine):
            continue
        for small in node.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(
                small.targets[0].target, cst.Name
            ):
                values = string_values(small.value, constants)
                if values:
                    constants[small.targets[0].target.value] = values
    local: dict[str, list[list[str]]] = {}
    for function in m.findall(module, m.FunctionDef()):
        for param in _all_params(function.params):
            if param.default is not None:
                local.setdefault(param.name.value, []).append(string_values(param.default, constants))
        for assign in m.findall(function.body, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
            local.setdefault(assign.targets[0].target.value, []).append(string_values(assign.value, constants))
    for name, values in local.items():
        if name not in constants and len(values) == 1 and values[0]:
            constants[name] = values[0]
    return constants


def string_values(node: cst.BaseExpression, constants: dict[str, list[str]]) -> list[str]:
    """The strings an expression evaluates to when it is made of literals and constants: paths
    built with ``os.path.join``, ``Path(__file__).parent / ...``, ``format``, ``%``, f-strings
    over loop values, and the literal branch of ``sys.argv[1] if ... else "data/x.csv"``."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return [value] if isinstance(value, str) else []
    if isinstance(node, cst.FormattedString):
        # f"data/labs_site_{site}.csv" inside `for site in ["a", "b"]`: one path per value
        texts = [""]
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                values = [part.value]
            elif part.format_spec is None and part.conversion is None:
                values = string_values(part.expression, constants)
            else:
                values = []
            if not values or len(texts) * len(values) > 1000:
                return []
            texts = [text + value for text in texts for value in values]
        return texts
    if isinstance(node, cst.Name) and node.value == "__file__":
        return [_SCRIPT]
    if isinstance(node, cst.Name):
        return list(constants.get(node.value, []))
    if isinstance(node, (cst.List, cst.Tuple)):
        out: list[str] = []
        for element in node.elements:
            out += string_values(element.value, constants)
        return out
    if isinstance(node, cst.Attribute) and node.attr.value == "parent":
        # Path(__file__).parent: the script's folder, the working folder of a case
        return ["."] if string_values(node.value, constants) == [_SCRIPT] else []
    if isinstance(node, cst.IfExp):
        # `sys.argv[1] if len(sys.argv) > 1 else "data/x.csv"`: the branches that are paths
        return string_values(node.body, constants) + string_values(node.orelse, constants)
    if isinstance(node, cst.Call):
        name = _call_name(node)
        if name in ("join", "Path", "PurePath", "PosixPath") and node.args:
            parts = [string_values(a.value, constants) for a in node.args]
            if all(len(p) == 1 for p in parts):
                return [_normal("/".join(p[0] for p in parts))]
            return []
        if name in ("open",) and node.args:
            return string_values(node.args[0].value, constants)
        if name in ("resolve", "absolute", "expanduser") and isinstance(node.func, cst.Attribute):
            return string_values(node.func.value, constants)
        if name in ("abspath", "realpath", "normpath", "expanduser", "str", "fspath") and len(node.args) == 1:
            return string_values(node.args[0].value, constants)
        if name == "dirname" and len(node.args) == 1:
            return ["."] if string_values(node.args[0].value, constants) == [_SCRIPT] else []
        if name == "getcwd":
            return ["."]
        if name == "format" and isinstance(node.func, cst.Attribute):
            template = string_values(node.func.value, constants)
            args = [string_values(a.value, constants) for a in node.args if a.keyword is None]
            keywords = {a.keyword.value: string_values(a.value, constants) for a in node.args if a.keyword}
            if len(template) == 1 and all(len(v) == 1 for v in [*args, *keywords.values()]):
                try:
                    return [template[0].format(*(v[0] for v in args), **{k: v[0] for k, v in keywords.items()})]
                except (IndexError, KeyError, ValueError):
                    return []
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Divide, cst.Add)):
        left = string_values(node.left, constants)
        right = string_values(node.right, constants)
        if len(left) == 1 and len(right) == 1:
            sep = "/" if isinstance(node.operator, cst.Divide) else ""
            return [_normal(left[0] + sep + right[0]) if sep else left[0] + right[0]]
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        left = string_values(node.left, constants)
        right = node.right
        items = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
        values = [string_values(v, constants) for v in items]
        if len(left) == 1 and all(len(v) == 1 for v in values):
            try:
                return [left[0] % tuple(v[0] for v in values)]
            except (TypeError, ValueError):
                return []
    return []


_SCRIPT = "\0script"  # what __file__ stands for while a path is evaluated


def _normal(path: str) -> str:
    """``./data//x.csv`` as ``data/x.csv``; a path through the script itself is no path."""
    if _SCRIPT in path:
        return path
    import posixpath

    return posixpath.normpath(path)


class _PathFinder(cst.CSTVisitor):
    """Paths read and written by recognised calls, plus the variables in loops over paths."""

    def __init__(self, constants: dict[str, list[str]], positions,
                 functions: dict[str, cst.FunctionDef] | None = None, depth: int = 0) -> None:
        self.constants = dict(constants)
        self.positions = positions
        self.functions = functions or {}  # the script's own functions, followed at their calls
        self.depth = depth
        self.reads: list[tuple[str, int, str]] = []  # path, line, kind
        self.writes: list[tuple[str, int, str | None]] = []
        self.written: set[str] = set()
        self.fit_calls: list[cst.Call] = []
        self.encode_calls: list[tuple[cst.Call, cst.CSTNode]] = []

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name):
            values = string_values(node.iter, self.constants)
            if values:
                self.constants[node.target.value] = values

    def _line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def _follow(self, call: cst.Call, function: cst.FunctionDef) -> None:
        _follow_call(self, call, function)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value in self.functions:
            self._follow(node, self.functions[node.func.value])
            return  # load("people.csv") is the script's own load, not a library reader
        name = _call_name(node)
        args = [a for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        line = self._line(node)
        if name == "open" and args:
            mode = args[1].value if len(args) > 1 else keywords.get("mode")
            mode_text = mode.evaluated_value if isinstance(mode, cst.SimpleString) else "r"
            paths = string_values(args[0].value, self.constants)
            if any(flag in str(mode_text) for flag in "wax"):
                for path in paths:
                    self.writes.append((path, line, None))
                    self.written.add(path)
            else:
                self.reads += [(p, line, "file") for p in paths]
        elif name in _READERS:
            target = args[0].value if args else keywords.get("filepath_or_buffer", keywords.get("path", keywords.get("fname")))
            if isinstance(node.func, cst.Attribute) and name in ("read_text", "read_bytes"):
                target = node.func.value
            if target is not None:
                kind = "glob" if name in ("glob", "iglob") else "folder" if name in ("listdir", "scandir") else "file"
                if name == "load" and _call_root(node) in ("json", "pickle", "yaml"):
                    return  # json.load(open(path)) is seen through its open()
                self.reads += [(p, line, kind) for p in string_values(target, self.constants)]
        elif name in _WRITERS_METHOD and isinstance(node.func, cst.Attribute):
            target = args[0].value if args else keywords.get("path_or_buf", keywords.get("path"))
            variable = root_name(node.func.value)
            if name in ("write_text", "write_bytes"):
                target, variable = node.func.value, None
            for path in string_values(target, self.constants) if target is not None else []:
                self.writes.append((path, line, variable))
                self.written.add(path)
        elif name in _WRITERS_FIRST_ARG and len(args) >= 1:
            variable = root_name(args[1].value) if len(args) > 1 else None
            for path in string_values(args[0].value, self.constants):
                self.writes.append((path, line, variable))
                self.written.add(path)
        elif name in _WRITERS_SECOND_ARG and len(args) >= 2:
            variable = root_name(args[0].value)
            for path in string_values(args[1].value, self.constants):
                self.writes.append((path, line, variable))
                self.written.add(path)
        if name in _FIT_METHODS and isinstance(node.func, cst.Attribute) and len(args) >= 1:
            self.fit_calls.append(node)


def _follow_call(finder: _PathFinder, call: cst.Call, function: cst.FunctionDef) -> None:
    """The paths a call of the script's own function reads and writes: its body's, with each
    parameter bound to what the call passes (``load("people.csv")`` with
    ``def load(name): return pd.read_csv(os.path.join(DATA, name))``)."""
    if finder.depth >= 3:
        return
    params = [p for p in function.params.params]
    bound = dict(finder.constants)
    for param in params:
        bound.pop(param.name.value, None)
        if param.default is not None:
            bound[param.name.value] = string_values(param.default, finder.constants)
    for position, arg in enumerate(call.args):
        if arg.star:
            return
        name = arg.keyword.value if arg.keyword is not None else (
            params[position].name.value if position < len(params) else None)
        if name is not None:
            bound[name] = string_values(arg.value, finder.constants)
    inner = _PathFinder({k: v for k, v in bound.items() if v}, finder.positions, finder.functions, finder.depth + 1)
    function.body.visit(inner)
    line = finder._line(call)
    finder.reads += [(path, line, kind) for path, _line, kind in inner.reads]
    finder.writes += [(path, line, variable) for path, _line, variable in inner.writes]
    finder.written |= inner.written


def _name_inputs(reads, written, source, folder, constants, positions, module) -> list[InputFile]:
    found: dict[str, tuple[int, str]] = {}
    for path, line, kind in reads:
        if path in written:
            continue
        if kind == "file" and any(ch in path for ch in "*?["):
            kind = "glob"
        found.setdefault(path, (line, kind))
    if folder is not None:
        # Literal paths of existing files the recognised calls did not cover (custom readers)
        for node, text, line in _string_literals(module, positions):
            if text in found or text in written or not _looks_like_path(text):
                continue
            candidate = Path(folder) / text
            if candidate.is_file():
                found[text] = (line, "file")
    inputs: list[InputFile] = []
    used: set[str] = set()
    for path, (line, kind) in sorted(found.items(), key=lambda item: item[1][0]):
        name = source_name(path, used)
        used.add(name)
        inputs.append(InputFile(name, path, line, kind))
    return inputs


def _string_literals(module: cst.Module, positions):
    class Collect(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: list[tuple[cst.CSTNode, str, int]] = []

        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            value = node.evaluated_value
            if isinstance(value, str):
                self.found.append((node, value, positions[node].start.line))

    collect = Collect()
    module.visit(collect)
    return collect.found


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and len(text) < 300 and (
        "/" in text or text.lower().endswith(_DATA_SUFFIXES)
    )


def source_name(path: str, used: set[str]) -> str:
    """``data/customers.csv`` -> ``customers``; clashes get the parent folder as a prefix."""
    pure = Path(path.replace("\\", "/"))
    stem = pure.name
    for suffix in (".gz", ".zip", ".bz2", ".xz"):
        stem = stem.removesuffix(suffix)
    stem = stem.split(".")[0] if not any(ch in stem for ch in "*?[") else ""
    if not stem:  # a glob such as data/parts/*.csv is named after its folder
        stem = pure.parent.name or "files"
    name = _identifier(stem)
    if name in used and pure.parent.name:
        name = _identifier(f"{pure.parent.name}_{stem}")
    base, n = name, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    return name


def _identifier(text: str) -> str:
    name = re.sub(r"\W+", "_", text).strip("_").lower() or "source"
    if name[0].isdigit():
        name = "f_" + name
    if keyword.iskeyword(name) or name in ("lt", "np", "pd"):
        name += "_"
    return name


# -- roles and stages -------------------------------------------------------------------------
def _roles(module, outputs, paths: _PathFinder, statements, positions) -> dict[str, str]:
    """Which variables hold the prepared data, X, y and the model."""
    roles: dict[str, str] = {}
    for out in outputs:
        stem = Path(out.path).stem.lower()
        if out.variable is None:
            continue
        if stem in ("x", "x_train", "features") and "X" not in roles:
            roles["X"] = out.variable
        elif stem in ("y", "y_train", "labels", "label", "target") and "y" not in roles:
            roles["y"] = out.variable
        elif Path(out.path).suffix.lower() in (".csv", ".parquet", ".tsv", ".json") and "prepared" not in roles:
            roles["prepared"] = out.variable
    if "prepared" not in roles:
        imported = {n for s in statements if s.kind in ("import", "def") for n in s.defines}
        for out in outputs:
            if out.variable is not None or Path(out.path).suffix.lower() not in (".csv", ".tsv", ".parquet", ".json"):
                continue
            if Path(out.path).stem.lower() in ("x", "y"):
                continue
            statement = next((s for s in statements if s.start <= out.line <= s.end), None)
            if statement is None:
                continue
            data = statement.uses - statement.defines - imported - _BUILTINS
            earlier = [n for s in statements[: statement.index] for n in s.defines if n in data]
            if earlier:
                roles["prepared"] = earlier[-1]
                break
    for call in paths.fit_calls:
        args = [a for a in call.args if a.keyword is None]
        receiver = root_name(call.func.value)
        if len(args) >= 2 and receiver:
            roles.setdefault("model", receiver)
            first, second = root_name(args[0].value), root_name(args[1].value)
            if first:
                roles.setdefault("X", first)
            if second:
                roles.setdefault("y", second)
    defined = {n for s in statements for n in s.defines}
    for name in ("X", "y"):
        if name not in roles and name in defined:
            roles[name] = name
    return roles


def _stages(statements: list[Statement], roles: dict[str, str], paths: _PathFinder, positions) -> dict[str, Stage]:
    deps = _dependencies(statements)
    write_lines = {line for _, line, _ in paths.writes}
    output_statements = {
        s.index for s in statements if s.kind == "statement" and any(s.start <= ln <= s.end for ln in write_lines)
    }

    def last_definition(name: str | None) -> set[int]:
        if not name:
            return set()
        defining = [s.index for s in statements if name in s.defines and s.index not in output_statements]
        return {defining[-1]} if defining else set()

    def closure(name: str | None) -> set[int]:
        return _slice(last_definition(name), deps) if name else set()

    x_slice, y_slice = closure(roles.get("X")), closure(roles.get("y"))
    shared = {s.index for s in statements if s.kind in ("import", "def")}
    if roles.get("prepared"):
        dataprep = closure(roles["prepared"])
    elif x_slice and y_slice:
        dataprep = x_slice & y_slice
    else:
        # no results to slice from: what the written files depend on is data preparation
        dataprep = _slice(output_statements, deps) - output_statements
    dataprep -= shared
    features = x_slice - dataprep - shared
    label = y_slice - dataprep - features - shared
    model_defs = {s.index for s in statements if roles.get("model") in s.defines} if roles.get("model") else set()
    model = _slice(model_defs, deps) - dataprep - features - label - shared if model_defs else set()
    output = output_statements - dataprep - features - label - model
    assigned = dataprep | features | label | model | output
    used_by_pipeline = set().union(*(statements[i].uses for i in assigned)) if assigned else set()
    helpers = {s.index for s in statements if s.kind == "def" and s.defines & used_by_pipeline}
    # helper functions call other helpers
    changed = True
    while changed:
        calls = set().union(*(statements[i].uses for i in helpers)) if helpers else set()
        more = {s.index for s in statements if s.kind == "def" and s.defines & calls} - helpers
        helpers |= more
        changed = bool(more)
    imports = {s.index for s in statements if s.kind == "import"}
    irrelevant = {s.index for s in statements} - assigned - helpers - imports
    groups = {
        "imports": imports, "helpers": helpers, "dataprep": dataprep, "encode_features": features,
        "extract_label": label, "make_model": model, "output": output, "irrelevant": irrelevant,
    }
    stages = {}
    for name in STAGE_ORDER:
        chosen = sorted(groups[name])
        stages[name] = Stage(
            name, tuple(chosen), _ranges(statements[i] for i in chosen),
            "\n".join(statements[i].code for i in chosen),
        )
    return stages


# -- small libcst helpers ---------------------------------------------------------------------
def dotted_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""


def _call_name(node: cst.Call) -> str:
    func = node.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def _call_root(node: cst.Call) -> str:
    return root_name(node.func) or ""


def root_name(node: cst.BaseExpression | None) -> str | None:
    while node is not None:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return None
    return None
