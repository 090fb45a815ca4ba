"""Syntax tree of conditions and `${{ }}` references.

Nodes are frozen (they are shared between the checker, the evaluator and the compiler, and
cached by the validator) and every node carries ``start``/``end`` character offsets into the
text it was parsed from. References are written without spaces (the parser insists), so the
span of each segment can be derived from the node instead of being stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral
from typing import TypeAlias

LiteralValue: TypeAlias = str | int | float | bool | None
CompareOp: TypeAlias = TypingLiteral["==", "!=", "<", "<=", ">", ">=", "in"]
LogicalOp: TypeAlias = TypingLiteral["&&", "||"]


@dataclass(frozen=True, slots=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """'text', 42, 2.5, true, false or null; the Python type of ``value`` is the literal's type."""

    value: LiteralValue


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    """[1, 2]: items are scalar literals, never null, references or lists."""

    items: tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class ParamRef(Node):
    name: str

    @property
    def name_span(self) -> tuple[int, int]:
        return self.end - len(self.name), self.end


@dataclass(frozen=True, slots=True)
class StepOutputRef(Node):
    step: str
    output: str

    @property
    def step_span(self) -> tuple[int, int]:
        return _step_span(self.start, self.step)

    @property
    def output_span(self) -> tuple[int, int]:
        return self.end - len(self.output), self.end


@dataclass(frozen=True, slots=True)
class StepStatusRef(Node):
    step: str

    @property
    def step_span(self) -> tuple[int, int]:
        return _step_span(self.start, self.step)


@dataclass(frozen=True, slots=True)
class WorkflowStatusRef(Node):
    pass


@dataclass(frozen=True, slots=True)
class WorkflowNameRef(Node):
    """Only in `${{ }}` interpolation: conditions have no use for it."""


@dataclass(frozen=True, slots=True)
class ItemRef(Node):
    """``item`` (key None) or ``item.KEY`` inside a for_each step."""

    key: str | None

    @property
    def key_span(self) -> tuple[int, int]:
        return self.end - len(self.key or ""), self.end


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Logical(Node):
    op: LogicalOp
    left: Expr
    right: Expr


Reference: TypeAlias = (
    ParamRef | StepOutputRef | StepStatusRef | WorkflowStatusRef | WorkflowNameRef | ItemRef
)
Expr: TypeAlias = Literal | ListLiteral | Reference | Not | Compare | Logical

_STEPS_PREFIX = len("steps.")


def _step_span(start: int, step: str) -> tuple[int, int]:
    return start + _STEPS_PREFIX, start + _STEPS_PREFIX + len(step)


# --- canonical text ------------------------------------------------------------------------
# Precedence levels, loosest first; to_text adds parentheses only where the tree needs them,
# so parse_condition(to_text(e)) rebuilds the same tree (offsets aside).
_OR, _AND, _COMPARE, _NOT, _ATOM = range(5)
_STRING_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def to_text(expr: Expr) -> str:
    """The condition written canonically (single quotes, single spaces around operators)."""
    return _text(expr, _OR)


def reference_text(ref: Reference) -> str:
    """The reference as a user writes it, e.g. ``steps.load.outputs.rows``."""
    if isinstance(ref, ParamRef):
        return f"params.{ref.name}"
    if isinstance(ref, StepOutputRef):
        return f"steps.{ref.step}.outputs.{ref.output}"
    if isinstance(ref, StepStatusRef):
        return f"steps.{ref.step}.status"
    if isinstance(ref, WorkflowStatusRef):
        return "workflow.status"
    if isinstance(ref, WorkflowNameRef):
        return "workflow.name"
    return "item" if ref.key is None else f"item.{ref.key}"


def literal_text(value: LiteralValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = "".join(_STRING_ESCAPES.get(ch, ch) for ch in value)
        return f"'{escaped}'"
    return repr(value)


def _text(expr: Expr, level: int) -> str:
    if isinstance(expr, Logical):
        mine = _OR if expr.op == "||" else _AND
        text = f"{_text(expr.left, mine)} {expr.op} {_text(expr.right, mine + 1)}"
    elif isinstance(expr, Compare):
        mine = _COMPARE
        text = f"{_text(expr.left, _NOT)} {expr.op} {_text(expr.right, _NOT)}"
    elif isinstance(expr, Not):
        mine = _NOT
        text = f"!{_text(expr.operand, _NOT)}"
    elif isinstance(expr, Literal):
        return literal_text(expr.value)
    elif isinstance(expr, ListLiteral):
        return "[" + ", ".join(literal_text(item.value) for item in expr.items) + "]"
    else:
        return reference_text(expr)
    return f"({text})" if mine < level else text
