"""Static checks of a candidate pipeline module, before anything runs.

A candidate must parse, define the pipeline functions the script needs, do no I/O of its
own (only the DSL reads the sources), import only the DSL, scikit-learn, numpy and what the
script itself imports (minus I/O and system modules), and keep paths out of function bodies:
the sources are ``dataprep``'s parameters, with the script's paths as defaults.

A module an LLM proposed is hostile until shown otherwise, and the sandbox that validates it
is not the only wall: ``lester run`` later executes the same module unconfined. So a candidate
may not reach the operating system by any route the checks can see: no system module
imported or reached as another module's attribute (``pd.io.common.os``), no dynamic code or
attribute access (``eval``, ``getattr``, ``__import__``, dunder or private attributes, dunder
names in strings), no lester command beyond the DSL, and the DSL reads only ``dataprep``'s
parameters.

Example:
    >>> issues = check_module(code, analysis)               # doctest: +SKIP
    >>> [str(i) for i in issues if i.severity == "error"]   # doctest: +SKIP
    ['line 12: dataprep() opens a file with open(); read sources with lt.read_csv']
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lester.rewrite.analysis import ScriptAnalysis

ALLOWED_MODULES = {
    "lester", "sklearn", "numpy", "scipy", "pandas", "math", "re", "string", "datetime",
    "collections", "itertools", "functools", "operator", "typing", "dataclasses", "decimal",
    "fractions", "statistics", "unicodedata", "hashlib", "json", "__future__", "calendar", "enum",
    "textwrap", "html",
}
FORBIDDEN_MODULES = {
    "os", "sys", "subprocess", "shutil", "socket", "pathlib", "glob", "csv", "pickle", "joblib",
    "requests", "urllib", "http", "io", "importlib", "builtins", "multiprocessing", "threading",
    "ctypes", "tempfile", "matplotlib", "seaborn", "openai",
}
_FORBIDDEN_CALLS = {"open", "exec", "eval", "compile", "__import__", "input", "breakpoint"}
# names that reach the interpreter's internals, other modules' globals or dynamic code
_FORBIDDEN_NAMES = _FORBIDDEN_CALLS | {
    "getattr", "setattr", "delattr", "globals", "locals", "vars", "__builtins__", "__loader__",
    "__spec__", "help", "exit", "quit", "memoryview", "classmethod", "staticmethod", "super",
}
# attributes through which a module reaches the operating system, wherever they hang
_SYSTEM_ATTRIBUTES = FORBIDDEN_MODULES | {
    "common", "ctypeslib", "request", "parse", "environ", "environb", "getenv", "putenv", "unsetenv",
    "system", "popen", "Popen", "spawn", "spawnl", "spawnv", "spawnve", "execl", "execle", "execlp",
    "execv", "execve", "execvp", "fork", "forkpty", "kill", "killpg", "remove", "unlink", "rmdir",
    "removedirs", "rmtree", "rename", "renames", "chmod", "chown", "symlink", "link", "mkdir",
    "makedirs", "urlopen", "urlretrieve", "Request", "create_connection", "connect", "open",
    "read_bytes", "write_bytes", "eval", "exec", "query", "attrgetter", "methodcaller", "marshal",
    "shelve", "runpy", "inspect", "gc", "sysconfig", "site", "posix", "fcntl", "mmap", "asyncio",
    "concurrent", "dill", "cloudpickle", "pty", "signal", "resource", "ssl", "ftplib", "smtplib",
    "webbrowser", "code", "codeop", "modules", "loader", "f_globals", "f_back", "gi_frame",
    "cr_frame", "tb_frame", "func_globals",
}
# what a pipeline may use of lester itself: the DSL, not the commands that run or delete
_LESTER_ALLOWED = {"read_csv", "read_parquet", "join", "union", "from_pandas", "Frame"}
_DUNDER_TEXT = re.compile(r"__\w+__")
_IO_ATTRIBUTES = {
    "read_csv", "read_table", "read_parquet", "read_json", "read_excel", "read_pickle", "read_feather",
    "read_fwf", "load", "loadtxt", "genfromtxt", "fromfile", "save", "savez", "savetxt", "tofile",
    "to_csv", "to_parquet", "to_json", "to_pickle", "to_excel", "read_text", "write_text",
}
_PATH_SUFFIX = re.compile(r"\.(csv|tsv|txt|json|jsonl|parquet|pq|npy|npz|pkl|pickle|xlsx?|feather|dat|data|gz|zip)$", re.IGNORECASE)


@dataclass(frozen=True)
class StaticIssue:
    line: int | None
    message: str
    severity: str = "error"  # "error" | "warning"
    security: bool = False  # a route to the system: such a module is never written, even as a draft

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def check_module(code: str, analysis: ScriptAnalysis | None = None,
                 functions: Sequence[str] | None = None, *, trusted: bool = False,
                 unread: Collection[str] = ()) -> list[StaticIssue]:
    """The problems of a candidate module (errors first); empty when it passes.

    ``trusted`` (a compiler's output) checks only the structure: it parses, defines the
    functions, and ``dataprep``'s defaults are the script's paths, less the ``unread`` ones
    (inputs the compiler found no output depends on, such as a test file read only to score).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [StaticIssue(exc.lineno, f"syntax error at column {exc.offset}: {exc.msg}")]
    wanted = list(functions or (analysis.pipeline_stages if analysis else ["dataprep"]))
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    issues = [StaticIssue(None, f"the module does not define {name}()") for name in wanted if name not in defined]
    if not trusted:
        script_modules = _script_modules(analysis) if analysis else set()
        issues += _check_imports(tree, script_modules)
        issues += _check_calls(tree)
        issues += _check_reach(tree)
        issues += _check_paths(tree, defined.get("dataprep"))
        issues += _check_reads(tree, defined.get("dataprep"))
    if "dataprep" in defined:
        issues += _check_dataprep(defined["dataprep"], analysis, set(unread) if trusted else set())
    issues.sort(key=lambda i: (i.severity != "error", i.line or 0))
    return issues


def errors(issues: Sequence[StaticIssue]) -> list[StaticIssue]:
    return [i for i in issues if i.severity == "error"]


def _script_modules(analysis: ScriptAnalysis) -> set[str]:
    tree = ast.parse(analysis.source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found - FORBIDDEN_MODULES


def _check_imports(tree: ast.Module, script_modules: set[str]) -> list[StaticIssue]:
    issues = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        if any(name.startswith("lester.") for name in names) or (
                isinstance(node, ast.ImportFrom) and node.module == "lester"
                and any(alias.name not in _LESTER_ALLOWED for alias in node.names)):
            issues.append(StaticIssue(node.lineno, "imports lester beyond its DSL: use `import lester as lt` "
                                      f"and {', '.join(sorted(_LESTER_ALLOWED))}", security=True))
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in _SYSTEM_ATTRIBUTES or alias.name in _FORBIDDEN_NAMES or alias.name.startswith("_"):
                    issues.append(StaticIssue(node.lineno, f"imports {alias.name} from {node.module}: a pipeline "
                                              "does no file, network or system access of its own", security=True))
        for name in names:
            root = name.split(".")[0]
            if root in FORBIDDEN_MODULES:
                issues.append(StaticIssue(node.lineno, f"imports {name}: a pipeline does no file or system "
                                          "access of its own; only the DSL reads the sources", security=True))
            elif root not in ALLOWED_MODULES and root not in script_modules:
                issues.append(StaticIssue(node.lineno, f"imports {name}, which the script does not use; "
                                          "use only lester, scikit-learn and numpy"))
    return issues


def _check_calls(tree: ast.Module) -> list[StaticIssue]:
    issues = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in _FORBIDDEN_CALLS:
            issues.append(StaticIssue(node.lineno, f"calls {func.id}(): a pipeline does no file access or "
                                      "dynamic code; read sources with lt.read_csv / lt.read_parquet", security=True))
        elif isinstance(func, ast.Attribute) and func.attr in _IO_ATTRIBUTES:
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if owner in ("lt", "lester"):
                continue
            issues.append(StaticIssue(node.lineno, f"calls .{func.attr}(): a pipeline reads its sources "
                                      "through lt.read_csv / lt.read_parquet and writes no files", security=True))
        elif isinstance(func, ast.Name) and func.id == "print":
            issues.append(StaticIssue(node.lineno, "prints: leave printing out of the pipeline", "warning"))
    return issues


def _check_reach(tree: ast.Module) -> list[StaticIssue]:
    """Every route to the system the checks can see: names, attributes, strings."""
    docstrings = _docstrings(tree)
    issues = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
            issues.append(StaticIssue(node.lineno, f"uses {node.id}: a pipeline uses no dynamic code or "
                                      "attribute access", security=True))
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if node.attr.startswith("_"):
                issues.append(StaticIssue(node.lineno, f"reaches the private attribute .{node.attr}: a pipeline "
                                          "uses public APIs only", security=True))
            elif node.attr in _SYSTEM_ATTRIBUTES:
                issues.append(StaticIssue(node.lineno, f"reaches .{node.attr}: a pipeline does no file, network "
                                          "or system access of its own, through any module", security=True))
            elif owner in ("lt", "lester") and node.attr not in _LESTER_ALLOWED:
                issues.append(StaticIssue(node.lineno, f"uses lester.{node.attr}: a pipeline uses the DSL "
                                          f"({', '.join(sorted(_LESTER_ALLOWED))}), not lester's commands", security=True))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and _DUNDER_TEXT.search(node.value) and node.value != "__main__"):
            issues.append(StaticIssue(node.lineno, f"the text {node.value[:40]!r} names a dunder attribute", security=True))
    return issues


def _docstrings(tree: ast.Module) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def _check_reads(tree: ast.Module, dataprep: ast.FunctionDef | None) -> list[StaticIssue]:
    """The DSL reads only what ``dataprep`` is given: a path built in the body, or a read in
    another function, could name any file lester can read."""
    params = {a.arg for a in dataprep.args.args + dataprep.args.kwonlyargs} if dataprep else set()
    inside = {id(n) for n in ast.walk(dataprep)} if dataprep else set()
    issues = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("read_csv", "read_parquet")
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("lt", "lester")):
            source = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg in ("path", "source", "filepath_or_buffer")), None)
            if id(node) not in inside or not (isinstance(source, ast.Name) and source.id in params):
                issues.append(StaticIssue(node.lineno, f"lt.{node.func.attr}() must read one of dataprep()'s "
                                          "source parameters, inside dataprep()", security=True))
    return issues


