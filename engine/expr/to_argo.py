"""Compiling a condition into one Argo expression tag, ``{{=...}}``.

Argo's textual form (``'{{tasks.a.outputs.result}}' == 'x'``) pastes an output into the
expression, so an output such as ``true || x`` changes what the condition means. Here every
value is *read* by the expression (``tasks['a'].outputs.parameters['o']``), converted by its
declared type (``asInt``/``asFloat``; booleans compared as the strings 'true'/'false'), and
guarded for null, so the compiled condition decides exactly what ``evaluate_condition``
decides for every value a step can output.

How null reaches Argo (the convention the in-pod runner and the compiler must follow):

- an output of a Skipped or Omitted step is absent: the compiler declares no
  ``valueFrom.default``, so the expression sees ``nil`` (SEMANTICS appendix 8) from Argo
  v3.7.16 and v4.0.7; older releases give ``''`` or leave the step's ``outputs`` out of
  the scope, and with ``nil_skipped_outputs=False`` the null test covers both, so there an
  empty string output reads as null (``engine.compile.versions``);
- an output of a Failed step, or one a succeeded step did not produce, is the text
  NULL_MARKER: the runner writes every declared output file, even when the processor fails
  or returns no value for it (appendix 9-10), using ``argo_value_text``;
- a param without a value is given the value NULL_MARKER by the compiler;
- a for_each ``item`` is the text of the value (``to_text``), and a mapping item's keys are
  ``item['KEY']`` holding the text of each value, as Argo's ``{{item}}``/``{{item.KEY}}``.

The expression uses only what expr 1.8.9 (the oracle) and expr-lang 1.17 (Argo) share:
no ``??`` and no ``nil in [...]`` (appendix 12); ``{`` and ``}`` in string literals are
written ``\\u007b``/``\\u007d`` so that ``}}`` never ends the tag early (appendix 13).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from engine.values import parse_text, to_text

from . import types as t
from .ast import (
    Compare,
    Expr,
    ItemRef,
    ListLiteral,
    Literal,
    Logical,
    Not,
    ParamRef,
    StepOutputRef,
    StepStatusRef,
    WorkflowStatusRef,
    literal_text,
)
from .ast import (
    to_text as condition_text,
)
from .errors import ExprCompileError, error_unknown_nodes

#: The text that stands for null in an Argo output parameter (or workflow parameter).
#: No value of a non-string type can look like it; the runner refuses a string output equal
#: to it (``argo_value_text`` raises), so it is never mistaken for data.
NULL_MARKER = "__flowspec_null__"

# Printable ASCII that may stand for itself inside an expr string literal: no quote, no
# backslash, no braces (they could close the tag). `<`, `>` and `&` must stay raw: Argo
# undoes json.Marshal's HTML escaping by replacing the text `\u003c` (and `\u003e`,
# `\u0026`) in the marshalled tag, which would break an escape of ours spelt that way.
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - set("'\\{}\"")


def argo_value_text(value: Any) -> str:
    """The text of a typed value in an Argo parameter; None becomes NULL_MARKER."""
    if value is None:
        return NULL_MARKER
    if value == NULL_MARKER:
        raise ValueError(f"the text {NULL_MARKER!r} is reserved for null and cannot be a value")
    return to_text(value)


def value_from_argo_text(text: str, type_name: str) -> Any:
    """Inverse of ``argo_value_text``: NULL_MARKER is None, anything else is parsed by type."""
    return None if text == NULL_MARKER else parse_text(text, type_name)


def string_literal(text: str) -> str:
    """``text`` as an expr string literal that survives Argo's template passes unchanged."""
    parts = ["'"]
    for ch in text:
        if ch in _PLAIN:
            parts.append(ch)
        elif ord(ch) <= 0xFFFF:
            parts.append(f"\\u{ord(ch):04x}")
        else:
            parts.append(f"\\U{ord(ch):08x}")
    parts.append("'")
    return "".join(parts)


