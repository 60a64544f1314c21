"""Per-row Python expressions of a script turned into DSL expressions.

A script's expression such as ``sanitize(mail["mail_subject"])`` reads row values through
local variables, row subscripts and attributes. :func:`translate` replaces each of those by a
parameter bound to a column and returns a :class:`~lester.rewrite.rules.plan.RowExpr` whose
Python form is the script's own expression as a lambda (always exact) and whose SQL form is
set only where DuckDB computes exactly the same values: comparisons, boolean logic,
``in`` lists of literals, ``+ - * /`` on numbers and casts of text to numbers. String
functions, rounding, lengths and integer division stay Python because their semantics differ.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from lester.rewrite.rules.plan import RowExpr, quote

_MODULE = cst.parse_module("")


def code_of(node: cst.CSTNode) -> str:
    """The source text of a node."""
    return _MODULE.code_for_node(node)


class Untranslatable(Exception):
    """An expression the rules cannot express over columns (the caller decides what to do)."""


# -- what names mean inside a loop body -------------------------------------------------------
@dataclass(frozen=True)
class ColumnB:
    """A local variable holding one column's value."""

    column: str
    ctype: str | None = None


@dataclass(frozen=True)
class RowB:
    """A variable holding a whole row; ``fields`` maps a subscript/attribute key to its column."""

    fields: dict  # key (int position or str name) -> (column, ctype)
    kind: str = "row"  # "row" (subscript), "frame" (pandas columns, vectorized), "record" (attribute too)

    def field(self, key: Any) -> tuple[str, str | None]:
        if key not in self.fields:
            raise Untranslatable(f"the row has no field {key!r}")
        return self.fields[key]


@dataclass(frozen=True)
class LiteralB:
    """A name bound to a constant (a loop variable over a literal list, for instance)."""

    value: Any


GLOBAL = object()  # a module-level name copied into the pipeline (helper, constant, import)

Lookup = Callable[[str], Any]  # name -> ColumnB | RowB | LiteralB | GLOBAL | None


def literal_value(node: cst.BaseExpression) -> Any:
    """The value of a literal expression (numbers, strings, lists, tuples, dicts), else raise."""
    return ast.literal_eval(code_of(node).strip())


