"""Writing the pipeline module: the plan, the feature blocks and the label as Python code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from lester.rewrite.rules.expressions import code_of
from lester.rewrite.rules.plan import DataprepPlan, Op
from lester.rewrite.rules.values import Label

# Transformers that scikit-learn lacks, emitted into the module only when a script needs them.
CUSTOM_TRANSFORMERS = {
    "FirstSeenOneHotEncoder": '''
class FirstSeenOneHotEncoder(OneHotEncoder):
    """One-hot columns in the order categories first appear in the training rows (as the script built them)."""

    def __init__(self, handle_unknown="ignore", sparse_output=False):
        super().__init__(handle_unknown=handle_unknown, sparse_output=sparse_output)

    def fit(self, X, y=None):
        values = X.iloc[:, 0] if hasattr(X, "iloc") else np.asarray(X)[:, 0]
        self.categories = [list(dict.fromkeys(values))]
        return super().fit(X, y)
''',
    "SampleStandardScaler": '''
class SampleStandardScaler(TransformerMixin, BaseEstimator):
    """(x - mean) / std with the sample standard deviation (ddof=1), as pandas' .std() computes it."""

    def fit(self, X, y=None):
        values = np.asarray(X, dtype=float)
        self.mean_ = values.mean(axis=0)
        self.scale_ = values.std(axis=0, ddof=1)
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X):
        return (np.asarray(X, dtype=float) - self.mean_) / self.scale_

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features if input_features is not None else
                          [f"x{i}" for i in range(self.n_features_in_)], dtype=object)
''',
    "MaxDivScaler": '''
class MaxDivScaler(TransformerMixin, BaseEstimator):
    """x / max(x), as the script scales."""

    def fit(self, X, y=None):
        values = np.asarray(X, dtype=float)
        self.max_ = values.max(axis=0)
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) / self.max_

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features if input_features is not None else
                          [f"x{i}" for i in range(self.n_features_in_)], dtype=object)
