"""The program a sandbox runs (``python .../sandbox_runner.py``): not for import.

``original SCRIPT CAPTURE ROLES_JSON`` runs a script as ``__main__`` and keeps its final
variables named in ROLES_JSON (prepared data, X, y, model). ``candidate MODULE CAPTURE`` runs a
pipeline module's stages on its default sources. Both write what they produced into CAPTURE:
``prepared.pkl``, ``X.npy``, ``y.npy``, ``model.json`` and ``result.json`` (status, the
failing stage, the error and the lines of the user's code in its traceback).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path


def _dense(value):
    import numpy as np

    if hasattr(value, "toarray"):
        value = value.toarray()
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value)


def _frame(value):
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value.reset_index(drop=True)
    if hasattr(value, "to_pandas") and hasattr(value, "columns"):
        return value.to_pandas()
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return pd.DataFrame(value)
    return None


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


def run_original(script: str, capture: Path, roles: dict) -> dict:
    import runpy

    sys.argv = [script]
    sys.path.insert(0, os.getcwd())
    namespace: dict = {}
    result: dict = {"status": "ok", "variables": {}}
    try:
        namespace = runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            result.update(status="error", error={"type": "SystemExit", "message": f"exit status {exc.code}", "where": [], "line": None})
    except BaseException as exc:  # noqa: BLE001 - report whatever the user's script raised
        result.update(status="error", error=_error(exc, script))
    _keep(namespace, roles, capture, result)
    return result


def _keep(namespace: dict, roles: dict, capture: Path, result: dict) -> None:
    import numpy as np

    for role, name in roles.items():
        if name not in namespace:
            continue
        value = namespace[name]
        try:
            if role == "prepared":
                frame = _frame(value)
                if frame is not None:
                    frame.to_pickle(capture / "prepared.pkl")
                    result["variables"][role] = name
            elif role in ("X", "y"):
                array = _dense(value)
                if array.dtype != object or role == "y":
                    np.save(capture / f"{role}.npy", array, allow_pickle=True)
                    result["variables"][role] = name
            elif role == "model" and hasattr(value, "get_params"):
                (capture / "model.json").write_text(json.dumps(_model_json(value)))
                result["variables"][role] = name
        except Exception as exc:  # noqa: BLE001 - a value we cannot keep is reported, not fatal
            result.setdefault("not_kept", {})[role] = f"{name}: {type(exc).__name__}: {exc}"


def run_candidate(module_path: str, capture: Path) -> dict:
    import numpy as np

    result: dict = {"status": "ok", "stages": {}}
    spec = importlib.util.spec_from_file_location("lester_candidate", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lester_candidate"] = module
    stage = "import"
    try:
        started = time.perf_counter()
        spec.loader.exec_module(module)
        stage = "dataprep"
        frame = module.dataprep()
        prepared = _frame(frame)
        if prepared is None:
            raise TypeError(f"dataprep() returned {type(frame).__name__}, not a lester Frame")
        prepared.to_pickle(capture / "prepared.pkl")
        result["stages"]["dataprep"] = round(time.perf_counter() - started, 3)
        # a stage the script does not have may be missing, or raise NotImplementedError
        optional = {
            "encode_features": lambda: np.save(capture / "X.npy", _dense(
                module.encode_features().fit_transform(prepared)), allow_pickle=True),
            "extract_label": lambda: np.save(capture / "y.npy", _dense(module.extract_label(prepared)),
                                             allow_pickle=True),
            "make_model": lambda: (capture / "model.json").write_text(json.dumps(_model_json(module.make_model()))),
        }
        for stage, produce in optional.items():
            if not callable(getattr(module, stage, None)):
                continue
            try:
                produce()
                result["stages"][stage] = True
            except NotImplementedError:
                result["stages"][stage] = "not implemented"
    except BaseException as exc:  # noqa: BLE001 - the candidate's failure is evidence for repair
        result.update(status="error", error=_error(exc, module_path, stage))
    return result


def main(argv: list[str]) -> int:
    # this file's folder must not shadow the user's modules (analysis.py, sampling.py, ...)
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and str(Path(p).resolve()) != here]
    mode, target, capture = argv[0], argv[1], Path(argv[2])
    capture.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if mode == "original":
        result = run_original(target, capture, json.loads(argv[3]))
    else:
        result = run_candidate(target, capture)
    with open(capture / "result.json", "w") as handle:
        json.dump(result, handle, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
