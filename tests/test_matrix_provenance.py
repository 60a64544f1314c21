"""Matrix-column provenance of fitted ColumnTransformers, one encoder kind per test.

Every test fits on a small customers-and-mails style frame and checks the count against the
real ``transform`` width, then the exact mapping. The perturbation test at the end checks that no
dependency is missing: changing a prepared column only changes matrix columns that claim it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    PolynomialFeatures,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)

from lester.errors import LesterError
from lester.pipeline import (
    MatrixColumn,
    MatrixProvenanceError,
    matrix_column_provenance,
    matrix_ranges_by_input_column,
)
from lester.pipeline.matrix_provenance import _resolve_columns

N = 40
COLUMNS = ["age", "income", "country", "bank", "is_premium", "mail_text", "tenure", "notes"]


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    age = rng.integers(18, 80, N).astype(float)
    age[[3, 11, 25]] = np.nan
    income = rng.normal(50_000, 12_000, N).round(2)
    country = np.array(["de", "fr", "nl"])[rng.integers(0, 3, N)].astype(object)
    country[[5, 17]] = np.nan
    # Two frequent banks and a long tail that min_frequency / max_categories group together.
    bank = np.array(["ing"] * 15 + ["abn"] * 15 + ["bunq", "rabo", "sns", "asn", "knab"] * 2)
    rng.shuffle(bank)
    words = ["loan", "offer", "mortgage", "account", "card", "savings", "fraud", "help"]
    text = [" ".join(rng.choice(words, 4)) for _ in range(N)]
    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "country": country,
            "bank": bank.astype(object),
            "is_premium": np.array(["yes", "no"])[rng.integers(0, 2, N)].astype(object),
            "mail_text": text,
            "tenure": rng.integers(0, 20, N).astype(float),
            "notes": np.full(N, np.nan),  # all missing: SimpleImputer drops it
        }
    )[COLUMNS]


def provenance(ct: ColumnTransformer, df: pd.DataFrame, y=None) -> list[MatrixColumn]:
    """Fit, derive provenance, and check it against the real transform output."""
    with warnings.catch_warnings():
        # sklearn warns about the all-missing 'notes' column and merged bins; both are expected.
        warnings.simplefilter("ignore", UserWarning)
        ct.fit(df, y)
        width = ct.transform(df).shape[1]
        cols = matrix_column_provenance(ct, sample=df.head(6))
    assert len(cols) == width
    assert [c.index for c in cols] == list(range(width))
    try:
        names = list(ct.get_feature_names_out())
    except AttributeError:
        names = None
    if names is not None:
        assert [c.feature_name for c in cols] == names
    return cols


def inputs(cols: list[MatrixColumn]) -> list[tuple[str, ...]]:
    return [c.input_columns for c in cols]


# --- column selections ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        (["income", "age"], ["income", "age"]),
        ([1, 0], ["income", "age"]),
        ([-2], ["tenure"]),
        ([c in ("age", "tenure") for c in COLUMNS], ["age", "tenure"]),
        (slice(0, 2), ["age", "income"]),
        (slice("age", "income"), ["age", "income"]),  # label slices include their stop
        (
            make_column_selector(dtype_include="number", pattern="^(?:age|income|tenure)$"),
            ["age", "income", "tenure"],
        ),
        (lambda X: ["tenure", "income"], ["tenure", "income"]),
    ],
    ids=[
        "labels",
        "ints",
        "negative-int",
        "bool-mask",
        "int-slice",
        "label-slice",
        "selector",
        "callable",
    ],
)
def test_column_selections(df, spec, expected):
    ct = ColumnTransformer([("scale", make_pipeline(SimpleImputer(), MinMaxScaler()), spec)])
    cols = provenance(ct, df)
    assert inputs(cols) == [(c,) for c in expected]
    assert {c.transformer for c in cols} == {"scale"}
    assert all(c.basis == "exact" for c in cols)


@pytest.mark.parametrize("spec", ["mail_text", 5], ids=["label", "int"])
def test_scalar_selection_feeds_a_text_vectoriser(df, spec):
    ct = ColumnTransformer([("text", CountVectorizer(), spec)])
    cols = provenance(ct, df)
    assert len(cols) == len(ct.named_transformers_["text"].vocabulary_)
    assert set(inputs(cols)) == {("mail_text",)}


@pytest.mark.parametrize(
    "spec",
    [
        ["income", "age"],
        [1, 0],
        [True, False, True] + [False] * 5,
        slice(2, 4),
        slice("country", "bank"),
        "bank",
        3,
        make_column_selector(pattern="^(?:country|bank)$"),
    ],
)
def test_fallback_resolver_agrees_with_sklearn(df, spec):
    # "drop" because a scalar selection cannot be passed through as a 1-D column.
    ct = ColumnTransformer([("t", "drop", spec)], remainder="passthrough").fit(df)
    for name, _, fitted_spec in ct.transformers_:
        positions, _ = _resolve_columns(fitted_spec, COLUMNS, len(COLUMNS))
        assert positions == list(ct._transformer_to_input_indices[name])


# --- nested pipelines -------------------------------------------------------------------------


def test_nested_pipelines(df):
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income"]),
            (
                "cat",
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
                ["country", "is_premium"],
            ),
        ]
    )
    cols = provenance(ct, df)
    assert inputs(cols) == [("age",), ("income",)] + [("country",)] * 3 + [("is_premium",)] * 2


def test_pipeline_with_passthrough_and_none_steps(df):
    pipe = Pipeline(
        [("a", "passthrough"), ("imp", SimpleImputer()), ("b", None), ("scale", StandardScaler())]
    )
    cols = provenance(ColumnTransformer([("num", pipe, ["age", "tenure"])]), df)
    assert inputs(cols) == [("age",), ("tenure",)]


# --- OneHotEncoder ----------------------------------------------------------------------------


def test_onehot_drop_first(df):
    ct = ColumnTransformer([("cat", OneHotEncoder(drop="first"), ["is_premium", "bank"])])
    cols = provenance(ct, df.dropna(subset=["country"]))
    assert inputs(cols) == [("is_premium",)] + [("bank",)] * 6
    ct = ColumnTransformer([("cat", OneHotEncoder(drop="first"), ["country"])])
    cols = provenance(ct, df.dropna(subset=["country"]))
    assert inputs(cols) == [("country",)] * 2  # 3 categories, the first dropped
    assert [c.feature_name for c in cols] == ["cat__country_fr", "cat__country_nl"]


def test_onehot_drop_if_binary(df):
    ct = ColumnTransformer([("cat", OneHotEncoder(drop="if_binary"), ["is_premium", "country"])])
    cols = provenance(ct, df)
    # is_premium is binary (one column); country has de, fr, nl and NaN as a category.
    assert inputs(cols) == [("is_premium",)] + [("country",)] * 4


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
@pytest.mark.parametrize(
    "params, bank_columns",
    [
        ({"min_frequency": 5}, 3),  # ing, abn, infrequent
        ({"max_categories": 3}, 3),  # two most frequent and the infrequent group
        ({"min_frequency": 5, "drop": "first"}, 2),
        ({"max_categories": 2}, 2),
    ],
)
def test_onehot_infrequent_categories(df, params, bank_columns, sparse):
    enc = OneHotEncoder(handle_unknown="infrequent_if_exist", sparse_output=sparse, **params)
    ct = ColumnTransformer(
        [("cat", enc, ["bank", "is_premium"])], sparse_threshold=1.0 if sparse else 0.0
    )
    cols = provenance(ct, df)
    assert sp.issparse(ct.transform(df)) == sparse
    n_premium = len(cols) - bank_columns
    assert inputs(cols) == [("bank",)] * bank_columns + [("is_premium",)] * n_premium
    fitted = ct.named_transformers_["cat"]
    assert [len(list(g)) for g in (cols[:bank_columns], cols[bank_columns:])] == (
        fitted._compute_n_features_outs()
    )
    assert all(c.feature_name.startswith(f"cat__{c.input_columns[0]}_") for c in cols)


def test_onehot_categories_map_to_the_column_they_encode(df):
    # Two columns sharing category values: names alone could not tell them apart.
    frame = df.assign(
        home=df["country"].fillna("de"), work=df["country"].fillna("nl").iloc[::-1].values
    )
    ct = ColumnTransformer([("cat", OneHotEncoder(drop="first"), ["home", "work"])])
    cols = provenance(ct, frame)
    assert inputs(cols) == [("home",)] * 2 + [("work",)] * 2


# --- scalers, imputers, discretisers, polynomials ---------------------------------------------


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler()], ids=["standard", "minmax"])
def test_scalers(df, scaler):
    cols = provenance(ColumnTransformer([("num", scaler, ["income", "tenure"])]), df)
    assert inputs(cols) == [("income",), ("tenure",)]


def test_simple_imputer_with_indicator_and_dropped_all_missing_column(df):
    ct = ColumnTransformer(
        [("imp", SimpleImputer(add_indicator=True), ["age", "income", "notes", "tenure"])]
    )
    cols = provenance(ct, df)
    # 'notes' is all missing: its imputed column is dropped, its indicator stays. 'income' and
    # 'tenure' have no missing values, so they get no indicator.
    assert inputs(cols) == [("age",), ("income",), ("tenure",), ("age",), ("notes",)]
    assert [c.feature_name for c in cols][-2:] == [
        "imp__missingindicator_age",
        "imp__missingindicator_notes",
    ]


@pytest.mark.parametrize(
    "imputer, kept",
    [
        (SimpleImputer(keep_empty_features=True), True),
        (SimpleImputer(strategy="constant", fill_value=0, keep_empty_features=True), True),
        # scikit-learn 1.9 drops all-missing columns under strategy='constant' too.
        (SimpleImputer(strategy="constant", fill_value=0), False),
    ],
    ids=["keep-empty", "constant-keep-empty", "constant"],
)
def test_simple_imputer_all_missing_column(df, imputer, kept):
    cols = provenance(ColumnTransformer([("imp", imputer, ["age", "notes"])]), df)
    assert inputs(cols) == [("age",), ("notes",)][: 2 if kept else 1]


@pytest.mark.parametrize("encode", ["onehot", "onehot-dense", "ordinal"])
def test_kbins_discretizer(df, encode):
    frame = df.assign(tenure=np.r_[np.zeros(N - 6), np.arange(6.0)])  # most bins collapse
    kb = KBinsDiscretizer(n_bins=4, encode=encode, quantile_method="averaged_inverted_cdf")
    ct = ColumnTransformer([("bins", kb, ["income", "tenure"])])
    cols = provenance(ct, frame)
    n_bins = list(ct.named_transformers_["bins"].n_bins_)
    assert n_bins[0] == 4 and n_bins[1] < 4  # sklearn removed tenure's too-narrow bins
    if encode == "ordinal":
        n_bins = [1, 1]
    assert inputs(cols) == [("income",)] * n_bins[0] + [("tenure",)] * n_bins[1]


def test_polynomial_features(df):
    pf = PolynomialFeatures(degree=2)
    ct = ColumnTransformer([("poly", make_pipeline(SimpleImputer(), pf), ["age", "income"])])
    cols = provenance(ct, df)
    # 1, age, income, age^2, age income, income^2
    assert inputs(cols) == [(), ("age",), ("income",), ("age",), ("age", "income"), ("income",)]
    pf = PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)
    ct = ColumnTransformer([("poly", pf, ["income", "tenure"])])
    assert inputs(provenance(ct, df)) == [("income",), ("tenure",), ("income", "tenure")]


def test_spline_transformer(df):
    ct = ColumnTransformer([("spl", SplineTransformer(n_knots=4, degree=2), ["income", "tenure"])])
    cols = provenance(ct, df)
    assert inputs(cols) == [("income",)] * 5 + [("tenure",)] * 5


def test_target_encoder_multiclass(df):
    y = np.array(["low", "mid", "high", "mid"] * 10)
    ct = ColumnTransformer([("te", TargetEncoder(cv=KFold(5)), ["bank", "country"])])
    cols = provenance(ct, df.fillna({"country": "de"}), y)
    assert inputs(cols) == [("bank",)] * 3 + [("country",)] * 3


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vectoriser",
    [CountVectorizer(), TfidfVectorizer(ngram_range=(1, 2)), HashingVectorizer(n_features=32)],
    ids=["count", "tfidf", "hashing"],
)
def test_text_vectorisers(df, vectoriser):
    ct = ColumnTransformer([("text", vectoriser, "mail_text"), ("num", "passthrough", ["tenure"])])
    cols = provenance(ct, df)
    assert set(inputs(cols[:-1])) == {("mail_text",)}
    assert cols[-1].input_columns == ("tenure",)
    if isinstance(vectoriser, HashingVectorizer):
        assert len(cols) == 33  # no feature names from HashingVectorizer, still the right width
        assert cols[0].feature_name is None and cols[-1].feature_name == "num__tenure"


# --- FunctionTransformer ----------------------------------------------------------------------


def _with_total(X):
    X = np.asarray(X, dtype=float)
    return np.c_[X, X.sum(axis=1)]


def test_function_transformer_kinds(df):
    ct = ColumnTransformer(
        [
            ("identity", FunctionTransformer(), ["income", "tenure"]),
            (
                "log_named",
                FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                ["income", "tenure"],
            ),
            ("log_unnamed", FunctionTransformer(np.log1p), ["income", "tenure"]),
            (
                "total",
                FunctionTransformer(
                    _with_total, feature_names_out=lambda self, names: [*names, "total"]
                ),
                ["income", "tenure"],
            ),
        ]
    )
    cols = provenance(ct, df)
    pair = ("income", "tenure")
    assert inputs(cols) == [("income",), ("tenure",)] * 2 + [pair] * 2 + [pair] * 3
    assert [c.basis for c in cols] == (["exact"] * 2 + ["feature_names"] * 2 + ["conservative"] * 5)
    # One unnamed transformer: sklearn gives up on all names, we keep the ones that exist.
    assert cols[2].feature_name == "log_named__income" and cols[4].feature_name is None


# --- remainder, 'drop', 'passthrough' ---------------------------------------------------------


def test_remainder_passthrough_and_drop_and_passthrough_entries(df):
    ct = ColumnTransformer(
        [
            ("gone", "drop", ["notes", "mail_text"]),
            ("keep", "passthrough", ["tenure"]),
            ("cat", OneHotEncoder(), ["is_premium"]),
        ],
        remainder="passthrough",
    )
    cols = provenance(ct, df)
    assert inputs(cols) == [
        ("tenure",),
        ("is_premium",),
        ("is_premium",),
        ("age",),
        ("income",),
        ("country",),
        ("bank",),
    ]
    assert [c.transformer for c in cols] == ["keep", "cat", "cat"] + ["remainder"] * 4
    ranges = matrix_ranges_by_input_column(cols)
    assert "notes" not in ranges and "mail_text" not in ranges

    ct.set_params(remainder="drop")
    assert inputs(provenance(ct, df)) == [("tenure",), ("is_premium",), ("is_premium",)]


def test_remainder_estimator(df):
    ct = ColumnTransformer(
        [("cat", "drop", ["country", "bank", "is_premium", "mail_text", "notes"])],
        remainder=StandardScaler(),
    )
    assert inputs(provenance(ct, df)) == [("age",), ("income",), ("tenure",)]


# --- custom transformers ----------------------------------------------------------------------


class ClipOutliers(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Column-wise, and says so through one-to-one feature names."""

    def fit(self, X, y=None):
        self.high_ = np.nanpercentile(np.asarray(X, dtype=float), 95, axis=0)
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X):
        return np.minimum(np.asarray(X, dtype=float), self.high_)


