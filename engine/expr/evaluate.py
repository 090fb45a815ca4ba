"""Deciding a condition locally, with the contract's null rules.

An output of a step that did not succeed, or that it did not produce, is null; null equals
only null, and every other comparison with it (ordering and ``in`` included) is false; null
where a boolean is expected counts as false. Anything else that cannot be decided (a type
error that the checker would have caught) raises ExprEvalError, and the step ends in Error,
as Argo's would when its expression fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.values import to_text

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
    reference_text,
)
from .errors import ExprEvalError, error_unknown_nodes


@dataclass(frozen=True)
class StepValues:
    """A finished ancestor: its phase and the (typed) outputs it produced."""

    status: str
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Values:
    """Run-time values a condition or an env interpolation may read; None is null.

    A param missing from ``params`` is null (an optional param without a default).
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    steps: Mapping[str, StepValues] = field(default_factory=dict)
    workflow_status: str | None = None
    item: Any = None
    workflow_name: str | None = None


def evaluate_condition(expr: Expr, values: Values) -> bool:
    """True: run the step; False: skip it; ExprEvalError: the step ends in Error."""
    return _truth(expr, _value(expr, values))


def resolve_reference(ref: Reference, values: Values) -> Any:
    """The value a reference stands for (None for null)."""
    if isinstance(ref, ParamRef):
        return values.params.get(ref.name)
    if isinstance(ref, StepOutputRef):
        step = _step(ref.step, ref, values)
        return step.outputs.get(ref.output) if step.status == "Succeeded" else None
    if isinstance(ref, StepStatusRef):
        return _step(ref.step, ref, values).status
    if isinstance(ref, WorkflowStatusRef):
        return _known(values.workflow_status, ref, "is only known in 'finally' steps")
    if isinstance(ref, WorkflowNameRef):
        return _known(values.workflow_name, ref, "is not known")
    return _item(ref, values.item)


def _step(name: str, ref: Reference, values: Values) -> StepValues:
    step = values.steps.get(name)
    if step is None:
        raise ExprEvalError(f"step '{name}' has not finished, so {reference_text(ref)} is "
                            "unknown", ref.start, ref.end)
    return step


def _known(value: str | None, ref: Reference, why: str) -> str:
    if value is None:
        raise ExprEvalError(f"{reference_text(ref)} {why}", ref.start, ref.end)
    return value


def _item(ref: ItemRef, item: Any) -> Any:
    if ref.key is None:
        return item
    if not isinstance(item, Mapping) or ref.key not in item:
        raise ExprEvalError(f"the item has no key '{ref.key}'", ref.start, ref.end)
    # Argo substitutes item keys as text ({{item.key}}), so the key's value is a string.
    return to_text(item[ref.key])


# --- values --------------------------------------------------------------------------------
def _value(expr: Expr, values: Values) -> Any:
    handler = _HANDLERS.get(type(expr))
    if handler is None:
        if error_unknown_nodes():
            raise NotImplementedError(f"no evaluation rule for {type(expr).__name__}")
        raise ExprEvalError(f"cannot evaluate {type(expr).__name__}", expr.start, expr.end)
    return handler(expr, values)


def _literal(expr: Literal, values: Values) -> Any:
    return expr.value


def _list(expr: ListLiteral, values: Values) -> Any:
    return [item.value for item in expr.items]


def _not(expr: Not, values: Values) -> bool:
    return not _truth(expr.operand, _value(expr.operand, values))


def _logical(expr: Logical, values: Values) -> bool:
    left = _truth(expr.left, _value(expr.left, values))
    if left == (expr.op == "||"):
        return left
    return _truth(expr.right, _value(expr.right, values))


def _compare(expr: Compare, values: Values) -> bool:
    left = _value(expr.left, values)
    right = _value(expr.right, values)
    op = expr.op
    if op == "==":
        return _equal(expr, left, right)
    if op == "!=":
        return not _equal(expr, left, right)
    if op == "in":
        return _member(expr, left, right)
    return _order(expr, left, right)


_HANDLERS: dict[type, Callable[[Any, Values], Any]] = {
    Literal: _literal,
    ListLiteral: _list,
    Not: _not,
    Logical: _logical,
    Compare: _compare,
    **{kind: resolve_reference for kind in (
        ParamRef, StepOutputRef, StepStatusRef, WorkflowStatusRef, WorkflowNameRef, ItemRef)},
}


# --- operators -----------------------------------------------------------------------------
def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    return "mapping" if isinstance(value, Mapping) else type(value).__name__


def _truth(expr: Expr, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    raise ExprEvalError(f"expected a boolean, got a {_kind(value)}", expr.start, expr.end)


def _equal(expr: Compare, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    kind = _kind(left)
    if kind != _kind(right) or kind not in ("boolean", "number", "string"):
        raise ExprEvalError(f"cannot compare a {kind} with a {_kind(right)}",
                            expr.start, expr.end)
    return bool(left == right)


def _member(expr: Compare, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if _kind(right) != "list":
        raise ExprEvalError(f"'in' needs a list, got a {_kind(right)}", expr.start, expr.end)
    kind = _kind(left)
    if kind not in ("boolean", "number", "string"):
        raise ExprEvalError(f"cannot look for a {kind} in a list", expr.start, expr.end)
    return any(_kind(item) == kind and item == left for item in right)


def _order(expr: Compare, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    kind = _kind(left)
    if kind != _kind(right) or kind not in ("number", "string"):
        raise ExprEvalError(f"cannot order a {kind} and a {_kind(right)}", expr.start, expr.end)
    op = expr.op
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)
