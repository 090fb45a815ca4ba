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
    spec = engine.load_text(SPEC)
    assert spec.name == "api"
    assert sorted(spec.graph.edges) == [("a", "b"), ("a", "c")]
    assert engine.load_file(EXAMPLES / "hello.yaml").name == "hello"


def test_load_raises_one_exception_with_every_diagnostic() -> None:
    with pytest.raises(SpecError) as caught:
        engine.load_text(SPEC.replace("dependencies: [a]", "dependencies: [z]"))
    # the unknown dependency, and the conditions that now read a step that is not an ancestor
    assert sorted(d.code for d in caught.value.diagnostics) == ["FS203", "FS203", "FS303", "FS303"]


def test_validate_returns_diagnostics() -> None:
    assert engine.validate_text(SPEC) == []
    assert [d.code for d in engine.validate_text(SPEC.replace("noop", "nope", 1))] == ["FS401"]


def test_ignore_comments_apply_to_load_and_validate_alike() -> None:
    ignored = SPEC.replace("processor: noop\n    dependencies: [a]\n    when: steps.a.outputs.x < ",
                           "processor: nop  # flowspec: ignore[FS401]\n    dependencies: [a]\n"
                           "    when: steps.a.outputs.x < ")
    assert ignored != SPEC
    assert engine.validate_text(ignored) == []
    assert engine.load_text(ignored).name == "api"
    stale = SPEC.replace("processor: noop\n    config", "processor: noop  # flowspec: "
                         "ignore[FS401]\n    config")
    assert [(d.code, d.severity) for d in engine.validate_text(stale)] == [("FS011", "warning")]
    assert engine.load_text(stale).name == "api"  # a warning never stops a spec from loading


def test_run_is_the_function_even_after_its_module_is_imported() -> None:
    import engine.local

    result = engine.run(engine.load_text(SPEC), {"n": 1})
    assert result.phase == "Succeeded"
    assert {n: s.phase for n, s in result.steps.items()} == {
        "a": "Succeeded", "b": "Succeeded", "c": "Skipped"}
    assert callable(engine.arun)


def test_compile_returns_a_hera_workflow() -> None:
    workflow = engine.compile(engine.load_text(SPEC))
    text = workflow.to_yaml()
    assert "kind: Workflow" in text and "{{=" in text


def test_a_mistyped_file_name_is_a_missing_file_not_yaml_text(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        engine.load_file(tmp_path / "helo.yaml")
    assert [d.code for d in caught.value.diagnostics] == ["FS010"]
    assert "cannot read the file" in caught.value.diagnostics[0].message
    assert [d.code for d in engine.validate_file(str(tmp_path / "helo.yaml"))] == ["FS010"]


def test_the_library_leaves_the_garbage_collector_as_the_process_set_it() -> None:
    """Loading, validating and running change no process-wide state (issue 12, item 9): two
    runs in one process used to undo each other's gc.freeze, and loading turned GC off."""
    import gc
    import threading

    seen: list[tuple[bool, tuple[int, int, int], int]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append((gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()))
            stop.wait(0.001)

    before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        spec = engine.load_text(SPEC)
        engine.validate_text(SPEC)
        engine.run(spec, {"n": 1})
        engine.run(spec, {"n": 2})
    finally:
        stop.set()
        watcher.join()
    assert set(seen) | {before} == {before}