class RatioFeatures(TransformerMixin, BaseEstimator):
    """Opaque: three outputs, no names."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return np.c_[X[:, 0] / (X[:, 1] + 1), X[:, 1] - X[:, 0], X.mean(axis=1)]


class KeepSecond(TransformerMixin, BaseEstimator):
    """Keeps its second column and names it: a selection visible through names."""

    def fit(self, X, y=None):
        self.names_ = list(X.columns)
        return self

    def transform(self, X):
        return np.asarray(X)[:, [1]]

    def get_feature_names_out(self, input_features=None):
        return np.array([self.names_[1]], dtype=object)


class ShrinksOnSmallInput(TransformerMixin, BaseEstimator):
    """Buggy: its width depends on how many rows it sees."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return X if len(X) >= 10 else X[:, :1]


def test_custom_transformers(df):
    ct = ColumnTransformer(
        [
            ("clip", ClipOutliers(), ["income", "tenure"]),
            ("ratio", RatioFeatures(), ["income", "tenure"]),
            ("second", KeepSecond(), ["income", "tenure"]),
            ("one_input", RatioFeatures(), ["tenure", "tenure"]),
        ]
    )
    cols = provenance(ct, df)
    pair = ("income", "tenure")
    assert (
        inputs(cols) == [("income",), ("tenure",)] + [pair] * 3 + [("tenure",)] + [("tenure",)] * 3
    )
    assert [c.basis for c in cols[:6]] == ["feature_names"] * 2 + ["conservative"] * 3 + [
        "feature_names"
    ]


