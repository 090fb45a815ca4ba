"""The pure decision for a step whose dependencies are known: run, skip, omit, wait or error.

This is Argo's ``executeDAGTask`` order: the dependency logic first (``dependencies`` or
``depends``; false -> Omitted, and nothing is decided until every named step is fulfilled),
then ``when`` (false -> Skipped; a condition that cannot be evaluated -> Error). It reads no
clock and no store, so the executor, resume and the tests all get the same answer from the
same inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.executor.phases import ERROR, FAILED, FULFILLED, SKIPPED, SUCCEEDED
from engine.expr.depends import DependsExpr, TaskState, evaluate_depends, parse_depends
from engine.expr.errors import ExprEvalError, ExprSyntaxError
from engine.model import Step

RUN, SKIP, OMIT, WAIT, FAIL = "run", "skip", "omit", "wait", "error"


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # RUN, SKIP, OMIT, WAIT or FAIL (the node ends in Error)
    message: str | None = None


_RUN = Decision(RUN)
_WAIT = Decision(WAIT)
_OMIT = Decision(OMIT, "omitted: depends condition not met")


@lru_cache(maxsize=4096)
def parsed_depends(text: str) -> DependsExpr:
    return parse_depends(text)


@lru_cache(maxsize=4096)
def parsed_condition(text: str) -> Any:
    from engine.expr.parser import parse_condition

    return parse_condition(text)


def bare_dependency_met(state: TaskState) -> bool:
    """Argo's ``expandDependency``: a bare name is Succeeded || Skipped || Daemoned, widened
    by the dependency's own ``continue_on``."""
    phase = state.phase
    return (phase in (SUCCEEDED, SKIPPED)
            or (phase == FAILED and state.continue_on_failed)
            or (phase == ERROR and state.continue_on_error))


def decide_dependencies(step: Step, states: Mapping[str, TaskState]) -> Decision:
    """RUN (go on to ``when``), OMIT, WAIT or FAIL from the states of the steps it names."""
    if step.depends is not None:
        try:
            verdict = evaluate_depends(parsed_depends(step.depends), states)
        except (ExprSyntaxError, ValueError) as exc:
            return Decision(FAIL, f"invalid depends '{step.depends}': {exc}")
        if verdict is None:
            return _WAIT
        return _RUN if verdict else _OMIT
    if step.dependencies:
        met = True
        for name in step.dependencies:
            state = states.get(name)
            if state is None or state.phase not in FULFILLED:
                return _WAIT
            met = met and bare_dependency_met(state)
        return _RUN if met else _OMIT
    return _RUN


def decide_when(step: Step, values: Callable[[], Any]) -> Decision:
    """RUN, SKIP (false) or FAIL (cannot be evaluated); ``values`` builds the Values lazily."""
    if step.when is None:
        return _RUN
    from engine.expr.evaluate import evaluate_condition

    try:
        if evaluate_condition(parsed_condition(step.when), values()):
            return _RUN
    except ExprSyntaxError as exc:
        return Decision(FAIL, f"invalid when '{step.when}': {exc.message}")
    except ExprEvalError as exc:
        return Decision(FAIL, f"failed to evaluate when '{step.when}': {exc.message}")
    return Decision(SKIP, f"when '{step.when}' evaluated false")


def decide(step: Step, states: Mapping[str, TaskState], values: Callable[[], Any]) -> Decision:
    """The whole decision for a step that does not fan out."""
    decision = decide_dependencies(step, states)
    return decision if decision.action != RUN else decide_when(step, values)
