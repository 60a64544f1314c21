"""scikit-learn objects a script builds: its Pipeline split into the encoder and the model.

A script that fits ``Pipeline([("pre", preprocessor), ("clf", LogisticRegression())])`` on a
feature frame already says what ``encode_features`` and ``make_model`` are: the steps before
the last, and the last. The names the steps use (``preprocessor = ColumnTransformer([...])``,
``numeric = Pipeline([...])``) are replaced by the constructors they were bound to, so each
stage is one expression that builds a fresh, unfitted object.

Example:
    >>> import libcst as cst
    >>> defs = {"pre": cst.parse_expression("ColumnTransformer([('num', StandardScaler(), ['age'])])")}
    >>> split_pipeline("Pipeline([('pre', pre), ('clf', LogisticRegression(C=2))])", defs)
    ("ColumnTransformer([('num', StandardScaler(), ['age'])])", 'LogisticRegression(C=2)')
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst

from lester.rewrite.rules.substitution import NameSubstitution

_DEPTH = 6


def split_pipeline(code: str, definitions: Mapping[str, cst.BaseExpression]) -> tuple[str | None, str]:
    """``(encoder code or None, model code)`` for a model's constructor code."""
    node = _resolved(cst.parse_expression(code), definitions, 0)
    steps = _steps(node)
    if not steps or len(steps) < 2:
        return None, _code(node)
    model = steps[-1][1]
    head = steps[:-1]
    if len(head) == 1:
        return _code(head[0][1]), _code(model)
    if all(name is not None for name, _ in head):
        inner = ", ".join(f"({name!r}, {_code(step)})" for name, step in head)
        return f"Pipeline([{inner}])", _code(model)
    return f"make_pipeline({', '.join(_code(step) for _, step in head)})", _code(model)


def resolved(code: str, definitions: Mapping[str, cst.BaseExpression]) -> str:
    """``code`` with the names bound to constructors replaced by them: one expression that
    builds a fresh, unfitted object."""
    return _code(_resolved(cst.parse_expression(code), definitions, 0))


def _steps(node: cst.BaseExpression) -> list[tuple[str | None, cst.BaseExpression]] | None:
    if not isinstance(node, cst.Call):
        return None
    name = node.func.attr.value if isinstance(node.func, cst.Attribute) else getattr(node.func, "value", "")
    if name == "make_pipeline":
        return [(None, a.value) for a in node.args if a.keyword is None]
    if name != "Pipeline":
        return None
    spec = next((a.value for a in node.args if a.keyword is None or a.keyword.value == "steps"), None)
    if not isinstance(spec, (cst.List, cst.Tuple)):
        return None
    steps = []
    for element in spec.elements:
        pair = element.value
        if not (isinstance(pair, cst.Tuple) and len(pair.elements) == 2 and isinstance(pair.elements[0].value,
                                                                                       cst.SimpleString)):
            return None
        steps.append((pair.elements[0].value.evaluated_value, pair.elements[1].value))
    return steps


def _resolved(node: cst.BaseExpression, definitions: Mapping[str, cst.BaseExpression], depth: int):
    """``node`` with the names bound to constructors replaced by them, ``_DEPTH`` levels deep."""
    if depth > _DEPTH:
        return node
    if isinstance(node, cst.Name) and node.value in definitions:
        return _resolved(definitions[node.value], definitions, depth + 1)
    return node.visit(NameSubstitution(
        lambda name: _resolved(definitions[name], definitions, depth + 1) if name in definitions else None))


def _code(node: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(node)
