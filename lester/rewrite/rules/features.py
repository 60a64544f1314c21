"""Reading the feature, label and model code of a script (numpy and pandas).

Feature vectors are followed as columns of the prepared row set: ``np.array([len(r["title"])
for r in rows])`` projects a ``title`` length column in ``dataprep``; ``(v - v.mean()) /
v.std()`` marks it standardised (numpy's ``std`` is the population std, like
:class:`~sklearn.preprocessing.StandardScaler`), ``(v - v.min()) / (v.max() - v.min())``
min-max scaled; a one-hot matrix filled through an index dict over ``sorted(set(...))`` is a
:class:`~sklearn.preprocessing.OneHotEncoder`; ``np.hstack`` / ``np.column_stack`` /
``np.concatenate`` or the positions written in a row loop fix the block order. The result is
a list of :class:`~lester.rewrite.rules.values.Block` that the emitter turns into a
ColumnTransformer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst
import libcst.matchers as m

from lester.rewrite.rules.expressions import (
    GLOBAL,
    ColumnB,
    RowB,
    Untranslatable,
    code_of,
    is_literal,
    literal_value,
    translate,
)
from lester.rewrite.rules.plan import identifier
from lester.rewrite.rules.values import (
    Block,
    Categories,
    CategoryIndex,
    Count,
    EncodedLabel,
    Frame,
    Label,
    ListsByKey,
    Matrix,
    Rows,
    Series,
    Shape,
    Stat,
    Vec,
    Zeros,
)

if TYPE_CHECKING:
    from lester.rewrite.rules.dataflow import ScriptReader

SKLEARN_MODEL_HINTS = {"LogisticRegression", "RandomForestClassifier", "LinearRegression", "Ridge",
                       "DecisionTreeClassifier", "GradientBoostingClassifier", "SVC", "KNeighborsClassifier",
                       "MLPClassifier", "GaussianNB", "SGDClassifier"}

_NP = ("np.", "numpy.")
_ELEMENTWISE = {"log", "log1p", "sqrt", "exp", "abs", "log2", "log10", "floor", "ceil", "sign"}


class Lin(dict):
    """A linear form over category-count symbols: ``{"": 2, "countries": 1}`` is len(countries) + 2."""

    def __add__(self, other):
        out = Lin(self)
        for k, v in other.items():
            out[k] = out.get(k, 0) + v
        return Lin({k: v for k, v in out.items() if v != 0 or k == ""})

    def __sub__(self, other):
        return self + Lin({k: -v for k, v in other.items()})

    def key(self):
        return tuple(sorted((k, v) for k, v in self.items() if v != 0))

    def order(self) -> float:
        return sum(v * (1e6 if k else 1) for k, v in self.items())


def const_lin(value: int) -> Lin:
    return Lin({"": value})


# -- values of expressions -------------------------------------------------------------------
def array_expression(it: ScriptReader, node: cst.BaseExpression, line_node) -> Any:
    """The value of a numpy / list / category expression at module level."""
    try:
        return _array(it, node, line_node)
    except Untranslatable as exc:
        raise it.fail(line_node, f"{code_of(node).strip()[:80]!r}: {exc}", "encode_features") from None


def _array(it: ScriptReader, node, line_node) -> Any:
    if isinstance(node, cst.Name):
        return it.value(node, line_node)
    if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
        return _comprehension(it, node, line_node)
    if isinstance(node, cst.DictComp):
        return _category_index(it, node, line_node)
    if isinstance(node, cst.BinaryOperation):
        return _binary(it, node, line_node)
    if isinstance(node, cst.Integer):
        return const_lin(int(node.value))
    if isinstance(node, cst.Attribute):
        return it.value(node, line_node)
    if isinstance(node, cst.Subscript):
        owner = it.value(node.value, line_node)
        # v[:, None] / v[:, np.newaxis]: a column vector
        if isinstance(owner, Vec):
            return owner
        if isinstance(owner, (Frame, Series, ListsByKey)):
            return it.value(node, line_node)
        raise Untranslatable("indexing is not translated here")
    if isinstance(node, cst.Call):
        return _call(it, node, line_node)
    if isinstance(node, (cst.List, cst.Tuple)):
        return [_array(it, el.value, line_node) for el in node.elements]
    raise Untranslatable(f"{type(node).__name__} is not translated")


def _func_name(call: cst.Call) -> str:
    return code_of(call.func)


def _call(it: ScriptReader, node: cst.Call, line_node) -> Any:
    func = _func_name(node)
    args = [a.value for a in node.args if a.keyword is None]
    kwargs = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
    short = func.split(".", 1)[1] if func.startswith(_NP) else None
    if func == "len" and len(args) == 1:
        target = it.value(args[0], line_node)
        if isinstance(target, (Rows, Frame, Vec)):
            return Count(target.rs)
        if isinstance(target, Categories):
            return Lin({target.symbol: 1})
        if isinstance(target, CategoryIndex):
            return Lin({target.categories.symbol: 1})
        if isinstance(args[0], cst.Name) and isinstance(it.constants.get(args[0].value), (list, tuple)):
            return const_lin(len(it.constants[args[0].value]))
        raise Untranslatable("len() of something other than rows or categories")
    if func == "sum" and len(args) == 1 and not kwargs:
        return _sum(it, args[0], line_node)
    if func.rsplit(".", 1)[-1] == "label_binarize" and len(args) == 1 and set(kwargs) == {"classes"}:
        classes = it.const(kwargs["classes"], line_node)
        if not (isinstance(classes, (list, tuple)) and len(classes) == 2):
            raise Untranslatable("label_binarize with other than two classes (a label matrix)")
        return EncodedLabel(_as_vec(it, _array(it, args[0], line_node), line_node), "binarize", list(classes))
    if func in ("min", "max") and len(args) == 1 and not kwargs:
        return Stat(_as_vec(it, _array(it, args[0], line_node), line_node), func)
    if func in ("math.sqrt", "np.sqrt", "numpy.sqrt") and len(args) == 1:
        inner = _array(it, args[0], line_node)
        if isinstance(inner, Stat):
            if inner.kind not in ("var", "var1"):
                raise Untranslatable("the square root of a statistic other than a variance")
            return Stat(inner.vec, "std" if inner.kind == "var" else "std1")
    if func == "sorted" and len(args) == 1 and not kwargs:
        inner = args[0]
        if m.matches(inner, m.Call(func=m.Name("set"))):
            vec = _as_column(it, inner.args[0].value, line_node)
            return _categories(it, vec, "sorted")
        if isinstance(inner, cst.SetComp):
            vec = _as_column(it, cst.GeneratorExp(elt=inner.elt, for_in=inner.for_in), line_node)
            return _categories(it, vec, "sorted")
        if m.matches(inner, m.Call(func=m.Attribute(attr=m.Name("unique")))):
            vec = _as_column(it, inner.func.value, line_node)
            return _categories(it, vec, "sorted")
        raise Untranslatable("sorted() of something other than set(...) or .unique()")
    if func == "list" and len(args) == 1 and m.matches(args[0], m.Call(func=m.Attribute(
            value=m.Name("dict"), attr=m.Name("fromkeys")))):
        vec = _as_column(it, args[0].args[0].value, line_node)
        return _categories(it, vec, "first_seen")
    if func == "dict" and len(args) == 1 and not kwargs and m.matches(args[0], m.Call(
            func=m.Name("zip"), args=[m.Arg(m.Name()), m.Arg(m.Call(func=m.Name("range"), args=[m.Arg(m.Call(
                func=m.Name("len"), args=[m.Arg(m.Name())]))]))])):
        # dict(zip(categories, range(len(categories)))): the position of each category
        names = args[0].args[0].value.value, args[0].args[1].value.args[0].value.args[0].value.value
        if names[0] == names[1]:
            cats = it.value(args[0].args[0].value, line_node)
            if isinstance(cats, Categories):
                return CategoryIndex(cats)
    if short in ("array", "asarray") or func == "list":
        inner = _array(it, args[0], line_node)
        if isinstance(inner, list):
            return _stack(it, inner, line_node, rows=True)
        return _as_vec_or_matrix(it, inner, line_node)
    if short == "zeros":
        shape = args[0]
        if isinstance(shape, cst.Tuple) and len(shape.elements) == 1:
            shape = shape.elements[0].value
        if not isinstance(shape, cst.Tuple):  # np.zeros(len(rows), dtype=int): one value per row
            count = _array(it, shape, line_node)
            dtype = code_of(kwargs["dtype"]).strip("'\"") if "dtype" in kwargs else "float"
            kind = {"int": "int", "float": "float", "np.int64": "int", "np.float64": "float", "int64": "int",
                    "float64": "float", "np.int_": "int", "np.float_": "float"}.get(dtype)
            if not isinstance(count, Count) or kind is None or set(kwargs) - {"dtype"}:
                raise Untranslatable("np.zeros(len(rows)) of int or float expected")
            return Zeros(count.rs, Lin(), line=it.line(line_node), vector=kind)
        if not isinstance(shape, cst.Tuple) or len(shape.elements) != 2:
            raise Untranslatable("np.zeros of a shape other than (rows, columns)")
        count = _array(it, shape.elements[0].value, line_node)
        width = _array(it, shape.elements[1].value, line_node)
        if not isinstance(count, Count) or not isinstance(width, Lin):
            raise Untranslatable("np.zeros((len(rows), width)) expected")
        return Zeros(count.rs, width, line=it.line(line_node))
    if short in ("hstack", "column_stack", "concatenate", "c_"):
        if short == "concatenate" and "axis" in kwargs and code_of(kwargs["axis"]) not in ("1", "-1"):
            raise Untranslatable("np.concatenate along rows")
        parts = _array(it, args[0], line_node)
        if not isinstance(parts, list):
            raise Untranslatable(f"np.{short} of something other than a list")
        return _stack(it, parts, line_node)
    if short == "where" and len(args) == 3:
        return _elementwise(it, node, line_node, "label")
    if short in ("mean", "std", "min", "max") and len(args) == 1:
        vec = _as_vec(it, _array(it, args[0], line_node), line_node)
        kind = short
        if short == "std" and "ddof" in kwargs and code_of(kwargs["ddof"]) == "1":
            kind = "std1"
        return Stat(vec, kind)
    if short in _ELEMENTWISE:
        return _elementwise(it, node, line_node, short)
    if isinstance(node.func, cst.Attribute):
        method = node.func.attr.value
        owner_node = node.func.value
        owner = _array(it, owner_node, line_node)
        if method in ("mean", "std", "min", "max") and isinstance(owner, (Vec, Series)):
            vec = _as_vec(it, owner, line_node)
            kind = method
            ddof = kwargs.get("ddof")
            if method == "std" and (isinstance(owner, Series) and owner.column is not None):
                kind = "std1" if ddof is None or code_of(ddof) == "1" else "std"
            elif method == "std" and ddof is not None and code_of(ddof) == "1":
                kind = "std1"
            return Stat(vec, kind)
        if method in ("reshape", "ravel", "flatten", "to_numpy", "copy") or (
                method == "astype" and isinstance(owner, (Vec, Matrix))):
            if isinstance(owner, (Vec, Matrix, EncodedLabel)):
                return owner
            if isinstance(owner, Series):
                return _as_vec(it, owner, line_node)
            if isinstance(owner, Rows):
                return _as_vec_or_matrix(it, owner, line_node)
        if method == "astype" and isinstance(owner, Series):
            return _elementwise(it, node, line_node, "astype")
        if method == "sum" and isinstance(owner, (Vec, Series)):
            raise Untranslatable("a sum over all rows is not a per-row feature")
        if isinstance(owner, Frame):
            from lester.rewrite.rules import pandas_ops
            found = pandas_ops.call(it, node, line_node)
            if found is not None:
                return found
        if method == "fit_transform" and isinstance(node.func.value, cst.Name) and len(args) == 1 and not kwargs:
            return _fitted_transform(it, node.func.value.value, args[0], line_node)
    raise Untranslatable(f"{func}(...) is not translated")


# scikit-learn scalers a script fits on its whole feature table, as the matrix's block kinds
_SCALERS = {"StandardScaler": "standard", "MinMaxScaler": "minmax"}


def _fitted_transform(it: ScriptReader, name: str, features, line_node) -> Matrix:
    """``name.fit_transform(X)`` of a scikit-learn object the script built: a ``LabelEncoder``
    gives the label; its own ``ColumnTransformer`` on a table is the encoder; ``StandardScaler()``
    or ``MinMaxScaler()`` scale every column of X (a one-hot block becomes one-hot then scaled),
    fitted where ``encode_features`` is."""
    made = it.sklearn_defs.get(name)
    if isinstance(made, cst.Call) and code_of(made.func).rsplit(".", 1)[-1] == "LabelEncoder" and not made.args:
        return EncodedLabel(_as_vec(it, _array(it, features, line_node), line_node), "label")
    kind = _SCALERS.get(code_of(made.func).rsplit(".", 1)[-1]) if isinstance(made, cst.Call) else None
    table = _array(it, features, line_node)
    if isinstance(made, cst.Call) and (kind is None or made.args) and isinstance(table, Frame) and table.columns \
            and not table.dummies and not getattr(table, "aliases", None):
        # features = ColumnTransformer([...]); X = features.fit_transform(df): that is the encoder
        from lester.rewrite.rules.estimators import resolved

        return Matrix(table.rs, [Block("encoder", list(table.columns), code=resolved(code_of(made), it.sklearn_defs))])
    if kind is None or made.args:
        raise Untranslatable(f"{name}.fit_transform(...) of something other than StandardScaler() or MinMaxScaler()")
    matrix = matrix_of(it, table, line_node)
    blocks = []
    for block in matrix.blocks:
        if block.kind == "passthrough":
            blocks.append(Block(kind, list(block.columns)))
        elif block.kind == "onehot" and block.then is None:
            blocks.append(Block("onehot", list(block.columns), block.categories, then=kind))
        else:
            raise Untranslatable(f"{name}.fit_transform(...) of features the script already scaled")
    return Matrix(matrix.rs, blocks)


def _sum(it: ScriptReader, node, line_node) -> Stat:
    """``sum(values)`` or ``sum((v - mean) ** 2 for v in values)`` over one column (hand-made statistics)."""
    if isinstance(node, (cst.GeneratorExp, cst.ListComp)):
        comp = node.for_in
        if comp.inner_for_in is not None or comp.ifs or not isinstance(comp.target, cst.Name):
            raise Untranslatable("a sum over a filtering or nested comprehension")
        vec = _as_vec(it, _array(it, comp.iter, line_node), line_node)
        mean = _squared_deviation(it, node.elt, comp.target.value, line_node)
        if mean is None or mean.vec.column != vec.column or mean.vec.rs.id != vec.rs.id or vec.scaler or vec.stage:
            raise Untranslatable("a sum over a comprehension other than squared deviations from the mean")
        return Stat(vec, "ssd")
    vec = _as_vec(it, _array(it, node, line_node), line_node)
    if vec.scaler or vec.stage:
        raise Untranslatable("a sum of scaled values")
    return Stat(vec, "sum")


def _squared_deviation(it: ScriptReader, elt, name: str, line_node) -> Stat | None:
    """The mean in ``(v - mean) ** 2`` / ``(v - mean) * (v - mean)``, else None."""
    def deviation(node):
        if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Subtract)
                and m.matches(node.left, m.Name(name)) and isinstance(node.right, cst.Name)):
            return None
        found = it.env.get(node.right.value)
        return found if isinstance(found, Stat) and found.kind == "mean" else None
    if isinstance(elt, cst.BinaryOperation) and isinstance(elt.operator, cst.Power) and _num(elt.right) == 2:
        return deviation(elt.left)
    if (isinstance(elt, cst.BinaryOperation) and isinstance(elt.operator, cst.Multiply)
            and code_of(elt.left).strip() == code_of(elt.right).strip()):
        return deviation(elt.left)
    return None


def _scaled_comprehension(it: ScriptReader, ctx, elt, target, line_node) -> Vec | None:
    """``[(v - mean) / std for v in values]`` with statistics computed by hand: a scaled column."""
    stats = [n for n in m.findall(elt, m.Name()) if isinstance(it.env.get(n.value), Stat)]
    if not stats or not isinstance(target, cst.Name) or not isinstance(ctx.names.get(target.value), ColumnB):
        return None
    column = ctx.names[target.value].column
    temp = "__values_of_the_row"

    class Rename(cst.CSTTransformer):
        def leave_Name(self, original, updated):
            return updated.with_changes(value=temp) if updated.value == target.value else updated
    it.env[temp] = Vec(ctx.rs, column)
    try:
        value = _array(it, elt.visit(Rename()), line_node)
    finally:
        del it.env[temp]
    if not isinstance(value, Vec) or value.scaler is None or value.stage:
        raise Untranslatable("a comprehension over statistics that is not a known scaling")
    return value


def _comprehension(it: ScriptReader, node, line_node) -> Any:
    """``[expr for r in rows]`` (a per-row column) or ``[[...] for r in rows]`` (matrix rows),
    ``if`` clauses filtering the rows first."""
    if len(node.for_in.children) and node.for_in.inner_for_in is not None:
        raise Untranslatable("nested comprehension loops")
    comp = node.for_in
    from lester.rewrite.rules.dataflow import Ctx
    source = it.iterable(comp.iter, None, {}, line_node)
    ctx = Ctx(None, {})
    it.start_rows(ctx, source, comp.target, line_node)
    if ctx.rs is None:
        raise Untranslatable("a comprehension over unparsed lines")
    for condition in comp.ifs:  # [e for r in rows if c]: the rows of a loop that skips `not c`
        guard = cst.If(test=cst.UnaryOperation(cst.Not(), condition.test.with_changes(
            lpar=[cst.LeftParen()], rpar=[cst.RightParen()])), body=cst.IndentedBlock(
            [cst.SimpleStatementLine([cst.Continue()])]))
        it._copy_position(guard, line_node)
        it.loop_statement(guard, ctx)
    elt = node.elt
    if isinstance(elt, (cst.List, cst.Tuple)):
        blocks = []
        for el in elt.elements:
            onehot = _onehot_comprehension(it, ctx, el.value, line_node)
            if onehot is not None:
                blocks.append(onehot)
                continue
            col = it.column_of(ctx, el.value, line_node, _hint(el.value))
            blocks.append(Block("passthrough", [col]))
        return Matrix(ctx.rs, blocks)
    onehot = _onehot_comprehension(it, ctx, elt, line_node)
    if onehot is not None:
        return Matrix(ctx.rs, [onehot])
    scaled = _scaled_comprehension(it, ctx, elt, comp.target, line_node)
    if scaled is not None:
        return scaled
    col = it.column_of(ctx, elt, line_node, _hint(elt))
    return Rows(ctx.rs, Shape("scalar", {None: col}))


def _onehot_comprehension(it, ctx, elt, line_node):
    """``[1.0 if r["c"] == cat else 0.0 for cat in categories]`` inside a row comprehension."""
    if not isinstance(elt, cst.ListComp) or elt.for_in.inner_for_in or elt.for_in.ifs:
        return None
    if isinstance(elt.for_in.iter, cst.Name) and isinstance(it.constants.get(elt.for_in.iter.value), (list, tuple)):
        values = list(it.constants[elt.for_in.iter.value])
        if len(set(values)) != len(values):
            return None  # repeated categories repeat columns, which an encoder does not
        cats = Categories(ctx.rs, "", "literal", values=values)
    else:
        cats = it.value(elt.for_in.iter, line_node)
    if not isinstance(cats, Categories) or not isinstance(elt.for_in.target, cst.Name):
        return None
    cat = elt.for_in.target.value
    body = elt.elt
    test = body.test if isinstance(body, cst.IfExp) else body
    if isinstance(body, cst.IfExp) and not (_num(body.body) == 1 and _num(body.orelse) == 0):
        return None
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.Equal)):
        return None
    a, b = test.left, test.comparisons[0].comparator
    other = b if m.matches(a, m.Name(cat)) else (a if m.matches(b, m.Name(cat)) else None)
    if other is None:
        return None
    col = it.column_of(ctx, other, line_node, _hint(other))
    if col != cats.column or ctx.rs.id != cats.rs.id:
        # categories of another column: still a one-hot over this column with those categories
        pass
    return Block("onehot", [col], cats)


def _num(node):
    try:
        return float(literal_value(node))
    except Exception:
        return None


def _hint(node) -> str:
    if isinstance(node, cst.Subscript):
        try:
            return str(literal_value(node.slice[0].slice.value))
        except Exception:
            return "feature"
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.args:
        return f"{node.func.value}_{_hint(node.args[0].value)}"
    if isinstance(node, cst.Name):
        return node.value
    return "feature"


def _category_index(it: ScriptReader, node: cst.DictComp, line_node) -> CategoryIndex:
    """``{c: i for i, c in enumerate(categories)}``."""
    comp = node.for_in
    if not (m.matches(comp.iter, m.Call(func=m.Name("enumerate"))) and isinstance(comp.target, cst.Tuple)):
        raise Untranslatable("a dict comprehension other than {c: i for i, c in enumerate(...)}")
    i, c = (el.value for el in comp.target.elements)
    if not (m.matches(node.key, m.Name(c.value)) and m.matches(node.value, m.Name(i.value))):
        raise Untranslatable("a dict comprehension other than {c: i for i, c in enumerate(...)}")
    source = comp.iter.args[0].value
    if isinstance(source, cst.Name) and isinstance(it.constants.get(source.value), (list, tuple)):
        values = list(it.constants[source.value])
        if len(set(values)) != len(values):
            raise Untranslatable("repeated categories")
        return CategoryIndex(Categories(None, "", "literal", values=values))
    cats = it.value(source, line_node)
    if not isinstance(cats, Categories):
        raise Untranslatable("enumerate over something other than categories")
    return CategoryIndex(cats)


def _categories(it: ScriptReader, vec, order: str) -> Categories:
    rs, col = vec
    symbol = f"cat{len(it.plan.notes)}_{col}_{id(rs) % 997}"
    return Categories(rs, col, order, symbol=symbol)


def _as_column(it: ScriptReader, node, line_node) -> tuple:
    """(row set, column) of a per-row value: a list built per row, a comprehension, a Series."""
    value = _array(it, node, line_node)
    if isinstance(value, Rows) and value.shape.kind == "scalar":
        return value.rs, value.shape.fields[None]
    if isinstance(value, Vec) and value.scaler is None:
        return value.rs, value.column
    if isinstance(value, Series):
        vec = _as_vec(it, value, line_node)
        return vec.rs, vec.column
    raise Untranslatable("expected the values of one column")


def _as_vec(it: ScriptReader, value, line_node) -> Vec:
    if isinstance(value, Vec):
        return value
    if isinstance(value, Rows) and value.shape.kind == "scalar":
        if value.rs.columns.get(value.shape.fields[None]) == "collection":
            raise Untranslatable("a list of lists per row (a matrix built row by row)")
        return Vec(value.rs, value.shape.fields[None])
    if isinstance(value, Series):
        if value.column is not None and value.expr is None:
            return Vec(value.rs, value.column)
        from lester.rewrite.rules import pandas_ops
        col = pandas_ops.project_series(it, value, line_node)
        return Vec(value.rs, col)
    raise Untranslatable("expected a vector of one value per row")


def _as_vec_or_matrix(it, value, line_node):
    if isinstance(value, Matrix):
        return value
    if isinstance(value, Rows) and value.shape.kind == "matrix":
        return Matrix(value.rs, list(value.shape.fields["blocks"]))
    if isinstance(value, Rows) and value.shape.kind != "scalar":
        return Matrix(value.rs, [Block("passthrough", value.shape.columns())])
    if isinstance(value, Frame) and value.columns is not None:
        aliases = getattr(value, "aliases", None) or {}
        return Matrix(value.rs, [Block("passthrough", [aliases.get(c, c) for c in value.columns])])
    return _as_vec(it, value, line_node)


def as_array(it: ScriptReader, owner, node) -> Any:
    """``series.values`` / ``frame.values``."""
    if isinstance(owner, Frame):
        return _as_vec_or_matrix(it, owner, node)
    if isinstance(owner, (Vec, Matrix)):
        return owner
    return _as_vec(it, owner, node)


def _stack(it: ScriptReader, parts: list, line_node, rows: bool = False) -> Matrix:
    blocks: list[Block] = []
    rs = None
    for part in parts:
        if isinstance(part, Zeros):
            part = finish_zeros(it, part, line_node)
        if isinstance(part, (Rows, Series)) or (isinstance(part, Vec)):
            vec = _as_vec(it, part, line_node)
            if vec.stage:
                raise Untranslatable("a half-finished scaling")
            blocks.append(Block(vec.scaler or "passthrough", [vec.column]))
            part_rs = vec.rs
        elif isinstance(part, Matrix):
            blocks += part.blocks
            part_rs = part.rs
        else:
            raise Untranslatable("stacking something other than feature columns")
        if rs is not None and part_rs.id != rs.id:
            raise Untranslatable("stacking features computed from different rows")
        rs = part_rs
    if rows:
        raise Untranslatable("np.array of a list of vectors stacks rows, not columns")
    return Matrix(rs, blocks)


def _binary(it: ScriptReader, node: cst.BinaryOperation, line_node) -> Any:
    if isinstance(node.operator, cst.Power) and _num(node.right) == 0.5:  # variance ** 0.5
        inner = _array(it, node.left, line_node)
        if isinstance(inner, Stat) and inner.kind in ("var", "var1"):
            return Stat(inner.vec, "std" if inner.kind == "var" else "std1")
        raise Untranslatable("a square root of something other than a variance")
    left = _array(it, node.left, line_node)
    right = _array(it, node.right, line_node)
    op = node.operator
    if isinstance(left, Lin) and isinstance(right, Lin):
        if isinstance(op, cst.Add):
            return left + right
        if isinstance(op, cst.Subtract):
            return left - right
    if isinstance(left, Rows) and left.shape.kind == "scalar":
        left = _as_vec(it, left, line_node)
    if isinstance(left, Series):
        left = _as_vec(it, left, line_node)
    if isinstance(right, Series):
        right = _as_vec(it, right, line_node)
    # (v - v.mean()) / v.std()   and   (v - v.min()) / (v.max() - v.min())
    if isinstance(left, Vec) and isinstance(right, Stat) and right.vec.column == left.column:
        if isinstance(op, cst.Subtract) and left.stage == "" and left.scaler is None:
            if right.kind == "mean":
                return Vec(left.rs, left.column, stage="centered")
            if right.kind == "min":
                return Vec(left.rs, left.column, stage="shifted")
        if isinstance(op, cst.Divide):
            if left.stage == "centered" and right.kind in ("std", "std1"):
                return Vec(left.rs, left.column, scaler="standard" if right.kind == "std" else "std1")
            if left.stage == "shifted" and right.kind == "range":
                return Vec(left.rs, left.column, scaler="minmax")
            if left.stage == "" and left.scaler is None and right.kind == "max":
                return Vec(left.rs, left.column, scaler="maxdiv")
    if isinstance(left, Count) and isinstance(right, Lin) and set(right) <= {""}:
        if isinstance(op, cst.Subtract):
            return Count(left.rs, left.offset - right.get("", 0))
        if isinstance(op, cst.Add):
            return Count(left.rs, left.offset + right.get("", 0))
    if isinstance(left, Stat) and isinstance(right, Count) and isinstance(op, cst.Divide) and (
            left.vec.rs.id == right.rs.id):
        # sum(v) / len(v) is the mean; the squared deviations over n (or n - 1) the variance
        if left.kind == "sum" and right.offset == 0:
            return Stat(left.vec, "mean")
        if left.kind == "ssd" and right.offset in (0, -1):
            return Stat(left.vec, "var" if right.offset == 0 else "var1")
    if isinstance(left, Stat) and isinstance(right, Stat) and isinstance(op, cst.Subtract):
        if left.kind == "max" and right.kind == "min" and left.vec.column == right.vec.column:
            return Stat(left.vec, "range")
    if isinstance(left, Vec) and left.scaler is None and left.stage == "" and _is_number(node.right):
        return _elementwise(it, node, line_node, "arith")
    if isinstance(right, Vec) and right.scaler is None and right.stage == "" and _is_number(node.left):
        return _elementwise(it, node, line_node, "arith")
    raise Untranslatable("arithmetic on arrays that is not a known scaling")


def _is_number(node) -> bool:
    return is_literal(node) and isinstance(literal_value(node), (int, float))


def _elementwise(it: ScriptReader, node, line_node, hint: str) -> Vec:
    """A numpy/pandas expression applied value by value: projected as a per-row column."""
    holder = {"rs": None}
    inner: dict[str, Any] = {}

    class _Comprehensions(cst.CSTTransformer):
        """``np.array([r[10] for r in rows])`` inside the expression: a per-row column of its own."""

        def leave_Call(self, original, updated):
            if code_of(updated.func) in ("np.array", "numpy.array", "np.asarray", "numpy.asarray") and len(
                    updated.args) == 1 and m.matches(updated.args[0].value, m.Name()) and (
                    updated.args[0].value.value in inner and not updated.args[0].keyword):
                return updated.args[0].value  # the comprehension's column already
            return updated

        def leave_ListComp(self, original, updated):
            return self._bind(updated)

        def leave_GeneratorExp(self, original, updated):
            return self._bind(updated)

        def _bind(self, comp):
            value = _array(it, comp, line_node)
            name = f"__array{len(inner)}"
            inner[name] = value
            return cst.Name(name)

    written = code_of(node).strip()
    node = node.visit(_Comprehensions())

    def lookup(name: str):
        value = inner[name] if name in inner else it.env.get(name)
        if value is GLOBAL:
            return GLOBAL
        value = it.finish(value, line_node) if value is not None else None
        rs, col = None, None
        if isinstance(value, Rows) and value.shape.kind == "scalar":
            rs, col = value.rs, value.shape.fields[None]
        elif isinstance(value, Vec) and value.scaler is None and not value.stage:
            rs, col = value.rs, value.column
        elif isinstance(value, Frame):
            if holder["rs"] is not None and holder["rs"].id != value.rs.id:
                raise Untranslatable("values from different rows")
            holder["rs"] = value.rs
            from lester.rewrite.rules.pandas_ops import _fields
            return RowB(_fields(value), kind="frame")  # through the DataFrame's column aliases
        elif isinstance(value, Series) and value.column is not None and value.expr is None:
            rs, col = value.rs, value.column
        if rs is None:
            return None
        if holder["rs"] is not None and holder["rs"].id != rs.id:
            raise Untranslatable("values from different rows")
        holder["rs"] = rs
        return ColumnB(col, rs.columns.get(col))

    rowwise = _rowwise(node)
    rexpr = translate(rowwise, lookup, constants=it.constants)
    rs = holder["rs"]
    if rs is None:
        raise Untranslatable("no per-row values in the expression")
    if rexpr.column is not None:
        return Vec(rs, rexpr.column)
    col = it.plan.fresh_column(rs, identifier(hint) or "feature")
    it.plan.project(rs, col, rexpr, it.line(line_node), written)
    return Vec(rs, col)


class _RowWise(cst.CSTTransformer):
    """Vectorized numpy/pandas code into the same computation on one row's values."""

    def leave_Call(self, original, updated):
        func = code_of(updated.func)
        args = [a.value for a in updated.args]
        if func in ("np.where", "numpy.where") and len(args) == 3:
            return cst.IfExp(test=args[0], body=args[1], orelse=args[2],
                             whitespace_before_if=cst.SimpleWhitespace(" "),
                             whitespace_after_if=cst.SimpleWhitespace(" "),
                             whitespace_before_else=cst.SimpleWhitespace(" "),
                             whitespace_after_else=cst.SimpleWhitespace(" "),
                             lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        if isinstance(updated.func, cst.Attribute) and updated.func.attr.value == "astype" and len(args) == 1:
            kind = code_of(args[0]).strip("'\"")
            target = {"int": "int", "float": "float", "str": "str", "bool": "bool", "np.int64": "int",
                      "np.float64": "float", "int64": "int", "float64": "float"}.get(kind)
            if target is None:
                raise Untranslatable(f"astype({kind})")
            return cst.Call(func=cst.Name(target), args=[cst.Arg(updated.func.value)])
        if isinstance(updated.func, cst.Attribute) and updated.func.attr.value in ("to_numpy",):
            return updated.func.value
        return updated

    def leave_Attribute(self, original, updated):
        if updated.attr.value == "values":
            return updated.value
        return updated

    def leave_BinaryOperation(self, original, updated):
        if isinstance(updated.operator, cst.BitAnd):
            return cst.BooleanOperation(left=_paren(updated.left), operator=cst.And(), right=_paren(updated.right))
        if isinstance(updated.operator, cst.BitOr):
            return cst.BooleanOperation(left=_paren(updated.left), operator=cst.Or(), right=_paren(updated.right))
        return updated


def _paren(node):
    if isinstance(node, (cst.Name, cst.Subscript, cst.Call)) or node.lpar:
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _rowwise(node):
    return node.visit(_RowWise())


# -- matrices filled row by row -----------------------------------------------------------------
class _FlatCells(cst.CSTTransformer):
    def leave_AssignTarget(self, original, updated):
        cell = updated.target
        if (isinstance(cell, cst.Subscript) and len(cell.slice) == 1 and isinstance(cell.value, cst.Subscript)
                and len(cell.value.slice) == 1 and isinstance(cell.value.value, cst.Name)):
            return updated.with_changes(target=cst.Subscript(value=cell.value.value,
                                                             slice=[cell.value.slice[0], cell.slice[0]]))
        return updated


def flatten_cells(stmt: cst.For) -> cst.For:
    """``X[i][j] = v`` written as ``X[i, j] = v`` (the same cell of a 2-d array)."""
    return stmt.visit(_FlatCells())


def loop_is_features(it: ScriptReader, stmt: cst.For) -> bool:
    for sub in m.findall(stmt.body, m.Assign(targets=[m.AssignTarget(m.Subscript(value=m.Name()))])):
        holder = it.env.get(sub.targets[0].target.value.value)
        if isinstance(holder, Zeros):
            return True
    return False


def fill_loop(it: ScriptReader, stmt: cst.For) -> None:
    """``for i, r in enumerate(rows): X[i, j] = value``: blocks of the matrix at fixed offsets."""
    from lester.rewrite.rules.dataflow import Ctx
    it.stage = "encode_features"
    target = stmt.target
    if not (m.matches(stmt.iter, m.Call(func=m.Name("enumerate"))) and isinstance(target, cst.Tuple)
            and len(target.elements) == 2):
        raise it.fail(stmt, "a matrix filled by a loop other than `for i, row in enumerate(rows)`")
    index = target.elements[0].value.value
    source = it.iterable(stmt.iter.args[0].value, None, {}, stmt)
    ctx = Ctx(None, {})
    it.start_rows(ctx, source, target.elements[1].value, stmt)
    ctx.names[index] = None
    vectors = {id(h): h for h in _filled(it, stmt) if h.vector}
    if vectors:
        if len(vectors) != len({id(h) for h in _filled(it, stmt)}) or len(vectors) > 1:
            raise it.fail(stmt, "a loop filling a vector together with other arrays")
        _fill_vector(it, stmt, ctx, index, next(iter(vectors.values())))
        it.stage = "dataprep"
        return
    for s in stmt.body.body:
        _fill_statement(it, s, ctx, index, guard=None)
    it.stage = "dataprep"


def _filled(it, stmt) -> list:
    found = []
    for sub in m.findall(stmt.body, m.Assign(targets=[m.AssignTarget(m.Subscript(value=m.Name()))])):
        holder = it.env.get(sub.targets[0].target.value.value)
        if isinstance(holder, Zeros):
            found.append(holder)
    return found


def _fill_vector(it, stmt, ctx, index: str, holder: Zeros) -> None:
    """``y = np.zeros(n, dtype=int)`` then ``for i, r in enumerate(rows): if test: y[i] = value``.

    The assignments, in order, become one conditional expression per row, starting from zero;
    values are cast to the vector's dtype as numpy does when it stores them.
    """
    if holder.done is not None or holder.rs is None or ctx.rs is None or holder.rs.id != ctx.rs.id:
        raise it.fail(stmt, "a vector filled twice or from other rows than it has")
    cells = m.findall(stmt.body, m.Assign(targets=[m.AssignTarget(m.Subscript(value=m.Name()))]))
    name = cells[0].targets[0].target.value.value
    cast = holder.vector
    expr: cst.BaseExpression = cst.parse_expression("0" if cast == "int" else "0.0")

    def assigned(s):
        if not (isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 and isinstance(s.body[0], cst.Assign)
                and len(s.body[0].targets) == 1):
            return None
        cell = s.body[0].targets[0].target
        if not (m.matches(cell, m.Subscript(value=m.Name(name))) and len(cell.slice) == 1
                and m.matches(cell.slice[0].slice, m.Index(m.Name(index)))):
            return None
        value = s.body[0].value
        if is_literal(value) and type(literal_value(value)).__name__ == cast:
            return value
        return cst.Call(func=cst.Name(cast), args=[cst.Arg(value)])

    def guarded(value, test, otherwise):
        return cst.IfExp(test=test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]),
                         body=value, orelse=otherwise.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]),
                         whitespace_before_if=cst.SimpleWhitespace(" "), whitespace_after_if=cst.SimpleWhitespace(" "),
                         whitespace_before_else=cst.SimpleWhitespace(" "),
                         whitespace_after_else=cst.SimpleWhitespace(" "))

    for s in stmt.body.body:
        value = assigned(s)
        if value is not None:
            expr = value
            continue
        if isinstance(s, cst.If) and len(s.body.body) == 1 and assigned(s.body.body[0]) is not None and (
                s.orelse is None or (isinstance(s.orelse, cst.Else) and len(s.orelse.body.body) == 1
                                     and assigned(s.orelse.body.body[0]) is not None)):
            otherwise = assigned(s.orelse.body.body[0]) if s.orelse is not None else expr
            expr = guarded(assigned(s.body.body[0]), s.test, otherwise)
            continue
        raise it.fail(s, f"a statement filling {name} other than `{name}[i] = value` under an if")
    try:
        col = it.column_of(ctx, expr, stmt, name)
    except Untranslatable as exc:
        raise it.fail(stmt, str(exc)) from None
    holder.done = Vec(ctx.rs, col)


