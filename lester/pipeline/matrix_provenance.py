"""Matrix-column provenance: which feature-matrix columns come from which prepared columns.

A fitted scikit-learn :class:`~sklearn.compose.ColumnTransformer` turns the prepared DataFrame
into a feature matrix. Deleting or redacting a prepared column for some rows has to know which
matrix columns to recompute, so every output column is mapped back to the prepared columns it is
computed from.

The rule everywhere: be exact where a transformer's semantics are known (one-hot categories,
polynomial powers, imputer indicators, feature selectors, ...), conservative otherwise (every
output of that transformer depends on every input it was given), and always consistent with the
real output width, which is taken from the fitted ``output_indices_`` and optionally checked by
transforming a sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.feature_selection import SelectorMixin
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)
from sklearn.utils.validation import check_is_fitted

from lester.errors import LesterError

__all__ = [
    "MatrixColumn",
    "MatrixProvenanceError",
    "matrix_column_provenance",
    "matrix_ranges_by_input_column",
]

Basis = Literal["exact", "conservative", "feature_names"]

# Higher is weaker; a composed column is only as trustworthy as its weakest step.
_BASIS_RANK: dict[str, int] = {"exact": 0, "conservative": 1, "feature_names": 2}


class MatrixProvenanceError(LesterError, ValueError):
    """Matrix-column provenance could not be derived consistently for a transformer.

    The message names the transformer (as a path such as ``num/onehot`` for a step inside a
    nested Pipeline) and both widths that disagree.
    """


@dataclass(frozen=True)
class MatrixColumn:
    """One column of the feature matrix ``encoder.transform(prepared)``.

    Attributes:
        index: position of the column in the feature matrix.
        feature_name: its name from ``get_feature_names_out`` where the transformers provide one,
            else ``None``.
        transformer: name of the top-level ColumnTransformer entry that produced it
            (``"remainder"`` for the remainder).
        input_columns: the prepared (input DataFrame) columns its values are computed from, in
            input order; empty for constants such as a polynomial bias column.
        basis: how ``input_columns`` was derived: ``"exact"`` from the transformer's known
            semantics; ``"conservative"`` when the transformer is opaque, so every output was
            mapped to every input it received (a superset of the true dependencies);
            ``"feature_names"`` when a custom transformer's output names matched its input
            names (or a FunctionTransformer declared ``feature_names_out="one-to-one"``) and
            that was trusted to mean "computed from that column only".
    """

    index: int
    feature_name: str | None
    transformer: str
    input_columns: tuple[str, ...]
    basis: Basis = "exact"


# --------------------------------------------------------------------------------------------
# Dependencies of one transformer: for each of its outputs, the positions of its inputs it reads.


@dataclass(frozen=True)
class _Deps:
    inputs: tuple[frozenset[int], ...]
    basis: tuple[Basis, ...]

    def __len__(self) -> int:
        return len(self.inputs)

    @staticmethod
    def identity(n: int) -> _Deps:
        return _Deps(tuple(frozenset([i]) for i in range(n)), ("exact",) * n)

    @staticmethod
    def per_output(inputs: Sequence[Sequence[int]], basis: Basis = "exact") -> _Deps:
        return _Deps(tuple(frozenset(s) for s in inputs), (basis,) * len(inputs))

    @staticmethod
    def all_to_all(n_in: int, n_out: int, basis: Basis) -> _Deps:
        everything = frozenset(range(n_in))
        return _Deps((everything,) * n_out, (basis,) * n_out)

    @staticmethod
    def repeat_each(counts: Sequence[int]) -> _Deps:
        """Feature-major blocks: input i produces ``counts[i]`` consecutive outputs."""
        return _Deps.per_output([[i] for i, c in enumerate(counts) for _ in range(int(c))])

    @staticmethod
    def concat(parts: Sequence[_Deps]) -> _Deps:
        return _Deps(
            tuple(s for p in parts for s in p.inputs), tuple(b for p in parts for b in p.basis)
        )

    def after(self, before: _Deps) -> _Deps:
        """Compose: ``self`` reads the outputs of ``before``."""
        inputs: list[frozenset[int]] = []
        basis: list[Basis] = []
        for reads, own in zip(self.inputs, self.basis, strict=True):
            inputs.append(frozenset().union(*(before.inputs[k] for k in reads)))
            basis.append(max([own, *(before.basis[k] for k in reads)], key=_BASIS_RANK.__getitem__))
        return _Deps(tuple(inputs), tuple(basis))

    def remap(self, positions: Sequence[int]) -> _Deps:
        return _Deps(tuple(frozenset(positions[i] for i in s) for s in self.inputs), self.basis)


def _is(trans: Any, *classes: type) -> bool:
    # Exact type, not isinstance: a user subclass may override transform() and change the
    # semantics, so it is treated as a custom transformer.
    return type(trans) in classes


def _is_sklearn_class(trans: Any) -> bool:
    return type(trans).__module__.split(".")[0] == "sklearn"


def _names_out(trans: Any, in_names: Sequence[str] | None) -> list[str] | None:
    """The transformer's output names, or None where it cannot tell."""
    if not hasattr(trans, "get_feature_names_out"):
        return None
    # Custom and sklearn transformers raise a zoo of errors when names are unavailable
    # (AttributeError, ValueError on mismatched input names, NotFittedError, ...); any of them
    # only means "no names", never a wrong provenance.
    attempts: list[tuple[Any, ...]] = [(list(in_names),)] if in_names is not None else []
    attempts.append(())
    for args in attempts:
        try:
            names = trans.get_feature_names_out(*args)
        except Exception:  # noqa: BLE001 - see above
            names = None
        if names is not None:
            return [str(n) for n in names]
    return None


