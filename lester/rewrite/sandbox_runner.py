"""The program a sandbox runs (``python .../sandbox_runner.py``): not for import.

``original SCRIPT CAPTURE ROLES_JSON LIMITS_JSON`` runs a script as ``__main__``, keeps its
final variables named in ROLES_JSON (prepared data, X, y, model) and reads the tables and
arrays it wrote. ``candidate MODULE CAPTURE {} LIMITS_JSON`` runs a pipeline module on its
default sources exactly as ``lester run`` does (:func:`run_candidate`). Either runs confined (``confinement.py``, with LIMITS_JSON) in the
current folder, which is ``<run>/box/work``.

What a run produced goes into CAPTURE in formats that cannot carry code, since the lester
process reads them outside the sandbox: ``prepared.parquet``, ``X.npy`` and ``y.npy`` (no
pickled objects), ``model.json`` and ``result.json`` (status, the failing stage, the error
and the lines of the user's code in its traceback, the files written, where each output came
from).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path

_SKIPPED = (".lester-capture", "__pycache__")


def _frame(value):
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value.reset_index(drop=True)
    if hasattr(value, "to_pandas") and hasattr(value, "columns"):
        return value.to_pandas()
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return pd.DataFrame(value)
    return None


def _save_frame(frame, path: Path) -> None:
    """Parquet, with object columns Arrow cannot type (mixed values) as text on both sides."""
    import pandas as pd
    import pyarrow as pa

    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for name in frame.columns:
        column = frame[name]
        if isinstance(column, pd.Series) and column.dtype == object:
            try:
                pa.array(column, from_pandas=True)
            except (pa.ArrowException, TypeError, ValueError):
                frame[name] = column.map(lambda v: None if pd.isna(v) else str(v))
    frame.to_parquet(path, index=False)


def _save_array(value, path: Path, role: str) -> bool:
    import numpy as np

    array = _sibling("capture").dense(value)
    if array.dtype == object:
        if role == "X":
            return False  # an object feature matrix is no model input; not kept
        array = array.astype(str)
    np.save(path, array, allow_pickle=False)
    return True


def _model_json(model) -> dict:
    params = {}
    if hasattr(model, "get_params"):
        for key, value in model.get_params(deep=False).items():
            params[key] = value if isinstance(value, (int, float, str, bool, type(None))) else repr(value)
    return {"class": type(model).__name__, "module": type(model).__module__, "params": params}


def _error(exc: BaseException, focus: str, stage: str | None = None) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f"{Path(f.filename).name}, line {f.lineno}, in {f.name}: {f.line}" for f in frames
            if Path(f.filename).resolve() == Path(focus).resolve()]
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "stage": stage,
        "where": mine[-3:],
        "line": next((f.lineno for f in reversed(frames) if Path(f.filename).resolve() == Path(focus).resolve()), None),
    }


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    state = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and not path.is_symlink() and relative.parts[0] not in _SKIPPED:
            stat = path.stat()
            state[str(relative)] = (stat.st_size, stat.st_mtime_ns)
    return state


def run_original(script: str, capture: Path, roles: dict) -> dict:
    before = _snapshot(Path.cwd())
    sys.argv = [script]  # the script sees no argument of lester's
    sys.path.insert(0, os.getcwd())
    namespace: dict = {}
    result: dict = {"status": "ok", "variables": {}, "found": {}}
    code, namespace, recorder = _sibling("capture").prepare_main(script)
    try:
        exec(code, namespace)  # noqa: S102 - the user's script, confined
    except SystemExit as exc:
        if exc.code not in (None, 0):
            result.update(status="error", error={"type": "SystemExit", "message": f"exit status {exc.code}", "where": [], "line": None})
    except MemoryError as exc:
        result.update(status="error", error=_error(exc, script))
        result["error"]["message"] = (f"{exc or 'out of memory'} (the sandbox limits the address space of each "
                                      "process: set LESTER_SANDBOX_MEMORY, e.g. 8G, for more)")
    except BaseException as exc:  # noqa: BLE001 - report whatever the user's script raised
        result.update(status="error", error=_error(exc, script))
    _keep(namespace, roles, capture, result)
    result["name_lists"] = _name_lists(namespace)
    _keep_fitted(recorder, capture, result)
    result["read"] = _reads(recorder.opened)
    namespace = recorder = None
    _flush_files()
    after = _snapshot(Path.cwd())
    result["files"] = {path: size for path, (size, mtime) in sorted(after.items()) if before.get(path) != (size, mtime)}
    _keep_written(result, capture)  # what the script wrote wins over its variables
    return result


def _flush_files() -> None:
    """Flush what the script left open (``csv.writer(open(...))``), as its exit would have."""
    import gc
    import io

    gc.collect()
    for thing in gc.get_objects():
        if isinstance(thing, io.IOBase):
            try:
                if not thing.closed and thing.writable():
                    thing.flush()
            except (OSError, ValueError):
                pass


def _keep_written(result: dict, capture: Path) -> None:
    """The tables and arrays the script wrote: the outputs to compare, over its variables (an
    unreadable file leaves the variable's value, if any)."""
    capturing = _sibling("capture")
    for role, paths in capturing.written_outputs(list(result["files"])).items():
        path = paths[0]
        try:
            if role == "prepared":
                # a pickled table is unpickled here, inside the sandbox, never by lester itself
                _save_frame(capturing.read_table(path), capture / "prepared.parquet")
            elif not _save_array(capturing.read_array(path), capture / f"{role}.npy", role):
                continue
            result["found"][role] = f"file {path}"
        except Exception as exc:  # noqa: BLE001 - an unreadable output is reported, not fatal
            result["found"].setdefault(role, f"file {path} (unreadable: {exc})")


def _save_role(role: str, value, capture: Path) -> bool:
    """Write one output in a format that carries no code; False when the value is no such output."""
    if role == "prepared":
        frame = _frame(value)
        if frame is None:
            return False
        _save_frame(frame, capture / "prepared.parquet")
        return True
    if role in ("X", "y"):
        return _save_array(value, capture / f"{role}.npy", role)
    if role == "model" and hasattr(value, "get_params"):
        (capture / "model.json").write_text(json.dumps(_model_json(value)))
        return True
    return False


def _keep(namespace: dict, roles: dict, capture: Path, result: dict) -> None:
    for role, name in roles.items():
        if name not in namespace:
            continue
        try:
            if _save_role(role, namespace[name], capture):
                result["variables"][role] = name
                result["found"][role] = f"variable {name}"
        except Exception as exc:  # noqa: BLE001 - a value we cannot keep is reported, not fatal
            result.setdefault("not_kept", {})[role] = f"{name}: {type(exc).__name__}: {exc}"


def _name_lists(namespace: dict) -> dict[str, list[str]]:
    """The script's module-level lists of names as they ended (``cat_cols =
    df.select_dtypes("object").columns.tolist()``): column lists computed from the data, which
    the rules engine can read as constants. Lists, tuples and pandas Index objects of short
    strings only; the rules engine uses one only where every item names a column of the frame
    it is read with, so values of the data's rows never become code."""
    found = {}
    for name, value in list(namespace.items()):
        if name.startswith("_") or type(value).__name__ not in ("list", "tuple", "Index"):
            continue
        try:
            items = list(value)
        except Exception:  # noqa: BLE001 - an object we cannot list is not a list of names
            continue
        if 0 < len(items) <= 500 and all(isinstance(i, str) and len(i) <= 200 for i in items):
            found[name] = items
    return found


def _keep_fitted(recorder, capture: Path, result: dict) -> None:
    """What the final estimator was fitted on, over all rows: over the variables the static
    analysis named (their names guess; the fit call is what happened)."""
    try:
        fitted = recorder.outputs()
    except Exception as exc:  # noqa: BLE001 - refitting an encoder can fail; keep what we have
        result.setdefault("not_kept", {})["fit"] = f"{type(exc).__name__}: {exc}"
        return
    for role in ("prepared", "X", "y", "model"):
        if role not in fitted or role == "prepared" and "prepared" in result["found"]:
            continue
        try:
            if not _save_role(role, fitted[role], capture):
                continue
        except Exception as exc:  # noqa: BLE001
            result.setdefault("not_kept", {})[role] = f"{type(exc).__name__}: {exc}"
            continue
        result["found"][role] = fitted["found"][role]
        result["variables"].pop(role, None)


def _reads(opened: list[str]) -> list[str]:
    """The files below the current folder the script opened for reading, found or not."""
    here = Path.cwd().resolve()
    seen: list[str] = []
    for name in opened:
        path = Path(name)
        path = (here / path) if not path.is_absolute() else path
        try:
            relative = path.resolve().relative_to(here)
        except (ValueError, OSError):
            continue
        text = relative.as_posix()
        # import machinery probes names like __editable__...__path_hook__: not data
        if not relative.suffix or relative.parts[0] in _SKIPPED or relative.parts[0].startswith("__") or \
                text.endswith((".py", ".pyc")):
            continue
        if text not in seen:
            seen.append(text)
    return seen


def run_candidate(module_path: str, capture: Path) -> dict:
    """Run a pipeline module as ``lester run`` does (the same function: split, encoder fitted
    on the training rows, model fitted, on the default configuration), then keep what can be
    compared with the original script's outputs.

    The script's X is captured over all rows, its encoders refitted on them (``capture.py``),
    because its own split is not lester's; the candidate's X is therefore its encoder fitted
    the same way on all prepared rows, through the same stage calls and parameters. y is
    the run's labels of all rows, and the model the estimator the run fitted.
    """
    import numpy as np
    import pandas as pd

    from lester.frame.frame import PROVENANCE_COLUMN_PREFIX
    from lester.pipeline.config import load_config
    from lester.pipeline.definition import PipelineDefinitionError, StageError, load_pipeline
    from lester.pipeline.runner import run

    result: dict = {"status": "ok", "stages": {}, "found": {}}
    stage = "import"
    try:
        definition = load_pipeline(module_path)
        stage = None  # from here a failure names its stage itself, or none
        config = load_config(None)
        done = run(definition, config=config, store=capture / "store", cache=False, capture=False,
                   progress=lambda name, message: result["stages"].__setitem__(name, message))
        rows = pd.concat([done.train, done.test], ignore_index=True)
        data = rows[[c for c in rows.columns if not str(c).startswith(PROVENANCE_COLUMN_PREFIX)]]
        _save_frame(data, capture / "prepared.parquet")
        if done.y_train is not None:
            _save_array(np.concatenate([done.y_train, done.y_test]), capture / "y.npy", "y")
        if done.encoder is not None:
            stage = "encode_features"
            _save_array(definition.fit_encoder(definition.encoder(config.features), data), capture / "X.npy", "X")
        if done.model is not None:
            (capture / "model.json").write_text(json.dumps(_model_json(done.model)))
    except BaseException as exc:  # noqa: BLE001 - the candidate's failure is evidence for repair
        if isinstance(exc, StageError):
            stage = exc.stage
        cause = exc.__cause__ if isinstance(exc, (StageError, PipelineDefinitionError)) and exc.__cause__ else exc
        result.update(status="error", error=_error(cause, module_path, stage))
    return result


def _work(mode: str, target: str, capture: Path, roles: dict) -> int:
    capture.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if mode == "original":
        result = run_original(target, capture, roles)
    else:
        result = run_candidate(target, capture)
    with open(capture / "result.json", "w") as handle:
        json.dump(result, handle, default=str)
    return 0


def _sibling(name: str):
    """``confinement.py`` or ``capture.py`` by its path: importing the lester package here
    would cost the original script seconds of imports it does not need."""
    qualified = f"lester_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    # this file's folder must not shadow the user's modules (analysis.py, sampling.py, ...)
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and str(Path(p).resolve()) != here]
    mode, target, capture, roles, limits = argv[0], argv[1], Path(argv[2]), json.loads(argv[3]), json.loads(argv[4])
    confinement = _sibling("confinement")
    box = Path.cwd().parent
    return confinement.run_confined(box, confinement.Limits(**limits),
                                    lambda: _work(mode, target, capture, roles),
                                    box.parent / confinement.PROTECTIONS_FILE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
