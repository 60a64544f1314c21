"""Outputs captured from memory: what a script fits its model on, whatever it saves.

Most scripts never write X and y; they fit a model on them, often after a
``train_test_split`` and inside a scikit-learn ``Pipeline``. To validate a rewrite of such a
script, the sandbox runs it *instrumented*: its source is parsed and every ``<obj>.fit(...)``,
``.fit_transform(...)``, ``.fit_predict(...)``, ``.transform(...)`` and ``train_test_split(...)``
call goes through a :class:`Recorder` that keeps the arguments and results (calls in the
script's own helper functions included, since they are in the same source). Reading the
recording back gives the outputs as ``lester run`` would compute them:

* the **final estimator** is the last fitted object that predicts; a ``Pipeline``'s last
  step is the model and its other steps are the feature encoder;
* **X and y over all rows**: when the fit's arguments are the training part of a split, the
  split's inputs; when X went through encoders the script fitted on the training part, those
  encoders refitted on all rows (a rewrite's ``encode_features`` is fitted the same way);
* the **prepared table**: the feature frame X came from, with y as a column when y is a
  named Series;
* **files read**: every path the script opened (Python's ``open`` audit event), found or not,
  so a path built at run time can be named and sampled.

The outputs a script *wrote* win over those it computed: :func:`written_outputs` says which
written file holds the prepared table, X and y.

This module is imported by the sandbox runner by its path, so it must not import lester. It
runs the user's code inside the sandbox, and in the opaque stage of a rewrite
(``rules/opaque.py``), which obtains the script's outputs the same way (:func:`run_script`).
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass, field
from typing import Any

# how a prepared table captured from memory is described: the frame the model was fitted on,
# after whatever the script itself encoded in it (pd.get_dummies)
FEATURE_TABLE = "the feature table the model was fitted on"

FIT_METHODS = ("fit", "fit_transform", "fit_predict")
RECORDER = "__lester_recorder__"
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".json", ".jsonl", ".pkl")


@dataclass
class _Fit:
    obj: Any
    X: Any
    y: Any


@dataclass
class Recorder:
    """The calls an instrumented script made, in order."""

    fits: list[_Fit] = field(default_factory=list)
    # one entry per split: (its array arguments, the parts it returned)
    splits: list[tuple[tuple, list]] = field(default_factory=list)
    # id(result of obj.transform(X) / obj.fit_transform(X)) -> (obj, X)
    made_by: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    keep: list[Any] = field(default_factory=list)  # ids stay unique while their objects live
    opened: list[str] = field(default_factory=list)

    def fit(self, obj: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(obj, method)(*args, **kwargs)
        X = args[0] if args else kwargs.get("X", kwargs.get("x"))
        y = args[1] if len(args) > 1 else kwargs.get("y")
        self.fits.append(_Fit(obj, X, y))
        if method == "fit_transform":
            self._made(result, obj, X)
        return result

    def transform(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        result = obj.transform(*args, **kwargs)
        if args and _is_estimator(obj):
            self._made(result, obj, args[0])
        return result

    def split(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        parts = function(*args, **kwargs)
        if isinstance(parts, (list, tuple)):
            self.splits.append((args, list(parts)))
            self.keep.append(parts)
        return parts

    def _made(self, result: Any, obj: Any, X: Any) -> None:
        self.made_by[id(result)] = (obj, X)
        self.keep.append(result)

    def audit(self, event: str, args: tuple) -> None:
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            mode = args[1] if len(args) > 1 else "r"
            if isinstance(mode, str) and not any(c in mode for c in "wax+"):
                self.opened.append(os.fsdecode(args[0]))

    # -- reading the recording back -------------------------------------------------------
    def final_fit(self) -> _Fit | None:
        """The last fit of an object that predicts (a Pipeline ending in a predictor counts)."""
        for record in reversed(self.fits):
            if _predicts(_last_step(record.obj)) and record.X is not None:
                return record
        return None

    def outputs(self) -> dict[str, Any]:
        """``X``, ``y``, ``model`` (the fitted estimator), ``prepared`` and how each was found."""
        record = self.final_fit()
        if record is None:
            return {}
        found: dict[str, str] = {}
        out: dict[str, Any] = {"found": found}
        model = _last_step(record.obj)
        out["model"] = model
        found["model"] = f"the fitted {type(model).__name__}"
        X_all, how = self._all_rows(record.X)
        y_all, y_how = self._all_rows(record.y) if record.y is not None else (None, "")
        encoder = _encoder_steps(record.obj)
        frame = X_all  # the table the features come from
        if encoder is not None and X_all is not None:
            X_all = _refit(encoder, X_all, y_all)
            how += f", through the pipeline's {type(encoder).__name__} refitted on them"
        if X_all is not None:
            out["X"] = X_all
            found["X"] = f"the fit of {type(record.obj).__name__}: {how}"
        if y_all is not None:
            out["y"] = y_all
            found["y"] = f"the fit of {type(record.obj).__name__}: {y_how}"
        if _is_frame(frame):
            if _is_series(y_all) and y_all.name is not None and y_all.name not in frame.columns and len(y_all) == len(frame):
                frame = frame.assign(**{str(y_all.name): y_all.to_numpy()})
            out["prepared"] = frame
            found["prepared"] = FEATURE_TABLE
        return out

    def _all_rows(self, value: Any) -> tuple[Any, str]:
        """``value`` over all rows when it is the training part of a split (through encoders
        fitted on it), else ``value``; and a description of where it came from."""
        resolved = self._before_split(value, depth=0)
        if resolved is None:
            return value, "its arguments"
        return resolved, "all rows given to train_test_split"

    def _before_split(self, value: Any, depth: int) -> Any:
        if depth > 8 or value is None:
            return None
        for arrays, parts in self.splits:
            for position, part in enumerate(parts):
                if part is value and position // 2 < len(arrays):
                    return arrays[position // 2]
                whole = arrays[position // 2] if position // 2 < len(arrays) else None
                if _column_of(value, part) and _is_frame(whole):
                    return whole[value.name]  # train["label"]: the label column of all rows
        made = self.made_by.get(id(value))
        if made is not None:
            encoder, source = made
            whole = self._before_split(source, depth + 1)
            if whole is not None:
                return _refit(encoder, whole, None)
        return None


def instrument(source: str, filename: str) -> Any:
    """The script compiled with its fit, transform and split calls routed to the recorder."""
    tree = ast.parse(source, filename=filename)
    tree = _Route().visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


class _Route(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        recorder = ast.Name(RECORDER, ast.Load())
        if isinstance(func, ast.Attribute) and func.attr in FIT_METHODS + ("transform",):
            method = "fit" if func.attr in FIT_METHODS else "transform"
            extra = [ast.Constant(func.attr)] if method == "fit" else []
            call = ast.Call(ast.Attribute(recorder, method, ast.Load()), [func.value, *extra, *node.args],
                            node.keywords)
            return ast.copy_location(call, node)
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "train_test_split":
            call = ast.Call(ast.Attribute(recorder, "split", ast.Load()), [func, *node.args], node.keywords)
            return ast.copy_location(call, node)
        return node


def _is_estimator(obj: Any) -> bool:
    return hasattr(obj, "get_params") and hasattr(obj, "fit")


def _predicts(obj: Any) -> bool:
    return _is_estimator(obj) and (hasattr(obj, "predict") or hasattr(obj, "predict_proba"))


def _last_step(obj: Any) -> Any:
    steps = getattr(obj, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], tuple):
        return steps[-1][1]
    return obj


def _encoder_steps(obj: Any) -> Any:
    """A Pipeline's steps before its estimator, as one Pipeline (None when there are none)."""
    steps = getattr(obj, "steps", None)
    if not (isinstance(steps, list) and len(steps) > 1):
        return None
    from sklearn.pipeline import Pipeline

    head = [s for s in steps[:-1] if s[1] not in (None, "passthrough")]
    return Pipeline([(name, step) for name, step in head]) if head else None