def _fill_statement(it, s, ctx, index: str, guard) -> None:
    if isinstance(s, cst.If) and s.orelse is None:
        # `if c in idx:` around a one-hot cell: unknown categories stay zero (handle_unknown="ignore")
        for inner in s.body.body:
            _fill_statement(it, inner, ctx, index, guard=s.test)
        return
    if not (isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 and isinstance(s.body[0], cst.Assign)):
        raise it.fail(s, "a statement in a matrix-filling loop other than `X[i, j] = value`")
    assign = s.body[0]
    cell = assign.targets[0].target
    if not isinstance(cell, cst.Subscript) or len(cell.slice) != 2:
        raise it.fail(s, "a matrix cell other than X[i, j]")
    holder = it.env.get(cell.value.value)
    if not isinstance(holder, Zeros):
        raise it.fail(s, f"{cell.value.value} is not a matrix made with np.zeros")
    if holder.rs is not None and holder.rs.id != ctx.rs.id:
        raise it.fail(s, "the matrix has one row per row of another list")
    row_index = cell.slice[0].slice.value
    if not m.matches(row_index, m.Name(index)):
        raise it.fail(s, "a matrix row other than the loop's row number")
    col_node = cell.slice[1].slice.value
    value = assign.value
    try:
        if m.matches(col_node, m.Subscript(value=m.Name())):
            idx = it.env.get(col_node.value.value)
            if isinstance(idx, CategoryIndex):
                if _num(value) != 1:
                    raise Untranslatable("a one-hot cell set to something other than 1")
                col = it.column_of(ctx, col_node.slice[0].slice.value, s, "category")
                cats = idx.categories
                if guard is None and cats.order == "literal":
                    pass
                holder.cells.append((Lin(), Block("onehot", [col], cats), _width(cats)))
                if holder.rs is None:
                    holder.rs = ctx.rs
                return
        if m.matches(col_node, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("index")))):
            cats = it.env.get(col_node.func.value.value)
            fixed = it.constants.get(col_node.func.value.value)
            if isinstance(fixed, (list, tuple)) and len(set(fixed)) == len(fixed):
                # FIXED_LIST.index(value): the script fails on other values, the encoder leaves them zero
                cats = Categories(None, "", "literal", values=list(fixed))
            if isinstance(cats, Categories):
                if _num(value) != 1:
                    raise Untranslatable("a one-hot cell set to something other than 1")
                col = it.column_of(ctx, col_node.args[0].value, s, "category")
                holder.cells.append((Lin(), Block("onehot", [col], cats), _width(cats)))
                if holder.rs is None:
                    holder.rs = ctx.rs
                return
        offset = _array(it, col_node, s)
        if isinstance(offset, int):
            offset = const_lin(offset)
        if not isinstance(offset, Lin):
            raise Untranslatable("a column position that is not a constant or a category count")
        if m.matches(value, m.Subscript(value=m.Name())) and m.matches(value.slice[0].slice.value, m.Name(index)):
            vec = _as_vec(it, it.value(value.value, s), s)
            if vec.rs.id != ctx.rs.id:
                raise Untranslatable("a vector of other rows")
            holder.cells.append((offset, Block(vec.scaler or "passthrough", [vec.column]), const_lin(1)))
            return
        col = it.column_of(ctx, value, s, _hint(value))
        holder.cells.append((offset, Block("passthrough", [col]), const_lin(1)))
    except Untranslatable as exc:
        raise it.fail(s, str(exc), "encode_features") from None
    if holder.rs is None:
        holder.rs = ctx.rs


