"""The DAG read back from a compiled manifest is the spec's DAG.

Tasks, their parents, when a task may start (``depends``/``dependencies``/``continueOn`` as
Argo reads them, for every combination of parent phases) and which tasks carry a ``when``
tag are recovered from the manifest alone and compared with the spec, for every shipped spec
and for generated DAGs.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compile import build
from engine.compile.argo import ENTRY_TEMPLATE, EXIT_TEMPLATE
from engine.compile.checks import check_manifest
from engine.expr.depends import TaskState, depends_names, evaluate_depends, parse_depends
from engine.graph import step_parents
from engine.model import Spec, Step
from engine.validation import load_spec_file, load_spec_text

from .conftest import shipped_specs

PHASES = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")


def _argo_decision(task: dict[str, Any], tasks: dict[str, dict[str, Any]],
                   phases: dict[str, str]) -> bool | None:
    """How Argo decides a task from the manifest: `depends` verbatim, else `dependencies`
    as ANDed bare names; bare names widened by the dependency's own continueOn."""
    def state(name: str) -> TaskState:
        flags = tasks[name].get("continueOn", {})
        return TaskState(phases[name], bool(flags.get("failed")), bool(flags.get("error")))

    text = task.get("depends") or " && ".join(task.get("dependencies", []))
    if not text:
        return True
    expr = parse_depends(text)
    return evaluate_depends(expr, {n: state(n) for n in depends_names(expr)})


def _spec_decision(step: Step, steps: dict[str, Step], phases: dict[str, str]) -> bool | None:
    """What the spec means: its own `depends`, or its `dependencies` with each one's
    continue_on, evaluated by the local executor's logic."""
    def state(name: str) -> TaskState:
        other = steps[name]
        return TaskState(phases[name], other.continue_on.failed, other.continue_on.error)

    text = step.depends if step.depends is not None else " && ".join(step.dependencies or ())
    if not text:
        return True
    expr = parse_depends(text)
    return evaluate_depends(expr, {n: state(n) for n in depends_names(expr)})


def _phase_assignments(parents: list[str], rng: random.Random) -> list[dict[str, str]]:
    if len(parents) <= 4:
        return [dict(zip(parents, combo, strict=True))
                for combo in itertools.product(PHASES, repeat=len(parents))]
    return [{p: rng.choice(PHASES) for p in parents} for _ in range(300)]


def assert_round_trip(spec: Spec, kind: str = "Workflow") -> None:
    compiled = build(spec, kind=kind)
    templates = {t["name"]: t for t in compiled.manifest_spec()["templates"]}
    rng = random.Random(0)
    for dag_name, steps in ((ENTRY_TEMPLATE, spec.steps), (EXIT_TEMPLATE, spec.finally_steps)):
        if not steps:
            assert dag_name not in templates
            continue
        tasks = {t["name"]: t for t in templates[dag_name]["dag"]["tasks"]}
        by_name = {s.name: s for s in steps}
        assert list(tasks) == [s.name for s in steps]
        for step in steps:
            task = tasks[step.name]
            assert task["template"] in templates
            read_back = depends_names(parse_depends(task["depends"])) if "depends" in task \
                else task.get("dependencies", [])
            assert sorted(read_back) == sorted(step_parents(step))
            for phases in _phase_assignments(step_parents(step), rng):
                assert _argo_decision(task, tasks, phases) == \
                    _spec_decision(step, by_name, phases), (step.name, phases)
            when = task.get("when")
            assert (when is not None) == (step.when is not None)
            if when is not None:  # one expression tag, nothing pasted around it
                assert when.startswith("{{=") and when.endswith("}}")
                assert when.count("{{") == 1 and when.count("}}") == 1
            assert ("withParam" in task) == (step.for_each is not None)


@pytest.mark.parametrize("path", shipped_specs(), ids=lambda p: p.name)
def test_shipped_specs_round_trip(path: Path) -> None:
    assert_round_trip(load_spec_file(path))


@st.composite
def dag_specs(draw: st.DrawFn) -> str:
    """A random valid DAG: each step waits for earlier ones by `dependencies` or, in a
    workflow that uses `depends`, by a random result expression; `continue_on` only where
    Argo allows it (no `depends` anywhere)."""
    count = draw(st.integers(2, 7))
    use_depends = draw(st.booleans())
    lines = ["apiVersion: flowspec/v1", "kind: Workflow", "metadata: {name: generated}",
             "steps:"]
    for i in range(count):
        lines += [f"  - name: s{i}", "    processor: noop"]
        parents = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        if parents and use_depends and draw(st.booleans()):
            terms = []
            for p in parents:
                result = draw(st.sampled_from(
                    ["", ".Succeeded", ".Failed", ".Errored", ".Skipped", ".Omitted"]))
                term = f"s{p}{result}"
                terms.append(f"!{term}" if draw(st.booleans()) and result else term)
            ops = [draw(st.sampled_from([" && ", " || "])) for _ in terms[1:]]
            text = terms[0] + "".join(op + t for op, t in zip(ops, terms[1:], strict=True))
            lines.append(f"    depends: '{text}'")
        elif parents:
            lines.append("    dependencies: [" + ", ".join(f"s{p}" for p in parents) + "]")
        if not use_depends and draw(st.booleans()):
            failed, error = draw(st.booleans()), draw(st.booleans())
            lines.append(f"    continue_on: {{failed: {str(failed).lower()}, "
                         f"error: {str(error).lower()}}}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(dag_specs())
def test_generated_dags_round_trip_and_pass_argo_checks(text: str) -> None:
    spec = load_spec_text(text)
    assert_round_trip(spec)
    assert [str(p) for p in check_manifest(build(spec).manifest)] == []
