"""Backward slice of a script's top-level statements from what it outputs.

A script's results are the files it writes (tables and arrays) and the model it fits last;
every statement that no result depends on (exploration left in a notebook, ``df.shape``,
``print(df.describe())``, plots, ``warnings.filterwarnings``, ``os.environ[...] = ...``, an
estimator built and never fitted, ``pickle.dump(model, f)``) is dropped before the rules read
the script, so one unknown construct there no longer decides how the rest is translated.

The slice is computed on libcst statements with the analysis's def-use facts
(:class:`~lester.rewrite.analysis.StatementNames`): a statement *defines* what it binds and
what it mutates (``df.drop(..., inplace=True)``, ``rows.append(...)``, ``d[k] = v``,
``scaler.fit(X)``, ``next(reader)``), and *uses* every name it reads. Names bound by imports are never
redefined by a mutation, so ``warnings.simplefilter`` or ``os.environ[...]`` do not pull in
the lines that use the module. A bare call whose effect cannot be known (``process(df)``)
counts as mutating its arguments: the slice may keep too much, never too little.

Example:
    >>> import libcst as cst
    >>> body = cst.parse_module("import pandas as pd\\ndf = pd.read_csv('a.csv')\\ndf.shape\\n"
    ...                         "print(df.head())\\ndf.to_csv('out.csv')\\n").body
    >>> kept, dropped = backward_slice(body)
    >>> [cst.Module([s]).code.strip() for s in dropped]
    ['df.shape', 'print(df.head())']
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from lester.rewrite.analysis import StatementNames, dotted_name, function_locals, root_name

# methods and functions that only show something
_DISPLAY = {
    "print", "display", "head", "tail", "info", "describe", "value_counts", "plot", "hist", "show",
    "shape", "dtypes", "columns", "corr", "nunique", "unique", "isnull", "isna", "sum", "mean",
    "count", "boxplot", "scatter", "savefig", "figure", "title", "xlabel", "ylabel", "legend",
    "subplots", "heatmap", "pairplot", "countplot", "sample", "memory_usage", "score", "predict",
    "predict_proba", "get_depth", "summary", "set_option", "filterwarnings", "simplefilter",
}
_WRITERS = {"to_csv", "to_parquet", "to_json", "to_excel", "to_pickle", "to_feather", "save", "savetxt",
            "savez", "savez_compressed", "tofile", "dump"}
# functions that change their first argument: next(reader) moves the reader on
_ADVANCERS = {"next", "shuffle", "heappush", "heappop"}
_TRANSFORMER_WORDS = ("encoder", "scaler", "transformer", "imputer", "vectorizer", "binarizer", "normalizer",
                      "discretizer", "pca", "selector", "selectkbest", "polynomialfeatures")


@dataclass(frozen=True)
class _Effects:
    defines: frozenset[str]
    uses: frozenset[str]
    sink: bool  # writes a table or an array
    fits: bool = False  # fits something that predicts


def backward_slice(body: Sequence[cst.CSTNode]) -> tuple[list[cst.CSTNode], list[cst.CSTNode]]:
    """The statements the script's results depend on (in order), and those dropped."""
    imported = {name for stmt in body for name in _imported(stmt)}
    functions = _function_effects(body, imported)
    effects = _through_open_files([_effects(stmt, imported, functions) for stmt in body])
    fits = [i for i, e in enumerate(effects) if e.fits]
    final_fit = fits[-1] if fits else None
    needed: set[str] = set()
    keep = [False] * len(body)
    for index in range(len(body) - 1, -1, -1):
        stmt, effect = body[index], effects[index]
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) or _imported(stmt) or _is_docstring(stmt):
            keep[index] = True  # helpers and imports: the reader copies what the pipeline uses
            continue
        if effect.sink or index == final_fit or effect.defines & needed:
            keep[index] = True
            needed |= effect.uses
    kept = [s for s, k in zip(body, keep) if k]
    dropped = [s for s, k in zip(body, keep) if not k]
    return kept, dropped


def _through_open_files(effects: list[_Effects]) -> list[_Effects]:
    """Writing to a file opened earlier (``out = open(..., "w")`` ... ``out.write(...)``,
    a ``csv.writer(out)``'s rows) writes a result as much as ``to_csv`` does."""
    files: set[str] = set()
    result = []
    for effect in effects:
        if effect.defines & files and not effect.sink:
            effect = _Effects(effect.defines, effect.uses, True, effect.fits)
        elif effect.uses & files:
            files |= effect.defines  # writer = csv.writer(out)
        if effect.sink:
            files |= effect.defines
        result.append(effect)
    return result


def _function_effects(body: Sequence[cst.CSTNode], imported: set[str]) -> dict[str, _Effects]:
    """What calling each function of the script does to module-level names, and whether it
    writes results or fits a model (through the functions it calls too)."""
    functions = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
    module_names = {n for s in body if not isinstance(s, cst.FunctionDef) for n in _visit(s, imported).defines}
    found: dict[str, _Effects] = {}
    for name, function in functions.items():
        effect = _visit(function.body, imported)
        local = function_locals(function)
        found[name] = _Effects((effect.defines - local) & module_names, effect.uses - local, effect.sink, effect.fits)
    for _ in range(len(functions)):  # what a function's callees do, it does
        changed = False
        for name, effect in list(found.items()):
            callees = effect.uses & set(found) - {name}
            merged = _Effects(effect.defines.union(*(found[c].defines for c in callees)),
                              effect.uses.union(*(found[c].uses for c in callees)),
                              effect.sink or any(found[c].sink for c in callees),
                              effect.fits or any(found[c].fits for c in callees))
            if merged != effect:
                found[name], changed = merged, True
        if not changed:
            break
    return found


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(m.SimpleString() | m.ConcatenatedString())]))


