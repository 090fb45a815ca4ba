"""Completion, hover and the missing-extra message as plain functions, without a server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from engine.lsp import completion, hover
from engine.lsp.analysis import structure
from engine.lsp.schema_paths import ITEM
from engine.processor_info import describe
from engine.processors import ProcessorNotFound

SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata:
  name: demo
params:
  region: {type: string, default: eu-west-1, description: Where it runs}
steps:
  - name: extract
    processor: noop
    outputs: {count: integer}
  - name: load
    processor: local_steps:Load
    depends: extract.Succeeded
    when: params.region == 'eu' && steps.extract.outputs.count > 1
"""


def labels(text: str, line: int, character: int) -> list[str]:
    return [i.label for i in completion.complete(text, line, character,
                                                 structure(SPEC, "demo.yaml"))]


@pytest.mark.parametrize(("typed", "path"), [
    ("  - ti", ["steps", ITEM]),
    ("    ti", ["steps", ITEM]),
    ("    retry:\n      li", ["steps", ITEM, "retry"]),
    ("finally:\n- name: x\n  proc", ["finally", ITEM]),
    ("    processor: no", ["steps", ITEM, "processor"]),
    ("    dependencies:\n      - ex", ["steps", ITEM, "dependencies", ITEM]),
])
def test_the_path_is_read_from_indentation(typed: str, path: list[str]) -> None:
    """Completion works on text that does not parse: the path comes from the lines above
    (a key being typed is not part of it; a value's key is)."""
    lines = (SPEC + typed).split("\n")
    assert completion.path_at(lines, len(lines) - 1, lines[-1]) == path


def test_keys_of_a_step_and_of_a_nested_mapping() -> None:
    text = SPEC + "    retry:\n      "
    assert {"limit", "on", "backoff"} <= set(labels(text, text.count("\n"), 6))
    text = SPEC + "  - "
    assert {"name", "processor", "dependencies", "when"} <= set(labels(text, text.count("\n"), 4))


def test_depends_offers_steps_then_results() -> None:
    line = SPEC.split("\n").index("    depends: extract.Succeeded")
    assert "extract" in labels(SPEC, line, len("    depends: "))
    assert "Succeeded" in labels(SPEC, line, len("    depends: extract."))


def test_condition_references_with_their_types() -> None:
    line = SPEC.count("\n", 0, SPEC.index("    when:"))
    items = completion.complete(SPEC, line, len("    when: params."), structure(SPEC, "d.yaml"))
    assert [(i.label, i.detail) for i in items] == [("region", "string")]
    assert {"params", "steps", "workflow.status", "item"} <= set(labels(SPEC, line, 10))
    text = SPEC + "    env: {X: '${{ steps.extract.outputs."
    assert labels(text, text.count("\n"), len(text.split("\n")[-1])) == ["count"]