def test_custom_transformer_whose_width_changes_is_named(df):
    ct = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age"]),
            ("shrinks", ShrinksOnSmallInput(), ["income", "tenure"]),
        ]
    ).fit(df)
    with pytest.raises(MatrixProvenanceError, match=r"'shrinks'.*produced 1 columns.*but 2"):
        matrix_column_provenance(ct, sample=df.head(3))


def test_inconsistent_fitted_attributes_name_the_transformer(df):
    ct = ColumnTransformer([("cat", OneHotEncoder(), ["country"])]).fit(df)
    ct.named_transformers_["cat"].categories_ = [np.array(["de", "fr"], dtype=object)]
    with pytest.raises(MatrixProvenanceError, match=r"'cat' \(OneHotEncoder\).*2 output.*4"):
        matrix_column_provenance(ct)


# --- feature names, nesting, selectors --------------------------------------------------------


@pytest.mark.parametrize("verbose", [True, False])
def test_verbose_feature_names_out(df, verbose):
    ct = ColumnTransformer(
        [("num", StandardScaler(), ["income"]), ("cat", OneHotEncoder(), ["is_premium"])],
        verbose_feature_names_out=verbose,
    )
    cols = provenance(ct, df)
    expected = ["income", "is_premium_no", "is_premium_yes"]
    if verbose:
        expected = ["num__income", "cat__is_premium_no", "cat__is_premium_yes"]
    assert [c.feature_name for c in cols] == expected


