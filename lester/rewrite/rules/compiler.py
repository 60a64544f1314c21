"""``compile_script``: read a script, resolve its outputs, and emit the pipeline module.

The passes:

1. :class:`~lester.rewrite.rules.dataflow.ScriptReader` reads the statements into a data-flow
   plan (row sets and DSL operations), feature values and the model constructor;
2. the prepared output (``out/prepared.csv`` or the only CSV written) is resolved to one row
   set and its column names; the feature matrix and label saved with ``np.save`` must be
   computed from those same rows, and the columns they need are added to what ``dataprep``
   returns;
3. :mod:`~lester.rewrite.rules.emit` writes the module.

If step 1 or 2 meets something it cannot translate, the whole script is kept as one opaque
step (:mod:`~lester.rewrite.rules.opaque`) when its outputs can be captured, else
:class:`~lester.rewrite.rules.program.RulesUnsupported` names the stage and the lines.
"""

from __future__ import annotations

from collections.abc import Mapping

from lester.rewrite.rules import features as feat
from lester.rewrite.rules.dataflow import ScriptReader
from lester.rewrite.rules.emit import ModuleParts, module_code
from lester.rewrite.rules.estimators import split_pipeline
from lester.rewrite.rules.expressions import Untranslatable
from lester.rewrite.rules.opaque import opaque_program
from lester.rewrite.rules.plan import RowExpr, RowSet, identifier
from lester.rewrite.rules.program import OpaqueStep, RulesProgram, RulesUnsupported
from lester.rewrite.rules.values import Label, Matrix, Output


def compile_script(source: str, *, filename: str = "<script>", allow_opaque: bool = True,
                   heads: Mapping[str, str] | None = None,
                   name_lists: Mapping[str, list[str]] | None = None) -> RulesProgram:
    """Compile a messy script into a pipeline module.

    ``heads`` maps an input's path (as the script writes it) to its first lines: a table read
    with ``pd.read_csv`` then has the columns they name, so ``dropna()``, ``drop_duplicates()``
    or ``index_col=0`` over all its columns can be translated. ``name_lists`` are module-level
    lists of names as the script's own run left them: a column list computed from the data
    (``df.select_dtypes("object").columns.tolist()``) is read as that constant where every name
    in it is a column of the frame it is used with, and the report says so.

    Example:
        >>> program = compile_script(open("messy.py").read(), filename="messy.py")   # doctest: +SKIP
        >>> print(program.code)                                                     # doctest: +SKIP
        >>> program.sources, program.opaque_steps                                   # doctest: +SKIP
    """
    try:
        return _compile(source, filename, heads or {}, name_lists or {})
    except RulesUnsupported as exc:
        if not allow_opaque:
            raise
        return opaque_program(source, filename, exc)