def _imported(stmt: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    names.add(alias.asname.name.value if alias.asname else dotted_name(alias.name).split(".")[0])
    return names


class _Names(StatementNames):
    """The analysis's def-use facts, plus what the slice needs: whether the statement writes a
    result or fits a model, and the mutations of a reader or file the analysis does not count."""

    mutators = StatementNames.mutators | {"fit_predict", "writelines", "writeheader", "seek", "read",
                                          "readline", "readlines", "set_index", "reset_index", "close"}

    def __init__(self) -> None:
        super().__init__()
        self.sink = False
        self.fits = False
        self.opens_binary: list[bool] = []  # files opened for writing: binary or not
        self.saves_a_model = False  # pickle.dump / joblib.dump: lester stores the model itself

    def writes_files(self) -> bool:
        """Opens a file for writing, other than a binary file a model is pickled into."""
        return bool(self.opens_binary) and not (self.saves_a_model and all(self.opens_binary))

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if isinstance(func, cst.Attribute) and any(a.keyword is not None and a.keyword.value == "inplace"
                                                   for a in node.args):
            self._mutate(func.value)
        if name in _ADVANCERS and node.args:
            self._mutate(node.args[0].value)
        if name in ("fit", "fit_predict") and isinstance(func, cst.Attribute) and not _transformer(func.value):
            self.fits = True
        pickles = name == "dump" and isinstance(func, cst.Attribute) and root_name(func) in _PICKLERS
        if name in _WRITERS and not pickles and _writes_data(node) or name == "seed":
            self.sink = True
        if name == "open" and _opens_for_writing(node):
            self.opens_binary.append("b" in _mode(node))
        self.saves_a_model = self.saves_a_model or pickles

    def visit_Del(self, node: cst.Del) -> bool:
        self._targets(node.target)
        return False

    def _mutate(self, node: cst.BaseExpression) -> None:
        root = root_name(node)
        if root:
            self.mutates.add(root)


def _visit(node: cst.CSTNode, imported: set[str]) -> _Effects:
    names = _Names()
    node.visit(names)
    # a module's attributes changed in place (os.environ[...] = ..., warnings.simplefilter)
    # define nothing the slice follows
    defines = names.rebinds | (names.mutates - imported)
    uses = names.uses - (names.comprehension_locals - names.rebinds)
    return _Effects(frozenset(defines), frozenset(uses), names.sink or names.writes_files(), names.fits)


def _effects(stmt: cst.CSTNode, imported: set[str], functions: dict[str, _Effects]) -> _Effects:
    effect = _visit(stmt, imported)
    defines, uses = set(effect.defines), set(effect.uses)
    sink, fits = effect.sink, effect.fits
    # a bare call we know nothing about may change what it is given
    for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else []:
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            defines |= _opaque_call_effects(small.value, imported)
    for called in effect.uses & set(functions):
        callee = functions[called]
        defines |= callee.defines
        uses |= callee.uses  # the constants and globals the function reads
        sink, fits = sink or callee.sink, fits or callee.fits
    return _Effects(frozenset(defines), frozenset(uses - {"print"}), sink, fits)


def _transformer(receiver: cst.BaseExpression) -> bool:
    """``scaler.fit(X)``, ``StandardScaler().fit(X)``: fitting a transformer fits no model."""
    text = dotted_name(receiver.func if isinstance(receiver, cst.Call) else receiver).lower()
    return any(word in text for word in _TRANSFORMER_WORDS)


def _opaque_call_effects(call: cst.Call, imported: set[str]) -> set[str]:
    """What a bare call statement may change besides what the visitor saw.

    A method that is no known mutator (``df.groupby("a").mean().sort_values("b")``,
    ``df.Sex.value_counts()``) changes nothing: pandas and numpy methods return new values
    unless they are given ``inplace=True``. A call of a function of the script or of some
    imported function may change its arguments.
    """
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    if isinstance(func, cst.Attribute) or name in _DISPLAY or name in _WRITERS or hasattr(builtins, name):
        return set()
    touched = {root_name(a.value) for a in call.args}
    return {t for t in touched if t and t not in imported}


def _writes_data(call: cst.Call) -> bool:
    """A writer call whose target looks like a table or an array (a pickled model is not)."""
    texts = [a.value for a in call.args if isinstance(a.value, (cst.SimpleString, cst.FormattedString,
                                                                 cst.ConcatenatedString))]
    for node in texts:
        value = node.evaluated_value if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)) else \
            "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
        if isinstance(value, str) and value.lower().endswith((".pkl", ".pickle", ".joblib", ".sav", ".png",
                                                              ".jpg", ".pdf", ".svg")):
            return False
    name = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
    return name != "dump" or bool(texts) and not any(isinstance(a.value, cst.Name) for a in call.args[:1])


_PICKLERS = {"pickle", "joblib", "dill", "cloudpickle"}


def _mode(call: cst.Call) -> str:
    mode = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else next(
        (a.value for a in call.args if a.keyword is not None and a.keyword.value == "mode"), None)
    return str(mode.evaluated_value) if isinstance(mode, cst.SimpleString) else ""


def _opens_for_writing(call: cst.Call) -> bool:
    if not any(c in _mode(call) for c in "wax"):
        return False
    first = call.args[0].value if call.args else None
    if isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
        return not first.evaluated_value.lower().endswith((".pkl", ".pickle", ".joblib", ".log", ".png"))
    return True
