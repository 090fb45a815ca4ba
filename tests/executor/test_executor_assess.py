"""The workflow phase from the leaves: the appendix cases, and random DAGs against a
reference that enumerates root-to-leaf paths instead of walking breadth-first."""

from __future__ import annotations

from collections.abc import Iterator

from executor_helpers import make_step
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.executor.assess import assess_phase, with_finally
from engine.graph import step_parents
from engine.model import Step

FINISHED = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")


def phase_of(steps: list[Step], phases: dict[str, str]) -> str:
    parents = {s.name: step_parents(s) for s in steps}
    return assess_phase(steps, parents, phases)


def test_appendix_1_skipped_leaf_below_a_continued_failure_fails_the_workflow() -> None:
    steps = [make_step("a", failed=True), make_step("b", ["a"])]
    assert phase_of(steps, {"a": "Failed", "b": "Skipped"}) == "Failed"


def test_appendix_2_the_leafs_own_continue_on_covers_the_inherited_phase() -> None:
    steps = [make_step("a", failed=True), make_step("b", ["a"], failed=True)]
    assert phase_of(steps, {"a": "Failed", "b": "Skipped"}) == "Succeeded"


def test_appendix_3_a_completed_step_resets_the_branch() -> None:
    steps = [make_step("a", failed=True), make_step("b", ["a"]), make_step("c", ["b"])]
    assert phase_of(steps, {"a": "Failed", "b": "Succeeded", "c": "Skipped"}) == "Succeeded"
    handled = [make_step("a"), make_step("h", depends="a.Failed")]
    assert phase_of(handled, {"a": "Failed", "h": "Succeeded"}) == "Succeeded"


def test_appendix_4_a_failure_reaching_a_leaf_through_any_parent_wins() -> None:
    steps = [make_step("a"), make_step("f", failed=True), make_step("x", ["a", "f"])]
    assert phase_of(steps, {"a": "Succeeded", "f": "Failed", "x": "Omitted"}) == "Failed"


def test_first_failing_leaf_in_name_order_decides() -> None:
    steps = [make_step("z"), make_step("b")]
    assert phase_of(steps, {"z": "Failed", "b": "Error"}) == "Error"
    assert phase_of(steps, {"z": "Error", "b": "Failed"}) == "Failed"


def test_omitted_leaf_below_success_is_success() -> None:
    steps = [make_step("a"), make_step("b", depends="a.Failed")]
    assert phase_of(steps, {"a": "Succeeded", "b": "Omitted"}) == "Succeeded"


def test_an_unfulfilled_step_keeps_the_dag_running() -> None:
    steps = [make_step("a"), make_step("b", ["a"])]
    assert phase_of(steps, {"a": "Succeeded", "b": "Running"}) == "Running"


def test_failing_finally() -> None:
    assert with_finally("Succeeded", "Failed") == "Failed"
    assert with_finally("Succeeded", "Error") == "Error"
    assert with_finally("Failed", "Succeeded") == "Failed"
    assert with_finally("Error", "Failed") == "Error"
    assert with_finally("Succeeded", None) == "Succeeded"


# --- random DAGs against a path-enumerating reference ------------------------------------------
def _paths(name: str, parents: dict[str, list[str]]) -> Iterator[list[str]]:
    if not parents[name]:
        yield [name]
        return
    for p in parents[name]:
        for path in _paths(p, parents):
            yield [*path, name]


def reference(steps: list[Step], phases: dict[str, str]) -> set[str]:
    """Every answer Argo could give (two when Failed and Error race to one skipped leaf)."""
    parents = {s.name: list(s.dependencies or ()) for s in steps}
    children = {p for s in steps for p in parents[s.name]}
    leaves = sorted(s.name for s in steps if s.name not in children)
    by_name = {s.name: s for s in steps}
    options: dict[str, set[str]] = {}
    for leaf in leaves:
        if phases[leaf] in ("Succeeded", "Failed", "Error"):
            options[leaf] = {phases[leaf]}
            continue
        arriving = set()
        for path in _paths(leaf, parents):
            branch = "Succeeded"
            for node in path[:-1]:
                if phases[node] in ("Succeeded", "Failed", "Error"):
                    branch = phases[node]
            arriving.add(branch)
        bad = arriving & {"Failed", "Error"}
        options[leaf] = bad or {"Succeeded"}
    answers = {""}
    for leaf in leaves:
        nxt = set()
        for answer in answers:
            if answer:
                nxt.add(answer)
                continue
            for phase in options[leaf]:
                covered = ((phase == "Failed" and by_name[leaf].continue_on.failed)
                           or (phase == "Error" and by_name[leaf].continue_on.error))
                nxt.add(phase if phase != "Succeeded" and not covered else "")
        answers = nxt
    return {a or "Succeeded" for a in answers}


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[Step], dict[str, str]]:
    n = draw(st.integers(1, 7))
    names = [f"s{i}" for i in range(n)]
    steps, phases = [], {}
    for i, name in enumerate(names):
        deps = [p for p in names[:i] if draw(st.booleans())]
        flags = draw(st.tuples(st.booleans(), st.booleans()))
        steps.append(make_step(name, deps, failed=flags[0], error=flags[1], index=i))
        phases[name] = draw(st.sampled_from(FINISHED))
    return steps, phases


@settings(max_examples=400, deadline=None)
@given(dags())
def test_random_dags_match_the_path_reference(case: tuple[list[Step], dict[str, str]]) -> None:
    steps, phases = case
    assert phase_of(steps, phases) in reference(steps, phases)