def to_argo_when(
    expr: Expr,
    param_types: Mapping[str, str],
    output_types_by_step: Mapping[str, Mapping[str, str]],
    *,
    item_type: str | None = None,
    nil_skipped_outputs: bool = True,
) -> str:
    """The condition as one ``{{=...}}`` tag for a DAG task's ``when``.

    ``nil_skipped_outputs``: the target Argo gives a Skipped/Omitted producer's outputs as
    nil; when it may give ``''`` or no outputs at all, the null test of an output covers them.
    Expects a condition that ``check_condition`` accepts; anything else raises
    ExprCompileError.
    """
    compiler = _Compiler(param_types, output_types_by_step, item_type, nil_skipped_outputs)
    return "{{=" + compiler.boolean(expr) + "}}"


class _Operand(NamedTuple):
    type: str
    #: expr text of the value: a literal, a reference (Argo holds it as a string whatever
    #: its declared type) or a computed boolean.
    text: str
    #: expr text that is true when the value is null; None: never null.
    null: str | None
    #: "literal", "reference" or "computed".
    form: str


#: The null test of the literal ``null`` (always null).
_NULL_LITERAL = "true"
_MARKER = string_literal(NULL_MARKER)


class _Compiler:
    __slots__ = ("item_type", "nil_skipped_outputs", "outputs", "params")

    def __init__(
        self,
        params: Mapping[str, str],
        outputs: Mapping[str, Mapping[str, str]],
        item_type: str | None,
        nil_skipped_outputs: bool,
    ) -> None:
        self.params = params
        self.outputs = outputs
        self.item_type = item_type
        self.nil_skipped_outputs = nil_skipped_outputs

    def boolean(self, expr: Expr) -> str:
        """expr text of a bool, for a node used as a condition (null counts as false)."""
        if isinstance(expr, Compare):
            return self.compare(expr)
        if isinstance(expr, Logical):
            return f"({self.boolean(expr.left)} {expr.op} {self.boolean(expr.right)})"
        if isinstance(expr, Not):
            return f"(!{self.boolean(expr.operand)})"
        operand = self.operand(expr)
        if operand.null == _NULL_LITERAL:
            return "false"
        if operand.type != t.BOOLEAN:
            raise _mistyped(expr, f"is {t.describe(operand.type)}, not a boolean")
        return _guard(operand.null, "false", _convert(operand, "bool"))

    def compare(self, expr: Compare) -> str:
        if expr.op == "in":
            return self.member(expr)
        left = self.operand(expr.left)
        right = self.operand(expr.right)
        if expr.op in ("==", "!="):
            equal = self.equal(expr, left, right)
            return equal if expr.op == "==" else f"(!{equal})"
        if _NULL_LITERAL in (left.null, right.null):
            return "false"
        domain = _domain(expr, left.type, right.type, ordering=True)
        test = f"{_convert(left, domain)} {expr.op} {_convert(right, domain)}"
        return _guard(_either(left.null, right.null), "false", test)

    def equal(self, expr: Compare, left: _Operand, right: _Operand) -> str:
        if _NULL_LITERAL in (left.null, right.null):
            other = right if left.null == _NULL_LITERAL else left
            if other.null == _NULL_LITERAL:
                return "true"
            return other.null if other.null is not None else "false"
        domain = _domain(expr, left.type, right.type, ordering=False)
        test = f"{_convert(left, domain)} == {_convert(right, domain)}"
        if left.null is None or right.null is None:
            return _guard(left.null or right.null, "false", test)
        return _guard(f"({left.null} || {right.null})", f"({left.null} && {right.null})", test)

    def member(self, expr: Compare) -> str:
        left = self.operand(expr.left)
        if left.null == _NULL_LITERAL:
            return "false"
        if isinstance(expr.right, ListLiteral):
            # A disjunction of typed equalities: never `x in [...]`, whose constant-list
            # optimisation differs between expr versions (appendix 12).
            tests = []
            for item in expr.right.items:
                item_type = t.literal_type(item.value)
                if t.same_kind(left.type, item_type):
                    domain = _domain(expr, left.type, item_type, ordering=False)
                    tests.append(f"{_convert(left, domain)} == "
                                 f"{_convert(self.operand(item), domain)}")
            if not tests:
                return "false"
            return _guard(left.null, "false", " || ".join(tests))
        right = self.operand(expr.right)
        if right.null == _NULL_LITERAL:
            return "false"
        if right.type != t.LIST or left.type in (t.LIST, t.OBJECT):
            raise _mistyped(expr, "does not look for a value in a list")
        needle = _convert(left, _domain(expr, left.type, left.type, ordering=False))
        test = f"{needle} in sprig.fromJson({right.text})"
        return _guard(_either(left.null, right.null), "false", test)

    def operand(self, expr: Expr) -> _Operand:
        if isinstance(expr, Literal):
            value = expr.value
            if value is None:
                return _Operand(t.NULL, "nil", _NULL_LITERAL, "literal")
            text = string_literal(value) if isinstance(value, str) else literal_text(value)
            return _Operand(t.literal_type(value), text, None, "literal")
        if isinstance(expr, ParamRef):
            text = f"workflow.parameters[{string_literal(expr.name)}]"
            declared = _declared(self.params, expr.name, expr)
            return _Operand(declared, text, f"({text} == {_MARKER})", "reference")
        if isinstance(expr, StepOutputRef):
            step = string_literal(expr.step)
            text = f"tasks[{step}].outputs.parameters[{string_literal(expr.output)}]"
            declared = _declared(self.outputs.get(expr.step, {}), expr.output, expr)
            null = f"({text} == nil || {text} == {_MARKER})"
            if not self.nil_skipped_outputs:
                # ``||`` is lazy: the outputs map is tested before anything reads from it
                null = (f"(tasks[{step}].outputs == nil || {text} == nil || {text} == '' || "
                        f"{text} == {_MARKER})")
            return _Operand(declared, text, null, "reference")
        if isinstance(expr, StepStatusRef):
            text = f"tasks[{string_literal(expr.step)}].status"
            return _Operand(t.STRING, text, None, "reference")
        if isinstance(expr, WorkflowStatusRef):
            return _Operand(t.STRING, "workflow.status", None, "reference")
        if isinstance(expr, ItemRef):
            return self.item(expr)
        if isinstance(expr, (Compare, Logical, Not)):
            return _Operand(t.BOOLEAN, self.boolean(expr), None, "computed")
        if isinstance(expr, ListLiteral):
            raise _mistyped(expr, "is a list; a list literal may only follow 'in'")
        if error_unknown_nodes():
            raise NotImplementedError(f"no Argo form for {type(expr).__name__}")
        raise ExprCompileError(f"cannot compile {type(expr).__name__} for Argo")

    def item(self, expr: ItemRef) -> _Operand:
        if self.item_type is None:
            raise _mistyped(expr, "is used outside for_each")
        if expr.key is None:
            return _Operand(self.item_type, "item", None, "reference")
        return _Operand(t.STRING, f"item[{string_literal(expr.key)}]", None, "reference")