def _known_width(trans: Any, n_in: int, in_names: Sequence[str] | None) -> int | None:
    """Output width of a fitted transformer from its fitted attributes, without data."""
    if trans is None or (isinstance(trans, str) and trans == "passthrough"):
        return n_in
    if isinstance(trans, str) and trans == "drop":
        return 0
    if isinstance(trans, ColumnTransformer) and hasattr(trans, "output_indices_"):
        return max((s.stop for s in trans.output_indices_.values()), default=0)
    if isinstance(trans, Pipeline):
        width = n_in
        names = in_names
        for _, step in _pipeline_steps(trans):
            width_next = _known_width(step, width, names)
            if width_next is None:
                return None
            names = _names_out(step, names)
            width = width_next
        return width
    if _is(trans, HashingVectorizer):
        return int(trans.n_features)
    if _is(trans, FunctionTransformer) and trans.func is None:
        return n_in
    names = _names_out(trans, in_names)
    return len(names) if names is not None else None


def _pipeline_steps(pipe: Pipeline) -> list[tuple[str, Any]]:
    return [
        (name, step)
        for name, step in pipe.steps
        if step is not None and not (isinstance(step, str) and step == "passthrough")
    ]


# --- known transformers ---------------------------------------------------------------------

# (fitted transformer, n_in, n_out, input names, path) -> dependencies, or None to fall through
_DepsRule = Callable[[Any, int, int, Sequence[str] | None, str], _Deps | None]


def _one_to_one(trans: Any, n_in: int, n_out: int, in_names: Any, path: str) -> _Deps:
    return _Deps.identity(n_in)


def _dense(trans: Any, n_in: int, n_out: int, in_names: Any, path: str) -> _Deps:
    # Semantically every output reads every input (a vectoriser reads its one text column;
    # a row normaliser divides by the norm of the whole row).
    return _Deps.all_to_all(n_in, n_out, "exact")


def _one_hot(enc: OneHotEncoder, n_in: int, n_out: int, in_names: Any, path: str) -> _Deps:
    counts = [len(c) for c in enc.categories_]
    # infrequent_categories_ is a property that raises AttributeError when grouping is off.
    infrequent = getattr(enc, "infrequent_categories_", None) or [None] * len(counts)
    for i, group in enumerate(infrequent):
        if group is not None and len(group) > 0:
            counts[i] -= len(group) - 1  # the whole group becomes one column
    if enc.drop_idx_ is not None:
        for i, dropped in enumerate(enc.drop_idx_):
            if dropped is not None:
                counts[i] -= 1
    return _Deps.repeat_each(counts)


def _is_nan(value: Any) -> bool:
    # Only a float NaN marks a dropped feature, as in sklearn (pd.NA or None do not).
    return isinstance(value, float) and math.isnan(value)


