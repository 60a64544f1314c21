"""The whole script as one opaque step, when the rules cannot translate part of it.

The emitted ``dataprep`` runs the script's own code, instrumented, in a temporary folder (its
input paths replaced by the ``dataprep`` parameters, every other relative path seen through
links to the current folder) and returns its outputs obtained as the sandbox captures the
original's (:func:`lester.rewrite.capture.run_script`): the prepared table, X and y it wrote,
else those it computed (the arguments of its final estimator's fit, over all rows of its
split, and the feature table they came from). X and y ride along the prepared rows as extra
columns (``_X_0``, ..., ``_y``), which ``encode_features`` passes through and
``extract_label`` reads back; a script that fits nothing is a data preparation pipeline. The
results are exactly the script's; provenance is coarse: every prepared row comes from the
script as a whole (its status is ``reproduced``, never ``valid``), and features are not
refitted on training rows.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from lester.rewrite.capture import FIT_METHODS, role_of
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
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector

import lester as lt
from lester.rewrite.capture import run_script

# The original script, with its input paths replaced by the dataprep parameters.
_SCRIPT = {script!r}
_DEFAULT_INPUTS = {{{defaults}}}
# the estimator the script fitted last, from the latest run of the script in this process
_FITTED = {{}}


def _run_script(inputs):
    """Run the script in a temporary folder; return its prepared rows with X and y as columns."""
    here = os.getcwd()
    folder = tempfile.mkdtemp(prefix="lester-opaque-")
    try:
        for entry in os.listdir(here):
            if entry != "out":
                os.symlink(os.path.join(here, entry), os.path.join(folder, entry))
        names = {{name: os.path.abspath(path) for name, path in inputs.items()}}
        outputs = run_script(_SCRIPT, {filename!r}, folder, names)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if "model" in outputs:
        _FITTED["model"] = outputs["model"]
    extra = {{}}
    if "X" in outputs:
        extra.update({{f"_X_{{j}}": outputs["X"][:, j] for j in range(outputs["X"].shape[1])}})
    if "y" in outputs:
        extra["_y"] = outputs["y"]
    frame = outputs.get("prepared")
    if frame is None and not extra:
        raise ValueError({filename!r} + ": the script wrote no table and fitted no model: nothing to prepare")
    if frame is None:
        return pd.DataFrame(extra)
    if extra and {{len(v) for v in extra.values()}} != {{len(frame)}}:
        raise ValueError({filename!r} + f": X/y have {{len(next(iter(extra.values())))}} rows and the "
                         f"prepared table {{len(frame)}}: they cannot ride along the prepared rows")
    return frame.assign(**extra)


def dataprep({params}) -> lt.Frame:
    return lt.from_pandas(_run_script({{{inputs}}}), name="script")


{model_stages}
'''

_MODEL_STAGES = '''def encode_features() -> ColumnTransformer:
    return ColumnTransformer([
        ("script_features", "passthrough", make_column_selector(pattern="^_X_")),
    ], sparse_threshold=0)


def extract_label(prepared: pd.DataFrame) -> np.ndarray:
    if "_y" not in prepared.columns:
        raise NotImplementedError({filename!r} + " gave no labels in this run: the pipeline has none")
    return prepared["_y"].to_numpy()


def make_model(**params):
    """The script's final estimator, unfitted, with ``params`` over its own."""
    if "model" not in _FITTED:
        # dataprep's rows came from lester's cache: run the script again for its estimator
        _run_script(_DEFAULT_INPUTS)
    if "model" not in _FITTED:
        raise NotImplementedError({filename!r} + " fitted no estimator in this run: the pipeline has none")
    return clone(_FITTED["model"]).set_params(**params)
'''

_PREP_ONLY_STAGES = '''def encode_features() -> ColumnTransformer:
    raise NotImplementedError({filename!r} + " computes no features: a data preparation pipeline")


def extract_label(prepared: pd.DataFrame) -> np.ndarray:
    raise NotImplementedError({filename!r} + " has no labels: a data preparation pipeline")


def make_model():
    raise NotImplementedError({filename!r} + " fits no model: a data preparation pipeline")
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
    total = len(source.splitlines()) or 1
    reason = f"{cause}"
    fits = _fits_or_saves_a_model_input(module)
    stages = _MODEL_STAGES if fits else _PREP_ONLY_STAGES
    code = _TEMPLATE.format(
        filename=filename, reason="\n".join("# " + line for line in _wrap(f"Kept opaque because: {reason}").splitlines()), script=script,
        params=", ".join(f"{n}={p!r}" for p, n in names.items()),
        inputs=", ".join(f"{hidden[p]!r}: {n}" for p, n in names.items()),
        defaults=", ".join(f"{hidden[p]!r}: {p!r}" for p in names),
        model_stages=stages.format(filename=filename),
    )
    steps = [OpaqueStep(stage, (1, total), f"the whole script runs as one step: {cause.reason} "
                                            f"({cause.stage}, lines {cause.lines[0]}-{cause.lines[1]})")
             for stage in (("dataprep", "encode_features", "extract_label") if fits else ("dataprep",))]
    return RulesProgram(code=code, sources={n: p for p, n in names.items()}, opaque_steps=steps,
                        notes=[str(cause)])


def _fits_or_saves_a_model_input(module: cst.Module) -> bool:
    """Whether the script fits something or writes X or y: else it only prepares data, and
    its module has no feature, label or model stage (an encoder over no column cannot run)."""
    if m.findall(module, m.Call(func=m.Attribute(attr=m.OneOf(*(m.Name(n) for n in FIT_METHODS))))):
        return True
    for string in m.findall(module, m.SimpleString()):
        try:
            value = literal_value(string)
        except Exception:  # noqa: BLE001, S112 - a string we cannot read names no file
            continue
        if isinstance(value, str) and role_of(value) is not None and "." in value:
            return True
    return False


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
