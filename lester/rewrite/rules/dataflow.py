"""Reading a script: its statements, top to bottom, into the data-flow plan.

:class:`ScriptReader` binds each name of the script to an abstract value
(:mod:`lester.rewrite.rules.values`) and turns each idiom into DSL operations on the
:class:`~lester.rewrite.rules.plan.DataprepPlan`:

* loops over file lines, ``csv.reader`` / ``csv.DictReader`` rows, ``iterrows`` and lists of
  rows become row sets; tuple unpacking of ``line.strip().split(sep)`` names the columns;
* assignments in a loop body become projections, ``if ...: continue`` guards and ``if``
  blocks become filters, ``try: int(x) except ValueError: continue`` a filter on castability;
* a dict filled in one loop and probed with ``in`` / ``[]`` / ``.get`` in another becomes an
  inner or left join; ``d[k] = d.get(k, 0) + 1`` and friends become group-bys joined back;
* nested loops comparing keys become joins; loops over literal file lists become unions;
* appends, ``write(f"...")``, ``csv.writer`` rows and DataFrames built from lists give the
  prepared output and its column names;
* pandas code (``read_csv``, masks, ``str`` methods, ``apply``, ``merge``, ``dropna``) maps to
  the same operations; numpy feature code is read by :mod:`lester.rewrite.rules.features`.

Anything else raises :class:`~lester.rewrite.rules.program.RulesUnsupported` naming the lines,
so nothing is silently dropped.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from lester.rewrite.analysis import StatementNames, string_values
from lester.rewrite.rules import features as feat
from lester.rewrite.rules import pandas_steps
from lester.rewrite.rules.broadcast import broadcast_statistics
from lester.rewrite.rules.expressions import (
    GLOBAL,
    ColumnB,
    LiteralB,
    RowB,
    Untranslatable,
    code_of,
    is_literal,
    literal_value,
    subscript_key,
    translate,
)
from lester.rewrite.rules.normalize import normalized
from lester.rewrite.rules.plan import DataprepPlan, RowExpr, RowSet, identifier, quote
from lester.rewrite.rules.program import RulesUnsupported, all_blockers
from lester.rewrite.rules.runtime_config import with_defaults
from lester.rewrite.rules.slicing import backward_slice
from lester.rewrite.rules.substitution import bound_once
from lester.rewrite.rules.values import (
    Blocked,
    CategoryIndex,
    Collector,
    CsvReader,
    DictCollector,
    FileIn,
    FileOut,
    Frame,
    Grouped,
    Ignored,
    Index,
    Lines,
    ListsByKey,
    Matrix,
    Model,
    Output,
    Rows,
    Series,
    Shape,
    Vec,
    Writer,
    Zeros,
)

_IGNORED_CALLS = {"print", "pprint", "os.makedirs", "os.mkdir", "warnings.filterwarnings", "random.seed",
                  "np.random.seed", "numpy.random.seed", "plt.show", "logging.info", "logging.basicConfig",
                  "pd.set_option", "time.sleep"}
_SKLEARN_PREFIX = "sklearn"


class _Skip(Exception):
    """The statement does nothing the pipeline needs (printing, bookkeeping)."""


class Ctx:
    """The state of one loop iteration: the current row set and what local names hold."""

    def __init__(self, rs: RowSet | None, names: dict[str, Any], parent: Ctx | None = None):
        self.rs = rs
        self.names = dict(names)
        self.parent = parent
        self.pending: dict | None = None  # a file whose lines are not split into columns yet
        self.joins: dict = {}
        self.assigned: set[str] = set()
        self.index_name: str | None = None
        self.rows_source: Rows | None = None  # the list of dict rows the loop walks (rows may be updated)
        self.loop_body: list = []

    def child(self) -> Ctx:
        ctx = Ctx(self.rs, self.names, self)
        ctx.pending, ctx.joins = self.pending, dict(self.joins)
        return ctx


class ScriptReader:
    """Reads one script into a plan. ``read()`` returns nothing; results are attributes."""

    def __init__(self, source: str, filename: str = "<script>", heads: dict[str, str] | None = None):
        self.filename = filename
        self.heads = dict(heads or {})  # input path -> its first lines
        try:
            self.module = cst.parse_module(source)
        except cst.ParserSyntaxError as exc:
            raise RulesUnsupported("dataprep", (exc.raw_line, exc.raw_line),
                                   f"syntax error: {exc.message}", filename) from None
        self.wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = self.wrapper.resolve(PositionProvider)
        self.plan = DataprepPlan()
        self.env: dict[str, Any] = {}
        self.constants: dict[str, Any] = {}
        self.name_lists: dict[str, list[str]] = {}  # lists of names as the script's run ended them
        self.observed: set[str] = set()  # names read from name_lists: their in-place changes are in them
        self.copied: list[cst.CSTNode] = []  # helper functions, constants, imports (in order)
        self.imports: dict[str, cst.CSTNode] = {}
        self.outputs: dict[str, Output] = {}
        self.saved: dict[str, tuple[Any, int]] = {}  # out/X.npy -> (value, line)
        self.fitted: dict[str, tuple[Any, int]] = {}  # "X", "y" -> what the model was last fitted on
        self.model: Model | None = None
        self.notes = self.plan.notes
        self.stage = "dataprep"
        self.origin: dict[int, cst.CSTNode] = {}
        self.sklearn_defs: dict[str, cst.BaseExpression] = {}  # name -> the constructor bound to it
        self.pandas_steps: list[pandas_steps.PandasStep] = []  # statements kept as pandas code
        self.bound_by: dict[str, cst.CSTNode] = {}  # name -> the top-level statement that last bound it
        self.open_pandas_step = None  # the last pandas step, which the next one on its frame joins
        self.generated_helpers: list[str] = []

    # -- positions and errors -----------------------------------------------------------------
    def lines(self, node: cst.CSTNode) -> tuple[int, int]:
        pos = self.positions.get(node)
        if pos is None and id(node) in self.origin:  # a statement a substitution made
            pos = self.positions.get(self.origin[id(node)])
        if pos is None:
            return (0, 0)
        return (pos.start.line, pos.end.line)

    def line(self, node: cst.CSTNode) -> int:
        return self.lines(node)[0]

    def fail(self, node: cst.CSTNode, reason: str, stage: str | None = None) -> RulesUnsupported:
        return RulesUnsupported(stage or self.stage, self.lines(node), reason, self.filename)

    # -- the module -----------------------------------------------------------------------------
    def read(self) -> None:
        body, self.origin = normalized(self.module)
        body = with_defaults(body, self.origin)
        body, dropped = backward_slice(body)
        # the reader looks statements up in the module (what follows an if, a loop's body)
        self.module = self.module.with_changes(body=body)
        if dropped:
            lines = ", ".join(str(self.line(s)) for s in dropped)
            self.notes.append(f"not read, since no output depends on them: lines {lines}")
        blockers: list[RulesUnsupported] = []
        index = 0
        while index < len(body):
            stmt = body[index]
            if self._reads_blocked(stmt):
                self._block(stmt)  # follows from a statement already reported
                index += 1
                continue
            state = pandas_steps.snapshot(self)
            try:
                self.statement(stmt)
            except Exception as exc:  # noqa: BLE001 - a construct the reader does not expect
                error = self._unsupported(stmt, exc)
                pandas_steps.restore(self, state)
                if self._observed_list(stmt, body, index):
                    index += 1
                    continue
                after = pandas_steps.keep_as_pandas(self, body, index, error)
                if isinstance(after, int):
                    index = after
                    continue
                if after != pandas_steps.NO_FRAME:
                    error = RulesUnsupported(error.stage, error.lines, f"{error.reason} (not kept as a "
                                             f"pandas step: {after})", error.filename)
                # go on reading, so that the report names every statement in the way at once
                blockers.append(error)
                self._block(stmt)
            index += 1
        if blockers:
            raise all_blockers(blockers)

    def _observed_list(self, stmt: cst.CSTNode, body: list, index: int) -> bool:
        """``cat_cols = df.select_dtypes("object").columns.tolist()`` (a list of columns the
        rules cannot compute): the list as the script's run on the sample ended it, when every
        item is a column of a frame the statement reads, the name is bound only here, and its
        in-place changes (``cat_cols.remove("y")``, already in the observed value) all come
        before its first use. The report notes it: on other data the script could pick others."""
        if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name())])])):
            return False
        name, value = stmt.body[0].targets[0].target.value, stmt.body[0].value
        observed = self.name_lists.get(name)
        if not observed:
            return False
        frames = [self.env[n.value] for n in m.findall(value, m.Name()) if isinstance(self.env.get(n.value), Frame)]
        columns = {c for f in frames if f.columns is not None for c in f.columns}
        if not columns or not set(observed) <= columns:
            return False  # only names of columns, never values of the data's rows, become code
        if not bound_once(body, name):
            return False
        change = _list_change(name, _LIST_CHANGES)
        used = False
        for later in body[index + 1:]:
            if not m.findall(later, m.Name(name)):
                continue
            if m.matches(later, m.SimpleStatementLine(body=[m.Expr(change)])):
                if used:
                    return False  # changed after a use: the final value is not what the use saw
                continue
            if m.findall(later, change):
                return False
            used = True
        self.constants[name] = list(observed)
        self.env[name] = GLOBAL
        self.observed.add(name)
        self.copied.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))],
                                                               cst.parse_expression(repr(list(observed))))]))
        self.notes.append(f"line {self.line(stmt)}: {name} is the list the script computed on the sample data "
                          f"({len(observed)} columns); the pipeline uses these columns")
        return True

    def _block(self, stmt: cst.CSTNode) -> None:
        """What a statement the rules could not read binds or changes is unknown from here on."""
        facts = StatementNames()
        stmt.visit(facts)
        for name in (facts.rebinds | facts.mutates) - facts.comprehension_locals:
            self.env[name] = Blocked(self.line(stmt))

    def _reads_blocked(self, stmt: cst.CSTNode) -> bool:
        facts = StatementNames()
        stmt.visit(facts)
        return any(isinstance(self.env.get(name), Blocked) for name in facts.uses | facts.mutates)

    def _unsupported(self, stmt: cst.CSTNode, exc: Exception) -> RulesUnsupported:
        if isinstance(exc, RulesUnsupported):
            return exc
        if isinstance(exc, Untranslatable):
            return self.fail(stmt, str(exc))
        return self.fail(stmt, f"not translated ({type(exc).__name__}: {exc})")

    def statement(self, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.copied.append(stmt)
            self.env[stmt.name.value] = GLOBAL
            return
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.module_small(small, stmt)
            return
        if isinstance(stmt, cst.With):
            self.with_block(stmt, None)
            return
        if isinstance(stmt, cst.For):
            self.module_loop(stmt)
            return
        if isinstance(stmt, cst.If) and "__name__" in code_of(stmt.test):
            for s in stmt.body.body:
                self.statement(s)
            return
        if isinstance(stmt, cst.If):
            try:
                flag = self.const(stmt.test, stmt)
            except RulesUnsupported:
                flag = None
            if isinstance(flag, bool) or flag in (0, 1):
                branch = stmt.body.body if flag else (
                    stmt.orelse.body.body if isinstance(stmt.orelse, cst.Else) else [])
                if isinstance(stmt.orelse, cst.If) and not flag:
                    raise self.fail(stmt, "an elif on constants")
                for s in branch:
                    self.statement(s)
                return
        raise self.fail(stmt, f"a top-level {type(stmt).__name__} statement the rules do not translate")

    # -- simple statements at module level ----------------------------------------------------
    def module_small(self, small: cst.BaseSmallStatement, line_node: cst.CSTNode) -> None:
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            self.copied.append(line_node)
            names = small.names if not isinstance(small.names, cst.ImportStar) else []
            for alias in names:
                bound = alias.asname.name.value if alias.asname else code_of(alias.name).split(".")[0]
                self.env[bound] = GLOBAL
                self.imports[bound] = line_node
            return
        if isinstance(small, cst.Pass):
            return
        if isinstance(small, cst.Expr):
            if isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
                return  # a docstring
            self.module_expr(small.value, line_node)
            return
        if isinstance(small, cst.Assign):
            self.module_assign(small.targets, small.value, line_node)
            return
        if isinstance(small, cst.AnnAssign) and small.value is not None:
            self.module_assign([cst.AssignTarget(small.target)], small.value, line_node)
            return
        if isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            if self.env.get(small.target.value) is GLOBAL or isinstance(self.env.get(small.target.value), Ignored):
                self.env[small.target.value] = Ignored("a running total of the script")
                return
        raise self.fail(line_node, f"statement {code_of(small).strip()!r} is not translated")

    def _is_pure(self, value: cst.BaseExpression) -> bool:
        """No data flows into it: only literals, imports, helpers and constants."""
        class Names(cst.CSTVisitor):
            def __init__(self):
                self.names, self.calls, self.skip = set(), [], set()

            def visit_Attribute(self, node):
                self.skip.add(id(node.attr))

            def visit_Arg(self, node):
                if node.keyword is not None:
                    self.skip.add(id(node.keyword))

            def visit_Name(self, node):
                if id(node) not in self.skip:
                    self.names.add(node.value)

            def visit_Call(self, node):
                self.calls.append(code_of(node.func))
        found = Names()
        value.visit(found)
        if any(c in ("open", "len", "next") or c.endswith(("read_csv", "load", "loadtxt", "read_parquet",
                                                            "genfromtxt", "glob", "listdir", "DataFrame"))
               for c in found.calls):
            return False
        if self._sklearn_call(value):
            return False
        for name in found.names:
            binding = self.env.get(name)
            if binding is GLOBAL:
                continue
            if binding is not None:
                return False
            if hasattr(builtins, name):
                continue
            if not self._bound_inside(value, name):
                return False
        return True

    @staticmethod
    def _bound_inside(value: cst.BaseExpression, name: str) -> bool:
        targets = m.findall(value, m.CompFor(target=m.Name(name)) | m.Param(name=m.Name(name))
                            | m.CompFor(target=m.Tuple(elements=[m.ZeroOrMore(), m.Element(m.Name(name)),
                                                                 m.ZeroOrMore()])))
        return bool(targets)

    def _sklearn_call(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Call):
            return False
        root = code_of(value.func).split(".")[0]
        node = self.imports.get(root)
        # classes, and the factories that build pipelines of them
        return node is not None and _SKLEARN_PREFIX in code_of(node) and (
            root[:1].isupper() or root in ("make_pipeline", "make_column_transformer", "make_union")) or (
            node is not None and "sklearn" in code_of(node) and code_of(value.func).count(".") >= 1
            and code_of(value.func).split(".")[-1][:1].isupper())

    def module_assign(self, targets, value: cst.BaseExpression, line_node: cst.CSTNode) -> None:
        names = [t.target for t in targets]
        for target in names:
            if isinstance(target, cst.Name):
                self.bound_by[target.value] = line_node
        # empty collections the script fills in loops
        if len(names) == 1 and isinstance(names[0], cst.Tuple) and isinstance(value, cst.Tuple):
            if all(_is_empty_collection(e.value) for e in value.elements):
                for t, v in zip(names[0].elements, value.elements):
                    self._bind_collection(t.value, v.value, line_node)
                return
        if _is_empty_collection(value):
            for t in names:
                self._bind_collection(t, value, line_node)
            return
        if (len(names) == 1 and isinstance(names[0], cst.Name) and isinstance(value, cst.Dict) and value.elements
                and all(isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString)
                        and code_of(el.value).replace(" ", "") in ("[]", "list()") for el in value.elements)):
            name = names[0].value
            self.env[name] = ListsByKey(name, {literal_value(el.key): Collector(
                identifier(literal_value(el.key)) or "value", self.line(line_node)) for el in value.elements})
            return
        if (len(names) == 1 and isinstance(names[0], cst.Tuple) and isinstance(value, cst.Tuple)
                and len(names[0].elements) == len(value.elements) and not self._is_pure(value)):
            for t, v in zip(names[0].elements, value.elements):
                self.module_assign([cst.AssignTarget(t.value)], v.value, line_node)
            return
        if m.matches(value, m.Call(func=m.Name("train_test_split") | m.Attribute(attr=m.Name("train_test_split")))) \
                and self.split_parts(names, value, line_node):
            return
        # model = LogisticRegression(...).fit(X, y): the estimator, trained by the runner
        if (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "fit"
                and isinstance(value.func.value, cst.Name) and isinstance(self.env.get(value.func.value.value), Model)
                and all(isinstance(t, cst.Name) for t in names)):
            # model = pipeline.fit(X, y): fit returns the estimator itself
            self.model = self.env[value.func.value.value]
            for t in names:
                self.env[t.value] = self.model
            self.fitted_on(value, line_node)
            return
        if (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "fit"
                and self._sklearn_call(value.func.value) and all(isinstance(t, cst.Name) for t in names)):
            self.model = Model(code_of(value.func.value), self.line(line_node))
            for t in names:
                self.env[t.value] = self.model
            self.fitted_on(value, line_node)
            return
        if self._sklearn_call(value) and all(isinstance(t, cst.Name) for t in names):
            for t in names:  # a Pipeline's steps name them: estimators.split_pipeline inlines them
                self.sklearn_defs[t.value] = value
            self.model = Model(code_of(value), self.line(line_node))
            for t in names:
                self.env[t.value] = self.model
            return
        if isinstance(value, cst.DictComp) and len(names) == 1 and isinstance(names[0], cst.Name):
            try:
                self.env[names[0].value] = feat._category_index(self, value, line_node)
                return
            except Untranslatable:
                pass
        path = self.path_value(value)
        if path is not None and len(names) == 1 and isinstance(names[0], cst.Name):
            # DATA = os.path.join(os.path.dirname(__file__), "data"): the pipeline gets the
            # path it evaluates to, relative to the script's folder as all its sources are
            self.constants[names[0].value] = path
            self.env[names[0].value] = GLOBAL
            self.copied.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(names[0])],
                                                                   cst.SimpleString(repr(path)))]))
            return
        if self._is_pure(value) and all(isinstance(t, cst.Name) for t in names):
            self.copied.append(line_node)
            for t in names:
                self.env[t.value] = GLOBAL
                if is_literal(value):
                    self.constants[t.value] = literal_value(value)
            return
        # df.columns = [...] and df["x"] = ... are pandas updates
        if len(names) == 1 and isinstance(names[0], (cst.Subscript, cst.Attribute)):
            self.pandas_setitem(names[0], value, line_node)
            return
        result = self.value(value, line_node)
        for t in names:
            self.bind(t, result, line_node)

    def fitted_on(self, call: cst.Call, line_node) -> None:
        """``model.fit(X, y)``: X and y are the script's features and label, as if it saved them
        (``np.save`` of X or y wins: it says which rows the script meant)."""
        args = [a.value for a in call.args if a.keyword is None]
        if len(args) < 2:
            return
        line = self.line(line_node)
        self.fitted = {"X": (self.array_value(args[0], line_node), line),
                       "y": (self.array_value(args[1], line_node), line)}

    def split_parts(self, names, value: cst.Call, line_node) -> bool:
        """``X_tr, X_te, y_tr, y_te = train_test_split(X, y, ...)``: every part is its whole
        input, since ``lester run`` splits the rows itself (with provenance)."""
        arrays = [a.value for a in value.args if a.keyword is None]
        if len(names) != 1 or not isinstance(names[0], (cst.Tuple, cst.List)) or not arrays:
            return False
        parts = [e.value for e in names[0].elements]
        if len(parts) != 2 * len(arrays) or not all(isinstance(p, cst.Name) for p in parts):
            return False
        values = [self.value(a, line_node) for a in arrays]
        for index, part in enumerate(parts):
            self.env[part.value] = values[index // 2]
        self.notes.append(f"line {self.line(line_node)}: train_test_split is left to `lester run`, which "
                          "splits the prepared rows itself; X and y are all rows")
        return True

    def _bind_collection(self, target: cst.BaseExpression, value: cst.BaseExpression, line_node) -> None:
        if not isinstance(target, cst.Name):
            raise self.fail(line_node, "an empty collection bound to something other than a name")
        name = target.value
        code = code_of(value)
        if code.startswith("[") or code.startswith("list("):
            self.env[name] = Collector(name, self.line(line_node))
        else:
            default = None
            if "defaultdict(int" in code or "defaultdict(float" in code or "Counter(" in code:
                default = "int"
            elif "defaultdict(list" in code:
                default = "list"
            self.env[name] = DictCollector(name, self.line(line_node), default=default)

    def bind(self, target: cst.BaseExpression, result: Any, line_node) -> None:
        if isinstance(target, cst.Name):
            self.env[target.value] = result
            self.bound_by[target.value] = line_node
            if isinstance(result, Model):
                self.model = result
            return
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(result, tuple):
            if len(target.elements) != len(result):
                raise self.fail(line_node, "unpacking a different number of values")
            for t, r in zip(target.elements, result):
                self.bind(t.value, r, line_node)
            return
        raise self.fail(line_node, f"assignment to {code_of(target)!r} is not translated")

    def _constant_list_change(self, call: cst.Call, line_node) -> bool:
        """``cols.remove("y")`` / ``append`` / ``extend`` / ``insert`` on a list of constants:
        the constant changes as the script's list does, and the module keeps the statement."""
        if m.matches(call, _list_change(None, _LIST_CHANGES)) and call.func.value.value in self.observed:
            return True  # the observed list is the one these changes left
        if not (m.matches(call, _list_change(None, _CONSTANT_LIST_CHANGES))
                and isinstance(self.constants.get(call.func.value.value), list)
                and all(a.keyword is None and is_literal(a.value) for a in call.args)):
            return False
        changed = list(self.constants[call.func.value.value])
        try:
            getattr(changed, call.func.attr.value)(*(literal_value(a.value) for a in call.args))
        except (ValueError, TypeError, IndexError):
            return False  # the script's own call fails there: let it say so
        self.constants[call.func.value.value] = changed
        self.copied.append(line_node)
        return True

    def module_expr(self, call: cst.BaseExpression, line_node) -> None:
        if not isinstance(call, cst.Call):
            raise self.fail(line_node, f"expression {code_of(call)!r} is not translated")
        func = code_of(call.func)
        if func in _IGNORED_CALLS or func.startswith(("plt.", "sns.", "logging.", "logger.")):
            return
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "fit" and self._sklearn_call(
                call.func.value):
            self.model = Model(code_of(call.func.value), self.line(line_node))
            self.fitted_on(call, line_node)
            return
        if self._constant_list_change(call, line_node):
            return
        if isinstance(call.func, cst.Attribute):
            from lester.rewrite.rules import pandas_ops

            if pandas_ops.inplace_call(self, call, line_node):  # df["c"].fillna(v, inplace=True)
                return
            owner = call.func.value
            method = call.func.attr.value
            target = self.value(owner, line_node) if not isinstance(owner, cst.Call) or method == "to_csv" else None
            if method == "to_csv" and isinstance(target, Frame):
                self.frame_to_csv(target, call, line_node)
                return
            if isinstance(target, Lines) and method == "pop" and code_of(call.args[0].value) == "0":
                target.skipped += 1
                return
            if isinstance(target, (FileIn, CsvReader)) and method in ("readline", "__next__", "close"):
                if method == "readline":
                    target.skipped += 1
                return
            if isinstance(target, FileOut) and method == "write":
                self.write_header(target, call, line_node)
                return
            if isinstance(target, FileOut) and method == "close":
                return
            if isinstance(target, Writer) and method == "writerows":
                rows = self.value(call.args[0].value, line_node)
                if not isinstance(rows, Rows) or rows.shape.kind not in ("dict", "tuple"):
                    raise self.fail(line_node, "writerows of something other than a list of rows")
                keys = target.output.dict_fields if target.dict_writer else sorted(rows.shape.fields)
                if target.dict_writer and rows.shape.kind != "dict":
                    raise self.fail(line_node, "DictWriter.writerows of tuples")
                exprs = [RowExpr.of_column(rows.shape.fields[k], rows.rs.columns.get(rows.shape.fields[k]))
                         for k in keys]
                target.output.parts.append((rows.rs, exprs, self.line(line_node)))
                return
            if isinstance(target, Writer) and method in ("writerow", "writeheader"):
                self.writer_header(target, call, method, line_node)
                return
            if isinstance(target, Model):
                if method in ("fit", "fit_predict") and len(call.args) >= 2:
                    self.model = target  # the estimator fitted last is the model
                    self.fitted_on(call, line_node)
                return  # fit / score: training is the runner's job
            if method in ("sort", "reverse") and isinstance(target, (Rows, Collector)):
                self.notes.append(f"line {self.line(line_node)}: the script reorders rows ({func}); "
                                  "the pipeline's row order is the engine's")
                return
            if isinstance(target, Frame) and method in ("info", "head", "describe", "tail"):
                return
        if func in ("next",) and len(call.args) == 1:
            target = self.value(call.args[0].value, line_node)
            if isinstance(target, (FileIn, CsvReader, Lines)):  # Lines: only iter(lines) has a next
                target.skipped += 1
                return
        if func in ("np.save", "numpy.save") and len(call.args) == 2:
            path = self.const(call.args[0].value, line_node)
            self.saved[str(path)] = (self.array_value(call.args[1].value, line_node), self.line(line_node))
            return
        if func in ("random.shuffle", "np.random.shuffle"):
            self.notes.append(f"line {self.line(line_node)}: the script shuffles rows; order is the engine's")
            return
        raise self.fail(line_node, f"call {code_of(call).strip()[:80]!r} is not translated")

    # -- constants ------------------------------------------------------------------------------
    def const(self, node: cst.BaseExpression, line_node, names: dict | None = None) -> Any:
        """Evaluate a constant expression: literals, f-strings and os.path.join of constants."""
        values = dict(self.constants)
        for k, v in (names or {}).items():
            if isinstance(v, LiteralB):
                values[k] = v.value
        path = self.path_value(node, values)
        if path is not None:
            return path
        code = code_of(node).strip()
        try:
            tree = ast.parse(code, mode="eval")
        except SyntaxError:
            raise self.fail(line_node, f"{code!r} is not a constant") from None
        for sub in ast.walk(tree):
            if isinstance(sub, ast.Name) and sub.id not in values and sub.id not in ("os", "str", "int"):
                raise self.fail(line_node, f"{code!r} is not a constant the rules can evaluate")
            if isinstance(sub, ast.Call) and ast.unparse(sub.func) not in ("os.path.join", "str", "int"):
                raise self.fail(line_node, f"{code!r} is not a constant the rules can evaluate")
        import os
        return eval(compile(tree, "<const>", "eval"), {"os": os, "__builtins__": {"str": str, "int": int}}, values)

    def path_value(self, node: cst.BaseExpression, values: dict | None = None) -> str | None:
        """The one string a path expression evaluates to (``os.path.join(DATA_DIR, "a.csv")``,
        ``Path(__file__).parent / "data"``, ``sys.argv[1] if ... else "data"``), or None."""
        # only expressions that build a path: a literal, a name or a list is the const's to read
        # (["name"] is a list of one name, not a path), and open(path) is a file
        if not isinstance(node, (cst.Call, cst.BinaryOperation, cst.FormattedString, cst.IfExp, cst.Attribute)) \
                or m.matches(node, m.Call(func=m.Name("open"))):
            return None
        known = {k: [v] for k, v in (self.constants if values is None else values).items() if isinstance(v, str)}
        found = string_values(node, known)
        return found[0] if len(found) == 1 and "\0" not in found[0] else None

    # -- values of expressions at module level ------------------------------------------------
    def value(self, node: cst.BaseExpression, line_node, names: dict | None = None) -> Any:
        if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
            return ("literal", literal_value(node) if node.value != "None" else None)
        if isinstance(node, cst.Name):
            name = node.value
            if names and name in names:
                return names[name]
            if name not in self.env:
                raise self.fail(line_node, f"{name!r} is not defined before use (or not followed by the rules)")
            found = self.env[name]
            return self.finish(found, line_node)
        if isinstance(node, cst.Call):
            return self.call_value(node, line_node, names)
        if isinstance(node, cst.Subscript):
            return self.subscript_value(node, line_node)
        if isinstance(node, cst.Attribute):
            owner = self.value(node.value, line_node)
            if isinstance(owner, Frame):
                if node.attr.value == "columns":
                    return Ignored("column names")
                if node.attr.value == "values":
                    return feat.as_array(self, owner, node)
                return self.frame_column(owner, node.attr.value, node)
            if isinstance(owner, (Series, Vec, Matrix)) and node.attr.value in ("values", "T"):
                return feat.as_array(self, owner, node)
            raise self.fail(line_node, f"{code_of(node)!r} is not translated")
        if is_literal(node):
            return ("literal", literal_value(node))
        if isinstance(node, (cst.BinaryOperation, cst.Comparison, cst.UnaryOperation)):
            frames = {id(self.env[n.value]) for n in m.findall(node, m.Name())
                      if isinstance(self.env.get(n.value), Frame)}
            if len(frames) == 1 and not m.findall(node, m.Attribute(value=m.Name("np"))):
                frame = next(self.env[n.value] for n in m.findall(node, m.Name())
                             if isinstance(self.env.get(n.value), Frame))
                return Series(frame.rs, expr=node)
        return feat.array_expression(self, node, line_node)

    def finish(self, found: Any, line_node) -> Any:
        """A collector is complete when it is used after its loops."""
        if isinstance(found, Collector):
            return self.finish_collector(found, line_node)
        if isinstance(found, DictCollector):
            return self.finish_dict(found, line_node)
        return found

    def call_value(self, node: cst.Call, line_node, names=None) -> Any:
        func = code_of(node.func)
        args = [a for a in node.args if a.keyword is None]
        kwargs = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if func == "open":
            mode = self.const(args[1].value, line_node) if len(args) > 1 else (
                self.const(kwargs["mode"], line_node) if "mode" in kwargs else "r")
            path = str(self.const(args[0].value, line_node, names))
            if "w" in mode or "a" in mode:
                out = self.outputs.setdefault(path, Output(path, line=self.line(line_node)))
                return FileOut(out)
            encoding = self.const(kwargs["encoding"], line_node) if "encoding" in kwargs else None
            return FileIn(path, self.line(line_node), encoding=encoding)
        if func in ("csv.reader", "csv.DictReader", "reader", "DictReader"):
            file = self.value(args[0].value, line_node, names)
            skipped = 0
            if isinstance(file, Lines):  # csv.DictReader(lines): the file's records past the lines skipped
                file, skipped = file.file, file.skipped - file.file.skipped
            if not isinstance(file, FileIn):
                raise self.fail(line_node, "csv reader over something other than an open file")
            options = {}
            for key, val in kwargs.items():
                if key == "delimiter":
                    options["sep"] = repr(self.const(val, line_node))
                elif key == "fieldnames":
                    pass
                elif key in ("quotechar", "skipinitialspace"):
                    options[key] = code_of(val)
                else:
                    raise self.fail(line_node, f"csv option {key}= is not translated")
            reader = CsvReader(file, "Dict" in func, options, skipped)
            if "fieldnames" in kwargs:
                reader.fieldnames = list(self.const(kwargs["fieldnames"], line_node))
            return reader
        if func in ("csv.writer", "csv.DictWriter"):
            file = self.value(args[0].value, line_node)
            if not isinstance(file, FileOut):
                raise self.fail(line_node, "csv writer over something other than a file opened for writing")
            w = Writer(file.output, dict_writer="Dict" in func)
            if "fieldnames" in kwargs or len(args) > 1:
                spec = kwargs.get("fieldnames") or args[1].value
                first_row = None  # list(rows[0].keys()) or list(rows[0]): the first dict's keys
                if m.matches(spec, m.Call(func=m.Name("list"), args=[m.Arg(m.Call(func=m.Attribute(
                        value=m.Subscript(value=m.Name()), attr=m.Name("keys"))))])):
                    first_row = spec.args[0].value.func.value.value
                elif m.matches(spec, m.Call(func=m.Name("list"), args=[m.Arg(m.Subscript(value=m.Name()))])):
                    first_row = spec.args[0].value.value
                if first_row is not None:
                    rows = self.value(first_row, line_node)
                    if not isinstance(rows, Rows) or rows.shape.kind != "dict":
                        raise self.fail(line_node, "fieldnames from rows that are not dicts")
                    fields = list(rows.shape.fields)
                else:
                    fields = self.const(spec, line_node)
                file.output.dict_fields = list(fields)
            if "delimiter" in kwargs:
                w.delimiter = self.const(kwargs["delimiter"], line_node)
            return w
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("readlines",) :
            file = self.value(node.func.value, line_node)
            if isinstance(file, FileIn):
                return Lines(file, file.skipped)
        if (isinstance(node.func, cst.Attribute) and node.func.attr.value == "splitlines"
                and m.matches(node.func.value, m.Call(func=m.Attribute(attr=m.Name("read"))))):
            file = self.value(node.func.value.func.value, line_node)
            if isinstance(file, FileIn):
                return Lines(file, file.skipped)
        if func in ("next",) and len(args) == 1:
            target = self.value(args[0].value, line_node)
            if isinstance(target, (FileIn, CsvReader, Lines)):  # Lines: only iter(lines) has a next
                target.skipped += 1
                return Ignored("the header line")
        if func == "iter" and len(args) == 1 and not kwargs:
            held = self.value(args[0].value, line_node, names)
            if isinstance(held, (FileIn, CsvReader)):
                return held  # a file or reader is its own iterator
            if isinstance(held, Lines):
                return Lines(held.file, held.skipped)  # its own position: next() skips from it
        if m.matches(node, m.Call(func=m.Attribute(attr=m.Name("pop")), args=[m.Arg(m.Integer("0"))])):
            target = self.value(node.func.value, line_node)
            if isinstance(target, Lines):
                target.skipped += 1
                return Ignored("the header line")
        if m.matches(node, m.Call(func=m.Attribute(attr=m.Name("split") | m.Name("splitlines")))):
            inner = node.func.value
            sep_ok = node.func.attr.value == "splitlines" or (
                len(node.args) == 1 and is_literal(node.args[0].value) and literal_value(node.args[0].value) == "\n")
            while m.matches(inner, m.Call(func=m.Attribute(attr=m.Name("strip") | m.Name("rstrip")), args=[])):
                inner = inner.func.value
            if sep_ok and m.matches(inner, m.Call(func=m.Attribute(attr=m.Name("read")), args=[])):
                file = self.value(inner.func.value, line_node)
                if isinstance(file, FileIn):
                    return Lines(file, file.skipped)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "readline":
            target = self.value(node.func.value, line_node)
            if isinstance(target, FileIn):
                target.skipped += 1
                return Ignored("the header line")
        if func == "list" and len(args) == 1 and not kwargs:
            inner = args[0].value
            reader = None
            if isinstance(inner, cst.Name) and isinstance(self.env.get(inner.value), CsvReader):
                reader = self.env[inner.value]
            elif isinstance(inner, cst.Call) and code_of(inner.func) in ("csv.DictReader", "DictReader"):
                reader = self.value(inner, line_node, names)
            if reader is not None:
                return self.reader_rows(reader, line_node)
            held = self.value(inner, line_node, names) if isinstance(inner, cst.Name) else None
            if isinstance(held, FileIn):
                return Lines(held, held.skipped)  # list(f): the lines, as f.readlines() gives them
            if (m.matches(inner, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("values")), args=[]))
                    and isinstance(self.env.get(inner.func.value.value), DictCollector)):
                return self.last_per_key(self.env[inner.func.value.value], line_node)
        if func in ("pd.read_csv", "pandas.read_csv", "read_csv"):
            return self.pandas_read(node, line_node)
        from lester.rewrite.rules import pandas_ops
        handled = pandas_ops.call(self, node, line_node)
        if handled is not None:
            return handled
        return feat.array_expression(self, node, line_node)

    def subscript_value(self, node: cst.Subscript, line_node) -> Any:
        owner = self.value(node.value, line_node)
        if isinstance(owner, ListsByKey):
            key = subscript_key(node)
            if key not in owner.lists:
                raise self.fail(line_node, f"{owner.name} has no list {key!r}")
            return self.finish(owner.lists[key], line_node)
        if isinstance(owner, Lines) and m.matches(node.slice[0].slice, m.Slice(lower=m.Integer(), upper=None)):
            return Lines(owner.file, owner.skipped + int(node.slice[0].slice.lower.value))
        if isinstance(owner, Lines) and m.matches(node.slice[0].slice, m.Index(m.Integer("0"))):
            return Ignored("the header line")  # header = lines[0], then lines[1:] for the rows
        if isinstance(owner, CsvReader) and not owner.dict_rows and m.matches(
                node.slice[0].slice, m.Slice(lower=m.Integer(), upper=None)):
            return CsvReader(owner.file, False, owner.options, owner.skipped + int(node.slice[0].slice.lower.value))
        if isinstance(owner, CsvReader) and not owner.dict_rows and m.matches(
                node.slice[0].slice, m.Index(m.Integer("0"))):
            return Ignored("the header record")  # header = rows[0], then rows[1:]
        from lester.rewrite.rules import pandas_ops
        if isinstance(owner, (Frame, Series, Grouped)):
            return pandas_ops.subscript(self, owner, node, line_node)
        return feat.array_expression(self, node, line_node)

    def frame_column(self, frame: Frame, name: str, node) -> Series:
        if frame.columns is not None and name not in frame.columns:
            raise self.fail(node, f"column {name!r} is not in the DataFrame")
        return Series(frame.rs, column=(getattr(frame, "aliases", None) or {}).get(name, name))

    def array_value(self, node: cst.BaseExpression, line_node) -> Any:
        return self.value(node, line_node)

    # -- pandas ------------------------------------------------------------------------------
    def pandas_read(self, node: cst.Call, line_node) -> Frame:
        from lester.rewrite.rules import pandas_ops
        return pandas_ops.read(self, node, line_node)

    def pandas_setitem(self, target, value, line_node) -> None:
        from lester.rewrite.rules import pandas_ops
        pandas_ops.setitem(self, target, value, line_node)

    def frame_to_csv(self, frame: Frame, call: cst.Call, line_node) -> None:
        from lester.rewrite.rules import pandas_ops
        pandas_ops.to_csv(self, frame, call, line_node)

    # -- outputs ------------------------------------------------------------------------------
    def write_header(self, target: FileOut, call: cst.Call, line_node) -> None:
        text = self.const(call.args[0].value, line_node)
        if not isinstance(text, str) or not text.endswith("\n") or target.output.header is not None:
            raise self.fail(line_node, "a write outside the row loop that is not the header line")
        sep = "\t" if "\t" in text else ("," if "," in text else (";" if ";" in text else ","))
        target.separator = sep
        target.output.header = text.rstrip("\n").split(sep)

    def writer_header(self, target: Writer, call: cst.Call, method: str, line_node) -> None:
        if method == "writeheader":
            target.output.header = list(target.output.dict_fields or [])
            return
        values = self.const(call.args[0].value, line_node)
        if target.output.header is not None:
            raise self.fail(line_node, "a second constant row written outside the loop")
        target.output.header = [str(v) for v in values]

    # -- loops ------------------------------------------------------------------------------
    def with_block(self, stmt: cst.With, ctx: Ctx | None) -> None:
        bound = []
        for item in stmt.items:
            if item.asname is None or not isinstance(item.asname.name, cst.Name):
                raise self.fail(stmt, "a with statement without a simple name")
            value = self.value(item.item, stmt)
            self.env[item.asname.name.value] = value
            bound.append(item.asname.name.value)
        if ctx is not None:
            raise self.fail(stmt, "a with statement inside a loop")
        for s in stmt.body.body:
            self.statement(s)

    def module_loop(self, stmt: cst.For) -> None:
        if stmt.orelse is not None:
            raise self.fail(stmt, "for ... else is not translated")
        iterable = stmt.iter
        # a loop over a literal list of files: one pass per value, a union of the results
        literal = None
        if is_literal(iterable):
            literal = literal_value(iterable)
        elif isinstance(iterable, cst.Name) and iterable.value in self.constants:
            literal = self.constants[iterable.value]
        if isinstance(literal, (list, tuple)) and not feat.loop_is_features(self, stmt):
            for value in literal:
                names = self._bind_literal(stmt.target, value, stmt)
                for s in stmt.body.body:
                    self.unrolled_statement(s, names)
            return
        flat = feat.flatten_cells(stmt)
        if flat is not stmt and feat.loop_is_features(self, flat):
            self._copy_position(flat, stmt)
            stmt = flat
        if feat.loop_is_features(self, stmt):
            feat.fill_loop(self, stmt)
            return
        if self._first_seen_loop(stmt):
            return
        self.row_loop(stmt, None, {})

    def _first_seen_loop(self, stmt: cst.For) -> bool:
        """``for c in values: if c not in seen: seen.append(c)`` (or ``seen[c] = len(seen)``)."""
        body = stmt.body.body
        if len(body) != 1 or not isinstance(body[0], cst.If) or body[0].orelse is not None:
            return False
        test, inner = body[0].test, body[0].body.body
        if not (isinstance(stmt.target, cst.Name) and m.matches(test, m.Comparison(
                left=m.Name(stmt.target.value), comparisons=[m.ComparisonTarget(m.NotIn(), m.Name())]))):
            return False
        seen = test.comparisons[0].comparator.value
        holder = self.env.get(seen)
        if len(inner) != 1 or not isinstance(inner[0], cst.SimpleStatementLine) or len(inner[0].body) != 1:
            return False
        small = inner[0].body[0]
        c = stmt.target.value
        as_list = isinstance(holder, Collector) and not holder.parts and m.matches(small, m.Expr(m.Call(
            func=m.Attribute(value=m.Name(seen), attr=m.Name("append")), args=[m.Arg(m.Name(c))])))
        as_dict = isinstance(holder, DictCollector) and holder.index is None and not holder.aggs and m.matches(
            small, m.Assign(targets=[m.AssignTarget(m.Subscript(value=m.Name(seen)))],
                            value=m.Call(func=m.Name("len"), args=[m.Arg(m.Name(seen))])))
        if as_dict and code_of(small.targets[0].target.slice[0].slice.value) != c:
            return False
        if not (as_list or as_dict):
            return False
        rs, column = feat._as_column(self, stmt.iter, stmt)
        cats = feat._categories(self, (rs, column), "first_seen")
        self.env[seen] = cats if as_list else CategoryIndex(cats)
        return True

    def _bind_literal(self, target, value, stmt) -> dict:
        if isinstance(target, cst.Name):
            return {target.value: LiteralB(value)}
        if isinstance(target, cst.Tuple) and isinstance(value, (list, tuple)) and len(value) == len(target.elements):
            out = {}
            for t, v in zip(target.elements, value):
                out.update(self._bind_literal(t.value, v, stmt))
            return out
        raise self.fail(stmt, "loop target does not match the literal values")

    def unrolled_statement(self, stmt: cst.CSTNode, names: dict) -> None:
        """A statement in the body of a loop over literal values (with the values bound)."""
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.value(item.item, stmt, names)
                self.env[item.asname.name.value] = value
            for s in stmt.body.body:
                self.unrolled_statement(s, names)
            return
        if isinstance(stmt, cst.For):
            self.row_loop(stmt, None, names)
            return
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                known = {**self.constants, **{k: v.value for k, v in names.items() if isinstance(v, LiteralB)}}
                path = self.path_value(small.value, known)
                if path is not None and isinstance(target, cst.Name):
                    # path = os.path.join(DATA, "sales_%s.csv" % region): this pass's file
                    self.constants[target.value] = path
                    self.env[target.value] = GLOBAL
                    return
                self.bind(target, self.value(small.value, stmt, names), stmt)
                return
            if isinstance(small, cst.Expr):
                self.module_expr(small.value, stmt)
                return
        raise self.fail(stmt, "a statement in a loop over files that the rules do not translate")

    def iterable(self, node: cst.BaseExpression, ctx: Ctx | None, names: dict, line_node) -> Any:
        if isinstance(node, cst.Call) and code_of(node.func) == "enumerate":
            return ("enumerate", self.iterable(node.args[0].value, ctx, names, line_node))
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in (
                "iterrows", "itertuples", "items"):
            owner = self.value(node.func.value, line_node)
            if isinstance(owner, Frame):
                return (node.func.attr.value, owner)
            if isinstance(owner, (Index,)) and node.func.attr.value == "items":
                return ("items", owner)
        if isinstance(node, cst.Call) and code_of(node.func) == "zip":
            return ("zip", [self.value(a.value, line_node) for a in node.args])
        if ctx is not None and isinstance(node, cst.Name) and node.value in ctx.names:
            raise self.fail(line_node, "a loop over a per-row value (nested iteration) is not translated")
        return self.value(node, line_node, names)

    def row_loop(self, stmt: cst.For, outer: Ctx | None, names: dict) -> None:
        """A loop over rows: its body becomes operations on one row set."""
        if stmt.orelse is not None:
            raise self.fail(stmt, "for ... else is not translated")
        source = self.iterable(stmt.iter, outer, names, stmt)
        ctx = Ctx(None, names)
        target = stmt.target
        index_name = None
        if isinstance(source, tuple) and source[0] == "enumerate":
            if not (isinstance(target, cst.Tuple) and len(target.elements) == 2):
                raise self.fail(stmt, "enumerate(...) without an (index, row) target")
            index_name = target.elements[0].value
            target = target.elements[1].value
            source = source[1]
        if index_name is not None and isinstance(index_name, cst.Name):
            ctx.names[index_name.value] = None  # the row number: not followed
            ctx.index_name = index_name.value
        self.start_rows(ctx, source, target, stmt)
        if isinstance(source, Rows) and source.shape.kind in ("dict", "tuple") and isinstance(target, cst.Name):
            ctx.rows_source, ctx.loop_body = source, list(stmt.body.body)
        self.body(stmt.body.body, ctx)

    def start_rows(self, ctx: Ctx, source: Any, target: cst.BaseExpression, stmt: cst.For) -> None:
        if isinstance(source, FileIn):
            ctx.pending = {"file": source, "skip": source.skipped, "line": target}
            self._need_name(target, stmt)
            ctx.names[target.value] = ("line", source)
            return
        if isinstance(source, Lines):
            ctx.pending = {"file": source.file, "skip": source.skipped, "line": target}
            self._need_name(target, stmt)
            ctx.names[target.value] = ("line", source.file)
            return
        if isinstance(source, CsvReader):
            self.csv_rows(ctx, source, target, stmt)
            return
        if isinstance(source, Rows):
            ctx.rs = source.rs
            self.bind_row(ctx, target, source.shape, stmt)
            return
        if isinstance(source, (Vec, Series)):
            vec = feat._as_vec(self, source, stmt)
            if vec.scaler or vec.stage:
                raise self.fail(stmt, "a loop over scaled values")
            ctx.rs = vec.rs
            self.bind_row(ctx, target, Shape("scalar", {None: vec.column}), stmt)
            return
        if isinstance(source, tuple) and source[0] in ("iterrows", "itertuples"):
            frame: Frame = source[1]
            ctx.rs = frame.rs
            fields = {c: (c, frame.rs.columns.get(c)) for c in (frame.columns or [])}
            if source[0] == "iterrows":
                if not (isinstance(target, cst.Tuple) and len(target.elements) == 2):
                    raise self.fail(stmt, "iterrows() without an (index, row) target")
                target = target.elements[1].value
            self._need_name(target, stmt)
            ctx.names[target.value] = _FrameRow(frame, fields)
            return
        if isinstance(source, tuple) and source[0] == "zip":
            parts = source[1]
            if not all(isinstance(p, Rows) and p.shape.kind == "scalar" for p in parts):
                raise self.fail(stmt, "zip over something other than per-column lists")
            rs = parts[0].rs
            if any(p.rs.id != rs.id for p in parts):
                raise self.fail(stmt, "zip over lists built from different rows")
            ctx.rs = rs
            if isinstance(target, cst.Name):  # `for row in zip(a, b, c)`: a row of positions
                ctx.names[target.value] = RowB({i: (p.shape.fields[None], rs.columns.get(p.shape.fields[None]))
                                                for i, p in enumerate(parts)})
                return
            if not (isinstance(target, cst.Tuple) and len(target.elements) == len(parts)):
                raise self.fail(stmt, "zip(...) target does not unpack every list")
            for el, p in zip(target.elements, parts):
                col = p.shape.fields[None]
                ctx.names[el.value.value] = ColumnB(col, rs.columns.get(col))
            return
        if isinstance(source, tuple) and source[0] == "items" and isinstance(source[1], Index):
            index: Index = source[1]
            ctx.rs = index.rs
            if not (isinstance(target, cst.Tuple) and len(target.elements) == 2):
                raise self.fail(stmt, ".items() without a (key, value) target")
            ctx.names[target.elements[0].value.value] = ColumnB(index.key, index.rs.columns.get(index.key))
            self.bind_row(ctx, target.elements[1].value, index.value, stmt)
            return
        raise self.fail(stmt, f"a loop over {code_of(stmt.iter)!r} is not translated")

    def _need_name(self, target, stmt) -> None:
        if not isinstance(target, cst.Name):
            raise self.fail(stmt, "the loop variable must be a plain name here")

    def bind_row(self, ctx: Ctx, target: cst.BaseExpression, shape: Shape, stmt) -> None:
        rs = ctx.rs
        if shape.kind == "matrix":
            raise self.fail(stmt, "a loop over rows of a feature matrix")
        if shape.kind == "open":
            self._need_name(target, stmt)
            ctx.names[target.value] = RowB(_AnyColumn(rs, shape.fields["suffix"]), kind="row")
            return
        if shape.kind == "scalar":
            self._need_name(target, stmt)
            col = shape.fields[None]
            ctx.names[target.value] = ColumnB(col, rs.columns.get(col))
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            if shape.kind != "tuple" or len(target.elements) != len(shape.fields):
                raise self.fail(stmt, "the loop unpacks rows of a different shape")
            for i, el in enumerate(target.elements):
                col = shape.fields[i]
                ctx.names[el.value.value] = ColumnB(col, rs.columns.get(col))
            return
        self._need_name(target, stmt)
        ctx.names[target.value] = RowB({k: (c, rs.columns.get(c)) for k, c in shape.fields.items()},
                                       kind="record" if shape.kind == "dict" else "row")

    def csv_rows(self, ctx: Ctx, reader: CsvReader, target, stmt: cst.For) -> None:
        file = reader.file
        skip = file.skipped + reader.skipped
        if reader.dict_rows:
            if reader.fieldnames is not None:
                keys = reader.fieldnames
                options = {"header": "None" if skip == 0 else str(skip - 1), "names": repr(keys)}
            else:
                self._need_name(target, stmt)
                try:
                    keys = self._keys_used(stmt.body, target.value, stmt)
                except RulesUnsupported:
                    keys = None
                if keys is None:
                    options = {"header": str(skip)}
                    options.update(_string_options(file, reader.options))
                    rs = self.plan.scan(file.path, options, {}, file.line)
                    rs.all_columns_known = False
                    ctx.rs = rs
                    ctx.names[target.value] = RowB(_AnyColumn(rs), kind="row")
                    return
                options = {"header": str(skip), "usecols": repr(keys)}
            options.update(_string_options(file, reader.options))
            rs = self.plan.scan(file.path, options, {k: "str" for k in keys}, file.line)
            ctx.rs = rs
            self._need_name(target, stmt)
            ctx.names[target.value] = RowB({k: (k, "str") for k in keys}, kind="row")
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            cols = [self._column_name(el.value, stmt) for el in target.elements]
            rs = self.plan.scan(file.path, self._split_options(file, skip, cols, reader.options), {c: "str" for c in cols},
                                file.line)
            ctx.rs = rs
            for el, c in zip(target.elements, cols):
                ctx.names[el.value.value] = ColumnB(c, "str")
            return
        self._need_name(target, stmt)
        ctx.pending = {"file": file, "skip": skip, "line": target, "csv": reader.options}
        # for r in csv.reader(f): ... r[4].strip() ...: the columns are the positions the body reads
        name = target.value
        used = m.findall(stmt.body, m.Subscript(value=m.Name(name)))
        positions = sorted({subscript_key(s) for s in used}, key=str)
        if positions and all(isinstance(p, int) and p >= 0 for p in positions) and \
                len(m.findall(stmt.body, m.Name(name))) == len(used):
            cols = [f"{name}_{p}" for p in positions]
            self._scan_pending(ctx, cols, None, split=False, positions=positions)
            ctx.names[name] = RowB({p: (c, "str") for p, c in zip(positions, cols)})
            return
        ctx.names[name] = ("fields", file)

    def reader_rows(self, reader: CsvReader, line_node) -> Rows | CsvReader:
        """``list(csv.DictReader(f))``: every record, its fields the file's columns (known at run
        time); ``list(csv.reader(f))``: the records by position."""
        if not reader.dict_rows:
            # list(csv.reader(f)): the records as the reader yields them, sliced past a header
            # (rows[1:]) and looped over like the reader itself
            return CsvReader(reader.file, False, reader.options, reader.skipped)
        if reader.fieldnames is not None:
            raise self.fail(line_node, "a list of csv.DictReader rows with given fieldnames is not translated")
        file = reader.file
        options = {"header": str(file.skipped + reader.skipped)}
        options.update(_string_options(file, reader.options))
        rs = self.plan.scan(file.path, options, {}, file.line)
        rs.all_columns_known = False
        return Rows(rs, Shape("open", {"suffix": ""}))

    def _keys_used(self, body, name: str, stmt) -> list[str]:
        keys: list[str] = []
        for sub in m.findall(body, m.Subscript(value=m.Name(name))):
            key = subscript_key(sub)
            if key not in keys:
                keys.append(key)
        for call in m.findall(body, m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("get")))):
            key = literal_value(call.args[0].value)
            if key not in keys:
                keys.append(key)
        uses = len(m.findall(body, m.Name(name)))
        accesses = len(m.findall(body, m.Subscript(value=m.Name(name)))) + len(
            m.findall(body, m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("get")))))
        if uses != accesses:
            raise self.fail(stmt, f"the row {name!r} is used whole, not only through its fields")
        return keys

    @staticmethod
    def _column_name(node, stmt) -> str:
        if not isinstance(node, cst.Name):
            raise RulesUnsupported("dataprep", (0, 0), "unpacking into something other than names")
        return node.value

    def _split_options(self, file: FileIn, skip: int, cols: list[str], extra: dict | None = None,
                       positions: list[int] | None = None, split: bool = False) -> dict[str, str]:
        options: dict[str, str] = {}
        if extra is None or "sep" not in extra:
            options["sep"] = "','"
        options["header"] = "None" if skip == 0 else str(skip - 1)
        if skip > 1:
            options["header"] = "None"
            options["skiprows"] = str(skip)
        options["names"] = repr(cols)
        if positions is not None:
            options["usecols"] = repr(positions)
        options.update(_string_options(file, extra or {}))
        if split:
            options["quoting"] = "3"  # csv.QUOTE_NONE: str.split keeps quotes as they are
        return options

    # -- the loop body --------------------------------------------------------------------------
    def lookup_in(self, ctx: Ctx):
        def lookup(name: str) -> Any:
            if name in ctx.names:
                found = ctx.names[name]
                if isinstance(found, (ColumnB, RowB, LiteralB)):
                    return found
                if isinstance(found, _FrameRow):
                    return RowB(found.fields_for_access(), kind="record")
                return None
            found = self.env.get(name)
            if found is GLOBAL:
                return GLOBAL
            return None
        return lookup

    def expr(self, ctx: Ctx, node: cst.BaseExpression, line_node, predicate: bool = False) -> RowExpr:
        broadcast_statistics(self, ctx, node, line_node)
        node = self._probe_joins(ctx, node, line_node)
        try:
            return translate(node, self.lookup_in(ctx), constants=self.constants, predicate=predicate)
        except Untranslatable as exc:
            # the raw line used as a value (parse(line)): read the file as lines, and retry
            line = ctx.pending.get("line") if ctx.pending else None
            if isinstance(line, cst.Name) and m.findall(node, m.Name(line.value)) and self._as_lines(ctx):
                return self.expr(ctx, node, line_node, predicate)
            raise self.fail(line_node, f"{code_of(node)!r}: {exc}") from None

    def column_of(self, ctx: Ctx, node: cst.BaseExpression, line_node, hint: str) -> str:
        """The column holding ``node``'s value per row (projected when it is an expression)."""
        rexpr = self.expr(ctx, node, line_node)
        if rexpr.column is not None:
            return rexpr.column
        col = self.plan.fresh_column(ctx.rs, identifier(hint) or "value")
        self.plan.project(ctx.rs, col, rexpr, self.line(line_node))
        return col

    def materialize(self, ctx: Ctx, node: cst.BaseExpression, line_node) -> None:
        """Turn pending raw lines into columns when a split of the line is seen."""
        if ctx.pending is None or ctx.rs is not None:
            return

    def body(self, stmts, ctx: Ctx) -> None:
        stmts = self._get_then_none_guard(list(stmts), ctx)
        position = 0
        while position < len(stmts):
            stmt = stmts[position]
            if ctx.rs is None and ctx.pending is None:
                raise self.fail(stmt, "the loop has no rows")
            key = _seen_key(stmts, position)
            if key is not None and ctx.rs is not None and key[1] not in ctx.names:
                self.first_per_key(ctx, key[0], stmt)
                position += 2
                continue
            self.loop_statement(stmt, ctx)
            position += 1

    def first_per_key(self, ctx: Ctx, key: cst.BaseExpression, line_node) -> None:
        """``if k in seen: continue`` then ``seen.add(k)``: the first row of each key, in the
        loop's order (a pandas step keeps each row's provenance)."""
        column = self.column_of(ctx, key, line_node, "key")
        planned = f", columns={list(ctx.rs.columns)!r}" if ctx.rs.all_columns_known else ""
        code = ("{rs}.pipe(lambda rows: rows.drop_duplicates(subset=[" + repr(column) + "], keep='first')"
                f"{planned}, name='first_per_{identifier(column)}')")
        ctx.rs = self.plan.raw(ctx.rs, code, self.line(line_node), f"the first row of each {code_of(key)}",
                               same_rows=False)

    def _get_then_none_guard(self, stmts: list, ctx: Ctx) -> list:
        """``v = d.get(k)`` then ``if v is None: continue`` reads as ``if k not in d: continue`` + ``v = d[k]``.

        Exact when no value stored in the dict is None: rows, tuples and dicts of columns never
        are, and a single column only when its type is known (a cast, a parsed text).
        """
        out = list(stmts)
        for i in range(len(out) - 1):
            first, second = out[i], out[i + 1]
            if not (isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1
                    and m.matches(first.body[0], m.Assign(targets=[m.AssignTarget(m.Name())], value=m.Call(
                        func=m.Attribute(value=m.Name(), attr=m.Name("get")), args=[m.Arg()])))):
                continue
            name = first.body[0].targets[0].target.value
            call = first.body[0].value
            if not (isinstance(second, cst.If) and second.orelse is None and _ends_in_continue(second.body.body)
                    and m.matches(second.test, m.Comparison(left=m.Name(name), comparisons=[
                        m.ComparisonTarget(m.Is(), m.Name("None"))]))):
                continue
            holder = self.env.get(call.func.value.value)
            key = call.args[0].value
            if call.func.value.value in ctx.names or not isinstance(holder, (DictCollector, Index)):
                continue
            if not m.matches(key, m.Name() | m.Subscript(value=m.Name()) | m.Attribute(value=m.Name())):
                continue  # the key is evaluated twice: only plain reads of the row
            index = self.finish(holder, first)
            if index.value.kind == "scalar" and index.rs.columns.get(index.value.fields[None]) not in (
                    "str", "int", "float", "bool"):
                continue  # a stored value might be None itself
            guard = second.with_changes(test=cst.Comparison(left=key, comparisons=[cst.ComparisonTarget(
                cst.NotIn(whitespace_before=cst.SimpleWhitespace(" "), whitespace_after=cst.SimpleWhitespace(" "),
                          whitespace_between=cst.SimpleWhitespace(" ")), call.func.value)]))
            lookup = first.with_changes(body=[first.body[0].with_changes(value=cst.Subscript(
                value=call.func.value, slice=[cst.SubscriptElement(cst.Index(key))]))])
            self._copy_position(guard, second)
            self._copy_position(lookup, first)
            out[i], out[i + 1] = guard, lookup
        return out

    def loop_statement(self, stmt: cst.CSTNode, ctx: Ctx) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.loop_small(small, stmt, ctx)
            return
        if isinstance(stmt, cst.If):
            self.loop_if(stmt, ctx)
            return
        if isinstance(stmt, cst.Try):
            self.loop_try(stmt, ctx)
            return
        if isinstance(stmt, cst.For):
            self.nested_loop(stmt, ctx)
            return
        raise self.fail(stmt, f"a {type(stmt).__name__} statement inside a loop is not translated")

    def loop_small(self, small, line_node, ctx: Ctx) -> None:
        if isinstance(small, cst.Pass):
            return
        if isinstance(small, cst.Continue):
            raise self.fail(line_node, "an unconditional continue")
        if isinstance(small, cst.Expr):
            self.loop_call(small.value, line_node, ctx)
            return
        if isinstance(small, cst.Assign):
            if len(small.targets) != 1:
                raise self.fail(line_node, "chained assignment in a loop")
            self.loop_assign(small.targets[0].target, small.value, line_node, ctx)
            return
        if isinstance(small, cst.AugAssign):
            self.loop_augassign(small, line_node, ctx)
            return
        raise self.fail(line_node, f"{code_of(small).strip()!r} inside a loop is not translated")

    # assignments --------------------------------------------------------------------------
    def loop_assign(self, target, value, line_node, ctx: Ctx) -> None:
        # a, b, c = line.strip().split(",")   /   parts = line.split(",")   /   a, b = row
        split = self._split_of_line(value, ctx)
        if split is not None:
            try:
                self.split_line(ctx, target, split, line_node)
                return
            except RulesUnsupported:
                if not self._as_lines(ctx):
                    raise
                # the file read as lines: the split, and all that follows, are per-line Python
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            holder = self.env.get(target.value.value)
            if isinstance(holder, DictCollector):
                self.dict_store(holder, target, value, line_node, ctx)
                return
            if isinstance(holder, Zeros):
                raise self.fail(line_node, "a feature matrix filled inside the data loop")
        if isinstance(target, (cst.Tuple, cst.List)):
            self.unpack(ctx, target, value, line_node)
            return
        if (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name)
                and isinstance(ctx.names.get(target.value.value), RowB)):
            self.update_row(ctx, target, value, line_node)
            return
        if not isinstance(target, cst.Name):
            raise self.fail(line_node, f"assignment to {code_of(target)!r} inside a loop")
        name = target.value
        if name in self.env and not (self.env[name] is None) and name not in ctx.names:
            held = self.env[name]
            if held is GLOBAL or isinstance(held, Ignored):
                raise self.fail(line_node, f"the loop overwrites the module-level name {name!r}")
        probe = self._index_probe(ctx, value, line_node)
        if probe is not None:
            ctx.names[name] = probe
            return
        if (isinstance(value, cst.Name) and value.value in ctx.names
                and isinstance(ctx.names[value.value], (RowB, _FrameRow))):
            ctx.names[name] = ctx.names[value.value]
            return
        rexpr = self.expr(ctx, value, line_node)
        if rexpr.column is not None:
            ctx.names[name] = ColumnB(rexpr.column, rexpr.ctype)
            return
        if ctx.rs is None:
            raise self.fail(line_node, f"{name!r} is assigned in the loop before any row is read")
        col = self.plan.fresh_column(ctx.rs, identifier(name) or "value")
        self.plan.project(ctx.rs, col, rexpr, self.line(line_node), f"{name} = {code_of(value).strip()}")
        ctx.names[name] = ColumnB(col, rexpr.ctype)
        ctx.assigned.add(name)

    def update_row(self, ctx: Ctx, target: cst.Subscript, value, line_node) -> None:
        """``r["flag"] = ...`` on the dict rows of a list: a new column the list's rows keep afterwards.

        Only at the top of the loop body, after nothing but plain statements (no filter has
        dropped rows yet), so every row of the list gets the field as in the script.
        """
        name = target.value.value
        row = ctx.names[name]
        source = ctx.rows_source
        if source is None or ctx.names is None or row.kind not in ("row", "record") or ctx.parent is not None:
            raise self.fail(line_node, f"assignment to {code_of(target)!r} outside a loop over a list of dicts")
        key = subscript_key(target)
        if not isinstance(key, str) or isinstance(row.fields, _AnyColumn) or source.shape.kind != "dict":
            raise self.fail(line_node, f"assignment to {code_of(target)!r}: only named fields of known rows")
        self._add_row_field(ctx, name, key, value, line_node, code_of(target))

    def append_to_row(self, ctx: Ctx, name: str, value, line_node) -> None:
        """``row.append(v)`` on the list rows of a list: a new last position, which the list's
        rows keep afterwards (as for ``r["flag"] = ...``)."""
        row, source = ctx.names[name], ctx.rows_source
        if source is None or source.shape.kind != "tuple" or isinstance(row.fields, _AnyColumn) \
                or sorted(row.fields) != list(range(len(row.fields))) or ctx.parent is not None:
            raise self.fail(line_node, f"{name}.append(...) on something other than the list rows of a list")
        self._add_row_field(ctx, name, len(row.fields), value, line_node, f"{name}[{len(row.fields)}]")

    def _add_row_field(self, ctx: Ctx, name: str, key: str | int, value, line_node, target: str) -> None:
        row, source = ctx.names[name], ctx.rows_source
        if line_node not in ctx.loop_body:
            raise self.fail(line_node, f"{target!r} is set inside a block of the loop")
        before = ctx.loop_body[:ctx.loop_body.index(line_node)]
        if any(not isinstance(s, cst.SimpleStatementLine) or m.findall(s, m.Continue() | m.Break()) for s in before):
            raise self.fail(line_node, f"{target!r} is set after rows may have been skipped")
        rexpr = self.expr(ctx, value, line_node)
        col = rexpr.column
        if col is None:
            hint = key if isinstance(key, str) else f"{name}_{key}"
            col = self.plan.fresh_column(ctx.rs, identifier(hint) or "value")
            self.plan.project(ctx.rs, col, rexpr, self.line(line_node), f"{target} = {code_of(value).strip()}")
        fields = dict(row.fields)
        fields[key] = (col, rexpr.ctype)
        ctx.names[name] = RowB(fields, kind=row.kind)
        source.rs = ctx.rs  # the list's rows now carry the field (look-ups by [] keep every row)
        source.shape = Shape(source.shape.kind, {k: c for k, (c, _t) in fields.items()})

    def unpack(self, ctx: Ctx, target, value, line_node) -> None:
        probe = self._index_probe(ctx, value, line_node)
        names = [el.value for el in target.elements]
        if isinstance(value, cst.Name) and isinstance(ctx.names.get(value.value), ColumnB):
            # a, b, c = parts with parts one value per row (a parsed line): its elements
            # (a line of another length would not unpack in the script)
            for position, name in enumerate(names):
                element = cst.Subscript(value, [cst.SubscriptElement(cst.Index(cst.Integer(str(position))))])
                self.loop_assign(name, element, line_node, ctx)
            return
        if probe is not None:
            if not isinstance(probe, tuple) or len(probe) != len(names):
                raise self.fail(line_node, "unpacking a dict value of a different shape")
            for n, b in zip(names, probe):
                ctx.names[n.value] = b
            return
        held = ctx.names.get(value.value) if isinstance(value, cst.Name) else None
        if isinstance(held, tuple) and held and all(isinstance(b, ColumnB) for b in held):
            if len(held) != len(names):  # a dict's tuple value unpacked later: `name, age = m`
                raise self.fail(line_node, "unpacking a tuple of a different length")
            for n, b in zip(names, held):
                ctx.names[self._column_name(n, line_node)] = b
            return
        if isinstance(value, cst.Name) and isinstance(ctx.names.get(value.value), tuple):
            kind, file = ctx.names[value.value]
            if kind == "fields":
                cols = [self._column_name(n, line_node) for n in names]
                self._scan_pending(ctx, cols, None, split=False)
                return
        if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(names):
            for n, el in zip(names, value.elements):
                self.loop_assign(n, el.value, line_node, ctx)
            return
        if isinstance(value, cst.Name) and isinstance(ctx.names.get(value.value), RowB):
            row = ctx.names[value.value]
            if all(isinstance(k, int) for k in row.fields) and set(range(len(names))) <= set(row.fields):
                # a, b, c = parts: its first fields (a longer line would not unpack in the script)
                for n, k in zip(names, range(len(names))):
                    ctx.names[n.value] = ColumnB(*row.fields[k])
                return
            if all(isinstance(k, int) for k in row.fields) and len(row.fields) == len(names):
                for n, (k, (col, t)) in zip(names, sorted(row.fields.items())):
                    ctx.names[n.value] = ColumnB(col, t)
                return
        raise self.fail(line_node, f"unpacking {code_of(value)!r} is not translated")

    def _as_lines(self, ctx: Ctx) -> bool:
        """Read the pending file as raw lines (``lt.read_lines``), its loop variable the ``line``
        column, when its fields cannot be a CSV scan (``len(parts)``, ``parts`` passed whole):
        every row keeps its line's id, whatever the parsing."""
        pending = ctx.pending
        if pending is None or ctx.rs is not None or "file" not in pending or pending.get("csv"):
            return False
        target = pending.get("line")
        if not isinstance(target, cst.Name):
            return False
        file: FileIn = pending["file"]
        ctx.rs = self.plan.scan_lines(file.path, pending["skip"], file.line)
        ctx.pending = None
        ctx.names[target.value] = ColumnB("line", "str")
        for prefixes, line in pending.get("skip_prefixes", []):
            rexpr = RowExpr(columns=("line",), python=f"lambda line: not line.startswith({prefixes!r})", ctype="bool",
                            text=f"line.startswith({prefixes!r})")
            ctx.rs = self.plan.filter(ctx.rs, rexpr, line, f"skip lines starting with {', '.join(prefixes)}")
        self.notes.append(f"line {file.line}: {file.path} is read as lines, and each line parsed as the script does")
        return True

    def _split_of_line(self, value, ctx: Ctx):
        """``line.strip().split(sep)`` on a pending line: returns (sep, stripped)."""
        if ctx.pending is None or ctx.rs is not None:
            return None
        if not m.matches(value, m.Call(func=m.Attribute(attr=m.Name("split")))):
            return None
        inner = value.func.value
        stripped = False
        while m.matches(inner, m.Call(func=m.Attribute(attr=m.Name("strip") | m.Name("rstrip")))) and (
                not inner.args or (is_literal(inner.args[0].value) and literal_value(inner.args[0].value) in
                                   ("\n", "\r\n", "\r"))):
            stripped = True
            inner = inner.func.value
        if not (isinstance(inner, cst.Name) and isinstance(ctx.names.get(inner.value), tuple)):
            return None
        if ctx.names[inner.value][0] != "line":
            return None
        if not value.args:
            return ("whitespace", stripped)
        sep = literal_value(value.args[0].value)
        return (sep, stripped)

    def split_line(self, ctx: Ctx, target, split, line_node) -> None:
        sep, _stripped = split
        if sep == "whitespace":
            raise self.fail(line_node, "split() on whitespace is not translated")
        if isinstance(target, (cst.Tuple, cst.List)):
            cols = [self._column_name(el.value, line_node) for el in target.elements]
            self._scan_pending(ctx, cols, sep, split=True)
            return
        if isinstance(target, cst.Name):
            # parts = line.split(","): columns are the positions used later as parts[i], or
            # unpacked (a, b, c = parts)
            name = target.value
            scope = self._enclosing_loop_body(line_node)
            subscripts = m.findall(scope, m.Subscript(value=m.Name(name)))
            unpacked = [len(a.targets[0].target.elements) for a in m.findall(scope, m.Assign(
                targets=[m.AssignTarget(m.Tuple() | m.List())], value=m.Name(name)))]
            positions = {subscript_key(s) for s in subscripts} | set(range(max(unpacked + [0])))
            if not positions or not all(isinstance(p, int) and p >= 0 for p in positions) or len(set(unpacked)) > 1:
                raise self.fail(line_node, f"{name} is used other than by constant positions")
            if m.findall(scope, m.Call(func=m.Name("len"), args=[m.Arg(m.Name(name))])):
                # a read CSV cannot tell a missing field from an empty one
                raise self.fail(line_node, f"len({name}) of a split line is not translated")
            if len(m.findall(scope, m.Name(name))) != len(subscripts) + len(unpacked) + 1:
                raise self.fail(line_node, f"{name} is used whole, not only by position")
            read = sorted(positions)
            cols = [f"{name}_{p}" for p in read]
            self._scan_pending(ctx, cols, sep, split=True, positions=read)
            ctx.names[name] = RowB({p: (c, "str") for p, c in zip(read, cols)})
            return
        raise self.fail(line_node, "splitting a line into something other than names")

    def _enclosing_loop_body(self, line_node):
        for loop in m.findall(self.module, m.For()):
            if line_node in list(_descendants(loop)):
                best = loop
        return best.body

    def _scan_pending(self, ctx: Ctx, cols: list[str], sep: str | None, split: bool,
                      positions: list[int] | None = None) -> None:
        pending = ctx.pending
        file: FileIn = pending["file"]
        extra = dict(pending.get("csv") or {})
        if sep is not None:
            extra["sep"] = repr(sep)
        if len(set(cols)) != len(cols):
            raise RulesUnsupported("dataprep", (file.line, file.line), "repeated names when unpacking a line")
        options = self._split_options(file, pending["skip"], cols, extra, positions, split)
        ctx.rs = self.plan.scan(file.path, options, {c: "str" for c in cols}, file.line)
        ctx.pending = None
        for prefixes, line in pending.get("skip_prefixes", []):
            # without the separator in it, a prefix of the line is a prefix of its first field
            if sep is None or any(sep in p for p in prefixes) or (positions is not None and 0 not in positions):
                raise RulesUnsupported("dataprep", (line, line), "a line prefix test the rules cannot map to "
                                       "the first field", self.filename)
            first = cols[0]
            tests = " OR ".join(f"starts_with({quote(first)}, {_sql_text(p)})" for p in prefixes)
            rexpr = RowExpr(columns=(first,), python=f"lambda v: not v.startswith({prefixes!r})",
                            sql=f"(NOT ({tests}))" if prefixes else None, ctype="bool",
                            text=f"line.startswith({prefixes!r})")
            ctx.rs = self.plan.filter(ctx.rs, rexpr, line, f"skip lines starting with {', '.join(prefixes)}")
        if positions is None:
            for c in cols:
                ctx.names[c] = ColumnB(c, "str")

    # calls: appends, writes ---------------------------------------------------------------
    def loop_call(self, call, line_node, ctx: Ctx) -> None:
        if not isinstance(call, cst.Call):
            raise self.fail(line_node, f"expression {code_of(call)!r} inside a loop")
        func = code_of(call.func)
        if func in _IGNORED_CALLS:
            return
        if not isinstance(call.func, cst.Attribute):
            raise self.fail(line_node, f"call {func}(...) inside a loop is not translated")
        owner_node, method = call.func.value, call.func.attr.value
        if isinstance(owner_node, cst.Name):
            owner = self.env.get(owner_node.value) if owner_node.value not in ctx.names else ctx.names[owner_node.value]
            if isinstance(owner, RowB) and method == "append" and len(call.args) == 1:
                self.append_to_row(ctx, owner_node.value, call.args[0].value, line_node)
                return
            if isinstance(owner, Collector) and method == "append":
                self.collect(owner, call.args[0].value, line_node, ctx)
                return
            if isinstance(owner, FileOut) and method == "write":
                self.write_row(owner, call.args[0].value, line_node, ctx)
                return
            if isinstance(owner, Writer) and method == "writerow":
                self.writerow(owner, call.args[0].value, line_node, ctx)
                return
        if (method == "append" and isinstance(owner_node, cst.Subscript) and isinstance(owner_node.value, cst.Name)
                and isinstance(self.env.get(owner_node.value.value), ListsByKey)
                and owner_node.value.value not in ctx.names):
            lists = self.env[owner_node.value.value]
            key = subscript_key(owner_node)
            if key not in lists.lists:
                raise self.fail(line_node, f"{lists.name} has no list {key!r}")
            self.collect(lists.lists[key], call.args[0].value, line_node, ctx)
            return
        # d[k].append(v) on a defaultdict(list) / d.setdefault(k, []).append(v)
        if method == "append" and isinstance(owner_node, cst.Subscript) and isinstance(owner_node.value, cst.Name):
            holder = self.env.get(owner_node.value.value)
            if isinstance(holder, DictCollector) and (holder.default == "list" or
                                                      owner_node.value.value in holder.initialised):
                key = self.column_of(ctx, owner_node.slice[0].slice.value, line_node, "key")
                val = self.column_of(ctx, call.args[0].value, line_node, holder.name + "_item")
                holder.aggs.append((ctx.rs, key, val, "list", self.line(line_node)))
                return
        raise self.fail(line_node, f"call {code_of(call).strip()[:60]!r} inside a loop is not translated")

    def collect(self, coll: Collector, value, line_node, ctx: Ctx) -> None:
        shape = self.element_shape(ctx, value, line_node, coll.name)
        coll.parts.append((ctx.rs, shape, self.line(line_node)))

    def element_shape(self, ctx: Ctx, value, line_node, hint: str) -> Shape:
        if isinstance(value, cst.ListComp):
            # [1.0 if v == c else 0.0 for c in CATEGORIES]: one row of a one-hot matrix
            try:
                block = feat._onehot_comprehension(self, ctx, value, line_node)
            except Untranslatable:
                block = None
            if block is not None:
                return Shape("matrix", {"blocks": [block]})
        if isinstance(value, (cst.Tuple, cst.List)):
            fields = {}
            for i, el in enumerate(value.elements):
                name = el.value.value if isinstance(el.value, cst.Name) else f"{hint}_{i}"
                fields[i] = self.column_of(ctx, el.value, line_node, name)
            return Shape("tuple", fields)
        if isinstance(value, cst.Dict):
            fields = {}
            for el in value.elements:
                if (isinstance(el, cst.StarredDictElement) and isinstance(el.value, cst.Name)
                        and isinstance(ctx.names.get(el.value.value), RowB)
                        and not isinstance(ctx.names[el.value.value].fields, _AnyColumn)
                        and all(isinstance(k, str) for k in ctx.names[el.value.value].fields)):
                    for k, (c, _t) in ctx.names[el.value.value].fields.items():  # {**row, ...}
                        fields[k] = c
                    continue
                if not isinstance(el, cst.DictElement):
                    raise self.fail(line_node, "a ** entry in a row dict")
                key = literal_value(el.key)
                fields[key] = self.column_of(ctx, el.value, line_node, str(key))
            return Shape("dict", fields)
        if isinstance(value, cst.Name) and isinstance(ctx.names.get(value.value), RowB) and isinstance(
                ctx.names[value.value].fields, _AnyColumn):
            return Shape("open", {"suffix": ctx.names[value.value].fields.suffix})
        if isinstance(value, cst.Name) and isinstance(ctx.names.get(value.value), RowB):
            row = ctx.names[value.value]
            return Shape("dict" if row.kind == "record" or any(isinstance(k, str) for k in row.fields) else "tuple",
                         {k: c for k, (c, _t) in row.fields.items()})
        col = self.column_of(ctx, value, line_node, hint)
        return Shape("scalar", {None: col})

    def write_row(self, out: FileOut, value, line_node, ctx: Ctx) -> None:
        joined = _joined_row(value)
        if joined is not None:
            sep, row_name, item = joined
            row = ctx.names.get(row_name)
            if sep != out.separator or not isinstance(row, RowB) or not all(isinstance(k, int) for k in row.fields):
                raise self.fail(line_node, "a joined row the rules cannot map to columns")
            exprs = [RowExpr.of_column(c, t) for _k, (c, t) in sorted(row.fields.items())]
            out.output.parts.append((ctx.rs, exprs, self.line(line_node)))
            return
        if not isinstance(value, cst.FormattedString):
            raise self.fail(line_node, "a row written with something other than an f-string")
        fields = _split_fstring(value, out.separator)
        if fields is None:
            raise self.fail(line_node, "the f-string does not end with a newline")
        exprs = []
        for parts in fields:
            if len(parts) == 1 and isinstance(parts[0], cst.FormattedStringExpression) and parts[0].format_spec is None \
                    and parts[0].conversion is None:
                node = parts[0].expression
            else:
                node = cst.FormattedString(parts=parts, start='f"', end='"')
            exprs.append(self.expr(ctx, node, line_node))
        out.output.parts.append((ctx.rs, exprs, self.line(line_node)))

    def writerow(self, writer: Writer, value, line_node, ctx: Ctx) -> None:
        if writer.dict_writer:
            if not isinstance(value, cst.Dict):
                shape = self.element_shape(ctx, value, line_node, "field")
                keys = writer.output.dict_fields or []
                exprs = [RowExpr.of_column(shape.fields[k], ctx.rs.columns.get(shape.fields[k])) for k in keys]
            else:
                by_key = {literal_value(el.key): el.value for el in value.elements}
                exprs = [self.expr(ctx, by_key[k], line_node) for k in writer.output.dict_fields or []]
            writer.output.parts.append((ctx.rs, exprs, self.line(line_node)))
            return
        if isinstance(value, cst.Name) and isinstance(ctx.names.get(value.value), RowB):
            row = ctx.names[value.value]
            if not all(isinstance(k, int) for k in row.fields):
                raise self.fail(line_node, "writerow of a dict row")
            exprs = [RowExpr.of_column(c, t) for _k, (c, t) in sorted(row.fields.items())]
            writer.output.parts.append((ctx.rs, exprs, self.line(line_node)))
            return
        if isinstance(value, cst.Name) and isinstance(ctx.names.get(value.value), tuple) is False and False:
            pass
        if not isinstance(value, (cst.List, cst.Tuple)):
            raise self.fail(line_node, "writerow of something other than a list of values")
        exprs = [self.expr(ctx, el.value, line_node) for el in value.elements]
        writer.output.parts.append((ctx.rs, exprs, self.line(line_node)))

    # dict stores: join indexes and group-bys -------------------------------------------------
    def dict_store(self, holder: DictCollector, target: cst.Subscript, value, line_node, ctx: Ctx) -> None:
        key_node = target.slice[0].slice.value
        name = holder.name
        line = self.line(line_node)
        # counts[k] = counts.get(k, 0) + x
        if m.matches(value, m.BinaryOperation(operator=m.Add(), left=m.Call(
                func=m.Attribute(value=m.Name(name), attr=m.Name("get"))))):
            get = value.left
            if code_of(get.args[0].value) != code_of(key_node) or literal_value(get.args[1].value) not in (0, 0.0):
                raise self.fail(line_node, f"{name}.get(...) with another key or a non-zero start")
            self._aggregate_into(holder, key_node, value.right, line_node, ctx)
            return
        if holder.name in holder.initialised or (
                m.matches(value, m.Integer("0") | m.Float()) and literal_value(value) == 0):
            # if k not in d: d[k] = 0  (the start of a running sum)
            if literal_value(value) in (0, 0.0) if is_literal(value) else False:
                holder.initialised.add(name)
                return
        if m.matches(value, m.List(elements=[])):
            holder.initialised.add(name)
            return
        if holder.aggs:
            raise self.fail(line_node, f"{name} is both aggregated and assigned")
        key = self.column_of(ctx, key_node, line_node, "key")
        shape = self.element_shape(ctx, value, line_node, name)
        if holder.index is not None and holder.index[0].id != ctx.rs.id:
            raise self.fail(line_node, f"{name} is filled from two different loops")
        holder.index = (ctx.rs, key, shape, line)

    def _aggregate_into(self, holder: DictCollector, key_node, amount, line_node, ctx: Ctx) -> None:
        key = self.column_of(ctx, key_node, line_node, "key")
        if is_literal(amount) and literal_value(amount) == 1:
            holder.aggs.append((ctx.rs, key, None, "count", self.line(line_node)))
            return
        val = self.column_of(ctx, amount, line_node, holder.name + "_amount")
        holder.aggs.append((ctx.rs, key, val, "sum", self.line(line_node)))

    def loop_augassign(self, small: cst.AugAssign, line_node, ctx: Ctx) -> None:
        target = small.target
        if isinstance(target, cst.Name):
            held = self.env.get(target.value)
            if target.value not in ctx.names and (held is GLOBAL or isinstance(held, Ignored)):
                self.env[target.value] = Ignored("a running total of the script")
                return
            if target.value in ctx.names:
                binop = {cst.AddAssign: cst.Add(), cst.SubtractAssign: cst.Subtract(),
                         cst.MultiplyAssign: cst.Multiply()}.get(type(small.operator))
                if binop is None:
                    raise self.fail(line_node, "augmented assignment operator")
                value = cst.BinaryOperation(left=target, operator=binop, right=small.value)
                self.loop_assign(target, value, line_node, ctx)
                return
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            holder = self.env.get(target.value.value)
            if isinstance(holder, DictCollector) and isinstance(small.operator, cst.AddAssign):
                if holder.default == "int" or holder.name in holder.initialised:
                    self._aggregate_into(holder, target.slice[0].slice.value, small.value, line_node, ctx)
                    return
        raise self.fail(line_node, f"{code_of(small).strip()!r} inside a loop is not translated")

    def finish_dict(self, holder: DictCollector, line_node) -> Any:
        if holder.done is not None:
            return holder.done
        if holder.index is not None:
            rs, key, shape, line = holder.index
            holder.done = Index(rs, key, shape, holder.name)
            self.notes.append(f"line {line}: the dict {holder.name!r} is a join index; a join keeps every row "
                              f"of a repeated key where the dict keeps the last one (keys must be unique)")
            return holder.done
        if holder.aggs:
            rs = holder.aggs[0][0]
            key = holder.aggs[0][1]
            if any(a[0].id != rs.id or a[1] != key for a in holder.aggs):
                raise RulesUnsupported("dataprep", (holder.line, holder.aggs[-1][4]),
                                       f"{holder.name} aggregates different rows or keys", self.filename)
            specs = {}
            for _rs, _k, val, fn, _line in holder.aggs:
                specs[holder.name] = (val, fn)
            if len(holder.aggs) > 1:
                raise RulesUnsupported("dataprep", (holder.line, holder.aggs[-1][4]),
                                       f"{holder.name} is updated in more than one place", self.filename)
            out = self.plan.fresh_column(rs, holder.name)
            grouped = self.plan.aggregate(rs, [key], {out: specs[holder.name]}, holder.aggs[0][4],
                                          f"{holder.name}: group-by done with a dict")
            holder.done = Index(grouped, key, Shape("scalar", {None: out}), holder.name)
            return holder.done
        raise RulesUnsupported("dataprep", (holder.line, holder.line), f"{holder.name} is never filled",
                               self.filename)

    def last_per_key(self, holder: DictCollector, line_node) -> Rows:
        """``list(latest.values())`` after ``latest[row["id"]] = row``: one row per key, the last
        one the loop saw (a pandas step keeps each row's provenance)."""
        found = self.finish_dict(holder, line_node)
        if not isinstance(found, Index) or found.value.kind not in ("dict", "row", "tuple", "open"):
            raise self.fail(line_node, f"list({holder.name}.values()) of something other than whole rows by a key")
        rs = found.rs
        # the columns, when the rules know them; else the pipeline finds them when it runs
        planned = f", columns={list(rs.columns)!r}" if rs.all_columns_known else ""
        code = ("{rs}.pipe(lambda rows: rows.drop_duplicates(subset=[" + repr(found.key) + "], keep='last')"
                f"{planned}, name='last_per_{identifier(found.key)}')")
        out = self.plan.raw(rs, code, self.line(line_node), f"{holder.name}: the last row of each "
                            f"{found.key}", same_rows=False)
        self.notes.pop()  # the join-index note does not apply: the dict is read back as rows
        return Rows(out, found.value)

    def finish_collector(self, coll: Collector, line_node) -> Rows:
        if coll.done is not None:
            return coll.done
        if not coll.parts:
            raise RulesUnsupported("dataprep", (coll.line, coll.line), f"{coll.name} is never filled",
                                   self.filename)
        if len(coll.parts) == 1:
            rs, shape, _line = coll.parts[0]
            coll.done = Rows(rs, shape)
            return coll.done
        # lists filled side by side in the same loops (one per column) become one union together
        ids = [rs.id for rs, _shape, _line in coll.parts]
        partners = [c for c in self.env.values() if isinstance(c, Collector) and c.done is None and c.parts
                    and [rs.id for rs, _s, _l in c.parts] == ids and all(s.kind == "scalar" for _r, s, _l in c.parts)]
        if len(partners) > 1 and coll in partners:
            frames = []
            for i, (rs, _shape, part_line) in enumerate(coll.parts):
                cols = [p.parts[i][1].fields[None] for p in partners]
                if len(set(cols)) != len(cols):
                    raise RulesUnsupported("dataprep", (coll.line, part_line), "the same value in two lists",
                                           self.filename)
                picked = self.plan.select(rs, cols, part_line)
                mapping = {c: p.name for c, p in zip(cols, partners) if c != p.name}
                frames.append(self.plan.rename(picked, mapping, part_line) if mapping else picked)
            union = self.plan.union(frames, coll.line, f"{', '.join(p.name for p in partners)}: "
                                    f"rows appended in {len(frames)} places")
            for p in partners:
                p.done = Rows(union, Shape("scalar", {None: p.name}))
            return coll.done
        # appended in several places: a union, columns aligned by position / key
        first_rs, first_shape, line = coll.parts[0]
        names = {k: (identifier(str(k)) if isinstance(k, str) else f"{coll.name}_{k}") if k is not None
                 else coll.name for k in first_shape.fields}
        frames = []
        for rs, shape, part_line in coll.parts:
            if shape.kind != first_shape.kind or set(shape.fields) != set(first_shape.fields):
                raise RulesUnsupported("dataprep", (coll.line, part_line),
                                       f"{coll.name} gets rows of different shapes", self.filename)
            picked = self.plan.select(rs, list(dict.fromkeys(shape.fields.values())), part_line)
            if len(set(shape.fields.values())) != len(shape.fields):
                raise RulesUnsupported("dataprep", (coll.line, part_line),
                                       f"{coll.name}: the same value twice in one row", self.filename)
            mapping = {shape.fields[k]: names[k] for k in shape.fields if shape.fields[k] != names[k]}
            frames.append(self.plan.rename(picked, mapping, part_line) if mapping else picked)
        union = self.plan.union(frames, line, f"{coll.name}: rows appended in {len(frames)} places")
        coll.done = Rows(union, Shape(first_shape.kind, {k: names[k] for k in first_shape.fields}))
        return coll.done

    def _index_probe(self, ctx: Ctx, value, line_node):
        """``idx[key]`` / ``idx.get(key, default)``: join the index and return the value's bindings."""
        how = None
        if isinstance(value, cst.Subscript) and isinstance(value.value, cst.Name):
            holder = self.env.get(value.value.value)
            if isinstance(holder, (DictCollector, Index)) and value.value.value not in ctx.names:
                how, key_node, default = "inner", value.slice[0].slice.value, None
        elif m.matches(value, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("get")))):
            holder = self.env.get(value.func.value.value)
            if isinstance(holder, (DictCollector, Index)) and value.func.value.value not in ctx.names:
                how, key_node = "left", value.args[0].value
                default = value.args[1].value if len(value.args) > 1 else cst.Name("None")
        if how is None:
            return None
        index = self.finish(holder, line_node)
        cols = self.join_index(ctx, index, key_node, how, line_node)
        if how == "inner":
            return _bindings(index.value, cols, ctx.rs)
        # left join: missing keys give the default
        shape = index.value
        if shape.kind == "scalar":
            col = cols[None]
            rexpr = self._defaulted(ctx, col, default, line_node)
            out = self.plan.fresh_column(ctx.rs, f"{index.name}_value")
            self.plan.project(ctx.rs, out, rexpr, self.line(line_node), code_of(value))
            return ColumnB(out, rexpr.ctype)
        if isinstance(default, cst.Name) and default.value in self.constants:
            constant = self.constants[default.value]
            if isinstance(constant, dict) and shape.kind == "dict" and set(constant) >= set(shape.fields):
                fields = {}
                for k in shape.fields:
                    rexpr = self._defaulted(ctx, cols[k], cst.parse_expression(repr(constant[k])), line_node)
                    name = self.plan.fresh_column(ctx.rs, f"{index.name}_{k}")
                    self.plan.project(ctx.rs, name, rexpr, self.line(line_node), f"{k} or its default")
                    fields[k] = (name, rexpr.ctype)
                return RowB(fields, kind="record")
            if isinstance(constant, (tuple, list)):
                default = cst.parse_expression(repr(tuple(constant)))
        if isinstance(default, (cst.Tuple, cst.List)) and len(default.elements) == len(shape.fields):
            out = []
            for (k, _c), el in zip(shape.fields.items(), default.elements):
                rexpr = self._defaulted(ctx, cols[k], el.value, line_node)
                name = self.plan.fresh_column(ctx.rs, f"{index.name}_{k}")
                self.plan.project(ctx.rs, name, rexpr, self.line(line_node))
                out.append(ColumnB(name, rexpr.ctype))
            return tuple(out)
        raise self.fail(line_node, ".get() with a default that does not match the dict's values")

    def _defaulted(self, ctx: Ctx, col: str, default, line_node) -> RowExpr:
        if isinstance(default, cst.Name) and default.value in self.constants and default.value not in ctx.names:
            # DEFAULT_SCORE = 600 at module level: the constant's value (scalars only)
            value = self.constants[default.value]
            if not isinstance(value, (str, int, float, bool, type(None))):
                raise self.fail(line_node, f"a .get() default {default.value!r} that is not a scalar constant")
        elif is_literal(default) or code_of(default) == "None":
            value = None if code_of(default) == "None" else literal_value(default)
        else:
            raise self.fail(line_node, "a .get() default that is not a constant")
        ctype = ctx.rs.columns.get(col)
        if value is not None and ctype is not None and type(value).__name__ != ctype:
            ctype = None  # the default has another type than the dict's values
        return RowExpr(columns=(col,), python=f"lambda v: {value!r} if v is None else v", ctype=ctype,
                       text=f"{col} or {value!r} when missing")

    def join_index(self, ctx: Ctx, index: Index, key_node, how: str, line_node) -> dict:
        key = self.column_of(ctx, key_node, line_node, index.name + "_key")
        cache_key = (id(index), key, how)
        for other_how in ((how,) if how == "left" else ("inner",)):
            if (id(index), key, other_how) in ctx.joins:
                return ctx.joins[(id(index), key, other_how)]
        if (id(index), key, "inner") in ctx.joins:
            return ctx.joins[(id(index), key, "inner")]
        right = index.rs
        if index.value.kind == "open" or not right.all_columns_known:
            suffix = f"__{identifier(index.name)}"
            renamed = self.plan.raw(right, "{rs}.rename({{c: c + " + repr(suffix) + " for c in {rs}.columns}})",
                                    self.line(line_node), f"the dict {index.name}'s columns", columns={})
            renamed.all_columns_known = False
            joined = self.plan.join(ctx.rs, renamed, [key], [index.key + suffix], how, self.line(line_node),
                                    f"{code_of(key_node)} looked up in {index.name}")
            joined.all_columns_known = False
            ctx.rs = joined
            if index.value.kind == "open":
                cols = {"suffix": index.value.fields.get("suffix", "") + suffix}
            else:
                cols = {k: c + suffix for k, c in index.value.fields.items()}
            ctx.joins[cache_key] = cols
            return cols
        wanted = [index.key] + [c for c in index.value.fields.values() if c != index.key]
        picked = self.plan.select(right, wanted, self.line(line_node), f"the dict {index.name}")
        taken = set(ctx.rs.columns)
        mapping = {}
        for c in wanted:
            if c in taken or c in mapping.values():
                new = self.plan.fresh_column(ctx.rs, f"{index.name}_{c}", taken | set(mapping.values()))
                mapping[c] = new
        if mapping:
            picked = self.plan.rename(picked, mapping, self.line(line_node))
        right_key = mapping.get(index.key, index.key)
        joined = self.plan.join(ctx.rs, picked, [key], [right_key], how, self.line(line_node),
                                f"{code_of(key_node)} looked up in {index.name}")
        ctx.rs = joined
        cols = {k: mapping.get(c, c) for k, c in index.value.fields.items()}
        if index.value.kind == "scalar" and index.value.fields[None] == index.key:
            cols[None] = right_key
        ctx.joins[cache_key] = cols
        return cols

    # ifs -----------------------------------------------------------------------------------
    def loop_if(self, stmt: cst.If, ctx: Ctx) -> None:
        body = list(stmt.body.body)
        orelse = stmt.orelse
        # `if key not in idx: continue` / `if key in idx:` -> joins
        probe = self._membership(stmt.test, ctx)
        if probe is not None:
            negated, holder, key_node = probe
            index = self.finish(holder, stmt)
            if negated and _ends_in_continue(body) and orelse is None:
                self.join_index(ctx, index, key_node, "inner", stmt)
                return
            if not negated and orelse is None and not _has_continue(body):
                child = ctx.child()
                self.join_index(child, index, key_node, "inner", stmt)
                self.body(body, child)
                return
            if not negated and orelse is not None and self._assignments_only(body) and self._assignments_only(
                    orelse.body.body if isinstance(orelse, cst.Else) else [orelse]):
                raise self.fail(stmt, "if key in dict / else with assignments: use dict.get")
            raise self.fail(stmt, "a membership test on a dict used in an unusual way")
        if (_ends_in_continue(body) and orelse is None and ctx.pending is not None and ctx.index_name
                and m.matches(stmt.test, m.Comparison(left=m.Name(ctx.index_name), comparisons=[
                    m.ComparisonTarget(m.Equal(), m.Integer("0"))]))):
            ctx.pending["skip"] += 1  # `if i == 0: continue` skips the header line
            return
        if _ends_in_continue(body) and orelse is None and ctx.pending is not None and ctx.rs is None:
            prefixes = self._line_prefixes(stmt.test, ctx)
            if prefixes is not None:  # `if line.startswith("id"): continue` before the line is split
                self._ignorable_before_continue(body[:-1] if not _is_continue_line(body[-1]) else body, ctx)
                ctx.pending.setdefault("skip_prefixes", []).append((prefixes, self.line(stmt)))
                return
        if _ends_in_continue(body) and orelse is None and self._mixed_memberships(_disjuncts(stmt.test), ctx):
            # `if a not in d or b not in d: continue`: each disjunct in turn removes rows
            self._ignorable_before_continue(body[:-1] if not _is_continue_line(body[-1]) else body, ctx)
            for part in _disjuncts(stmt.test):
                self._narrow(ctx, _negate(part), stmt)
            return
        if (orelse is None and not _has_continue(body) and not isinstance(stmt.test, cst.Comparison)
                and self._mixed_memberships(_conjuncts(stmt.test), ctx)):
            # `if n > 0 and k in d:` block: each conjunct in turn keeps rows (Python's short-circuit order)
            child = ctx.child()
            for part in _conjuncts(stmt.test):
                self._narrow(child, part, stmt)
            self.body(body, child)
            self._check_no_escape(child, ctx, stmt)
            return
        if _ends_in_continue(body) and orelse is None:
            self._ignorable_before_continue(body[:-1] if not _is_continue_line(body[-1]) else body, ctx)
            negated = _negate(stmt.test)
            rexpr = self.expr(ctx, negated, stmt, predicate=True)
            ctx.rs = self.plan.filter(ctx.rs, rexpr, self.line(stmt), f"skip rows where {code_of(stmt.test)}")
            return
        branches = _branches(stmt)
        if branches is not None and all(self._assignments_only(b) for _c, b in branches):
            merged = self._merge_branches(branches, ctx, stmt)
            if merged is not None:
                for s in merged:
                    self.loop_statement(s, ctx)
                return
        if orelse is None and not _has_continue(body):
            child = ctx.child()
            rexpr = self.expr(ctx, stmt.test, stmt, predicate=True)
            child.rs = self.plan.filter(ctx.rs, rexpr, self.line(stmt), f"rows where {code_of(stmt.test)}")
            self.body(body, child)
            self._check_no_escape(child, ctx, stmt)
            return
        if orelse is not None and isinstance(orelse, cst.Else) and not _has_continue(body) and not _has_continue(
                orelse.body.body):
            rexpr = self.expr(ctx, stmt.test, stmt, predicate=True)
            yes, no = ctx.child(), ctx.child()
            yes.rs = self.plan.filter(ctx.rs, rexpr, self.line(stmt), f"rows where {code_of(stmt.test)}")
            not_expr = self.expr(ctx, _negate(stmt.test), stmt, predicate=True)
            no.rs = self.plan.filter(ctx.rs, not_expr, self.line(stmt), f"rows where not ({code_of(stmt.test)})")
            self.body(body, yes)
            self.body(orelse.body.body, no)
            self._check_no_escape(yes, ctx, stmt)
            self._check_no_escape(no, ctx, stmt)
            return
        raise self.fail(stmt, "an if statement the rules do not translate")

    def _mixed_memberships(self, parts: list, ctx: Ctx) -> bool:
        """Several tests joined by and/or, at least one of them a membership in a dict."""
        return len(parts) > 1 and any(self._membership(p, ctx) is not None for p in parts)

    def _narrow(self, ctx: Ctx, test, stmt) -> None:
        """Keep the rows where ``test`` holds: ``k in d`` is an inner join, anything else a filter."""
        probe = self._membership(test, ctx)
        if probe is not None:
            negated, holder, key_node = probe
            if negated:
                raise self.fail(stmt, "rows kept when a key is missing from a dict (an anti-join)")
            self.join_index(ctx, self.finish(holder, stmt), key_node, "inner", stmt)
            return
        rexpr = self.expr(ctx, test, stmt, predicate=True)
        ctx.rs = self.plan.filter(ctx.rs, rexpr, self.line(stmt), f"rows where {code_of(test).strip()}")

    def _line_prefixes(self, test, ctx: Ctx) -> tuple[str, ...] | None:
        """``line.startswith(prefix)`` (or a tuple of prefixes) on the raw line not yet split."""
        if not m.matches(test, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("startswith")), args=[m.Arg()])):
            return None
        held = ctx.names.get(test.func.value.value)
        if not (isinstance(held, tuple) and held[0] == "line") or not is_literal(test.args[0].value):
            return None
        value = literal_value(test.args[0].value)
        prefixes = (value,) if isinstance(value, str) else value
        if not isinstance(prefixes, tuple) or not all(isinstance(p, str) for p in prefixes):
            return None
        if any(ch in p for p in prefixes for ch in "\r\n\""):
            return None
        return prefixes

    def _check_no_escape(self, child: Ctx, ctx: Ctx, stmt) -> None:
        after = self._statements_after(stmt)
        for name in child.assigned:
            if any(m.findall(s, m.Name(name)) for s in after):
                raise self.fail(stmt, f"{name!r} is set inside the if block and used after it")

    def _statements_after(self, stmt) -> list:
        for block in m.findall(self.module, m.IndentedBlock()):
            body = list(block.body)
            if stmt in body:
                return body[body.index(stmt) + 1:]
        return []

    def _ignorable_before_continue(self, stmts, ctx: Ctx) -> None:
        for s in stmts:
            if isinstance(s, cst.SimpleStatementLine):
                for small in s.body:
                    if isinstance(small, cst.Continue):
                        continue
                    if isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name) and (
                            small.target.value not in ctx.names):
                        self.env[small.target.value] = Ignored("a counter")
                        continue
                    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and code_of(
                            small.value.func) in _IGNORED_CALLS:
                        continue
                    raise self.fail(s, f"{code_of(small).strip()!r} before continue is not translated")
            else:
                raise self.fail(s, "a block before continue is not translated")

    def _membership(self, test, ctx: Ctx):
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return None
        target = test.comparisons[0]
        if not isinstance(target.operator, (cst.In, cst.NotIn)) or not isinstance(target.comparator, cst.Name):
            return None
        name = target.comparator.value
        if name in ctx.names:
            return None
        holder = self.env.get(name)
        if not isinstance(holder, (DictCollector, Index)):
            return None
        return (isinstance(target.operator, cst.NotIn), holder, test.left)

    def _assignments_only(self, stmts) -> bool:
        for s in stmts:
            if not isinstance(s, cst.SimpleStatementLine):
                return False
            for small in s.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(
                        small.targets[0].target, cst.Name):
                    continue
                if m.matches(small, m.Expr(m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("append")),
                                                  args=[m.Arg()]))):
                    continue
                return False
        return True

    def _merge_branches(self, branches, ctx: Ctx, stmt) -> list | None:
        """if/elif/else blocks that only assign or append: one conditional expression per target."""
        targets: list[tuple[str, str]] = []  # ("assign"|"append", name)
        per_branch = []
        for _cond, stmts in branches:
            values = {}
            for s in stmts:
                for small in s.body:
                    if isinstance(small, cst.Assign):
                        key = ("assign", small.targets[0].target.value)
                        expr = small.value
                    else:
                        key = ("append", small.value.func.value.value)
                        expr = small.value.args[0].value
                    if key in values:
                        return None
                    # a branch may not read what it assigned itself
                    for (kind, n) in values:
                        if kind == "assign" and m.findall(expr, m.Name(n)):
                            return None
                    values[key] = expr
                    if key not in targets:
                        targets.append(key)
            per_branch.append(values)
        has_else = branches[-1][0] is None
        for key in targets:
            kind, name = key
            if kind == "append" and (not has_else or any(key not in v for v in per_branch)):
                return None
            if kind == "assign" and (not has_else or any(key not in v for v in per_branch)):
                if name not in ctx.names:
                    return None
        out = []
        for key in targets:
            kind, name = key
            expr = per_branch[-1].get(key, cst.Name(name)) if has_else else cst.Name(name)
            for (cond, _stmts), values in reversed(list(zip(branches, per_branch))):
                if cond is None:
                    continue
                expr = cst.IfExp(test=cond, body=values.get(key, cst.Name(name)), orelse=expr,
                                 whitespace_before_if=cst.SimpleWhitespace(" "),
                                 whitespace_after_if=cst.SimpleWhitespace(" "),
                                 whitespace_before_else=cst.SimpleWhitespace(" "),
                                 whitespace_after_else=cst.SimpleWhitespace(" "))
            if kind == "assign":
                small = cst.Assign(targets=[cst.AssignTarget(cst.Name(name))], value=expr)
            else:
                small = cst.Expr(cst.Call(func=cst.Attribute(value=cst.Name(name), attr=cst.Name("append")),
                                          args=[cst.Arg(expr)]))
            out.append(cst.SimpleStatementLine([small]))
        # positions: reuse the if statement's
        for s in out:
            self._copy_position(s, stmt)
        return out

    def _copy_position(self, new, old) -> None:
        pos = self.positions.get(old)
        if pos is not None:
            self.positions = dict(self.positions)
            self.positions[new] = pos
            for sub in _descendants(new):
                self.positions[sub] = pos

    # try / except ---------------------------------------------------------------------------
    def loop_try(self, stmt: cst.Try, ctx: Ctx) -> None:
        """``try: x = int(v) except ValueError: continue``: keep the rows where the casts succeed."""
        if stmt.orelse is not None or stmt.finalbody is not None or len(stmt.handlers) != 1:
            raise self.fail(stmt, "try with else/finally or several handlers")
        handler = stmt.handlers[0]
        if not _ends_in_continue(list(handler.body.body)):
            raise self.fail(stmt, "an except block that does not skip the row")
        kinds = code_of(handler.type) if handler.type is not None else "Exception"
        assigns = []
        for s in stmt.body.body:
            if not (isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 and isinstance(s.body[0], cst.Assign)
                    and isinstance(s.body[0].targets[0].target, cst.Name)):
                raise self.fail(stmt, "a try block with more than plain assignments")
            assigns.append(s.body[0])
        # each assignment in turn: keep the rows where it does not raise, then compute it
        if _SUCCEEDS not in self.generated_helpers:
            self.generated_helpers.append(_SUCCEEDS)
        for a in assigns:
            rexpr = self.expr(ctx, a.value, stmt)
            params = [f"_v{i}" for i in range(len(rexpr.columns))]
            call = ", ".join([rexpr.python] + params)
            check = RowExpr(columns=rexpr.columns, text=code_of(a.value),
                            python=f"lambda {', '.join(params)}: _succeeds({call}, errors=({kinds},))")
            ctx.rs = self.plan.filter(ctx.rs, check, self.line(stmt),
                                      f"skip rows where {code_of(a.value).strip()} raises {kinds}")
            self.loop_assign(a.targets[0].target, a.value, stmt, ctx)

    generated_helpers: list[str]

    def _fresh_helper(self, base: str) -> str:
        taken = {getattr(c, "name", None) and c.name.value for c in self.copied}
        name, n = base, 2
        while name in taken or any(h.startswith(f"def {name}(") for h in self.generated_helpers):
            name, n = f"{base}_{n}", n + 1
        return name

    # nested loops: joins ------------------------------------------------------------------
    def nested_loop(self, stmt: cst.For, ctx: Ctx) -> None:
        """``for other in others: if other[k] == key: ...``: an inner join on the compared keys."""
        inner_source = self.iterable(stmt.iter, ctx, {}, stmt)
        if not isinstance(inner_source, Rows):
            raise self.fail(stmt, "a nested loop over something other than a list of rows")
        body = list(stmt.body.body)
        if len(body) != 1 or not isinstance(body[0], cst.If) or body[0].orelse is not None:
            raise self.fail(stmt, "a nested loop whose body is not a single `if key == other_key:` block")
        test = body[0].test
        inner_ctx = Ctx(inner_source.rs, {})
        self.bind_row(inner_ctx, stmt.target, inner_source.shape, stmt)
        inner_names = _target_names_of(stmt.target)
        conjuncts = _conjuncts(test)
        left_keys, right_keys, rest = [], [], []
        for c in conjuncts:
            if (isinstance(c, cst.Comparison) and len(c.comparisons) == 1
                    and isinstance(c.comparisons[0].operator, cst.Equal)):
                a, b = c.left, c.comparisons[0].comparator
                a_inner = _mentions(a, inner_names)
                b_inner = _mentions(b, inner_names)
                if a_inner != b_inner:
                    outer_side, inner_side = (b, a) if a_inner else (a, b)
                    left_keys.append(self.column_of(ctx, outer_side, stmt, "key"))
                    right_keys.append(self.column_of(inner_ctx, inner_side, stmt, "key"))
                    continue
            rest.append(c)
        if not left_keys:
            raise self.fail(stmt, "a nested loop without an equality between the two rows")
        inner_body = list(body[0].body.body)
        if inner_body and isinstance(inner_body[-1], cst.SimpleStatementLine) and isinstance(
                inner_body[-1].body[-1], cst.Break):
            self.notes.append(f"line {self.line(stmt)}: the nested loop stops at the first match; the join "
                              "keeps every match (keys of the inner rows must be unique)")
            last = inner_body[-1]
            if len(last.body) == 1:
                inner_body = inner_body[:-1]
            else:
                inner_body[-1] = last.with_changes(body=last.body[:-1])
        right = inner_source.rs
        if inner_source.shape.kind == "open":
            # the inner rows' columns are known at run time: all of them get a suffix, as dict joins do
            if inner_source.shape.fields.get("suffix"):
                raise self.fail(stmt, "a nested loop over renamed rows whose columns are known only at run time")
            base = "__" + (identifier("_".join(sorted(inner_names))) or "inner")
            suffix, n = base, 2
            while any(c.endswith(suffix) for c in ctx.rs.columns):
                suffix, n = f"{base}{n}", n + 1
            picked = self.plan.raw(right, "{rs}.rename({{c: c + " + repr(suffix) + " for c in {rs}.columns}})",
                                   self.line(stmt), "the inner rows' columns", columns={})
            picked.all_columns_known = False
            joined = self.plan.join(ctx.rs, picked, left_keys, [k + suffix for k in right_keys], "inner",
                                    self.line(stmt), "nested loop comparing keys")
            joined.all_columns_known = False
            child = ctx.child()
            child.rs = joined
            for n, b in inner_ctx.names.items():
                if isinstance(b, RowB) and isinstance(b.fields, _AnyColumn):
                    child.names[n] = RowB(_AnyColumn(joined, suffix), kind=b.kind)
                elif isinstance(b, ColumnB):
                    child.names[n] = ColumnB(b.column + suffix, b.ctype)
                else:
                    raise self.fail(stmt, "a value of the inner rows the rules cannot follow through the join")
        else:
            if not right.all_columns_known:
                raise self.fail(stmt, "a nested loop over rows whose columns are known only at run time")
            taken = set(ctx.rs.columns)
            mapping = {}
            for c in right.columns:
                if c in taken:
                    mapping[c] = self.plan.fresh_column(ctx.rs, f"{c}_2",
                                                        taken | set(right.columns) | set(mapping.values()))
            picked = self.plan.rename(right, mapping, self.line(stmt)) if mapping else right
            joined = self.plan.join(ctx.rs, picked, left_keys, [mapping.get(k, k) for k in right_keys], "inner",
                                    self.line(stmt), "nested loop comparing keys")
            child = ctx.child()
            child.rs = joined
            for n, b in inner_ctx.names.items():
                child.names[n] = _renamed(b, mapping)
        for c in rest:
            rexpr = self.expr(child, c, stmt, predicate=True)
            child.rs = self.plan.filter(child.rs, rexpr, self.line(stmt), code_of(c))
        self.body(inner_body, child)
        self._check_no_escape(child, ctx, stmt)

    # -- helpers ---------------------------------------------------------------------------
    def _probe_joins(self, ctx: Ctx, node, line_node):
        """Dict look-ups inside an expression become joins; the look-up is replaced by its columns."""
        reader = self

        def is_index(name_node) -> bool:
            return (isinstance(name_node, cst.Name) and name_node.value not in ctx.names
                    and isinstance(reader.env.get(name_node.value), (DictCollector, Index)))

        class Probes(cst.CSTTransformer):
            def _bind(self, probe_node):
                binding = reader._index_probe(ctx, probe_node, line_node)
                if binding is None:
                    return None
                name = f"__probe{len(ctx.names)}"
                if isinstance(binding, tuple):
                    binding = RowB({i: (b.column, b.ctype) for i, b in enumerate(binding)})
                ctx.names[name] = binding
                return cst.Name(name)

            def leave_Subscript(self, original, updated):
                if is_index(updated.value):
                    return self._bind(updated) or updated
                return updated

            def leave_Call(self, original, updated):
                if m.matches(updated, m.Call(func=m.Attribute(attr=m.Name("get")))) and is_index(updated.func.value):
                    return self._bind(updated) or updated
                return updated

        if not m.findall(node, m.Name()):
            return node
        return node.visit(Probes())