def _refit(encoder: Any, X: Any, y: Any) -> Any:
    from sklearn.base import clone

    fresh = clone(encoder)
    return fresh.fit_transform(X, y) if y is not None else fresh.fit_transform(X)


def _column_of(value: Any, part: Any) -> bool:
    """``value`` is one column of the DataFrame ``part``, as it is (same rows, same values)."""
    if not (_is_series(value) and _is_frame(part) and value.name in part.columns):
        return False
    column = part[value.name]
    return column.index.equals(value.index) and column.equals(value)


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


def _is_series(value: Any) -> bool:
    return type(value).__name__ == "Series" and hasattr(value, "name")


def prepare_main(script: str) -> tuple[Any, dict, Recorder]:
    """The instrumented code of ``script``, the globals to run it in as ``__main__`` (already
    registered in ``sys.modules``, so what it pickles is found) and its recorder."""
    import types

    recorder = Recorder()
    sys.addaudithook(recorder.audit)
    with open(script, encoding="utf-8") as handle:
        code = instrument(handle.read(), script)
    module = types.ModuleType("__main__")
    module.__file__ = os.path.abspath(script)
    module.__dict__[RECORDER] = recorder
    sys.modules["__main__"] = module
    return code, module.__dict__, recorder


# -- what a script wrote ------------------------------------------------------------------
def role_of(path: Any) -> str | None:
    """``X`` or ``y`` when a written file's name says it holds one, else None.

    >>> role_of("out/X.npy"), role_of("labels.csv"), role_of("out/prepared.csv")
    ('X', 'y', None)
    """
    stem = os.path.splitext(os.path.basename(os.fspath(path)))[0].lower()
    if stem in ("x", "x_all", "features", "x_full"):
        return "X"
    if stem in ("y", "y_all", "labels", "label", "target", "y_full"):
        return "y"
    return None