def _width(cats: Categories) -> Lin:
    return const_lin(len(cats.values)) if cats.order == "literal" else Lin({cats.symbol: 1})


def finish_zeros(it: ScriptReader, zeros: Zeros, line_node) -> Matrix:
    cells = sorted(zeros.cells, key=lambda c: c[0].order())
    position = Lin()
    blocks = []
    for offset, block, width in cells:
        if offset.key() != position.key():
            raise Untranslatable("the matrix columns filled in the loop leave gaps or overlap")
        position = position + width
        blocks.append(block)
    if position.key() != Lin(zeros.width).key():
        raise Untranslatable("the matrix is wider than the columns filled in the loop")
    return Matrix(zeros.rs, blocks)


def label_of(it: ScriptReader, value, line_node) -> Label:
    """The label vector saved as y: a column of the prepared rows."""
    if isinstance(value, Zeros) and value.vector:
        if value.done is None:
            raise Untranslatable("a vector of zeros that no loop fills")
        value = value.done
    if isinstance(value, Zeros):
        raise Untranslatable("a label matrix")
    if isinstance(value, EncodedLabel):
        return Label(value.vec.rs, column=value.vec.column, encoding=value.encoding, classes=value.classes)
    vec = _as_vec(it, value, line_node)
    if vec.scaler or vec.stage:
        raise Untranslatable("a scaled label")
    return Label(vec.rs, column=vec.column)