def _simple_imputer(imp: SimpleImputer, n_in: int, n_out: int, in_names: Any, path: str) -> _Deps:
    # Features whose statistic is NaN (all values missing at fit time) are dropped from the
    # output unless keep_empty_features, in which case their statistic is 0 and not NaN.
    kept = [i for i, s in enumerate(np.asarray(imp.statistics_, dtype=object)) if not _is_nan(s)]
    parts = [_Deps.per_output([[i] for i in kept])]
    indicator = getattr(imp, "indicator_", None)
    if imp.add_indicator and indicator is not None:
        parts.append(_Deps.per_output([[int(i)] for i in indicator.features_]))
    return _Deps.concat(parts)


def _missing_indicator(
    ind: MissingIndicator, n_in: int, n_out: int, in_names: Any, path: str
) -> _Deps:
    return _Deps.per_output([[int(i)] for i in ind.features_])


def _kbins(kb: KBinsDiscretizer, n_in: int, n_out: int, in_names: Any, path: str) -> _Deps:
    if kb.encode == "ordinal":
        return _Deps.identity(n_in)
    return _Deps.repeat_each([int(n) for n in kb.n_bins_])


def _polynomial(pf: PolynomialFeatures, n_in: int, n_out: int, in_names: Any, path: str) -> _Deps:
    # An output is the product of the inputs with a nonzero power; the bias row has none.
    return _Deps.per_output([np.flatnonzero(row).tolist() for row in np.asarray(pf.powers_)])