def is_literal(node: cst.BaseExpression) -> bool:
    try:
        literal_value(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


# -- local names of comprehensions and lambdas inside an expression ---------------------------
class _LocalNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_CompFor(self, node: cst.CompFor) -> None:
        for name in _target_names(node.target):
            self.names.add(name)

    def visit_Param(self, node: cst.Param) -> None:
        self.names.add(node.name.value)


def _target_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        out: list[str] = []
        for el in target.elements:
            out += _target_names(el.value)
        return out
    return []


def subscript_key(node: cst.Subscript) -> Any:
    """The constant key of ``x[key]`` (an int or a string), else raise Untranslatable."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        raise Untranslatable(f"{code_of(node)}: only constant subscripts can name a column")
    try:
        return literal_value(node.slice[0].slice.value)
    except (ValueError, SyntaxError):
        raise Untranslatable(f"{code_of(node)}: only constant subscripts can name a column") from None


class _Substitute(cst.CSTTransformer):
    """Replaces reads of row values by parameters; records the columns read, in order."""

    def __init__(self, lookup: Lookup, local: set[str]):
        self.lookup = lookup
        self.local = local
        self.params: dict[str, str] = {}  # column -> parameter name
        self.types: dict[str, str | None] = {}
        self.globals_used: set[str] = set()
        self._not_names: set[int] = set()  # attribute and keyword names are not variables
        self._methods: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._not_names.add(id(node.attr))
        return True

    def visit_Arg(self, node: cst.Arg) -> bool:
        if node.keyword is not None:
            self._not_names.add(id(node.keyword))
        return True

    def visit_Call(self, node: cst.Call) -> bool:
        self._methods.add(id(node.func))  # frame.method(...) is a method, not a column
        return True

    def _param(self, column: str, ctype: str | None) -> cst.Name:
        if column not in self.params:
            name = column if column.isidentifier() and not keyword.iskeyword(column) else ""
            taken = set(self.params.values()) | self.local | set(dir(builtins))
            if not name or name in taken or name.startswith("_p"):
                name = f"_p{len(self.params)}"
            self.params[column] = name
            self.types[column] = ctype
        return cst.Name(self.params[column])

    def _row_field(self, value: cst.BaseExpression, key: Any) -> cst.Name | None:
        if isinstance(value, cst.Name) and value.value not in self.local:
            binding = self.lookup(value.value)
            if isinstance(binding, RowB):
                column, ctype = binding.field(key)
                return self._param(column, ctype)
        return None

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
        if isinstance(original.value, cst.Name):
            binding = None if original.value.value in self.local else self.lookup(original.value.value)
            if isinstance(binding, RowB):
                found = self._row_field(original.value, subscript_key(original))
                if found is not None:
                    return found
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if isinstance(original.value, cst.Name):
            binding = None if original.value.value in self.local else self.lookup(original.value.value)
            if isinstance(binding, RowB) and binding.kind in ("frame", "record") and id(original) not in self._methods:
                found = self._row_field(original.value, original.attr.value)
                if found is not None:
                    return found
        return updated.with_changes(attr=original.attr)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        # row.get("field") on a csv.DictReader row
        func = original.func
        if (isinstance(func, cst.Attribute) and func.attr.value == "get" and isinstance(func.value, cst.Name)
                and original.args and func.value.value not in self.local):
            binding = self.lookup(func.value.value)
            if isinstance(binding, RowB) and len(original.args) == 1:
                return self._row_field(func.value, literal_value(original.args[0].value)) or updated
        return updated

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        name = original.value
        if id(original) in self._not_names or name in self.local or name in self.params.values():
            return updated
        binding = self.lookup(name)
        if isinstance(binding, ColumnB):
            return self._param(binding.column, binding.ctype)
        if isinstance(binding, LiteralB):
            return cst.parse_expression(repr(binding.value))
        if binding is GLOBAL or (binding is None and hasattr(builtins, name)):
            self.globals_used.add(name)
            return updated
        if isinstance(binding, RowB):
            return updated  # resolved by the enclosing subscript/attribute, or rejected below
        raise Untranslatable(f"{name!r} is not a per-row value the rules can follow")


class _LeftoverRows(cst.CSTVisitor):
    def __init__(self, lookup: Lookup, local: set[str]):
        self.lookup, self.local, self.bad = lookup, local, None

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in self.local and isinstance(self.lookup(node.value), RowB):
            self.bad = node.value


def translate(node: cst.BaseExpression, lookup: Lookup, *, vectorized: bool = False,
              sql_filter_only: bool = False, constants: dict[str, Any] | None = None,
              predicate: bool = False) -> RowExpr:
    """The script's expression ``node`` as a :class:`RowExpr` over columns.

    ``sql_filter_only`` allows the SQL form only for filters whose null semantics match
    (pandas masks: a comparison with a missing value is False in pandas, NULL in SQL; both
    drop the row).
    """
    finder = _LocalNames()
    node.visit(finder)
    sub = _Substitute(lookup, finder.names)
    try:
        new = node.visit(sub)
    except Untranslatable:
        raise
    leftover = _LeftoverRows(lookup, finder.names | set(sub.params.values()))
    new.visit(leftover)
    if leftover.bad:
        raise Untranslatable(f"{code_of(node)}: uses the whole row {leftover.bad!r}, not named fields")
    columns = tuple(sub.params)
    params = [sub.params[c] for c in columns]
    text = code_of(node)
    types = {sub.params[c]: sub.types[c] for c in columns}
    body = code_of(new)
    if isinstance(new, cst.Name) and new.value in params and not predicate:
        column = columns[params.index(new.value)]
        return RowExpr(columns=(column,), column=column, ctype=sub.types[column], sql=quote(column),
                       python=f"lambda {new.value}: {new.value}", text=text, vectorized=vectorized)
    python = _callable(new, params, body)
    sql = None
    if not vectorized or sql_filter_only:
        try:
            converter = _Sql(types, {p: c for c, p in sub.params.items()}, pandas=vectorized,
                             constants=constants or {})
            sql, sql_type = converter.convert(new)
            if (sql_filter_only or predicate) and sql_type != "bool":
                sql = None
        except Untranslatable:
            sql = None
    ctype = None if vectorized else infer_type(new, types)
    return RowExpr(columns=columns, python=python, sql=sql, ctype=ctype, text=text, vectorized=vectorized)


def _callable(new: cst.BaseExpression, params: list[str], body: str) -> str:
    if (isinstance(new, cst.Call) and isinstance(new.func, cst.Name) and params
            and len(new.args) == len(params)
            and all(a.keyword is None and not a.star and isinstance(a.value, cst.Name)
                    and a.value.value == p for a, p in zip(new.args, params))):
        return new.func.value
    if "\n" in body:
        body = "(" + body + ")"
    return f"lambda {', '.join(params)}: {body}"


# -- types ------------------------------------------------------------------------------------
_STR_METHODS = {"strip", "lower", "upper", "title", "capitalize", "replace", "lstrip", "rstrip", "casefold",
                "zfill", "format", "join", "removeprefix", "removesuffix", "swapcase", "center", "ljust", "rjust"}
_BOOL_METHODS = {"startswith", "endswith", "isdigit", "isalpha", "isnumeric", "isalnum", "isspace",
                 "islower", "isupper", "isdecimal"}


def infer_type(node: cst.BaseExpression, types: dict[str, str | None]) -> str | None:
    """The Python type of a per-row expression ('str', 'int', 'float', 'bool') when evident."""
    if isinstance(node, cst.Name):
        if node.value in types:
            return types[node.value]
        return {"True": "bool", "False": "bool"}.get(node.value)
    if isinstance(node, cst.Integer):
        return "int"
    if isinstance(node, cst.Float):
        return "float"
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "str"
    if isinstance(node, (cst.Comparison,)):
        return "bool"
    if isinstance(node, (cst.ListComp, cst.List, cst.Tuple, cst.Dict, cst.DictComp, cst.SetComp, cst.Set)):
        return "collection"
    if isinstance(node, cst.UnaryOperation):
        if isinstance(node.operator, cst.Not):
            return "bool"
        return infer_type(node.expression, types)
    if isinstance(node, cst.BooleanOperation):
        left, right = infer_type(node.left, types), infer_type(node.right, types)
        return left if left == right else None
    if isinstance(node, cst.IfExp):
        a, b = infer_type(node.body, types), infer_type(node.orelse, types)
        if a == b:
            return a
        return "float" if {a, b} == {"int", "float"} else None
    if isinstance(node, cst.BinaryOperation):
        a, b = infer_type(node.left, types), infer_type(node.right, types)
        if isinstance(node.operator, cst.Divide) and a in ("int", "float") and b in ("int", "float"):
            return "float"
        if a in ("int", "float") and b in ("int", "float"):
            return "float" if "float" in (a, b) else "int"
        if a == b == "str" and isinstance(node.operator, cst.Add):
            return "str"
        return None
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Name):
            return {"int": "int", "float": "float", "str": "str", "bool": "bool", "len": "int"}.get(func.value)
        if isinstance(func, cst.Attribute):
            if func.attr.value in _STR_METHODS and infer_type(func.value, types) == "str":
                return "str"
            if func.attr.value in _BOOL_METHODS:
                return "bool"
    return None


# -- SQL with Python's semantics --------------------------------------------------------------
class _Sql:
    """Converts the exact subset; raises Untranslatable for anything else."""

    _CMP = {cst.Equal: "=", cst.NotEqual: "<>", cst.LessThan: "<", cst.LessThanEqual: "<=",
            cst.GreaterThan: ">", cst.GreaterThanEqual: ">="}

    def __init__(self, types: dict[str, str | None], columns: dict[str, str], pandas: bool,
                 constants: dict[str, Any]):
        self.types, self.columns, self.pandas = types, columns, pandas
        self.constants = constants
        self.guarded = 0  # inside the right operand of and/or, which Python may not evaluate

    def convert(self, node: cst.BaseExpression) -> tuple[str, str | None]:
        if isinstance(node, cst.Name):
            if node.value in self.columns:
                return quote(self.columns[node.value]), self.types[node.value]
            if node.value in ("True", "False") and not self.pandas:
                return node.value.upper(), "bool"
            value = self.constants.get(node.value)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return _sql_literal(value), _kind(value)
            raise Untranslatable(node.value)
        if isinstance(node, (cst.Integer, cst.Float)) and not isinstance(node, cst.Imaginary):
            value = literal_value(node)
            return repr(value), "int" if isinstance(value, int) else "float"
        if isinstance(node, cst.SimpleString) or isinstance(node, cst.ConcatenatedString):
            value = literal_value(node)
            if not isinstance(value, str):
                raise Untranslatable("bytes")
            return _sql_string(value), "str"
        if isinstance(node, cst.Comparison):
            return self._comparison(node)
        if isinstance(node, cst.BooleanOperation):
            if self.pandas:
                raise Untranslatable("and/or on Series")
            return self._logical(node, isinstance(node.operator, cst.And), "and/or of non-booleans returns an operand")
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node)
        if isinstance(node, cst.UnaryOperation):
            inner, t = self.convert(node.expression)
            if isinstance(node.operator, cst.Not) and not self.pandas:
                if t == "bool":
                    return f"(NOT {inner})", "bool"
                if t == "str":
                    return f"({inner} = '')", "bool"
                if t == "int":
                    return f"({inner} = 0)", "bool"
            if isinstance(node.operator, cst.Minus) and t in ("int", "float"):
                return f"(- {inner})", t
            raise Untranslatable("unary")
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and not self.pandas:
            if node.func.value in ("int", "float") and len(node.args) == 1 and node.args[0].keyword is None:
                inner, t = self.convert(node.args[0].value)
                # TRY_CAST where Python might never get to the cast: SQL evaluates both operands
                cast = "TRY_CAST" if self.guarded else "CAST"
                if node.func.value == "int" and t == "str":
                    return f"{cast}({inner} AS BIGINT)", "int"
                if node.func.value == "int" and t == "int":
                    return inner, "int"
                if node.func.value == "float" and t == "float":
                    return inner, "float"
                if node.func.value == "float" and t in ("str", "int"):
                    return f"{cast}({inner} AS DOUBLE)", "float"
            raise Untranslatable("call")
        raise Untranslatable(type(node).__name__)

    def _logical(self, node: cst.BooleanOperation | cst.BinaryOperation, conjunction: bool,
                 problem: str) -> tuple[str, str | None]:
        """SQL AND/OR of two boolean operands (``problem``: why other operands are not)."""
        a, ta = self.convert(node.left)
        self.guarded += 1
        try:
            b, tb = self.convert(node.right)
        finally:
            self.guarded -= 1
        if ta != "bool" or tb != "bool":
            raise Untranslatable(problem)
        return f"({a} {'AND' if conjunction else 'OR'} {b})", "bool"

    def _binary(self, node: cst.BinaryOperation) -> tuple[str, str | None]:
        if self.pandas and isinstance(node.operator, (cst.BitAnd, cst.BitOr)):
            return self._logical(node, isinstance(node.operator, cst.BitAnd), "& of non-masks")
        if self.pandas:
            raise Untranslatable("arithmetic on Series")
        a, ta = self.convert(node.left)
        b, tb = self.convert(node.right)
        numeric = ta in ("int", "float") and tb in ("int", "float")
        if isinstance(node.operator, cst.Add) and ta == tb == "str":
            return f"({a} || {b})", "str"
        if not numeric:
            raise Untranslatable("arithmetic on non-numbers")
        if isinstance(node.operator, (cst.Add, cst.Subtract, cst.Multiply)):
            op = {cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*"}[type(node.operator)]
            # Python integers do not overflow; DuckDB's BIGINT would raise (never a wrong value)
            return f"({a} {op} {b})", "int" if ta == tb == "int" else "float"
        if isinstance(node.operator, cst.Divide):
            if ta == tb == "int":
                return f"(CAST({a} AS DOUBLE) / {b})", "float"
            return f"({a} / {b})", "float"
        raise Untranslatable("operator")

    def _comparison(self, node: cst.Comparison) -> tuple[str, str | None]:
        parts: list[str] = []
        left_node = node.left
        for target in node.comparisons:
            op = target.operator
            left, tl = self.convert(left_node)
            if isinstance(op, (cst.In, cst.NotIn)):
                values = self._literal_list(target.comparator)
                kinds = {_kind(v) for v in values}
                if self.pandas or len(kinds) != 1 or kinds != {tl}:
                    raise Untranslatable("in with mixed types")
                items = ", ".join(_sql_literal(v) for v in values)
                neg = "NOT " if isinstance(op, cst.NotIn) else ""
                parts.append(f"({left} {neg}IN ({items}))" if values else ("FALSE" if not neg else "TRUE"))
            elif type(op) in self._CMP:
                right, tr = self.convert(target.comparator)
                if self.pandas and isinstance(op, cst.NotEqual):
                    raise Untranslatable("pandas != keeps missing values")
                same = (tl == tr) or ({tl, tr} <= {"int", "float"})
                if tl is None and self.pandas and tr is not None:
                    same = True  # a pandas column against a literal: DuckDB compares like pandas
                if tr is None and self.pandas and tl is not None:
                    same = True
                if not same or (tl == "bool" and not isinstance(op, (cst.Equal, cst.NotEqual))):
                    raise Untranslatable("comparison across types")
                if tl == "str" and not isinstance(op, (cst.Equal, cst.NotEqual)):
                    raise Untranslatable("string ordering")
                parts.append(f"({left} {self._CMP[type(op)]} {right})")
            else:
                raise Untranslatable("is / is not")
            left_node = target.comparator
        return ("(" + " AND ".join(parts) + ")" if len(parts) > 1 else parts[0]), "bool"

    def _literal_list(self, node: cst.BaseExpression) -> list:
        if isinstance(node, cst.Name) and node.value in self.constants:
            values = self.constants[node.value]
        else:
            try:
                values = literal_value(node)
            except (ValueError, SyntaxError):
                raise Untranslatable("in over a non-literal") from None
        if not isinstance(values, (list, tuple, set, frozenset)):
            raise Untranslatable("in over a string is a substring test")
        return sorted(values, key=repr) if isinstance(values, (set, frozenset)) else list(values)


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return None


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_literal(value: Any) -> str:
    if isinstance(value, str):
        return _sql_string(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return repr(value)