def _declared(types: Mapping[str, str], name: str, expr: Expr) -> str:
    declared = types.get(name)
    if declared is None or declared not in t.VALUE_TYPES:
        raise _mistyped(expr, "has no declared type")
    return declared


def _either(first: str | None, second: str | None) -> str | None:
    if first is None or second is None:
        return first or second
    return f"({first} || {second})"


def _guard(null_test: str | None, if_null: str, test: str) -> str:
    """``test``, or ``if_null`` when a value is null. The ternary is lazy in expr, so
    ``asInt`` never sees nil or the marker. Null tests arrive parenthesised."""
    if null_test is None:
        return f"({test})"
    return f"({null_test} ? {if_null} : ({test}))"


def _domain(expr: Compare, left: str, right: str, *, ordering: bool) -> str:
    """How both sides are converted: 'int', 'float', 'bool' or 'string'."""
    if t.is_numeric(left) and t.is_numeric(right):
        return "float" if t.NUMBER in (left, right) else "int"
    if left == right == t.STRING:
        return "string"
    if left == right == t.BOOLEAN and not ordering:
        return "bool"
    raise _mistyped(expr, f"compares {t.describe(left)} with {t.describe(right)}")


def _convert(operand: _Operand, domain: str) -> str:
    """The operand as an expr value of ``domain``: references are strings in Argo."""
    if operand.form == "reference":
        if domain == "int":
            return f"asInt({operand.text})"
        if domain == "float":
            return f"asFloat({operand.text})"
        if domain == "bool":
            return f"({operand.text} == 'true')"
        return operand.text
    if domain == "float" and operand.form == "literal":
        return repr(float(operand.text))
    return operand.text


def _mistyped(expr: Expr, problem: str) -> ExprCompileError:
    return ExprCompileError(
        f"'{condition_text(expr)}' {problem}; check_condition rejects it, so it cannot be "
        "compiled"
    )