def _compile(source: str, filename: str, heads: Mapping[str, str],
             name_lists: Mapping[str, list[str]]) -> RulesProgram:
    reader = ScriptReader(source, filename, heads)
    reader.name_lists = dict(name_lists)
    reader.generated_helpers = []
    reader.read()
    plan = reader.plan
    output = _prepared_output(reader)
    matrix, label = _features(reader)
    prepared_rs, names = _prepared_rows(reader, output, matrix, label)
    extras: list[str] = []
    for needed in ([c for b in matrix.blocks for c in b.columns] if matrix else []) + (
            [label.column] if label else []):
        if needed not in names and needed not in extras:
            extras.append(needed)
    taken = set(names.values())
    final_names = dict(names)
    for c in extras:
        name = c
        n = 2
        while name in taken:
            name, n = f"{c}_{n}", n + 1
        final_names[c] = name
        taken.add(name)
    line = output.line if output else 0
    if prepared_rs.all_columns_known or names:
        selected = list(names) + extras
        final = plan.select(prepared_rs, selected, line, "the prepared columns")
        mapping = {c: final_names[c] for c in selected if final_names[c] != c}
        if mapping:
            final = _safe_rename(plan, final, mapping, line)
        final_var = final.var
    else:
        final_var = prepared_rs.var
    transformers = None
    custom: list[str] = []
    script_encoder = None
    if matrix is not None and [b.kind for b in matrix.blocks] == ["encoder"]:
        # the script fitted its own transformer on a table: it sees that table's columns
        block = matrix.blocks[0]
        columns = [final_names[c] for c in block.columns]
        script_encoder = _seeing_only(block.code, columns)
    elif matrix is not None:
        transformers = feat.transformers(matrix, final_names)
        for _n, code, _c in transformers:
            for cls in ("FirstSeenOneHotEncoder", "SampleStandardScaler", "MaxDivScaler"):
                if code.startswith(cls) and cls not in custom:
                    custom.append(cls)
    copied = [node for node in reader.copied if not _only_bookkeeping(node, reader)]
    model_code, encoder_code = reader.model.code if reader.model else None, script_encoder
    if model_code is not None and matrix is not None and script_encoder is None:
        # Pipeline([("pre", ColumnTransformer(...)), ("clf", ...)]) fitted on a feature frame:
        # its steps are the encoder, its last step the model
        encoder_code, model_code = split_pipeline(model_code, reader.sklearn_defs)
        if encoder_code is not None:
            transformers, custom = None, []
        if encoder_code is not None and "remainder" in encoder_code:
            # the prepared rows hold more than X (the label, at least): the script's encoder,
            # which passes the rest through, sees X's columns only
            columns = [final_names[c] for b in matrix.blocks for c in b.columns]
            encoder_code = _seeing_only(encoder_code, columns)
    parts = ModuleParts(
        filename=filename, plan=plan, final_var=final_var, copied=copied,
        generated_helpers=reader.generated_helpers, transformers=transformers, label=label,
        label_names=final_names, model_code=model_code, encoder_code=encoder_code,
        has_output=output is not None, custom=custom,
    )
    code = module_code(parts)
    sources = {s.param: s.path for s in plan.sources.values()}
    notes = list(dict.fromkeys(plan.notes))
    if output is None:
        notes.append("the script writes no prepared CSV; dataprep returns the rows the features are computed from")
    kept = [OpaqueStep("dataprep", step.lines, step.reason) for step in reader.pandas_steps]
    return RulesProgram(code=code, sources=sources, opaque_steps=[], notes=notes, pandas_steps=kept)


def _seeing_only(encoder_code: str, columns: list[str]) -> str:
    """The script's encoder given only ``columns`` of the prepared rows (which hold the label too)."""
    return f"ColumnTransformer([('features', {encoder_code}, {columns!r})], sparse_threshold=0)"


def _only_bookkeeping(node, reader: ScriptReader) -> bool:
    """A constant the script later turns into a running counter (``n_in = 0`` ... ``n_in += 1``)."""
    import libcst as cst

    from lester.rewrite.rules.values import Ignored
    if not (isinstance(node, cst.SimpleStatementLine) and isinstance(node.body[0], cst.Assign)):
        return False
    targets = [t.target for t in node.body[0].targets]
    return all(isinstance(t, cst.Name) and isinstance(reader.env.get(t.value), Ignored) for t in targets)


def _safe_rename(plan, rs: RowSet, mapping: dict[str, str], line: int) -> RowSet:
    clash = {new for new in mapping.values()} & (set(rs.columns) - set(mapping))
    if clash or set(mapping.values()) & set(mapping):
        temp = {old: f"__tmp_{i}" for i, old in enumerate(mapping)}
        rs = plan.rename(rs, temp, line)
        mapping = {temp[old]: new for old, new in mapping.items()}
    return plan.rename(rs, mapping, line, "the script's column names")


def _prepared_output(reader: ScriptReader) -> Output | None:
    outputs = [o for o in reader.outputs.values() if o.parts or o.header]
    if not outputs:
        return None
    chosen = [o for o in outputs if o.path.endswith("prepared.csv")] or outputs
    if len(chosen) > 1:
        raise RulesUnsupported("dataprep", (chosen[1].line, chosen[1].line),
                               "the script writes several CSV files; the rules pick only prepared.csv",
                               reader.filename)
    out = chosen[0]
    if not out.parts:
        raise RulesUnsupported("dataprep", (out.line, out.line), f"no rows are written to {out.path}", reader.filename)
    return out