# -- small helpers --------------------------------------------------------------------------
_SUCCEEDS = '''def _succeeds(function, *values, errors=(Exception,)):
    """Whether function(*values) runs without raising one of errors (the script skips such rows)."""
    try:
        function(*values)
    except errors:
        return False
    return True
'''


class _FrameRow:
    """``row`` of ``df.iterrows()``: fields are the frame's columns."""

    def __init__(self, frame: Frame, fields: dict):
        self.frame, self.fields = frame, fields

    def fields_for_access(self) -> dict:
        if self.frame.columns is not None:
            return self.fields
        return _AnyColumn(self.frame.rs)


class _AnyColumn(dict):
    """Fields of rows whose columns are only known at run time: any name is a column (+ suffix)."""

    def __init__(self, rs: RowSet, suffix: str = ""):
        super().__init__()
        self.rs = rs
        self.suffix = suffix

    def __contains__(self, key) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key):
        return (key + self.suffix, self.rs.columns.get(key + self.suffix))


def _bindings(shape: Shape, cols: dict, rs: RowSet):
    if shape.kind == "open":
        return RowB(_AnyColumn(rs, cols["suffix"]), kind="row")
    if shape.kind == "scalar":
        return ColumnB(cols[None], rs.columns.get(cols[None]))
    if shape.kind == "tuple":
        return tuple(ColumnB(cols[i], rs.columns.get(cols[i])) for i in sorted(cols))
    return RowB({k: (c, rs.columns.get(c)) for k, c in cols.items()}, kind="row")