def matrix_of(it: ScriptReader, value, line_node) -> Matrix:
    if isinstance(value, Zeros):
        return finish_zeros(it, value, line_node)
    if isinstance(value, Matrix):
        return value
    if isinstance(value, Frame) and value.columns:
        # model.fit(df[["age", "fare"]], y): the frame's columns, as they are; columns that
        # pd.get_dummies encoded come last, one-hot over their sorted categories
        plain = [c for c in value.columns if c not in value.dummies]
        blocks = [Block("passthrough", plain)] if plain else []
        for column, drop_first in value.dummies.items():
            labels = value.categories.get(column)  # a categorical keeps its own order, unseen ones too
            order = ("literal" if labels is not None else "sorted") + ("_drop_first" if drop_first else "")
            blocks.append(Block("onehot", [column], Categories(value.rs, column, order, values=labels)))
        return Matrix(value.rs, blocks)
    vec = _as_vec(it, value, line_node)
    return Matrix(vec.rs, [Block(vec.scaler or "passthrough", [vec.column])])


def transformers(matrix: Matrix, names: dict[str, str]) -> list[tuple[str, str, list[str]]]:
    """ColumnTransformer entries ``(name, transformer code, prepared columns)`` in matrix order."""
    out: list[tuple[str, str, list[str]]] = []
    for block in matrix.blocks:
        cols = [names[c] for c in block.columns]
        if block.kind == "onehot":
            cats = block.categories
            if cats.order == "sorted":
                code = 'OneHotEncoder(handle_unknown="ignore", sparse_output=False)'
            elif cats.order == "sorted_drop_first":
                code = 'OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False)'
            elif cats.order in ("literal", "literal_drop_first"):
                drop = 'drop="first", ' if cats.order == "literal_drop_first" else ""
                code = (f'OneHotEncoder(categories=[{cats.values!r}], {drop}handle_unknown="ignore", '
                        'sparse_output=False)')
            else:
                code = "FirstSeenOneHotEncoder()"
            if block.then is not None:
                code = f"make_pipeline({code}, {'StandardScaler()' if block.then == 'standard' else 'MinMaxScaler()'})"
            out.append((f"onehot_{cols[0]}", code, cols))
            continue
        code = {"passthrough": '"passthrough"', "standard": "StandardScaler()", "minmax": "MinMaxScaler()",
                "std1": "SampleStandardScaler()", "maxdiv": "MaxDivScaler()"}[block.kind]
        if out and out[-1][1] == code and block.kind != "onehot" and not out[-1][0].startswith("onehot"):
            out[-1][2].extend(cols)
            continue
        label = {"passthrough": "numbers", "standard": "scaled", "minmax": "minmax", "std1": "scaled_ddof1",
                 "maxdiv": "maxdiv"}[block.kind]
        out.append((f"{label}_{cols[0]}", code, list(cols)))
    return out