def _features(reader: ScriptReader) -> tuple[Matrix | None, Label | None]:
    matrix = label = None
    # what the script saves with np.save says which rows it meant; else what it fits on
    for path, (value, line) in (reader.saved or reader.fitted).items():
        stem = path.rsplit("/", 1)[-1].lower()
        try:
            if stem.startswith("x"):
                matrix = feat.matrix_of(reader, value, None)
            elif stem.startswith("y"):
                label = feat.label_of(reader, value, None)
            else:
                raise RulesUnsupported("encode_features", (line, line), f"np.save of {path} (neither X nor y)",
                                       reader.filename)
        except Untranslatable as exc:
            stage = "encode_features" if stem.startswith("x") else "extract_label"
            raise RulesUnsupported(stage, (line, line), str(exc), reader.filename) from None
    return matrix, label


def _prepared_rows(reader: ScriptReader, output: Output | None, matrix, label) -> tuple[RowSet, dict[str, str]]:
    """The row set the prepared CSV holds and its columns (internal name -> the CSV's name)."""
    plan = reader.plan
    if output is None:
        rs = matrix.rs if matrix is not None else (label.rs if label is not None else None)
        if rs is None:
            raise RulesUnsupported("dataprep", (1, 1), "the script writes no prepared data, X or y", reader.filename)
        return rs, {}
    header = output.header
    if len(output.parts) == 1:
        rs, exprs, line = output.parts[0]
        if not exprs:  # a DataFrame whose columns are only known when the pipeline runs
            _check_same_rows(reader, rs, matrix, label, output)
            return rs, {}
        if header is None or len(header) != len(exprs):
            raise RulesUnsupported("dataprep", (line, line), f"the columns written to {output.path} have no header "
                                   "row the rules can read", reader.filename)
        names: dict[str, str] = {}
        for name, rexpr in zip(header, exprs):
            col = rexpr.column
            if col is None or col in names:
                col = plan.fresh_column(rs, identifier(name) or "value")
                plan.project(rs, col, rexpr if rexpr.column is None else _copy(rexpr), line, f"{name} as written")
            names[col] = name
        _check_same_rows(reader, rs, matrix, label, output)
        return rs, names
    # rows written in several places: one union
    parts = []
    for rs, exprs, line in output.parts:
        if header is None or len(header) != len(exprs):
            raise RulesUnsupported("dataprep", (line, line), "rows written without a matching header",
                                   reader.filename)
        cols = []
        for name, rexpr in zip(header, exprs):
            col = plan.fresh_column(rs, "__out_" + (identifier(name) or "value"))
            plan.project(rs, col, rexpr if rexpr.column is None else _copy(rexpr), line)
            cols.append(col)
        picked = plan.select(rs, cols, line)
        parts.append(plan.rename(picked, dict(zip(cols, header)), line))
    union = plan.union(parts, output.line, f"rows written to {output.path} in {len(parts)} places")
    if matrix is not None or label is not None:
        raise RulesUnsupported("encode_features", (output.line, output.line),
                               "features of rows written in several places", reader.filename)
    return union, {h: h for h in header}


def _copy(rexpr: RowExpr) -> RowExpr:
    return RowExpr(columns=rexpr.columns, python=rexpr.python, sql=rexpr.sql, ctype=rexpr.ctype, text=rexpr.text)


def _check_same_rows(reader, rs: RowSet, matrix, label, output: Output) -> None:
    for what, value, stage in (("X", matrix, "encode_features"), ("y", label, "extract_label")):
        if value is not None and value.rs.id != rs.id:
            raise RulesUnsupported(stage, (output.line, output.line),
                                   f"{what} is computed from other rows than those written to {output.path}",
                                   reader.filename)