def _renamed(binding, mapping: dict):
    if isinstance(binding, ColumnB):
        return ColumnB(mapping.get(binding.column, binding.column), binding.ctype)
    if isinstance(binding, RowB):
        return RowB({k: (mapping.get(c, c), t) for k, (c, t) in binding.fields.items()}, binding.kind)
    return binding


def _descendants(node):
    yield node
    for child in node.children:
        yield from _descendants(child)


def _string_options(file: FileIn, extra: dict) -> dict[str, str]:
    options = dict(extra)
    options["dtype"] = "str"
    options["keep_default_na"] = "False"
    if file.encoding:
        options["encoding"] = repr(file.encoding)
    return options


def _is_empty_collection(value: cst.BaseExpression) -> bool:
    code = code_of(value).replace(" ", "")
    return code in ("[]", "{}", "list()", "dict()", "defaultdict(int)", "defaultdict(list)", "defaultdict(float)",
                    "Counter()", "collections.Counter()", "collections.defaultdict(int)",
                    "collections.defaultdict(list)", "collections.defaultdict(float)")


def _is_continue_line(stmt) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[-1], cst.Continue)


_LIST_CHANGES = ("remove", "append", "extend", "insert", "sort", "reverse")  # in place, on a list
_CONSTANT_LIST_CHANGES = ("remove", "append", "extend", "insert")  # followed on a list of constants


