"""The contract's Python API (section 5): load, validate, graph, run, compile."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.diagnostics import SpecError

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"

SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: api}
params:
  n: {type: integer, default: 2}
steps:
  - name: a
    processor: noop
    config: {outputs: {x: 3}}
    outputs: {x: integer}
  - name: b
    processor: noop
    dependencies: [a]
    when: steps.a.outputs.x > params.n
  - name: c
    processor: noop
    dependencies: [a]
    when: steps.a.outputs.x < params.n
"""


def test_load_gives_a_spec_with_its_graph() -> None:
    spec = engine.load(SPEC)
    assert spec.name == "api"
    assert sorted(spec.graph.edges) == [("a", "b"), ("a", "c")]
    assert engine.load(EXAMPLES / "hello.yaml").name == "hello"


def test_load_raises_one_exception_with_every_diagnostic() -> None:
    with pytest.raises(SpecError) as caught:
        engine.load(SPEC.replace("dependencies: [a]", "dependencies: [z]"))
    # the unknown dependency, and the conditions that now read a step that is not an ancestor
    assert sorted(d.code for d in caught.value.diagnostics) == ["FS203", "FS203", "FS303", "FS303"]


def test_validate_returns_diagnostics() -> None:
    assert engine.validate(SPEC) == []
    assert [d.code for d in engine.validate(SPEC.replace("noop", "nope", 1))] == ["FS401"]


def test_ignore_comments_apply_to_load_and_validate_alike() -> None:
    ignored = SPEC.replace("processor: noop\n    dependencies: [a]\n    when: steps.a.outputs.x < ",
                           "processor: nop  # flowspec: ignore[FS401]\n    dependencies: [a]\n"
                           "    when: steps.a.outputs.x < ")
    assert ignored != SPEC
    assert engine.validate(ignored) == []
    assert engine.load(ignored).name == "api"
    stale = SPEC.replace("processor: noop\n    config", "processor: noop  # flowspec: "
                         "ignore[FS401]\n    config")
    assert [(d.code, d.severity) for d in engine.validate(stale)] == [("FS011", "warning")]
    assert engine.load(stale).name == "api"  # a warning never stops a spec from loading


def test_run_is_the_function_even_after_its_module_is_imported() -> None:
    import engine.local

    result = engine.run(engine.load(SPEC), {"n": 1})
    assert result.phase == "Succeeded"
    assert {n: s.phase for n, s in result.steps.items()} == {
        "a": "Succeeded", "b": "Succeeded", "c": "Skipped"}
    assert callable(engine.arun)


def test_compile_returns_a_hera_workflow() -> None:
    workflow = engine.compile(engine.load(SPEC))
    text = workflow.to_yaml()
    assert "kind: Workflow" in text and "{{=" in text
