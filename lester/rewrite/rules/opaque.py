"""The whole script as one opaque step, when the rules cannot translate part of it.

The emitted ``dataprep`` runs the script's own code in a temporary folder (its input paths
replaced by the ``dataprep`` parameters, every other relative path seen through links to the
current folder) and returns what it wrote: ``out/prepared.csv`` with the rows of ``X.npy`` and
``y.npy`` as extra columns (``_X_0``, ..., ``_y``), which ``encode_features`` passes through and
``extract_label`` reads back. The results are exactly the script's; provenance is coarse: every
prepared row comes from the script as a whole, and features are not refitted on training rows.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from lester.rewrite.rules.expressions import code_of, literal_value
from lester.rewrite.rules.plan import identifier
from lester.rewrite.rules.program import OpaqueStep, RulesProgram, RulesUnsupported

_READERS = ("open", "read_csv", "read_parquet", "read_json", "load", "loadtxt", "genfromtxt", "read_table",
            "DictReader", "reader")

_TEMPLATE = '''"""Pipeline compiled from {filename} by lester's rules engine: the script kept as one opaque step."""

{reason}

import os
import shutil
import tempfile

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
{model_imports}
import lester as lt

# The original script, with its input paths replaced by the dataprep parameters.
_SCRIPT = {script!r}


def _run_script(inputs):
    """Run the script in a temporary folder; return its prepared rows with X and y as columns."""
    here = os.getcwd()
    folder = tempfile.mkdtemp(prefix="lester-opaque-")
    try:
        for entry in os.listdir(here):
            if entry != "out":
                os.symlink(os.path.join(here, entry), os.path.join(folder, entry))
        namespace = {{"__name__": "__main__", "__file__": os.path.join(folder, "script.py")}}
        namespace.update({{name: os.path.abspath(path) for name, path in inputs.items()}})
        os.chdir(folder)
        try:
            exec(compile(_SCRIPT, {filename!r}, "exec"), namespace)
        finally:
            os.chdir(here)
        out = os.path.join(folder, "out")
        frame = None
        if os.path.exists(os.path.join(out, "prepared.csv")):
            frame = pd.read_csv(os.path.join(out, "prepared.csv"))
        extra = {{}}
        if os.path.exists(os.path.join(out, "X.npy")):
            X = np.load(os.path.join(out, "X.npy"), allow_pickle=False)
            X = X.reshape(len(X), -1)
            for j in range(X.shape[1]):
                extra[f"_X_{{j}}"] = X[:, j]
        if os.path.exists(os.path.join(out, "y.npy")):
            extra["_y"] = np.load(os.path.join(out, "y.npy"), allow_pickle=False)
        if frame is None:
            frame = pd.DataFrame(extra)
        elif extra:
            lengths = {{len(v) for v in extra.values()}}
            if lengths != {{len(frame)}}:
                raise ValueError({filename!r} + ": X/y have a different number of rows than prepared.csv; "
                                 "they cannot ride along the prepared rows")
            frame = frame.assign(**extra)
        return frame
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def dataprep({params}) -> lt.Frame:
    return lt.from_pandas(_run_script({{{inputs}}}), name="script")


def encode_features() -> ColumnTransformer:
    return ColumnTransformer([
        ("script_features", "passthrough", make_column_selector(pattern="^_X_")),
    ], sparse_threshold=0)


def extract_label(prepared: pd.DataFrame) -> np.ndarray:
    return prepared["_y"].to_numpy()


def make_model():
    {model}
'''


class _ReplaceInputs(cst.CSTTransformer):
    def __init__(self, names: dict[str, str]):
        self.names = names

    def leave_SimpleString(self, original, updated):
        try:
            value = literal_value(original)
        except Exception:
            return updated
        if isinstance(value, str) and value in self.names:
            return cst.Name(self.names[value])
        return updated


def input_paths(module: cst.Module) -> list[str]:
    """String literals the script reads files from (first argument of open/read_csv/...)."""
    found: list[str] = []
    for call in m.findall(module, m.Call()):
        name = code_of(call.func).split(".")[-1]
        if name not in _READERS or not call.args:
            continue
        mode = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
        if name == "open" and mode is not None and any(ch in code_of(mode) for ch in "wa"):
            continue
        first = call.args[0].value
        if isinstance(first, cst.SimpleString):
            value = literal_value(first)
            if isinstance(value, str) and not value.startswith("out/") and value not in found:
                found.append(value)
    for lst in m.findall(module, m.List() | m.Tuple()):
        for el in getattr(lst, "elements", []):
            if isinstance(el.value, cst.SimpleString):
                value = literal_value(el.value)
                if isinstance(value, str) and value.startswith("data/") and value not in found:
                    found.append(value)
    return found


def opaque_program(source: str, filename: str, cause: RulesUnsupported) -> RulesProgram:
    module = cst.parse_module(source)
    paths = input_paths(module)
    names: dict[str, str] = {}
    for path in paths:
        base = identifier(path.rsplit("/", 1)[-1].split(".")[0]) or "source"
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}_{n}", n + 1
        names[path] = name
    hidden = {path: f"__lester_input_{name}" for path, name in names.items()}
    script = module.visit(_ReplaceInputs(hidden)).code
    model, model_imports = _model(module)
    total = len(source.splitlines()) or 1
    reason = f"{cause}"
    code = _TEMPLATE.format(
        filename=filename, reason="\n".join("# " + line for line in _wrap(f"Kept opaque because: {reason}").splitlines()), script=script,
        params=", ".join(f"{n}={p!r}" for p, n in names.items()),
        inputs=", ".join(f"{hidden[p]!r}: {n}" for p, n in names.items()),
        model=f"return {model}" if model else
        f"raise NotImplementedError({filename + ' builds no scikit-learn model'!r})",
        model_imports="\n".join(model_imports),
    )
    steps = [OpaqueStep(stage, (1, total), f"the whole script runs as one step: {cause.reason} "
                                            f"({cause.stage}, lines {cause.lines[0]}-{cause.lines[1]})")
             for stage in ("dataprep", "encode_features", "extract_label")]
    return RulesProgram(code=code, sources={n: p for p, n in names.items()}, opaque_steps=steps,
                        notes=[str(cause)])


def _model(module: cst.Module) -> tuple[str | None, list[str]]:
    imports = {}
    for node in module.body:
        if isinstance(node, cst.SimpleStatementLine) and isinstance(node.body[0], cst.ImportFrom):
            small = node.body[0]
            if "sklearn" in code_of(small.module) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    imports[(alias.asname.name.value if alias.asname else alias.name.value)] = code_of(node).strip()
    for assign in m.findall(module, m.Assign(value=m.Call(func=m.Name()))):
        func = assign.value.func.value
        if func in imports and func[:1].isupper() and not any(
                w in func for w in ("Encoder", "Scaler", "Transformer", "Vectorizer")):
            return code_of(assign.value), [imports[func]]
    return None, []


def _wrap(text: str, width: int = 96) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)