def _list_change(name: str | None, methods: tuple[str, ...]) -> m.Call:
    """A matcher of ``NAME.method(...)`` for one of ``methods`` (any name when None)."""
    owner = m.Name() if name is None else m.Name(name)
    return m.Call(func=m.Attribute(value=owner, attr=m.OneOf(*map(m.Name, methods))))


def _seen_key(stmts: list, position: int) -> tuple[cst.BaseExpression, str] | None:
    """``if KEY in SEEN: continue`` at ``position`` and ``SEEN.add(KEY)`` after it: (KEY, SEEN)."""
    if position + 1 >= len(stmts):
        return None
    guard, record = stmts[position], stmts[position + 1]
    if not (isinstance(guard, cst.If) and guard.orelse is None and m.matches(guard.body, m.IndentedBlock(
            body=[m.SimpleStatementLine(body=[m.Continue()])])) and m.matches(guard.test, m.Comparison(
            comparisons=[m.ComparisonTarget(m.In(), m.Name())]))):
        return None
    key, seen = guard.test.left, guard.test.comparisons[0].comparator.value
    if not m.matches(record, m.SimpleStatementLine(body=[m.Expr(m.Call(
            func=m.Attribute(value=m.Name(seen), attr=m.Name("add")), args=[m.Arg()]))])):
        return None
    if not record.body[0].value.args[0].value.deep_equals(key):
        return None
    return key, seen