def test_hover_reads_a_module_processor_without_importing_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "local_steps.py").write_text(
        'raise SystemExit("imported")\n'
        "class Load:\n"
        '    """Loads rows into the warehouse."""\n'
        '    config_schema = {"properties": {"table": {"type": "string", '
        '"description": "Target table"}}}\n'
        '    outputs = {"rows": "integer"}\n'
        "    def process(self, ctx): ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    index = structure(SPEC, "demo.yaml")
    line = SPEC.split("\n").index("    processor: local_steps:Load") + 1
    text = hover.hover("", line, 20, index)
    assert text is not None and "Loads rows into the warehouse." in text
    assert "`table` (string): Target table" in text and "`rows` (integer)" in text
    assert "local_steps" not in sys.modules


def test_hover_of_a_param_reference_and_a_step() -> None:
    index = structure(SPEC, "demo.yaml")
    when = SPEC.split("\n").index(
        "    when: params.region == 'eu' && steps.extract.outputs.count > 1") + 1
    param = hover.hover("", when, len("    when: params.") + 2, index)
    assert param is not None and "string" in param and '"eu-west-1"' in param
    step = hover.hover("", when, len("    when: params.region == 'eu' && steps.") + 2, index)
    assert step is not None and "processor: `noop`" in step and "`count` (integer)" in step


def test_without_the_extra_lsp_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import lsp

    monkeypatch.delitem(sys.modules, "engine.lsp.server", raising=False)
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    assert lsp.main(argparse.Namespace()) == 2
    assert "pip install 'flowspec[lsp]'" in capsys.readouterr().err


def test_rename_updates_every_reference_and_refuses_broken_names() -> None:
    from engine.lsp import navigation

    index = structure(SPEC, "demo.yaml")
    assert index is not None
    line = SPEC.split("\n").index("  - name: extract") + 1
    edit = navigation.rename(index, "u", line, 12, "extract-all")
    assert edit is not None and edit.changes is not None
    assert len(edit.changes["u"]) == 3  # the name, depends and the condition
    with pytest.raises(navigation.RenameRefused, match="not a valid step name"):
        navigation.rename(index, "u", line, 12, "Extract")
    with pytest.raises(navigation.RenameRefused, match="a step named 'load' already exists"):
        navigation.rename(index, "u", line, 12, "load")
    param = SPEC.split("\n").index(
        "  region: {type: string, default: eu-west-1, description: Where it runs}") + 1
    edit = navigation.rename(index, "u", param, 4, "zone")
    assert edit is not None and edit.changes is not None and len(edit.changes["u"]) == 2

    fanned = structure(SPEC + "    for_each: params.region\n", "demo.yaml")
    assert fanned is not None
    edit = navigation.rename(fanned, "u", param, 4, "zone")  # for_each is a reference too
    assert edit is not None and edit.changes is not None and len(edit.changes["u"]) == 3


PROCESSOR_SOURCE = '''\
raise SystemExit("imported")

SCHEMA = {"properties": {"table": {"type": "string"}}}


class Load:
    """Loads rows into the warehouse."""
    config_schema = SCHEMA
    outputs = {"rows": "integer"}

    def process(self, ctx): ...


class Helper:
    """Has no process method: not offered."""
    outputs = {}


class Partial:
    """Has no outputs of its own: not offered."""
    def process(self, ctx): ...
'''


def test_workspace_processors_are_read_from_source_never_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.lsp.workspace import WorkspaceProcessors

    for where in ("pkg/steps.py", "src/other/jobs.py", "pkg/__init__.py", ".venv/lib/x.py",
                  "node_modules/y.py", "my-tools/z.py"):
        (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / where).write_text(PROCESSOR_SOURCE)
    (tmp_path / "pkg" / "broken.py").write_text("class Load(:\n")
    workspace = WorkspaceProcessors(str(tmp_path))
    found = {info.ref: info for info in workspace.scan()}
    assert sorted(found) == ["other.jobs:Load", "pkg.steps:Load", "pkg:Load"]
    assert found["pkg.steps:Load"].outputs == {"rows": "integer"}
    assert found["pkg.steps:Load"].config_schema == {"properties": {"table": {"type": "string"}}}
    assert "pkg" not in sys.modules and "other" not in sys.modules

    (tmp_path / "pkg" / "steps.py").write_text(PROCESSOR_SOURCE.replace("class Load", "class Store"))
    (tmp_path / "src" / "other" / "jobs.py").unlink()
    assert [info.ref for info in workspace.scan()] == ["pkg.steps:Store", "pkg:Load"]

    spec = SPEC.replace("local_steps:Load", "")
    line = spec.split("\n").index("    processor: ")
    items = {i.label: i for i in completion.complete(spec, line, len("    processor: "),
                                                     structure(SPEC, "demo.yaml"), workspace)}
    assert {"noop", "shell", "python", "pkg.steps:Store", "pkg:Load"} <= set(items)
    documentation = items["pkg.steps:Store"].documentation
    assert documentation is not None and "Loads rows into the warehouse." in str(documentation)
    # the folder is not on this Python's import path: offered, saying validation will not find it
    assert items["pkg.steps:Store"].detail == "processor in this workspace, not importable here"
    assert "pip install -e ." in str(documentation) and "PYTHONPATH" in str(documentation)
    with pytest.raises(ProcessorNotFound, match="PYTHONPATH"):
        describe("pkg.steps:Store")

    monkeypatch.syspath_prepend(str(tmp_path))
    items = {i.label: i for i in completion.complete(spec, line, len("    processor: "),
                                                     structure(SPEC, "demo.yaml"), workspace)}
    assert items["pkg.steps:Store"].detail == "processor in this workspace"
    assert "PYTHONPATH" not in str(items["pkg.steps:Store"].documentation)
    assert "pkg" not in sys.modules


def decoded(text: str, data: list[int]) -> list[tuple[int, str, str]]:
    """Semantic tokens as (0-based line, the characters they cover, type)."""
    from engine.lsp.tokens import TYPES

    lines, line, column, found = text.split("\n"), 0, 0, []
    for i in range(0, len(data), 5):
        delta_line, delta_start, length, kind, modifiers = data[i:i + 5]
        line, column = line + delta_line, (column if delta_line == 0 else 0) + delta_start
        assert modifiers == 0
        found.append((line, lines[line][column:column + length], TYPES[kind]))
    return found


def test_semantic_tokens_colour_conditions_for_each_and_templates() -> None:
    from engine.lsp.tokens import semantic_tokens

    spec = SPEC + (
        "    for_each: params.region\n"
        "    env: {A: 'at ${{ steps.extract.outputs.count }}', B: \"\\t${{ params.region }}\"}\n"
        "  - name: typing\n"
        "    processor: noop\n"
        "    when: params.region == 'eu' &&\n")
    index = structure(spec, "demo.yaml")
    assert index is not None
    when = spec.split("\n").index(
        "    when: params.region == 'eu' && steps.extract.outputs.count > 1")
    assert decoded(spec, semantic_tokens(index.doc)) == [
        (when, "params", "namespace"), (when, "region", "variable"), (when, "==", "operator"),
        (when, "'eu'", "string"), (when, "&&", "operator"), (when, "steps", "namespace"),
        (when, "extract", "variable"), (when, "outputs", "property"),
        (when, "count", "property"), (when, ">", "operator"), (when, "1", "number"),
        (when + 1, "params", "namespace"), (when + 1, "region", "variable"),
        (when + 2, "steps", "namespace"), (when + 2, "extract", "variable"),
        (when + 2, "outputs", "property"), (when + 2, "count", "property"),
        # the template in an escaped string is left plain (its offsets are not the source's);
        # a condition still being typed is coloured as far as it goes
        (when + 5, "params", "namespace"), (when + 5, "region", "variable"),
        (when + 5, "==", "operator"), (when + 5, "'eu'", "string"),
        (when + 5, "&&", "operator"),
    ]


def test_an_analysis_stops_once_its_text_is_replaced() -> None:
    from engine.lsp.analysis import analyze

    asked: list[bool] = []

    def replaced_after_loading() -> bool:
        asked.append(True)
        return len(asked) > 1  # the text changes while the validator runs

    assert analyze(SPEC, "demo.yaml", lambda: True) is None
    assert analyze(SPEC, "demo.yaml", replaced_after_loading) is None and len(asked) == 2
    current = analyze(SPEC, "demo.yaml")
    assert current is not None and current.index is not None and current.text == SPEC