def _feature_major(trans: Any, n_in: int, n_out: int, in_names: Any, path: str) -> _Deps | None:
    # SplineTransformer emits the same number of consecutive columns (splines) per input.
    if n_in == 0 or n_out % n_in:
        return None
    return _Deps.repeat_each([n_out // n_in] * n_in)


def _target_encoder(
    te: TargetEncoder, n_in: int, n_out: int, in_names: Any, path: str
) -> _Deps | None:
    if te.target_type_ == "multiclass":
        return _Deps.repeat_each([len(te.classes_)] * n_in)
    return _Deps.identity(n_in)


def _tfidf_transformer(
    t: TfidfTransformer, n_in: int, n_out: int, in_names: Any, path: str
) -> _Deps:
    # Without row normalisation tf-idf is column-wise; with it each cell reads the whole row.
    return _Deps.identity(n_in) if t.norm is None else _Deps.all_to_all(n_in, n_out, "exact")


def _function_transformer(
    ft: FunctionTransformer, n_in: int, n_out: int, in_names: Any, path: str
) -> _Deps:
    if ft.func is None:  # identity, e.g. the fitted form of a 'passthrough' entry
        return _Deps.identity(n_in)
    if ft.feature_names_out == "one-to-one" and n_out == n_in:
        # The user declared output i to be input i; we trust it but say so.
        return _Deps(_Deps.identity(n_in).inputs, ("feature_names",) * n_in)
    return _Deps.all_to_all(n_in, n_out, "conservative")


_RULES: dict[type, _DepsRule] = {
    StandardScaler: _one_to_one,
    MinMaxScaler: _one_to_one,
    MaxAbsScaler: _one_to_one,
    RobustScaler: _one_to_one,
    QuantileTransformer: _one_to_one,
    PowerTransformer: _one_to_one,
    Binarizer: _one_to_one,
    OrdinalEncoder: _one_to_one,
    OneHotEncoder: _one_hot,
    SimpleImputer: _simple_imputer,
    MissingIndicator: _missing_indicator,
    KBinsDiscretizer: _kbins,
    PolynomialFeatures: _polynomial,
    SplineTransformer: _feature_major,
    TargetEncoder: _target_encoder,
    FunctionTransformer: _function_transformer,
    CountVectorizer: _dense,
    TfidfVectorizer: _dense,
    HashingVectorizer: _dense,
    TfidfTransformer: _tfidf_transformer,
    Normalizer: _dense,
}


# --- dispatch ---------------------------------------------------------------------------------


def _transformer_deps(
    trans: Any, n_in: int, n_out: int, in_names: Sequence[str] | None, path: str
) -> _Deps:
    """For each of the ``n_out`` outputs of a fitted transformer, the input positions it reads."""
    deps = _transformer_deps_unchecked(trans, n_in, n_out, in_names, path)
    if len(deps) != n_out:
        raise MatrixProvenanceError(
            f"transformer {path!r} ({type(trans).__name__}): its fitted attributes describe "
            f"{len(deps)} output columns but it produces {n_out}"
        )
    if any(i >= n_in for reads in deps.inputs for i in reads):
        raise MatrixProvenanceError(
            f"transformer {path!r} ({type(trans).__name__}): its fitted attributes refer to "
            f"input columns beyond the {n_in} it receives"
        )
    return deps


def _transformer_deps_unchecked(
    trans: Any, n_in: int, n_out: int, in_names: Sequence[str] | None, path: str
) -> _Deps:
    if trans is None or (isinstance(trans, str) and trans == "passthrough"):
        return _Deps.identity(n_in)
    if isinstance(trans, str) and trans == "drop":
        return _Deps.per_output([])
    if isinstance(trans, Pipeline):
        return _pipeline_deps(trans, n_in, n_out, in_names, path)
    if isinstance(trans, ColumnTransformer):
        return _column_transformer_deps(trans, n_in, in_names, path)
    if isinstance(trans, FeatureUnion):
        return _feature_union_deps(trans, n_in, n_out, in_names, path)
    rule = _RULES.get(type(trans))
    if rule is not None:
        deps = rule(trans, n_in, n_out, in_names, path)
        if deps is not None:
            return deps
    if isinstance(trans, SelectorMixin) and _is_sklearn_class(trans):
        return _Deps.per_output([[int(i)] for i in trans.get_support(indices=True)])
    if not _is_sklearn_class(trans) and in_names is not None:
        deps = _deps_from_names(trans, n_out, in_names)
        if deps is not None:
            return deps
    return _Deps.all_to_all(n_in, n_out, "conservative")


def _deps_from_names(trans: Any, n_out: int, in_names: Sequence[str]) -> _Deps | None:
    """A custom transformer whose every output is named after exactly one of its inputs
    (one-to-one, a selection or a reordering) is taken to compute it from that input only."""
    out = _names_out(trans, in_names)
    position = {name: i for i, name in enumerate(in_names)}
    if out is None or len(out) != n_out or len(position) != len(in_names):
        return None
    if not all(name in position for name in out):
        return None
    return _Deps.per_output([[position[n]] for n in out], "feature_names")


def _pipeline_deps(
    pipe: Pipeline, n_in: int, n_out: int, in_names: Sequence[str] | None, path: str
) -> _Deps:
    steps = _pipeline_steps(pipe)
    deps = _Deps.identity(n_in)
    width, names = n_in, in_names
    for k, (step_name, step) in enumerate(steps):
        if k == len(steps) - 1:
            width_out: int | None = n_out
        else:
            # The next step recorded how many columns it was fitted on: the truth, data-free.
            width_out = getattr(steps[k + 1][1], "n_features_in_", None)
            if width_out is None:
                width_out = _known_width(step, width, names)
        if width_out is None:
            # An intermediate width is unknowable; all outputs reading all inputs is still right.
            return _Deps.all_to_all(n_in, n_out, "conservative")
        step_deps = _transformer_deps(step, width, int(width_out), names, f"{path}/{step_name}")
        deps = step_deps.after(deps)
        out_names = _names_out(step, names)
        names = out_names if out_names is not None and len(out_names) == width_out else None
        width = int(width_out)
    if width != n_out:
        raise MatrixProvenanceError(
            f"transformer {path!r} (Pipeline): its steps pass on {width} columns but it "
            f"produces {n_out}"
        )
    return deps


def _feature_union_deps(
    union: FeatureUnion, n_in: int, n_out: int, in_names: Sequence[str] | None, path: str
) -> _Deps:
    parts = []
    for name, trans in union.transformer_list:
        if isinstance(trans, str) and trans == "drop":
            continue
        width = _known_width(trans, n_in, in_names)
        if width is None:
            return _Deps.all_to_all(n_in, n_out, "conservative")
        parts.append(_transformer_deps(trans, n_in, width, in_names, f"{path}/{name}"))
    return _Deps.concat(parts)


# --- ColumnTransformer ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    name: str
    transformer: Any
    input_positions: tuple[int, ...]
    is_1d: bool
    output: slice
    deps: _Deps  # over the ColumnTransformer's input positions


def _resolve_columns(spec: Any, names: Sequence[str] | None, n: int) -> tuple[list[int], bool]:
    """Positions selected by a ColumnTransformer column spec, and whether it selects 1-D.

    Mirrors sklearn's own selection rules; used only where the fitted ColumnTransformer does not
    record the positions itself.
    """
    where = {name: i for i, name in enumerate(names or [])}

    def by_label(label: Any) -> int:
        if label not in where:
            raise MatrixProvenanceError(
                f"column {label!r} is not an input column {list(names or [])}"
            )
        return where[label]

    if isinstance(spec, str):
        return [by_label(spec)], True
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, (bool, np.bool_)):
        return [int(spec) % n], True
    if isinstance(spec, slice):
        if isinstance(spec.start, str) or isinstance(spec.stop, str):
            start = by_label(spec.start) if spec.start is not None else 0
            stop = by_label(spec.stop) + 1 if spec.stop is not None else n  # labels: inclusive
            return list(range(n))[slice(start, stop, spec.step)], False
        return list(range(n))[spec], False
    values = list(spec)
    if not values:
        return [], False
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return [i for i, keep in enumerate(values) if keep], False
    if all(isinstance(v, str) for v in values):
        return [by_label(v) for v in values], False
    return [int(v) % n for v in values], False


def _column_transformer_blocks(
    ct: ColumnTransformer, in_names: Sequence[str] | None, path: str
) -> list[_Block]:
    if not hasattr(ct, "output_indices_"):
        raise MatrixProvenanceError(
            f"transformer {path or 'ColumnTransformer'!r}: has no output_indices_ "
            "(scikit-learn >= 1.0 records it when fitting); cannot tell its output widths"
        )
    n = int(ct.n_features_in_)
    own_names = getattr(ct, "feature_names_in_", None)
    names = list(own_names) if own_names is not None else (list(in_names) if in_names else None)
    recorded = getattr(ct, "_transformer_to_input_indices", None)  # sklearn's own selection

    blocks = []
    for name, trans, spec in ct.transformers_:
        output = ct.output_indices_.get(name, slice(0, 0))
        width = output.stop - output.start
        sub_path = f"{path}/{name}" if path else name
        if callable(spec) and (recorded is None or name not in recorded):
            raise MatrixProvenanceError(
                f"transformer {sub_path!r}: its column selector is still a callable after "
                "fitting and the ColumnTransformer did not record the columns it chose"
            )
        if recorded is not None and name in recorded:
            positions = [int(i) for i in recorded[name]]
            is_1d = np.isscalar(spec)
        else:
            positions, is_1d = _resolve_columns(spec, names, n)
        if (isinstance(trans, str) and trans == "drop") or not positions:
            if width:
                raise MatrixProvenanceError(
                    f"transformer {sub_path!r} selects no columns (or is 'drop') but occupies "
                    f"{width} output columns"
                )
            continue
        local_names = [names[i] for i in positions] if names is not None else None
        # A 1-D selection (a single label) hands the transformer one column, e.g. a text column.
        deps = _transformer_deps(trans, len(positions), width, local_names, sub_path)
        blocks.append(_Block(name, trans, tuple(positions), is_1d, output, deps.remap(positions)))

    blocks.sort(key=lambda b: b.output.start)
    expected = 0
    for block in blocks:
        if block.output.start != expected:
            raise MatrixProvenanceError(
                f"transformer {block.name!r}: its output starts at column {block.output.start}, "
                f"expected {expected}; the ColumnTransformer's output_indices_ do not tile"
            )
        expected = block.output.stop
    return blocks


def _column_transformer_deps(
    ct: ColumnTransformer, n_in: int, in_names: Sequence[str] | None, path: str
) -> _Deps:
    return _Deps.concat([b.deps for b in _column_transformer_blocks(ct, in_names, path)])


def _feature_names(
    ct: ColumnTransformer, blocks: list[_Block], names: Sequence[str]
) -> list[str | None]:
    total = blocks[-1].output.stop if blocks else 0
    try:
        whole = [str(n) for n in ct.get_feature_names_out()]
    except Exception:  # noqa: BLE001 - one nameless transformer makes sklearn give up on all
        whole = None
    if whole is not None and len(whole) == total:
        return list(whole)
    # Name what can be named, block by block, the way ColumnTransformer would prefix them.
    verbose = ct.verbose_feature_names_out
    result: list[str | None] = []
    for block in blocks:
        width = block.output.stop - block.output.start
        local = [names[i] for i in block.input_positions]
        if isinstance(block.transformer, str) and block.transformer == "passthrough":
            own: list[str] | None = local
        else:
            own = _names_out(block.transformer, local)
        if own is None or len(own) != width:
            result.extend([None] * width)
            continue
        if verbose is True:
            result.extend(f"{block.name}__{n}" for n in own)
        elif isinstance(verbose, str):  # a format string, scikit-learn >= 1.6
            result.extend(verbose.format(transformer_name=block.name, feature_name=n) for n in own)
        else:
            result.extend(own)
    return result


def _check_against_sample(
    ct: ColumnTransformer, blocks: list[_Block], names: Sequence[str], sample: pd.DataFrame
) -> None:
    total = blocks[-1].output.stop if blocks else 0
    actual = ct.transform(sample).shape[1]
    if actual == total:
        return
    # Find the culprit by running each fitted transformer on its own columns.
    for block in blocks:
        width = block.output.stop - block.output.start
        columns = [names[i] for i in block.input_positions]
        selected = sample[columns[0]] if block.is_1d else sample[columns]
        trans = block.transformer
        got = selected.shape[1] if isinstance(trans, str) else trans.transform(selected).shape[1]
        if got != width:
            raise MatrixProvenanceError(
                f"transformer {block.name!r} ({type(trans).__name__}): produced {got} columns on "
                f"the sample but {width} when the ColumnTransformer was fitted"
            )
    raise MatrixProvenanceError(
        f"ColumnTransformer: transforming the sample gives {actual} columns but its transformers "
        f"account for {total}"
    )


def matrix_column_provenance(
    encoder: ColumnTransformer,
    input_columns: Sequence[str] | None = None,
    *,
    sample: pd.DataFrame | None = None,
) -> list[MatrixColumn]:
    """Map every column of ``encoder.transform(prepared)`` to the prepared columns it reads.

    Args:
        encoder: a fitted ColumnTransformer (normally fitted on a pandas DataFrame).
        input_columns: names of the prepared columns, needed only when the encoder was fitted on
            an array; if the encoder knows its ``feature_names_in_`` they must agree.
        sample: optionally a few prepared rows; they are transformed to confirm the total width
            and, on a mismatch, to name the transformer whose width changed since fitting.

    Returns:
        One :class:`MatrixColumn` per feature-matrix column, in matrix order.

    Raises:
        MatrixProvenanceError: a transformer's fitted attributes or the sample disagree with
            the output widths recorded at fit time; the message names the transformer.

    Example::

        >>> import pandas as pd
        >>> from sklearn.compose import ColumnTransformer
        >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
        >>> df = pd.DataFrame({"country": ["de", "fr", "nl", "de"], "age": [31, 45, 27, 52]})
        >>> ct = ColumnTransformer([
        ...     ("cat", OneHotEncoder(drop="first"), ["country"]),
        ...     ("num", StandardScaler(), ["age"]),
        ... ]).fit(df)
        >>> columns = matrix_column_provenance(ct)
        >>> [c.feature_name for c in columns]
        ['cat__country_fr', 'cat__country_nl', 'num__age']
        >>> [c.input_columns for c in columns]
        [('country',), ('country',), ('age',)]
    """
    if isinstance(encoder, Pipeline) and encoder.steps and isinstance(encoder.steps[0][1], ColumnTransformer):
        return _after_column_transformer(encoder, input_columns, sample)
    if not isinstance(encoder, ColumnTransformer):
        raise TypeError(
            "matrix_column_provenance needs a fitted ColumnTransformer (or a Pipeline that starts "
            f"with one), got {type(encoder).__name__}"
        )
    try:
        check_is_fitted(encoder, "transformers_")
    except NotFittedError as error:
        raise MatrixProvenanceError(
            "matrix_column_provenance: the ColumnTransformer is not fitted; fit it on the "
            "prepared training data first"
        ) from error

    names = _input_names(encoder, input_columns)
    blocks = _column_transformer_blocks(encoder, names, "")
    if sample is not None:
        _check_against_sample(encoder, blocks, names, sample)
    feature_names = _feature_names(encoder, blocks, names)

    columns = []
    for block in blocks:
        for offset, (reads, basis) in enumerate(
            zip(block.deps.inputs, block.deps.basis, strict=True)
        ):
            index = block.output.start + offset
            columns.append(
                MatrixColumn(
                    index=index,
                    feature_name=feature_names[index],
                    transformer=block.name,
                    input_columns=tuple(names[i] for i in sorted(reads)),
                    basis=basis,
                )
            )
    return columns


# steps that scale each matrix column by its own statistics: a column still reads what it read
_PER_COLUMN_STEPS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler")


def _after_column_transformer(
    encoder: Pipeline, input_columns: Sequence[str] | None, sample: pd.DataFrame | None
) -> list[MatrixColumn]:
    """``Pipeline([("features", ColumnTransformer(...)), ("norm", Normalizer())])``: the
    ColumnTransformer's columns, through steps that keep the width. A per-column scaler keeps
    each column's inputs; any other step (a ``Normalizer`` divides by the whole row's norm) may
    mix the row, so each of its columns reads every input (``"conservative"``)."""
    columns = matrix_column_provenance(encoder.steps[0][1], input_columns, sample=sample)
    everything = tuple(dict.fromkeys(name for c in columns for name in c.input_columns))
    for step_name, step in encoder.steps[1:]:
        if step is None or step == "passthrough":
            continue
        width = getattr(step, "n_features_in_", None)
        try:
            out_width = len(step.get_feature_names_out())
        except Exception:  # noqa: BLE001 - a step without output names: its width is unknown
            out_width = None
        if width != len(columns) or out_width != len(columns):
            raise MatrixProvenanceError(
                f"matrix_column_provenance: the Pipeline step {step_name!r} changes the matrix "
                f"width ({width} -> {out_width}); only steps that keep it are followed"
            )
        if type(step).__name__ not in _PER_COLUMN_STEPS:
            columns = [dataclasses.replace(c, input_columns=everything, basis="conservative", transformer=step_name)
                       for c in columns]
    return columns


def _input_names(encoder: ColumnTransformer, input_columns: Sequence[str] | None) -> list[str]:
    known = getattr(encoder, "feature_names_in_", None)
    if known is not None:
        known = [str(n) for n in known]
        if input_columns is not None and list(input_columns) != known:
            raise MatrixProvenanceError(
                f"matrix_column_provenance: input_columns {list(input_columns)} differ from the "
                f"columns the ColumnTransformer was fitted on {known}"
            )
        return known
    n = int(encoder.n_features_in_)
    if input_columns is None:
        return [f"x{i}" for i in range(n)]  # sklearn's own default names
    if len(input_columns) != n:
        raise MatrixProvenanceError(
            f"matrix_column_provenance: {len(input_columns)} input_columns given but the "
            f"ColumnTransformer was fitted on {n} columns"
        )
    return [str(c) for c in input_columns]


def matrix_ranges_by_input_column(
    columns: Sequence[MatrixColumn],
) -> dict[str, list[tuple[int, int]]]:
    """Group matrix columns into contiguous half-open ``[start, stop)`` ranges per prepared column.

    A prepared column that reaches no matrix column (dropped, or only feeding a dropped
    transformer) has no key. Keys appear in order of their first matrix column.

    Example::

        >>> cols = [
        ...     MatrixColumn(0, "cat__country_fr", "cat", ("country",)),
        ...     MatrixColumn(1, "cat__country_nl", "cat", ("country",)),
        ...     MatrixColumn(2, "num__age", "num", ("age",)),
        ...     MatrixColumn(3, "poly__age country", "poly", ("age", "country")),
        ... ]
        >>> matrix_ranges_by_input_column(cols)
        {'country': [(0, 2), (3, 4)], 'age': [(2, 4)]}
    """
    ranges: dict[str, list[tuple[int, int]]] = {}
    for column in sorted(columns, key=lambda c: c.index):
        for name in column.input_columns:
            spans = ranges.setdefault(name, [])
            if spans and spans[-1][1] == column.index:
                spans[-1] = (spans[-1][0], column.index + 1)
            else:
                spans.append((column.index, column.index + 1))
    return ranges
