"""`evaluate_depends` against Argo's own depends logic (the oracle's `kind: depends`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr.depends import (
    TaskState,
    dependencies_to_depends,
    evaluate_depends,
    parse_depends,
    to_argo_depends,
)

from .conftest import Oracle

DECISION = {True: "execute", False: "omit", None: "wait"}
NAMES = ["load", "load-b", "a", "b-2", "x-y-z", "a1"]
PHASES = ["Succeeded", "Failed", "Error", "Skipped", "Omitted", "Running", "Pending"]
DONE = ["Succeeded", "Failed", "Error", "Skipped", "Omitted"]
TASK_RESULTS = ["Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned"]
PARITY = settings(max_examples=300, deadline=None)


def group_phase(children: list[str]) -> str:
    """The phase Argo gives a fan-out group (dag.go; mirrored by the oracle)."""
    if not children:
        return "Skipped"
    if any(c in ("Running", "Pending") for c in children):
        return "Running"
    failed = [c for c in children if c in ("Failed", "Error")]
    return failed[-1] if failed else "Succeeded"


@st.composite
def dags(draw: st.DrawFn) -> dict[str, TaskState]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
    states = {}
    for name in names:
        if draw(st.integers(0, 3)) == 0:
            children = draw(st.lists(st.sampled_from(PHASES[:-1]), max_size=3))
            states[name] = TaskState(group_phase(children), fanout_children=children)
        else:
            states[name] = TaskState(draw(st.sampled_from(PHASES)))
    return states


def depends_text(draw: st.DrawFn, states: dict[str, TaskState], depth: int) -> str:
    kind = draw(st.integers(0, 5 if depth > 0 else 1))
    if kind <= 1:
        name = draw(st.sampled_from(sorted(states)))
        results = [None, *TASK_RESULTS]
        if states[name].fanout_children is not None:
            results += ["AnySucceeded", "AllFailed"]
        result = draw(st.sampled_from(results))
        return name if result is None else f"{name}.{result}"
    if kind == 2:
        return "!" + depends_text(draw, states, depth - 1)
    if kind == 3:
        return "(" + depends_text(draw, states, depth - 1) + ")"
    op = draw(st.sampled_from(["&&", "||", " && ", " || "]))
    return depends_text(draw, states, depth - 1) + op + depends_text(draw, states, depth - 1)


def oracle_tasks(states: dict[str, TaskState], with_continue_on: bool) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    for name, state in states.items():
        spec: dict[str, Any] = {"phase": state.phase}
        if state.fanout_children is not None:
            spec["children"] = list(state.fanout_children)
            spec["fanout"] = True
        if with_continue_on:
            spec["continueOn"] = {"failed": state.continue_on_failed,
                                  "error": state.continue_on_error}
        tasks[name] = spec
    return tasks


def assert_same(oracle: Oracle, request: dict[str, Any], ours: bool | None) -> None:
    answer = oracle.ask(request)
    assert answer["decision"] == DECISION[ours], (request, answer)


@PARITY
@given(st.data())
def test_generated_depends_expressions(oracle: Oracle, data: st.DataObject) -> None:
    states = data.draw(dags())
    text = depends_text(data.draw, states, 4)
    expr = parse_depends(text)
    ours = evaluate_depends(expr, states)
    tasks = oracle_tasks(states, with_continue_on=False)
    assert_same(oracle, {"kind": "depends", "expr": text, "tasks": tasks}, ours)
    assert_same(oracle, {"kind": "depends", "expr": to_argo_depends(expr), "tasks": tasks}, ours)


@PARITY
@given(st.data())
def test_dependencies_with_continue_on(oracle: Oracle, data: st.DataObject) -> None:
    """`dependencies` + continueOn on Argo == our evaluation == the `depends` text we
    compile it to, on a DAG where continueOn is gone (as Argo requires with depends)."""
    names = data.draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    states = {
        name: TaskState(data.draw(st.sampled_from(PHASES)),
                        continue_on_failed=data.draw(st.booleans()),
                        continue_on_error=data.draw(st.booleans()))
        for name in names
    }
    deps = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    continue_on = {n: (s.continue_on_failed, s.continue_on_error) for n, s in states.items()}
    compiled = dependencies_to_depends(deps, continue_on)
    plain = {n: TaskState(s.phase) for n, s in states.items()}
    ours = evaluate_depends(parse_depends(compiled), plain)
    assert evaluate_depends(parse_depends(" && ".join(deps)), states) is ours
    assert_same(oracle, {"kind": "depends", "dependencies": deps,
                         "tasks": oracle_tasks(states, with_continue_on=True)}, ours)
    assert_same(oracle, {"kind": "depends", "expr": compiled,
                         "tasks": oracle_tasks(plain, with_continue_on=False)}, ours)


@pytest.mark.parametrize(
    ("text", "phases", "expected"),
    [
        # `load` must not be expanded inside `load-b` (Argo's regex, not string replace)
        ("load-b && !load", {"load": "Omitted", "load-b": "Succeeded"}, True),
        ("load && load-b", {"load": "Succeeded", "load-b": "Omitted"}, False),
        ("load-b.Succeeded||load.Failed", {"load": "Failed", "load-b": "Omitted"}, True),
        # the Omitted cascade: a bare name is not "finished"
        ("a", {"a": "Omitted"}, False),
        ("a", {"a": "Skipped"}, True),
        ("a.Omitted || a.Skipped", {"a": "Omitted"}, True),
        # Argo waits for every named task, even when the answer is known
        ("a || b-2", {"a": "Succeeded", "b-2": "Running"}, None),
        ("a && b-2", {"a": "Failed", "b-2": "Pending"}, None),
        ("!!(a.Errored) && !(b-2.Failed || b-2.Errored)", {"a": "Error", "b-2": "Succeeded"},
         True),
        ("x-y-z.Daemoned || x-y-z.Errored", {"x-y-z": "Failed"}, False),
    ],
)
def test_nasty_cases(
    oracle: Oracle, text: str, phases: dict[str, str], expected: bool | None
) -> None:
    states = {name: TaskState(phase) for name, phase in phases.items()}
    ours = evaluate_depends(parse_depends(text), states)
    assert ours is expected
    assert_same(oracle, {"kind": "depends", "expr": text,
                         "tasks": oracle_tasks(states, with_continue_on=False)}, ours)


@pytest.mark.parametrize(
    ("text", "children"),
    [
        ("a.AnySucceeded", ["Skipped", "Skipped"]),
        ("a.AnySucceeded", ["Failed", "Succeeded"]),
        ("a.AllFailed", ["Failed", "Error"]),
        ("a.AllFailed", ["Failed", "Failed"]),
        ("a", ["Skipped", "Failed"]),
        ("a && a.AnySucceeded", ["Succeeded", "Running"]),
    ],
)
def test_fan_out_results(oracle: Oracle, text: str, children: list[str]) -> None:
    states = {"a": TaskState(group_phase(children), fanout_children=children)}
    ours = evaluate_depends(parse_depends(text), states)
    assert_same(oracle, {"kind": "depends", "expr": text,
                         "tasks": oracle_tasks(states, with_continue_on=False)}, ours)