def test_pandas_output(df):
    ct = ColumnTransformer(
        [("cat", OneHotEncoder(sparse_output=False), ["country"]), ("num", "passthrough", [1])],
        remainder="drop",
    ).set_output(transform="pandas")
    cols = provenance(ct, df)
    assert [c.feature_name for c in cols] == list(ct.transform(df).columns)
    assert inputs(cols) == [("country",)] * 4 + [("income",)]


def test_nested_column_transformer_feature_union_and_selector(df):
    inner = ColumnTransformer(
        [("scale", StandardScaler(), ["income"]), ("cat", OneHotEncoder(drop="first"), ["bank"])],
        remainder="passthrough",
    )
    union = FeatureUnion(
        [
            ("scaled", StandardScaler()),
            ("drop_me", "drop"),
            ("norm", Normalizer()),
            ("same", "passthrough"),
        ]
    )
    ct = ColumnTransformer(
        [
            ("inner", make_pipeline(inner, VarianceThreshold(1e-9)), ["income", "bank", "tenure"]),
            ("union", union, ["income", "tenure"]),
        ]
    )
    cols = provenance(ct, df)
    pair = ("income", "tenure")
    assert inputs(cols) == (
        [("income",)]
        + [("bank",)] * 6
        + [("tenure",)]
        + [("income",), ("tenure",)]
        + [pair] * 2
        + [("income",), ("tenure",)]
    )