def written_outputs(written: list[Any]) -> dict[str, list[str]]:
    """The written files that may hold each output, best first: ``prepared`` (tables, those
    named like it first), ``X`` and ``y`` (by :func:`role_of`).

    >>> written_outputs(["out/summary.csv", "out/prepared.csv", "out/X.npy"])
    {'prepared': ['out/prepared.csv'], 'X': ['out/X.npy']}
    """
    paths = [os.fspath(p) for p in written]
    tables = [p for p in paths if os.path.splitext(p)[1].lower() in TABLE_SUFFIXES and role_of(p) is None]
    named = [p for p in tables if "prepared" in os.path.splitext(os.path.basename(p))[0].lower()]
    found = {"prepared": (named or tables)[:1]}
    for role in ("X", "y"):
        found[role] = [p for p in paths if role_of(p) == role][:1]
    return {role: files for role, files in found.items() if files}


def read_table(path: Any) -> Any:
    """A written table as a DataFrame (a pickle is unpickled: call this only where the
    script's own code may run)."""
    import pandas as pd

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix == ".pkl":
        return pd.read_pickle(path)
    if suffix in (".json", ".jsonl"):
        return pd.read_json(path, lines=suffix == ".jsonl")
    return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")


def read_array(path: Any) -> Any:
    """A written array (``.npy``, ``.npz``, a sparse ``.npz``, or a headerless csv)."""
    import numpy as np
    import pandas as pd

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=True)
    if suffix == ".npz":
        with np.load(path, allow_pickle=True) as archive:
            if {"data", "indices", "indptr", "shape"} <= set(archive.files):
                import scipy.sparse

                return scipy.sparse.load_npz(path).toarray()
            return archive[archive.files[0]]
    return pd.read_csv(path, header=None).to_numpy()


def dense(value: Any) -> Any:
    """A matrix or vector as a numpy array: sparse densified, a frame of numbers and booleans
    (get_dummies) as floats, as a model sees it."""
    import numpy as np

    if hasattr(value, "toarray"):
        value = value.toarray()
    if hasattr(value, "to_numpy"):
        try:
            return value.to_numpy(dtype=float)
        except (TypeError, ValueError):
            value = value.to_numpy()
    return np.asarray(value)


def _files_under(folder: str) -> dict[str, tuple[int, int]]:
    state = {}
    for root, _, files in os.walk(folder):  # links (to the caller's folder) are not followed
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                info = os.stat(path)
                state[os.path.relpath(path, folder)] = (info.st_size, info.st_mtime_ns)
    return state


def run_script(source: str, filename: str, folder: str, names: dict[str, Any]) -> dict[str, Any]:
    """Run a script instrumented as ``__main__`` in ``folder`` (with ``names`` defined) and
    return its ``prepared`` table, ``X`` and ``y`` as the sandbox captures an original's:
    the files it wrote in ``folder`` first, else the arguments of its final fit; and ``model``,
    the fitted final estimator.

    Example:
        >>> import tempfile
        >>> script = "from sklearn.linear_model import LinearRegression\\n" \\
        ...          "LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])"
        >>> outputs = run_script(script, "fit.py", tempfile.mkdtemp(), {})
        >>> outputs["X"].tolist(), outputs["y"].tolist()
        ([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    """
    import numpy as np

    recorder = Recorder()
    namespace = {"__name__": "__main__", "__file__": os.path.join(folder, os.path.basename(filename)),
                 RECORDER: recorder, **names}
    before = _files_under(folder)
    here, argv = os.getcwd(), sys.argv
    os.chdir(folder)
    sys.argv = [filename]  # the script sees none of its caller's arguments
    try:
        exec(instrument(source, filename), namespace)  # noqa: S102 - the user's own script
    finally:
        os.chdir(here)
        sys.argv = argv
    after = _files_under(folder)
    written = sorted(p for p, state in after.items() if before.get(p) != state)
    fitted = recorder.outputs()
    outputs: dict[str, Any] = {}
    for role, files in written_outputs(written).items():
        path = os.path.join(folder, files[0])
        outputs[role] = read_table(path) if role == "prepared" else read_array(path)
    for role in ("prepared", "X", "y", "model"):
        if role not in outputs and role in fitted:
            outputs[role] = fitted[role]
    if "prepared" in outputs:
        outputs["prepared"] = outputs["prepared"].reset_index(drop=True)
    if "X" in outputs:
        X = dense(outputs["X"])
        outputs["X"] = X.reshape(len(X), -1)
    if "y" in outputs:  # labels keep their type: the model is fitted on them as the script's was
        y = outputs["y"]
        outputs["y"] = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y).ravel()
    return outputs
