"""decide(): Argo's dependency logic then `when`, for every phase combination."""

from __future__ import annotations

import itertools

import pytest
from executor_helpers import make_step

from engine.executor.decide import FAIL, OMIT, RUN, SKIP, WAIT, decide, decide_dependencies
from engine.expr.depends import TaskState, dependencies_to_depends, evaluate_depends, parse_depends
from engine.expr.evaluate import StepValues, Values

FINISHED = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
UNFINISHED = ("Pending", "Running")
FLAGS = list(itertools.product((False, True), repeat=2))


def reference_dependencies(names: list[str], states: dict[str, TaskState]) -> str:
    """Argo's way: expand `dependencies` into a depends string and evaluate that."""
    text = dependencies_to_depends(
        names, {n: (s.continue_on_failed, s.continue_on_error) for n, s in states.items()})
    verdict = evaluate_depends(parse_depends(text), states)
    return WAIT if verdict is None else RUN if verdict else OMIT


@pytest.mark.parametrize("phase", FINISHED + UNFINISHED)
@pytest.mark.parametrize(("failed", "error"), FLAGS)
def test_one_dependency_every_phase(phase: str, failed: bool, error: bool) -> None:
    states = {"a": TaskState(phase, failed, error)}
    got = decide_dependencies(make_step("b", ["a"]), states).action
    assert got == reference_dependencies(["a"], states)
    expected_run = phase in ("Succeeded", "Skipped") or (phase == "Failed" and failed) or (
        phase == "Error" and error)
    if phase in UNFINISHED:
        assert got == WAIT
    else:
        assert got == (RUN if expected_run else OMIT)


@pytest.mark.parametrize(("pa", "pb"), list(itertools.product(FINISHED + ("Running",), repeat=2)))
def test_two_dependencies_every_pair(pa: str, pb: str) -> None:
    for (fa, ea), (fb, eb) in itertools.product(FLAGS, repeat=2):
        states = {"a": TaskState(pa, fa, ea), "b": TaskState(pb, fb, eb)}
        got = decide_dependencies(make_step("c", ["a", "b"]), states).action
        assert got == reference_dependencies(["a", "b"], states), (pa, pb, fa, ea, fb, eb)


def test_missing_dependency_waits() -> None:
    assert decide_dependencies(make_step("b", ["a"]), {}).action == WAIT
    assert decide_dependencies(make_step("b", depends="a.Failed"), {}).action == WAIT


@pytest.mark.parametrize("phase", FINISHED)
@pytest.mark.parametrize("result", ["Succeeded", "Failed", "Errored", "Skipped", "Omitted"])
def test_depends_result_per_phase(phase: str, result: str) -> None:
    step = make_step("b", depends=f"a.{result}")
    got = decide_dependencies(step, {"a": TaskState(phase)}).action
    holds = phase == ("Error" if result == "Errored" else result)
    assert got == (RUN if holds else OMIT)


def test_depends_waits_for_every_named_step_even_when_decided() -> None:
    step = make_step("c", depends="a || b")
    assert decide_dependencies(step, {"a": TaskState("Succeeded"),
                                      "b": TaskState("Running")}).action == WAIT
    assert decide_dependencies(step, {"a": TaskState("Succeeded"),
                                      "b": TaskState("Failed")}).action == RUN


def test_bare_name_cascades_omitted_but_not_skipped() -> None:
    assert decide_dependencies(make_step("b", depends="a"),
                               {"a": TaskState("Omitted")}).action == OMIT
    assert decide_dependencies(make_step("b", depends="a"),
                               {"a": TaskState("Skipped")}).action == RUN


def test_fanout_results() -> None:
    any_ok = make_step("s", depends="r.AnySucceeded")
    all_failed = make_step("s", depends="r.AllFailed")
    mixed = TaskState("Failed", fanout_children=("Failed", "Succeeded"))
    failed = TaskState("Failed", fanout_children=("Failed", "Failed"))
    assert decide_dependencies(any_ok, {"r": mixed}).action == RUN
    assert decide_dependencies(any_ok, {"r": failed}).action == OMIT
    assert decide_dependencies(all_failed, {"r": failed}).action == RUN
    assert decide_dependencies(all_failed, {"r": mixed}).action == OMIT


def _values(outputs: dict[str, object] | None = None, status: str = "Succeeded") -> Values:
    return Values(params={"n": 3}, steps={"a": StepValues(status, outputs or {"ok": True})})


@pytest.mark.parametrize(("when", "action"), [
    ("params.n > 2", RUN),
    ("params.n > 5", SKIP),
    ("steps.a.outputs.ok == true", RUN),
    ("steps.a.outputs.missing == null", RUN),
    ("workflow.status == 'Succeeded'", FAIL),  # only known in finally: Argo's node Error
])
def test_when(when: str, action: str) -> None:
    decision = decide(make_step("b", ["a"], when=when), {"a": TaskState("Succeeded")},
                      _values)
    assert decision.action == action
    if action == SKIP:
        assert decision.message == f"when '{when}' evaluated false"


def test_when_reads_null_for_a_step_that_did_not_succeed() -> None:
    step = make_step("b", depends="a.Failed", when="steps.a.outputs.ok == null")
    decision = decide(step, {"a": TaskState("Failed")},
                      lambda: _values({"ok": True}, status="Failed"))
    assert decision.action == RUN


def test_depends_is_decided_before_when() -> None:
    calls: list[int] = []

    def values() -> Values:
        calls.append(1)
        return _values()

    step = make_step("b", depends="a.Failed", when="workflow.status == 'x'")
    assert decide(step, {"a": TaskState("Succeeded")}, values).action == OMIT
    assert calls == []  # `when` is not even evaluated once depends says no