def test_numpy_fitted_encoder_needs_names(df):
    X = df[["age", "income"]].to_numpy()
    ct = ColumnTransformer(
        [("num", make_pipeline(SimpleImputer(), StandardScaler()), [1])], remainder="passthrough"
    ).fit(X)
    cols = matrix_column_provenance(ct, input_columns=["age", "income"])
    assert inputs(cols) == [("income",), ("age",)]
    assert inputs(matrix_column_provenance(ct)) == [("x1",), ("x0",)]
    with pytest.raises(MatrixProvenanceError, match="3 input_columns given"):
        matrix_column_provenance(ct, input_columns=["a", "b", "c"])


def test_bad_arguments(df):
    ct = ColumnTransformer([("num", StandardScaler(), ["income"])])
    with pytest.raises(MatrixProvenanceError, match="not fitted"):
        matrix_column_provenance(ct)
    ct.fit(df)
    with pytest.raises(LesterError, match="differ from the columns"):
        matrix_column_provenance(ct, input_columns=["income"])
    with pytest.raises(TypeError, match="got StandardScaler"):
        matrix_column_provenance(StandardScaler().fit(df[["income"]]))  # type: ignore[arg-type]


def test_ranges_by_input_column():
    cols = [
        MatrixColumn(0, "a", "t", ("x",)),
        MatrixColumn(1, "b", "t", ("x", "y")),
        MatrixColumn(2, "c", "t", ()),
        MatrixColumn(3, "d", "t", ("x",)),
        MatrixColumn(4, "e", "t", ("y",)),
    ]
    assert matrix_ranges_by_input_column(cols) == {"x": [(0, 2), (3, 4)], "y": [(1, 2), (4, 5)]}
    assert matrix_ranges_by_input_column([]) == {}


