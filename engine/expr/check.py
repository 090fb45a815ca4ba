"""Static checks of a parsed condition against the declared params, outputs and ancestors.

Problem codes (stable; the validator maps them to diagnostics):

- FS301 unknown param
- FS302 unknown step
- FS303 step is not an ancestor (Argo would wait for ever for its value)
- FS304 output not declared by that step
- FS305 ``workflow.status`` outside ``finally``
- FS306 type mismatch: a comparison that can never be true, or an error at run time
- FS307 a value used as a condition is not boolean
- FS308 ``item`` outside a for_each step
- FS312 a ``file`` param or output read by a condition or ``for_each`` (only env may read it)

Each node is checked once, bottom-up; a node whose type is unknown because of an earlier
problem yields None and its parents stay quiet, so one mistake gives one problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.diagnostics import closest

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
    Reference,
    StepOutputRef,
    StepStatusRef,
    WorkflowNameRef,
    WorkflowStatusRef,
    literal_text,
    reference_text,
)
from .errors import ExprProblem, error_unknown_nodes

UNKNOWN_PARAM = "FS301"
UNKNOWN_STEP = "FS302"
NOT_ANCESTOR = "FS303"
UNKNOWN_OUTPUT = "FS304"
STATUS_OUTSIDE_FINALLY = "FS305"
TYPE_MISMATCH = "FS306"
NOT_BOOLEAN = "FS307"
ITEM_OUTSIDE_FOR_EACH = "FS308"
FILE_IN_CONDITION = "FS312"


@dataclass(frozen=True)
class StepScope:
    """What a condition may read from one ancestor step."""

    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """Everything a condition (or an env interpolation) of one step may refer to.

    ``steps`` holds the step's ancestors only; ``all_steps`` every step name of the workflow,
    so that a non-ancestor (FS303) is told apart from a typo (FS302). ``item_type`` is None
    outside for_each, else one of ``types.ITEM_TYPES``. ``waits_with`` is the key the step
    names its parents in, so the fix for a non-ancestor names the key the step really uses.
    """

    params: Mapping[str, str] = field(default_factory=dict)
    steps: Mapping[str, StepScope] = field(default_factory=dict)
    all_steps: Collection[str] = ()
    in_finally: bool = False
    item_type: str | None = None
    current_step: str | None = None
    waits_with: str = "dependencies"


def check_condition(expr: Expr, scope: Scope) -> list[ExprProblem]:
    """All problems of a `when` condition, in source order."""
    checker = _Checker(scope)
    result = checker.type_of(expr)
    if result is not None and result != t.BOOLEAN:
        checker.not_boolean(expr, result, "a condition")
    return sorted(checker.problems, key=lambda p: (p.start, p.end))


def check_reference(ref: Reference, scope: Scope) -> tuple[str | None, list[ExprProblem]]:
    """The type of one reference (None if unknown) and its problems (``for_each``)."""
    checker = _Checker(scope)
    return checker.type_of(ref), checker.problems


def check_references(refs: Iterable[Reference], scope: Scope) -> list[ExprProblem]:
    """The problems of the references of one text (an env value's ``${{ }}``), each name's
    problem said once however often the text repeats it."""
    checker = _Checker(scope, files=True)
    for ref in refs:
        checker.type_of(ref)
    return checker.problems


#: problems about a name (param, step, output, ``workflow.status``, ``item``): one expression
#: says each once, at its first use, however often it repeats the name
_NAME_PROBLEMS = frozenset({
    UNKNOWN_PARAM, UNKNOWN_STEP, NOT_ANCESTOR, UNKNOWN_OUTPUT, STATUS_OUTSIDE_FINALLY,
    ITEM_OUTSIDE_FOR_EACH,
})


class _Checker:
    __slots__ = ("files", "named", "problems", "scope")

    def __init__(self, scope: Scope, *, files: bool = False) -> None:
        self.scope = scope
        #: whether a ``file`` may be read: its text is a path that differs between a local
        #: run and a pod, so only an env value (which hands the path over) may read it
        self.files = files
        self.problems: list[ExprProblem] = []
        self.named: set[tuple[str, str]] = set()

    def report(
        self, code: str, message: str, span: tuple[int, int], hint: str | None = None
    ) -> None:
        if code in _NAME_PROBLEMS:
            if (code, message) in self.named:
                return
            self.named.add((code, message))
        self.problems.append(ExprProblem(code, message, span[0], span[1], hint))

    def type_of(self, expr: Expr) -> str | None:
        handler = _HANDLERS.get(type(expr))
        if handler is None:
            if error_unknown_nodes():
                raise NotImplementedError(f"no type rule for {type(expr).__name__}")
            return None
        return handler(self, expr)

    def not_boolean(self, expr: Expr, found: str, role: str) -> None:
        hint = (
            "compare it, e.g. == 'text' or != ''" if found == t.STRING
            else "compare it, e.g. > 0" if t.is_numeric(found)
            else "test membership with 'in', e.g. 'x' in ..." if found == t.LIST
            else None
        )
        self.report(NOT_BOOLEAN, f"{role} must be a boolean, but this is {t.describe(found)}",
                    (expr.start, expr.end), hint)

    # -- leaves ----------------------------------------------------------------------------
    def literal(self, expr: Literal) -> str:
        return t.literal_type(expr.value)

    def list_literal(self, expr: ListLiteral) -> str:
        return t.LIST

    def param(self, ref: ParamRef) -> str | None:
        declared = self.scope.params.get(ref.name)
        if declared is None:
            self.report(UNKNOWN_PARAM, f"unknown param '{ref.name}'", ref.name_span,
                        _suggest(ref.name, self.scope.params, "params"))
            return None
        return self.readable(declared, ref)

    def step_output(self, ref: StepOutputRef) -> str | None:
        found = self.ancestor(ref.step, ref.step_span)
        if found is None:
            return None
        name, step = found
        declared = step.outputs.get(ref.output)
        if declared is None:
            hint = _suggest(ref.output, step.outputs, "outputs") if step.outputs else (
                f"declare it in step '{name}': outputs: {{{ref.output}: string}}"
            )
            self.report(UNKNOWN_OUTPUT,
                        f"step '{name}' declares no output '{ref.output}'",
                        ref.output_span, hint)
            return None
        return self.readable(declared, ref)

    def readable(self, declared: str, ref: ParamRef | StepOutputRef) -> str | None:
        """The type of a declared value this expression may read; a file where only env may
        read one is a problem (FS312)."""
        if declared == t.FILE and not self.files:
            self.report(FILE_IN_CONDITION,
                        f"{reference_text(ref)} is a file; a condition cannot read it",
                        (ref.start, ref.end),
                        "its path differs between a local run and Argo: have a step output "
                        "what the condition needs (e.g. a line count) and test that")
            return None
        return _known(declared)

    def step_status(self, ref: StepStatusRef) -> str | None:
        return t.STRING if self.ancestor(ref.step, ref.step_span) is not None else None

    def ancestor(self, name: str, span: tuple[int, int]) -> tuple[str, StepScope] | None:
        """The ancestor a reference reads, with its name; None (reported) if it has none.

        A misspelled name is reported once and then read as the step it most likely means,
        when that one is an ancestor, so the rest of the expression (the output's name, the
        comparison's types) is still checked in the same run.
        """
        scope = self.scope
        step = scope.steps.get(name)
        if step is not None:
            return name, step
        if name == scope.current_step:
            self.report(NOT_ANCESTOR, f"step '{name}' cannot read its own outputs or status",
                        span, "a condition is decided before its step runs")
        elif name in scope.all_steps:
            self.report(NOT_ANCESTOR,
                        f"step '{name}' is not an ancestor of this step, so its value is "
                        "never available (Argo would wait for ever)",
                        span, f"add '{name}' to this step's {scope.waits_with}")
        else:
            self.report(UNKNOWN_STEP, f"unknown step '{name}'", span,
                        _suggest(name, scope.all_steps, "steps"))
            meant = closest(name, sorted(scope.all_steps))
            read = scope.steps.get(meant) if meant not in (None, scope.current_step) else None
            if meant is not None and read is not None:
                return meant, read
        return None

    def workflow_status(self, ref: WorkflowStatusRef) -> str | None:
        if not self.scope.in_finally:
            self.report(STATUS_OUTSIDE_FINALLY,
                        "workflow.status is only known in 'finally' steps",
                        (ref.start, ref.end),
                        "move this step to 'finally', or test steps.STEP.status")
            return None
        return t.STRING

    def workflow_name(self, ref: WorkflowNameRef) -> str:
        return t.STRING

    def item(self, ref: ItemRef) -> str | None:
        item_type = self.scope.item_type
        if item_type is None:
            self.report(ITEM_OUTSIDE_FOR_EACH, f"'{reference_text(ref)}' is only defined in a "
                        "for_each step", (ref.start, ref.end),
                        "add for_each to this step, or use params.NAME")
            return None
        if ref.key is None:
            return _known(item_type) if item_type != t.OBJECT else t.OBJECT
        if item_type != t.OBJECT:
            self.report(TYPE_MISMATCH, f"item is {t.describe(item_type)}; it has no key "
                        f"'{ref.key}'", ref.key_span, "use item itself")
            return None
        return t.STRING

    # -- operators -------------------------------------------------------------------------
    def not_(self, expr: Not) -> str | None:
        operand = self.type_of(expr.operand)
        if operand is None or operand == t.BOOLEAN:
            return t.BOOLEAN
        self.report(NOT_BOOLEAN, f"'!' needs a boolean, but this is {t.describe(operand)}",
                    (expr.operand.start, expr.operand.end),
                    "'!' binds tighter than comparisons: write !(a == b), or a != b")
        return None

    def logical(self, expr: Logical) -> str:
        for side in (expr.left, expr.right):
            found = self.type_of(side)
            if found is not None and found != t.BOOLEAN:
                self.not_boolean(side, found, f"each side of '{expr.op}'")
        return t.BOOLEAN

    def compare(self, expr: Compare) -> str:
        left = self.type_of(expr.left)
        right = self.type_of(expr.right)
        if left is None or right is None:
            return t.BOOLEAN
        op = expr.op
        if op == "in":
            problem = t.membership_problem(left, right)
        elif op in ("==", "!="):
            problem = t.equality_problem(op, left, right)
        else:
            problem = t.ordering_problem(op, left, right)
        if problem is not None:
            self.report(TYPE_MISMATCH, problem, (expr.start, expr.end),
                        _mismatch_hint(expr, left, right))
        elif op == "in" and isinstance(expr.right, ListLiteral):
            self.list_items(expr, left, expr.right)
        elif op in ("==", "!="):
            self.phase_literal(expr)
        return t.BOOLEAN

    def list_items(self, expr: Compare, left: str, items: ListLiteral) -> None:
        if not items.items:
            self.report(TYPE_MISMATCH, "nothing is in an empty list; this is never true",
                        (items.start, items.end))
            return
        for item in items.items:
            item_type = t.literal_type(item.value)
            if not t.same_kind(left, item_type):
                self.report(TYPE_MISMATCH, f"{literal_text(item.value)} is {t.describe(item_type)}"
                            f" and can never match {t.describe(left)}", (item.start, item.end),
                            _quote_hint(item, left))
            else:
                self.phase_value(expr.left, item)

    def phase_literal(self, expr: Compare) -> None:
        for ref, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(other, Literal):
                self.phase_value(ref, other)

    def phase_value(self, ref: Expr, literal: Literal) -> None:
        """A status compared with a text no status ever holds can never be true."""
        phases: tuple[str, ...]
        if isinstance(ref, StepStatusRef):
            phases = t.STEP_PHASES
        elif isinstance(ref, WorkflowStatusRef):
            phases = t.WORKFLOW_PHASES
        else:
            return
        if isinstance(literal.value, str) and literal.value not in phases:
            close = difflib.get_close_matches(literal.value, phases, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else "it is one of " + ", ".join(phases)
            self.report(TYPE_MISMATCH, f"{reference_text(ref)} is never "
                        f"{literal_text(literal.value)}", (literal.start, literal.end), hint)


_HANDLERS: dict[type, Callable[[_Checker, Any], str | None]] = {
    Literal: _Checker.literal,
    ListLiteral: _Checker.list_literal,
    ParamRef: _Checker.param,
    StepOutputRef: _Checker.step_output,
    StepStatusRef: _Checker.step_status,
    WorkflowStatusRef: _Checker.workflow_status,
    WorkflowNameRef: _Checker.workflow_name,
    ItemRef: _Checker.item,
    Not: _Checker.not_,
    Logical: _Checker.logical,
    Compare: _Checker.compare,
}


def _known(declared: str) -> str | None:
    """A declared type the checker understands; a bad declaration is reported elsewhere."""
    return declared if declared in t.VALUE_TYPES else None


def _suggest(word: str, choices: Iterable[str], what: str) -> str:
    names = sorted(choices)
    meant = closest(word, names)
    if meant:
        return f"did you mean '{meant}'?"
    if not names:
        return f"there are no {what}"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"known {what}: {shown}"


def _mismatch_hint(expr: Compare, left: str, right: str) -> str | None:
    for side, other_type in ((expr.right, left), (expr.left, right)):
        if isinstance(side, Literal):
            hint = _quote_hint(side, other_type)
            if hint:
                return hint
    return None


def _quote_hint(literal: Literal, wanted: str) -> str | None:
    """'5' compared with an integer: the quotes are probably the mistake."""
    value = literal.value
    if isinstance(value, str):
        if wanted == t.BOOLEAN and value in ("true", "false"):
            return f"write {value} without quotes"
        if t.is_numeric(wanted) and _looks_numeric(value):
            return f"write {value} without quotes"
    elif wanted == t.STRING and value is not None:
        return f"quote it: '{literal_text(value)}'"
    return None


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