def _looks_like_path(value: str) -> bool:
    return bool(value) and " " not in value and len(value) < 300 and (
        bool(_PATH_SUFFIX.search(value)) or value.startswith(("/", "./", "../", "data/"))
    )


def _check_paths(tree: ast.Module, dataprep: ast.FunctionDef | None) -> list[StaticIssue]:
    allowed = set()
    if dataprep is not None:
        for default in dataprep.args.defaults + [d for d in dataprep.args.kw_defaults if d is not None]:
            allowed |= {id(n) for n in ast.walk(default)}
    docstrings = _docstrings(tree)
    issues = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in allowed
                and id(node) not in docstrings and _looks_like_path(node.value)):
            issues.append(StaticIssue(node.lineno, f"hard-coded path {node.value!r}: paths belong in "
                                      "dataprep's parameters (as their defaults) only"))
    return issues


def _check_dataprep(func: ast.FunctionDef, analysis: ScriptAnalysis | None, unread: set[str]) -> list[StaticIssue]:
    issues = []
    params = [a.arg for a in func.args.args + func.args.kwonlyargs]
    loaded = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for name in params:
        if name not in loaded:
            issues.append(StaticIssue(func.lineno, f"dataprep() never uses its source parameter {name!r}"))
    if not any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(func)):
        issues.append(StaticIssue(func.lineno, "dataprep() returns nothing; it must return a lester Frame"))
    if analysis is not None:
        defaults = {n.value for d in func.args.defaults + [k for k in func.args.kw_defaults if k is not None]
                    for n in ast.walk(d) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        for item in analysis.inputs:
            if item.path not in defaults and item.path not in unread:
                issues.append(StaticIssue(func.lineno, f"dataprep() has no source parameter with the default "
                                          f"{item.path!r} (the script reads it at {analysis.locate(item.line)}); "
                                          f"add the parameter {item.name}={item.path!r}"))
    return issues