# --- no missing dependencies: perturb one input, watch which matrix columns move ---------------


def composite_encoder() -> ColumnTransformer:
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()),
                ["age", "income", "notes"],
            ),
            (
                "cat",
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(drop="first")),
                ["country"],
            ),
            (
                "bank",
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5),
                ["bank"],
            ),
            (
                "bins",
                KBinsDiscretizer(n_bins=3, quantile_method="averaged_inverted_cdf"),
                ["tenure"],
            ),
            ("poly", make_pipeline(SimpleImputer(), PolynomialFeatures(2)), ["age", "tenure"]),
            ("text", TfidfVectorizer(), "mail_text"),
            ("log", FunctionTransformer(np.log1p), ["income", "tenure"]),
            ("ratio", RatioFeatures(), ["age", "income"]),
            ("clip", ClipOutliers(), slice("income", "income")),
        ],
        remainder="passthrough",  # is_premium
        sparse_threshold=0.5,
    )


def _perturbed(df: pd.DataFrame, column: str, rows: np.ndarray, rng) -> pd.DataFrame:
    out = df.copy()
    values = out[column].to_numpy(copy=True)
    if column == "mail_text":
        values[rows] = ["fraud fraud urgent " + v for v in values[rows]]
    elif column == "is_premium":
        values[rows] = 1.0 - values[rows]
    elif values.dtype == object:
        # Categories it already has (NaN included where it had some), so transform accepts them.
        pool = pd.unique(values)
        values[rows] = rng.choice(pool, len(rows))
    else:
        # Missing values only where the column already had some: KBinsDiscretizer refuses NaN.
        nan_share = 0.3 if np.isnan(values).any() else 0.0
        new = np.abs(rng.normal(30, 20, len(rows)))  # log1p stays finite
        values[rows] = np.where(rng.random(len(rows)) < nan_share, np.nan, new)
    out[column] = values
    return out


def _dense(X) -> np.ndarray:
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=float)


@pytest.mark.parametrize("seed", range(3))
def test_perturbing_an_input_only_moves_columns_that_claim_it(df, seed):
    rng = np.random.default_rng(seed)
    # Numeric is_premium, so the passthrough remainder leaves a float matrix to compare.
    df = df.assign(is_premium=(df["is_premium"] == "yes").astype(float))
    ct = composite_encoder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cols = provenance(ct, df)
        base = _dense(ct.transform(df))
        moved_anything = set()
        for column in COLUMNS:
            rows = rng.choice(N, 8, replace=False)
            changed = _dense(ct.transform(_perturbed(df, column, rows, rng)))
            moved = np.flatnonzero(~np.isclose(changed, base, equal_nan=True).all(axis=0))
            claimed = {c.index for c in cols if column in c.input_columns}
            assert set(moved) <= claimed, (column, sorted(set(moved) - claimed))
            moved_anything |= set(moved)
    # The test has teeth: most matrix columns actually moved under some perturbation.
    assert len(moved_anything) > 0.5 * len(cols)
    kinds = {c.transformer for c in cols}
    assert kinds == {
        "num",
        "cat",
        "bank",
        "bins",
        "poly",
        "text",
        "log",
        "ratio",
        "clip",
        "remainder",
    }


def test_docstring_examples_run():
    import doctest

    import lester.pipeline.matrix_provenance as module

    assert doctest.testmod(module, raise_on_error=False).failed == 0


def test_a_pipeline_after_the_column_transformer_keeps_or_widens_the_provenance() -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import Normalizer

    frame = pd.DataFrame({"c": ["a", "b", "a"], "x": [1.0, 2.0, 3.0], "z": [3.0, 4.0, 5.0]})
    features = ColumnTransformer([("o", OneHotEncoder(), ["c"]), ("s", StandardScaler(), ["x"])])
    scaled = Pipeline([("f", features), ("sc", StandardScaler())]).fit(frame)
    assert [c.input_columns for c in matrix_column_provenance(scaled)] == [("c",), ("c",), ("x",)]
    normalised = Pipeline([("f", features), ("n", Normalizer())]).fit(frame)  # divides by the row's norm
    columns = matrix_column_provenance(normalised)
    assert {c.input_columns for c in columns} == {("c", "x")} and {c.basis for c in columns} == {"conservative"}