''',
}


@dataclass
class ModuleParts:
    filename: str
    plan: DataprepPlan
    final_var: str
    copied: list[cst.CSTNode]
    generated_helpers: list[str]
    transformers: list[tuple[str, str, list[str]]] | None
    label: Label | None
    label_names: dict[str, str]
    model_code: str | None
    has_output: bool
    custom: list[str] = field(default_factory=list)
    encoder_code: str | None = None  # the script's own encoder (its Pipeline's steps), as code


def _live_ops(ops: list[Op], final_var: str) -> list[Op]:
    needed = {final_var}
    keep = []
    for op in reversed(ops):
        if op.var in needed:
            keep.append(op)
            needed.update(op.reads)
    return list(reversed(keep))


def _read_somewhere(copied: list[tuple[cst.CSTNode, str]], generated: str) -> list[str]:
    """The copied code less the script's functions nothing reads any more (a helper the
    normalizer wrote into the loop that called it)."""
    defined = {node.name.value: text for node, text in copied if isinstance(node, cst.FunctionDef)}
    kept = [text for node, text in copied if not isinstance(node, cst.FunctionDef)]
    while True:
        used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", generated + "\n".join(kept)))
        more = [text for name, text in defined.items() if name in used and text not in kept]
        if not more:
            return [text for _, text in copied if text in kept]
        kept += more


def module_code(parts: ModuleParts) -> str:
    lines: list[str] = [f'"""Pipeline compiled from {parts.filename} by lester\'s rules engine."""', ""]
    body_defs = _stage_functions(parts)
    copied_code = []
    import_lines = []
    for node in parts.copied:
        text = cst.Module(body=[node]).code if isinstance(node, cst.CSTNode) else str(node)
        if isinstance(node, cst.SimpleStatementLine) and isinstance(node.body[0], (cst.Import, cst.ImportFrom)):
            import_lines.append((node, text))
        else:
            copied_code.append((node, text))
    copied_code = _read_somewhere(copied_code, "\n".join(parts.generated_helpers) + body_defs)
    generated = "\n".join(copied_code) + "\n".join(parts.generated_helpers) + body_defs
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", generated))
    needed_imports = []
    for node, text in import_lines:
        small = node.body[0]
        names = []
        if isinstance(small.names, cst.ImportStar):
            continue
        for alias in small.names:
            bound = alias.asname.name.value if alias.asname else code_of(alias.name).split(".")[0]
            names.append(bound)
        if any(n in used for n in names):
            needed_imports.append(text.strip())
    std = ["import numpy as np", "import pandas as pd"]
    sk = ["from sklearn.compose import ColumnTransformer"]
    pre = set()
    for name in ("OneHotEncoder", "StandardScaler", "MinMaxScaler"):
        if name in body_defs or any(name in c for c in parts.custom):
            pre.add(name)
    if pre:
        sk.append(f"from sklearn.preprocessing import {', '.join(sorted(pre))}")
    if "make_pipeline(" in body_defs:
        sk.append("from sklearn.pipeline import make_pipeline")
    if any("BaseEstimator" in CUSTOM_TRANSFORMERS[c] for c in parts.custom):
        sk.append("from sklearn.base import BaseEstimator, TransformerMixin")
    header = []
    for line in std + sk + needed_imports + ["import lester as lt"]:
        if line not in header:
            header.append(line)
    lines += header + ["", ""]
    for text in copied_code:
        lines.append(text.rstrip() + "\n")
    for helper in parts.generated_helpers:
        lines.append(helper.rstrip() + "\n")
    for name in parts.custom:
        lines.append(CUSTOM_TRANSFORMERS[name].strip() + "\n")
    lines.append(body_defs)
    code = "\n".join(lines)
    code = re.sub(r"\n{4,}", "\n\n\n", code)
    return code


def _stage_functions(parts: ModuleParts) -> str:
    plan = parts.plan
    params = ", ".join(f"{s.param}={s.path!r}" for s in plan.sources.values())
    out = [f"def dataprep({params}) -> lt.Frame:"]
    for op in _live_ops(plan.ops, parts.final_var):
        comment = f"  # line {op.line}" + (f": {_short(op.comment)}" if op.comment else "") if op.line else ""
        out.append(f"    {op.var} = {op.code}{comment}")
    out.append(f"    return {parts.final_var}")
    out += ["", ""]
    if parts.encoder_code is not None:
        out.append("def encode_features():")
        out.append(f"    return {parts.encoder_code}")
    elif parts.transformers is not None:
        out.append("def encode_features() -> ColumnTransformer:")
        out.append("    return ColumnTransformer([")
        for name, code, cols in parts.transformers:
            out.append(f"        ({name!r}, {code}, {cols!r}),")
        out.append("    ], sparse_threshold=0)")
    else:
        out.append("def encode_features() -> ColumnTransformer:")
        out.append(f"    raise NotImplementedError({parts.filename + ' computes no feature matrix'!r})")
    out += ["", ""]
    out.append("def extract_label(prepared: pd.DataFrame) -> np.ndarray:")
    if parts.label is not None:
        col = parts.label_names[parts.label.column]
        if parts.label.encoding == "label":  # LabelEncoder: positions among the sorted classes
            out.append(f"    return np.unique(prepared[{col!r}].to_numpy(), return_inverse=True)[1]")
        elif parts.label.encoding == "binarize":  # label_binarize with two classes: 1 for the second
            out.append(f"    return (prepared[{col!r}] == {parts.label.classes[1]!r}).astype(int).to_numpy()")
        else:
            out.append(f"    return prepared[{col!r}].to_numpy()")
    else:
        out.append(f"    raise NotImplementedError({parts.filename + ' computes no label'!r})")
    out += ["", ""]
    if parts.model_code:
        params, code = model_parameters(parts.model_code)
        out.append(f"def make_model({params}):")
        out.append(f"    return {code}")
    else:
        out.append("def make_model():")
        out.append(f"    raise NotImplementedError({parts.filename + ' builds no scikit-learn model'!r})")
    return "\n".join(out) + "\n"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def model_parameters(code: str) -> tuple[str, str]:
    """``LogisticRegression(C=0.3)`` as the parameters ``C=0.3`` and the body
    ``LogisticRegression(C=C)``: the script's hyper-parameters become ``make_model``'s, so
    ``lester run --set model.C=0.5`` changes them. Only literal keyword arguments are lifted.

    Example:
        >>> model_parameters("LogisticRegression(C=0.3, max_iter=500, class_weight=weights)")
        ('C=0.3, max_iter=500', 'LogisticRegression(C=C, max_iter=max_iter, class_weight=weights)')
        >>> model_parameters("make_pipeline(StandardScaler(), Ridge(alpha=2))")
        ('', 'make_pipeline(StandardScaler(), Ridge(alpha=2))')
    """
    import ast

    try:
        call = ast.parse(code, mode="eval").body
    except SyntaxError:
        return "", code
    if not isinstance(call, ast.Call):
        return "", code
    lifted: list[str] = []
    for keyword in call.keywords:
        if keyword.arg is None or keyword.arg in _RESERVED_PARAMETERS:
            continue
        try:
            value = ast.literal_eval(keyword.value)
        except ValueError:
            continue
        if isinstance(value, (str, int, float, bool, tuple)) or value is None:
            lifted.append(f"{keyword.arg}={ast.unparse(keyword.value)}")
            keyword.value = ast.Name(keyword.arg, ast.Load())
    if not lifted:
        return "", code
    return ", ".join(lifted), ast.unparse(call)


# names make_model's body reads itself: a parameter must not hide them
_RESERVED_PARAMETERS = {"np", "pd", "lt", "sklearn"}