def _ends_in_continue(stmts) -> bool:
    return bool(stmts) and _is_continue_line(stmts[-1])


def _has_continue(stmts) -> bool:
    return any(m.findall(s, m.Continue() | m.Break()) for s in stmts)


def _negate(test: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        if isinstance(inner, cst.Comparison) and len(inner.comparisons) == 1 and isinstance(
                inner.comparisons[0].operator, (cst.In, cst.NotIn, cst.Equal, cst.NotEqual)):
            return inner
        return inner if not isinstance(inner, cst.BooleanOperation) else inner.with_changes(
            lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        op = test.comparisons[0].operator
        flipped = {cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.In: cst.NotIn, cst.NotIn: cst.In}
        if type(op) in flipped:
            new_op = flipped[type(op)]()
            return test.with_changes(comparisons=[test.comparisons[0].with_changes(operator=new_op)])
    return cst.UnaryOperation(operator=cst.Not(), expression=test.with_changes(
        lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if not test.lpar else test)


def _branches(stmt: cst.If):
    out = []
    node = stmt
    while True:
        out.append((node.test, list(node.body.body)))
        if node.orelse is None:
            return out
        if isinstance(node.orelse, cst.Else):
            out.append((None, list(node.orelse.body.body)))
            return out
        node = node.orelse


def _disjuncts(test):
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _disjuncts(test.left) + _disjuncts(test.right)
    return [test]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _conjuncts(test):
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _conjuncts(test.left) + _conjuncts(test.right)
    return [test]


def _target_names_of(target) -> set[str]:
    return {n.value for n in m.findall(target, m.Name())}


def _mentions(node, names: set[str]) -> bool:
    return any(n.value in names for n in m.findall(node, m.Name()))


def _joined_row(value):
    """``",".join(str(x) for x in row) + "\\n"``: (separator, row name, element name)."""
    pattern = m.BinaryOperation(
        left=m.Call(func=m.Attribute(value=m.SimpleString(), attr=m.Name("join")),
                    args=[m.Arg(m.GeneratorExp(elt=m.Call(func=m.Name("str"), args=[m.Arg(m.Name())]),
                                               for_in=m.CompFor(target=m.Name(), iter=m.Name(), ifs=[])))]),
        operator=m.Add(), right=m.SimpleString())
    if not m.matches(value, pattern) or literal_value(value.right) != "\n":
        return None
    gen = value.left.args[0].value
    if gen.elt.args[0].value.value != gen.for_in.target.value:
        return None
    return literal_value(value.left.func.value), gen.for_in.iter.value, gen.for_in.target.value


def _split_fstring(node: cst.FormattedString, sep: str):
    """The fields of ``f"{a},{b}\\n"``: lists of f-string parts, one per separator-delimited field."""
    fields: list[list] = [[]]
    parts = list(node.parts)
    if not parts or not isinstance(parts[-1], cst.FormattedStringText) or not parts[-1].value.endswith("\\n"):
        return None
    last = parts[-1].value[: -len("\\n")]
    parts = parts[:-1] + ([cst.FormattedStringText(last)] if last else [])
    for part in parts:
        if isinstance(part, cst.FormattedStringText):
            pieces = part.value.split(sep)
            for i, piece in enumerate(pieces):
                if i > 0:
                    fields.append([])
                if piece:
                    fields[-1].append(cst.FormattedStringText(piece))
        else:
            fields[-1].append(part)
    return fields
