"""Static checks of a candidate pipeline module, before anything runs.

A candidate must parse, define the pipeline functions the script needs, do no I/O of its
own (only the DSL reads the sources), import only the DSL, scikit-learn, numpy and what the
script itself imports (minus I/O and system modules), and keep paths out of function bodies:
the sources are ``dataprep``'s parameters, with the script's paths as defaults.

Example:
    >>> issues = check_module(code, analysis)               # doctest: +SKIP
    >>> [str(i) for i in issues if i.severity == "error"]   # doctest: +SKIP
    ['line 12: dataprep() opens a file with open(); read sources with lt.read_csv']
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
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

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def check_module(code: str, analysis: ScriptAnalysis | None = None,
                 functions: Sequence[str] | None = None, *, trusted: bool = False) -> list[StaticIssue]:
    """The problems of a candidate module (errors first); empty when it passes.

    ``trusted`` (a compiler's output) checks only the structure: it parses, defines the
    functions, and ``dataprep``'s defaults are the script's paths.
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
        issues += _check_paths(tree, defined.get("dataprep"))
    if "dataprep" in defined:
        issues += _check_dataprep(defined["dataprep"], analysis)
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
        for name in names:
            root = name.split(".")[0]
            if root in FORBIDDEN_MODULES:
                issues.append(StaticIssue(node.lineno, f"imports {name}: a pipeline does no file or system "
                                          "access of its own; only the DSL reads the sources"))
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
                                      "dynamic code; read sources with lt.read_csv / lt.read_parquet"))
        elif isinstance(func, ast.Attribute) and func.attr in _IO_ATTRIBUTES:
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if owner in ("lt", "lester"):
                continue
            issues.append(StaticIssue(node.lineno, f"calls .{func.attr}(): a pipeline reads its sources "
                                      "through lt.read_csv / lt.read_parquet and writes no files"))
        elif isinstance(func, ast.Name) and func.id == "print":
            issues.append(StaticIssue(node.lineno, "prints: leave printing out of the pipeline", "warning"))
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
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    issues = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in allowed
                and id(node) not in docstrings and _looks_like_path(node.value)):
            issues.append(StaticIssue(node.lineno, f"hard-coded path {node.value!r}: paths belong in "
                                      "dataprep's parameters (as their defaults) only"))
    return issues


def _check_dataprep(func: ast.FunctionDef, analysis: ScriptAnalysis | None) -> list[StaticIssue]:
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
            if item.path not in defaults:
                issues.append(StaticIssue(func.lineno, f"dataprep() has no source parameter with the default "
                                          f"{item.path!r} (the script reads it at {analysis.locate(item.line)}); "
                                          f"add the parameter {item.name}={item.path!r}"))
    return issues
