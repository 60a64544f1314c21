"""pandas idioms of a script as DSL operations.

Column expressions keep pandas' own semantics: they become vectorized Python functions that
receive the columns as Series (``df["d"].str.strip().str.title()`` stays exactly that). Only
masks made of ``==``, ``<``, ``>``, ``<=``, ``>=``, ``isin`` joined by ``&`` and ``|`` become
SQL, because a missing value fails those in pandas and is NULL in SQL: both drop the row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst
import libcst.matchers as m

from lester.rewrite.rules import pandas_groupby
from lester.rewrite.rules.column_names import renamed as renamed_columns
from lester.rewrite.rules.expressions import (
    GLOBAL,
    RowB,
    Untranslatable,
    code_of,
    is_literal,
    literal_value,
    translate,
)
from lester.rewrite.rules.plan import RowExpr, RowSet, quote
from lester.rewrite.rules.program import RulesUnsupported
from lester.rewrite.rules.values import Frame, Grouped, Output, Rows, Series

if TYPE_CHECKING:
    from lester.rewrite.rules.dataflow import ScriptReader

_FORBIDDEN = {"iterator", "chunksize", "nrows"}
_PASSTHROUGH_METHODS = {"copy", "reset_index", "sort_values", "sort_index", "head_never"}


def read(it: ScriptReader, node: cst.Call, line_node) -> Frame:
    args = [a for a in node.args if a.keyword is None]
    path = str(it.const(args[0].value, line_node))
    options = {}
    for a in node.args:
        if a.keyword is None:
            continue
        key = a.keyword.value
        if key in _FORBIDDEN:
            raise it.fail(line_node, f"read_csv({key}=...) is not translated")
        options[key] = code_of(a.value)
    for a in args[1:]:
        raise it.fail(line_node, "read_csv with positional options")
    columns: dict = {}
    known = False
    index_col = options.pop("index_col", None)
    if "usecols" in options and is_literal(cst.parse_expression(options["usecols"])):
        columns = {c: None for c in literal_value(cst.parse_expression(options["usecols"]))}
        known = all(isinstance(c, str) for c in columns)
    header = _header(it, path, options, line_node)
    if not known and header is not None:
        columns, known = {c: None for c in header}, True
    visible = list(columns)
    if index_col is not None:
        # the index column is no column of the frame; its rows keep their own ids anyway
        index = literal_value(cst.parse_expression(index_col)) if is_literal(cst.parse_expression(index_col)) else None
        if not known or not isinstance(index, (int, str)) or isinstance(index, bool):
            raise it.fail(line_node, "read_csv(index_col=...) of a table whose columns are not known")
        name = visible[index] if isinstance(index, int) else index
        visible = [c for c in visible if c != name]
    rs = it.plan.scan(path, options, columns, it.line(line_node))
    rs.all_columns_known = known
    return Frame(rs, visible if known else None)


def _header(it: ScriptReader, path: str, options: dict, line_node) -> list[str] | None:
    """The columns pandas reads from the input's first lines with the script's literal options."""
    head = it.heads.get(path)
    if head is None or any(not is_literal(cst.parse_expression(v)) for v in options.values()):
        return None
    import io

    import pandas as pd

    kwargs = {k: literal_value(cst.parse_expression(v)) for k, v in options.items()
              if k in ("sep", "delimiter", "names", "header", "usecols", "skiprows", "na_values",
                       "skipinitialspace", "encoding", "comment", "quotechar")}
    try:
        columns = list(pd.read_csv(io.StringIO(head), nrows=3, **kwargs).columns)
    except Exception:  # noqa: BLE001 - no header we can read: the columns stay unknown
        return None
    return columns if all(isinstance(c, str) for c in columns) else None


def _frame_lookup(it: ScriptReader, frame_names: dict | None = None):
    def lookup(name: str) -> Any:
        value = it.env.get(name)
        if value is GLOBAL:
            return GLOBAL
        if isinstance(value, Frame):
            return RowB(_fields(value), kind="frame")
        if isinstance(value, Series) and value.column is not None and value.expr is None:
            from lester.rewrite.rules.expressions import ColumnB
            return ColumnB(value.column, value.rs.columns.get(value.column))
        return None
    return lookup


def _fields(frame: Frame) -> dict:
    from lester.rewrite.rules.dataflow import _AnyColumn
    if frame.columns is None:
        return _AnyColumn(frame.rs)
    aliases = getattr(frame, "aliases", None) or {}
    return {c: (aliases.get(c, c), frame.rs.columns.get(aliases.get(c, c))) for c in frame.columns}


def _frames_in(it: ScriptReader, node) -> list[Frame]:
    out = []
    for name in m.findall(node, m.Name()):
        value = it.env.get(name.value)
        if isinstance(value, (Frame, Series)) and all(value.rs.id != f.rs.id for f in out):
            out.append(value)
    return out


def series_expr(it: ScriptReader, node, line_node, *, filter_context: bool = False) -> tuple[RowSet, RowExpr]:
    frames = _frames_in(it, node)
    if len(frames) != 1:
        raise it.fail(line_node, "a column expression over several DataFrames")
    try:
        rexpr = translate(node, _frame_lookup(it), vectorized=True, sql_filter_only=filter_context,
                          constants=it.constants)
    except Untranslatable as exc:
        raise it.fail(line_node, f"{code_of(node)!r}: {exc}") from None
    return frames[0].rs, rexpr


def project_series(it: ScriptReader, series: Series, line_node) -> str:
    if series.column is not None and series.expr is None:
        return series.column
    rs, rexpr = series_expr(it, series.expr, line_node)
    if rexpr.column is not None:
        return rexpr.column
    col = it.plan.fresh_column(rs, "feature")
    it.plan.project(rs, col, rexpr, it.line(line_node))
    return col


def _constant_key(it: ScriptReader, key, line_node):
    """A subscript that evaluates to a column name or a list of them, or None (a mask)."""
    if is_literal(key):
        return literal_value(key)
    if not isinstance(key, (cst.Name, cst.BinaryOperation, cst.List)):
        return None
    try:
        value = it.const(key, line_node)
    except RulesUnsupported:
        return None
    return value if isinstance(value, str) or isinstance(value, list) and all(isinstance(v, str) for v in value) \
        else None


def subscript(it: ScriptReader, owner, node: cst.Subscript, line_node) -> Any:
    if isinstance(owner, Grouped):
        return pandas_groupby.select(it, owner, node, line_node)
    if isinstance(owner, Series):
        raise it.fail(line_node, "indexing a Series is not translated")
    frame: Frame = owner
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        raise it.fail(line_node, "DataFrame slicing is not translated")
    key = node.slice[0].slice.value
    constant = _constant_key(it, key, line_node)
    if constant is not None:
        # df[FEATURES] with FEATURES = ["age", "fare"], df[NUMERIC + ["city"]]: column names
        value = constant
        aliases = getattr(frame, "aliases", None) or {}
        if isinstance(value, str):
            if frame.columns is not None and value not in frame.columns:
                raise it.fail(line_node, f"column {value!r} is not in the DataFrame")
            return Series(frame.rs, column=aliases.get(value, value))
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if aliases:
                picked = frame.like(frame.rs, list(value))
                picked.aliases = {v: aliases.get(v, v) for v in value}  # type: ignore[attr-defined]
                return picked
            return frame.like(frame.rs, list(value))
        raise it.fail(line_node, "indexing with a literal that is not a column name")
    # a boolean mask (written inline or kept in a variable)
    if isinstance(key, cst.Name) and isinstance(it.env.get(key.value), Series) and it.env[key.value].expr is not None:
        key = it.env[key.value].expr
    rs, rexpr = series_expr(it, key, line_node, filter_context=True)
    if rs.id != frame.rs.id:
        raise it.fail(line_node, "a mask computed on another DataFrame")
    filtered = it.plan.filter(frame.rs, rexpr, it.line(line_node), f"mask {code_of(key).strip()}")
    return frame.like(filtered, frame.columns)


def setitem(it: ScriptReader, target, value, line_node) -> None:
    if isinstance(target, cst.Attribute) and target.attr.value == "columns":
        frame = it.value(target.value, line_node)
        if not isinstance(frame, Frame):
            raise it.fail(line_node, "setting .columns of something other than a DataFrame")
        names = (renamed_columns(value, target.value.value, frame.columns)
                 if isinstance(target.value, cst.Name) and frame.columns is not None else None)
        if names is not None and not getattr(frame, "aliases", None):
            frame.rs = it.plan.rename(frame.rs, dict(zip(frame.columns, names)), it.line(line_node))
            frame.columns = names
            return
        _set_columns(it, frame, value, line_node)
        return
    if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
        frame = it.env.get(target.value.value)
        if isinstance(frame, Frame) and is_literal(target.slice[0].slice.value):
            column = literal_value(target.slice[0].slice.value)
            if not isinstance(column, str):
                raise it.fail(line_node, "a column name that is not a string")
            held = it.value(value, line_node) if isinstance(value, cst.Name) else None
            if isinstance(held, Rows) and held.shape.kind == "scalar":
                col = held.shape.fields[None]
                rs, rexpr = held.rs, RowExpr(columns=(col,), sql=quote(col), ctype=held.rs.columns.get(col), text=col)
            elif _row_apply(value, target.value.value):
                lam = value.args[0].value
                row = lam.params.params[0].name.value
                fields = _fields(frame)
                try:
                    rexpr = translate(lam.body, lambda n: RowB(fields, kind="record") if n == row else (
                        GLOBAL if it.env.get(n) is GLOBAL else None), constants=it.constants)
                except Untranslatable as exc:
                    raise it.fail(line_node, f"{code_of(value)!r}: {exc}") from None
                rs = frame.rs
            elif _frames_in(it, value):
                rs, rexpr = series_expr(it, value, line_node)
            else:
                rs, rexpr = frame.rs, _constant(value)
            if rs.id != frame.rs.id:
                raise it.fail(line_node, "a column computed from another DataFrame")
            it.plan.project(frame.rs, column, rexpr, it.line(line_node), f"{column} = {code_of(value).strip()}")
            labels = _cut_labels(it, value, line_node)
            if labels is not None:
                frame.categories[column] = labels  # a categorical: get_dummies keeps this order
            else:
                frame.categories.pop(column, None)
            if frame.columns is not None and column not in frame.columns:
                frame.columns.append(column)
            return
    raise it.fail(line_node, f"assignment to {code_of(target)!r} is not translated")


def _cut_labels(it: ScriptReader, value, line_node) -> list | None:
    """The categories of ``pd.cut(..., labels=[...])``, in their order."""
    if not (m.matches(value, m.Call(func=m.Attribute(value=m.Name("pd") | m.Name("pandas"), attr=m.Name("cut"))))):
        return None
    labels = next((a.value for a in value.args if a.keyword is not None and a.keyword.value == "labels"), None)
    if labels is None:
        return None
    try:
        found = it.const(labels, line_node)
    except RulesUnsupported:
        return None
    return list(found) if isinstance(found, (list, tuple)) else None


def _row_apply(value, frame_name: str) -> bool:
    """``df.apply(lambda row: ..., axis=1)``: a per-row function of named fields."""
    return m.matches(value, m.Call(func=m.Attribute(value=m.Name(frame_name), attr=m.Name("apply")),
                                   args=[m.Arg(m.Lambda(params=m.Parameters(params=[m.Param()]))),
                                         m.Arg(keyword=m.Name("axis"), value=m.Integer("1"))]))


def _constant(value) -> RowExpr:
    if not is_literal(value):
        raise Untranslatable("a column set to something that is not a constant or a column expression")
    v = literal_value(value)
    sql = ("'" + v.replace("'", "''") + "'") if isinstance(v, str) else repr(v)
    return RowExpr(sql=sql, ctype=type(v).__name__, text=code_of(value))


def _set_columns(it: ScriptReader, frame: Frame, value, line_node) -> None:
    """``df.columns = [f(c) for c in df.columns]``: a rename computed when the pipeline runs."""
    if is_literal(value):
        names = literal_value(value)
        if frame.columns is not None:
            mapping = dict(zip(frame.columns, names))
            renamed = it.plan.rename(frame.rs, mapping, it.line(line_node))
            frame.rs, frame.columns = renamed, list(names)
            return
        code = f"{{rs}}.rename(dict(zip({{rs}}.columns, {list(names)!r})))"
    elif (isinstance(value, cst.ListComp) and m.matches(value.for_in.iter, m.Attribute(attr=m.Name("columns")))
          and isinstance(value.for_in.target, cst.Name) and not value.for_in.ifs):
        var = value.for_in.target.value
        code = ("{rs}.rename({{" + var + ": " + code_of(value.elt).replace("{", "{{").replace("}", "}}")
                + " for " + var + " in {rs}.columns}})")
    else:
        raise it.fail(line_node, "df.columns set to something other than a list or a comprehension over df.columns")
    renamed = it.plan.raw(frame.rs, code, it.line(line_node), "rename the columns as the script does",
                          columns={})
    renamed.all_columns_known = False
    frame.rs = renamed
    frame.columns = None


def call(it: ScriptReader, node: cst.Call, line_node) -> Any:
    func = code_of(node.func)
    args = [a.value for a in node.args if a.keyword is None]
    kwargs = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
    if func in ("pd.DataFrame", "pandas.DataFrame"):
        return _dataframe(it, args, kwargs, line_node)
    if func in ("pd.merge", "pandas.merge"):
        left, right = (it.value(a, line_node) for a in args[:2])
        return _merge(it, left, right, kwargs, line_node)
    if func in ("pd.get_dummies", "pandas.get_dummies"):
        return _get_dummies(it, args, kwargs, line_node)
    if func in ("pd.concat", "pandas.concat"):
        frames = [it.value(el.value, line_node) for el in args[0].elements]
        if not all(isinstance(f, Frame) for f in frames):
            raise it.fail(line_node, "pd.concat of something other than DataFrames")
        union = it.plan.union([f.rs for f in frames], it.line(line_node), "pd.concat")
        union.all_columns_known = all(f.rs.all_columns_known for f in frames)
        return Frame(union, frames[0].columns)
    if not isinstance(node.func, cst.Attribute):
        return None
    method = node.func.attr.value
    owner_node = node.func.value
    if isinstance(owner_node, cst.Call) and code_of(owner_node.func) in ("pd.DataFrame", "pandas.DataFrame"):
        owner = it.value(owner_node, line_node)
    elif isinstance(owner_node, (cst.Name, cst.Subscript, cst.Attribute, cst.Call)):
        try:
            owner = it.value(owner_node, line_node)
        except Exception:
            return None
    else:
        return None
    if isinstance(owner, Frame):
        return _frame_method(it, owner, method, args, kwargs, node, line_node)
    if isinstance(owner, Grouped):
        return pandas_groupby.method(it, owner, method, args, kwargs, line_node)
    if isinstance(owner, Series):
        if method in ("to_numpy", "to_list", "tolist") and not args:
            from lester.rewrite.rules.values import Vec
            return Vec(owner.rs, project_series(it, owner, line_node))  # numpy now: std has ddof=0
        if method == "copy" and not args:
            return owner
        if method == "astype" and owner.column is not None and owner.expr is None:
            return None  # read by the feature code as a per-row cast
        if _inplace(node):
            if not inplace_call(it, node, line_node):
                raise it.fail(line_node, f"{code_of(node).strip()!r}: an inplace method on something "
                                         "other than a column of a DataFrame")
            return ("literal", None)  # what an inplace method returns
        return Series(owner.rs, expr=node)
    return None


# Series methods whose inplace=True on a column, df["c"].fillna(0, inplace=True), writes the
# result back into df under pandas 2 (checked on 2.3: fillna on float, object, str, Int64 and
# string columns, after a filter too, and each of the others); under pandas 3 copy-on-write
# makes df["c"] a temporary copy, so the call changes nothing. The validation runs the original
# script under the same pandas, so the translation follows the pandas that is installed.
_INPLACE_COLUMN_METHODS = {"fillna", "replace", "clip", "where", "mask", "interpolate"}


def _inplace(node: cst.Call) -> bool:
    return any(a.keyword is not None and a.keyword.value == "inplace" and m.matches(a.value, m.Name("True"))
               for a in node.args)


def chained_inplace_writes_back() -> bool:
    """Whether ``df["c"].method(..., inplace=True)`` changes ``df`` under the installed pandas."""
    import pandas

    if int(pandas.__version__.split(".")[0]) >= 3:
        return False
    # pandas 2 can opt in to copy-on-write (option or PANDAS_COPY_ON_WRITE=1); "warn" only warns
    return pandas.get_option("mode.copy_on_write") is not True


def inplace_call(it: ScriptReader, node: cst.Call, line_node) -> bool:
    """Translate ``df["c"].method(..., inplace=True)`` as the installed pandas runs it: a
    projection of ``c`` under pandas 2, nothing under pandas 3. False when ``node`` is not
    such a call (the caller reports it)."""
    if not (_inplace(node) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _INPLACE_COLUMN_METHODS):
        return False
    owner = node.func.value
    if not (isinstance(owner, cst.Subscript) and isinstance(owner.value, cst.Name) and len(owner.slice) == 1
            and isinstance(owner.slice[0].slice, cst.Index) and is_literal(owner.slice[0].slice.value)):
        return False
    frame = it.env.get(owner.value.value)
    column = literal_value(owner.slice[0].slice.value)
    if not isinstance(frame, Frame) or not isinstance(column, str) or getattr(frame, "aliases", None):
        return False
    if frame.columns is not None and column not in frame.columns:
        raise it.fail(line_node, f"column {column!r} is not in the DataFrame")
    import pandas

    line = it.line(line_node)
    if not chained_inplace_writes_back():
        it.notes.append(f"line {line}: {code_of(node).strip()} changes only a copy under pandas "
                        f"{pandas.__version__} (copy-on-write), so the column keeps its values, as in the script")
        return True
    kept = [a for a in node.args if not (a.keyword is not None and a.keyword.value == "inplace")]
    if kept:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    returning = node.with_changes(args=kept)
    rs, rexpr = series_expr(it, returning, line_node)
    if rs.id != frame.rs.id:
        raise it.fail(line_node, "an inplace method computed from another DataFrame")
    it.plan.project(frame.rs, column, rexpr, line,
                    f"{column} = {code_of(returning).strip()} (pandas {pandas.__version__} writes inplace=True back)")
    return True


def _frame_method(it, frame: Frame, method, args, kwargs, node, line_node) -> Any:
    line = it.line(line_node)
    if method in _PASSTHROUGH_METHODS:
        out = frame.like(frame.rs, None if frame.columns is None else list(frame.columns))
        if method.startswith("sort"):
            it.notes.append(f"line {line}: the script sorts rows; the pipeline's row order is the engine's")
            out.order = line_node  # a pandas step after it sorts again: shift(), cumcount() see the order
        return out
    if method == "merge":
        return _merge(it, frame, it.value(args[0], line_node), kwargs, line_node)
    if method == "groupby":
        return pandas_groupby.group(it, frame, args, kwargs, line_node)
    if method == "dropna":
        subset = literal_value(kwargs["subset"]) if "subset" in kwargs else frame.columns
        if subset is None:
            raise it.fail(line_node, "dropna() over columns known only at run time")
        if isinstance(subset, str):
            subset = [subset]
        params = [f"_c{i}" for i in range(len(subset))]
        checks = " & ".join(f"{p}.notna()" for p in params)
        rexpr = RowExpr(columns=tuple(subset), python=f"lambda {', '.join(params)}: {checks}", vectorized=True,
                        text=f"dropna(subset={subset})")
        return frame.like(it.plan.filter(frame.rs, rexpr, line, f"drop rows missing {subset}"), frame.columns)
    if method == "drop_duplicates" and not args and not kwargs:
        cols = frame.columns
        rs = frame.rs if cols is None else it.plan.select(frame.rs, cols, line)
        out = it.plan.raw(rs, "{rs}.distinct()", line, "drop_duplicates", same_rows=False)
        return Frame(out, cols)
    if method == "rename" and "columns" in kwargs and frame.columns is not None and isinstance(
            kwargs["columns"], cst.Lambda):
        names = renamed_columns(kwargs["columns"], "", frame.columns)
        if names is None:
            raise it.fail(line_node, "rename(columns=<function>) that the rules cannot evaluate")
        mapping = {old: new for old, new in zip(frame.columns, names) if old != new}
        return frame.like(it.plan.rename(frame.rs, mapping, line), names)
    if method == "rename" and "columns" in kwargs:
        mapping = literal_value(kwargs["columns"])
        renamed = it.plan.rename(frame.rs, mapping, line)
        return Frame(renamed, None if frame.columns is None else [mapping.get(c, c) for c in frame.columns])
    if method == "drop" and ("columns" in kwargs or (args and kwargs.get("axis") is not None)):
        dropped = literal_value(kwargs.get("columns") or args[0])
        dropped = [dropped] if isinstance(dropped, str) else list(dropped)
        if frame.columns is not None:
            return frame.like(frame.rs, [c for c in frame.columns if c not in dropped])
        out = it.plan.raw(frame.rs, f"{{rs}}.drop({dropped!r})", line, "drop columns")
        return Frame(out, None)
    if method == "apply" and kwargs.get("axis") is not None and code_of(kwargs["axis"]) == "1":
        return Series(frame.rs, expr=node)
    if method == "to_numpy" and not args and set(kwargs) <= {"dtype"}:
        from lester.rewrite.rules import features
        return features._as_vec_or_matrix(it, frame, line_node)
    if method in ("head", "describe", "info", "tail"):
        return None
    raise it.fail(line_node, f"DataFrame.{method}(...) is not translated")


def _get_dummies(it, args, kwargs, line_node) -> Frame:
    """``pd.get_dummies(df, columns=[...])``: pandas puts one column per sorted category of each
    named column after the other columns; the plan keeps the named columns whole and the
    feature matrix one-hot encodes them the same way (``drop_first`` as ``drop="first"``)."""
    frame = it.value(args[0], line_node) if args else None
    if not isinstance(frame, Frame) or frame.columns is None or getattr(frame, "aliases", None):
        raise it.fail(line_node, "pd.get_dummies of something other than a DataFrame with known columns")
    unknown = set(kwargs) - {"columns", "drop_first", "dtype", "prefix_sep"}
    if unknown or "columns" not in kwargs:
        raise it.fail(line_node, "pd.get_dummies without columns= or with options "
                                 f"{sorted(unknown)} is not translated")
    encoded = it.const(kwargs["columns"], line_node)
    encoded = [encoded] if isinstance(encoded, str) else encoded
    if not (isinstance(encoded, list) and all(isinstance(c, str) and c in frame.columns for c in encoded)):
        raise it.fail(line_node, "pd.get_dummies(columns=...) names columns the DataFrame does not have")
    drop_first = "drop_first" in kwargs and it.const(kwargs["drop_first"], line_node) is True
    out = Frame(frame.rs, [c for c in frame.columns if c not in encoded] + list(encoded), dict(frame.dummies),
                categories=dict(frame.categories))
    out.dummies.update({c: drop_first for c in encoded})
    return out


def _merge(it, left, right, kwargs, line_node) -> Frame:
    if not isinstance(left, Frame) or not isinstance(right, Frame):
        raise it.fail(line_node, "merge of something other than DataFrames")
    how = literal_value(kwargs["how"]) if "how" in kwargs else "inner"
    if how not in ("inner", "left"):
        raise it.fail(line_node, f"merge(how={how!r}) is not translated")
    # a groupby result keeps its keys as the index: left_index= / right_index= join on them
    by_index = {side: frame.index for side, frame in (("left", left), ("right", right))
                if f"{side}_index" in kwargs and literal_value(kwargs[f"{side}_index"]) is True}
    if any(keys is None for keys in by_index.values()):
        raise it.fail(line_node, "merge on the index of a DataFrame whose index is not a groupby's keys")
    if "on" in kwargs:
        lk = rk = literal_value(kwargs["on"])
    elif ("left_on" in kwargs or "left" in by_index) and ("right_on" in kwargs or "right" in by_index):
        lk = by_index["left"] if "left" in by_index else literal_value(kwargs["left_on"])
        rk = by_index["right"] if "right" in by_index else literal_value(kwargs["right_on"])
    else:
        raise it.fail(line_node, "merge without on= or left_on=/right_on=")
    lk = [lk] if isinstance(lk, str) else list(lk)
    rk = [rk] if isinstance(rk, str) else list(rk)
    options = {"how", "on", "left_on", "right_on", "left_index", "right_index"}
    if set(kwargs) - options:
        raise it.fail(line_node, f"merge options {sorted(set(kwargs) - options)}")
    lrs = left.rs if left.columns is None else it.plan.select(left.rs, left.columns, it.line(line_node))
    rrs = right.rs if right.columns is None else it.plan.select(right.rs, right.columns, it.line(line_node))
    joined = it.plan.join(lrs, rrs, lk, rk, how, it.line(line_node), "merge")
    it.notes.append(f"line {it.line(line_node)}: merge keys with missing values never match in the pipeline "
                    "(pandas matches NaN with NaN)")
    if left.columns is None or right.columns is None or getattr(left, "aliases", None) or getattr(right, "aliases", None):
        joined.all_columns_known = False
        return Frame(joined, None)
    # pandas' names, which are the DSL join's: a key met by a same-named key once, other
    # columns on both sides with _x and _y
    shared = {lc for lc, rc in zip(lk, rk) if lc == rc}
    both = (set(left.columns) & set(right.columns)) - shared
    if both:
        joined.all_columns_known = False
        return Frame(joined, None)
    return Frame(joined, list(left.columns) + [c for c in right.columns if c not in shared])


def _dataframe(it, args, kwargs, line_node) -> Frame:
    from lester.rewrite.rules.values import ListsByKey
    lists = it.value(args[0], line_node) if args and isinstance(args[0], cst.Name) else None
    if isinstance(lists, ListsByKey):  # pd.DataFrame(out) where out = {"a": [], ...}
        entries = [(key, it.finish(coll, line_node)) for key, coll in lists.lists.items()]
    elif args and isinstance(args[0], cst.Dict):
        entries = [(literal_value(el.key), it.value(el.value, line_node)) for el in args[0].elements]
    else:
        entries = None
    if entries is not None:
        cols: dict[str, tuple[RowSet, str]] = {}
        for key, value in entries:
            if isinstance(value, Rows) and value.shape.kind == "scalar":
                cols[key] = (value.rs, value.shape.fields[None])
            elif isinstance(value, Series) and value.column is not None:
                cols[key] = (value.rs, value.column)
            else:
                from lester.rewrite.rules.values import Vec
                if isinstance(value, Vec) and value.scaler is None:
                    cols[key] = (value.rs, value.column)
                else:
                    raise it.fail(line_node, f"DataFrame column {key!r} from something other than a per-row list")
        rss = {rs.id: rs for rs, _c in cols.values()}
        if len(rss) != 1:
            raise it.fail(line_node, "a DataFrame of lists built from different rows")
        rs = next(iter(rss.values()))
        return _named_view(it, rs, {k: c for k, (_rs, c) in cols.items()}, line_node)
    if args:
        rows = it.value(args[0], line_node)
        if not isinstance(rows, Rows):
            raise it.fail(line_node, "a DataFrame built from something other than a list of rows")
        if rows.shape.kind == "dict":
            names = {k: c for k, c in rows.shape.fields.items()}
        elif "columns" in kwargs:
            labels = literal_value(kwargs["columns"])
            if len(labels) != len(rows.shape.fields):
                raise it.fail(line_node, "columns= does not match the row tuples")
            names = {label: rows.shape.fields[i] for i, label in enumerate(labels)}
        else:
            raise it.fail(line_node, "a DataFrame of tuples without column names")
        return _named_view(it, rows.rs, names, line_node)
    raise it.fail(line_node, "pd.DataFrame(...) is not translated")


def _named_view(it, rs: RowSet, names: dict[str, str], line_node) -> Frame:
    """A DataFrame whose column ``name`` is row-set column ``names[name]``."""
    frame = Frame(rs, list(names))
    frame.aliases = names  # type: ignore[attr-defined]
    return frame


def to_csv(it: ScriptReader, frame: Frame, call: cst.Call, line_node) -> None:
    args = [a.value for a in call.args if a.keyword is None]
    kwargs = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    path = str(it.const(args[0], line_node))
    if "index" not in kwargs or code_of(kwargs["index"]) != "False":
        it.notes.append(f"line {it.line(line_node)}: the script writes the DataFrame index too; "
                        "the pipeline has no index column")
    aliases = getattr(frame, "aliases", None)
    out = it.outputs.setdefault(path, Output(path, line=it.line(line_node)))
    if frame.columns is None:
        out.header = None
        out.parts.append((frame.rs, [], it.line(line_node)))
        return
    out.header = list(frame.columns)
    exprs = []
    for c in frame.columns:
        col = aliases[c] if aliases else c
        exprs.append(RowExpr.of_column(col, frame.rs.columns.get(col)))
    out.parts.append((frame.rs, exprs, it.line(line_node)))
