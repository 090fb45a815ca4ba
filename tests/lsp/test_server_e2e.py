"""The real server over stdio, driven by pygls' own client, as an editor drives it.

One session walks what a user does: open a spec with one mistake of each kind and see every
diagnostic where ``flowspec validate`` puts it, apply the quick fixes, fix the rest by hand,
complete, hover, jump to a definition, rename a step, and end with a spec that validates clean.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from engine.loader import load_text
from engine.validation import check_loaded

ROOT = Path(__file__).resolve().parents[2]

BAD = """\
apiVersion: flowspec/v1
kind: Workflow
# a cycle is reported as FS207
metadata:
  name: demo
params:
  threshold: {type: integer, default: 10}
steps:
  - name: extract
    processor: noop
    outputs: {count: integer}
    timout: 5m
  - name: load
    processor: shell
    config: {command: echo hi}
    dependencies: [extrac]
    when: steps.extract.outputs.count > 'ten'
  - name: report
    processor: noop
    dependencies: [extract, publish]
    when: steps.extract.outputs.total > params.treshold
    env:
      API_PASSWORD: hunter2hunter2
  - name: publish
    processor: noopp
    dependencies: [report]
"""

#: (code, 0-based line, start character, end character) of every mistake above
EXPECTED = {
    ("FS101", 11, 4, 10),   # unknown key timout (did you mean timeout)
    ("FS203", 15, 19, 25),  # unknown step extrac in dependencies
    ("FS306", 16, 10, 45),  # integer compared with a string in when
    ("FS207", 19, 28, 35),  # report -> publish -> report
    ("FS304", 20, 32, 37),  # undeclared output total
    ("FS301", 20, 47, 55),  # unknown param treshold
    ("FS501", 22, 20, 34),  # literal secret
    ("FS401", 24, 15, 20),  # unknown processor noopp
}


class Session:
    """A client with the diagnostics it has received, per document version."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self.client = LanguageClient("flowspec-test", "1")
        self.published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()
        queue = self.published

        def published(params: types.PublishDiagnosticsParams) -> None:
            queue.put_nowait(params)

        self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(published)
        self.uri = (root / "demo.flowspec.yaml").as_uri()
        self.version = 0
        self.text = ""
        self.capabilities = types.ServerCapabilities()

    async def start(self) -> None:
        """Start the server in the workspace folder and initialize it, as an editor does."""
        await self.client.start_io(sys.executable, "-m", "engine.cli.main", "lsp",
                                   cwd=str(self.root))
        self.capabilities = (await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=self.root.as_uri()))).capabilities
        self.client.initialized(types.InitializedParams())

    async def diagnostics(self) -> list[types.Diagnostic]:
        """The diagnostics of the current version (earlier versions' are skipped)."""
        while True:
            params = await asyncio.wait_for(self.published.get(), 60)
            if params.version == self.version:
                return list(params.diagnostics)

    def open(self, text: str) -> None:
        self.text, self.version = text, 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(self.uri, "yaml", 1, text)))

    def change(self, text: str) -> None:
        self.text, self.version = text, self.version + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(self.version, self.uri),
            [types.TextDocumentContentChangeWholeDocument(text)]))

    def doc(self) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(self.uri)

    def at(self, needle: str, offset: int = 0) -> types.Position:
        """The position ``offset`` characters into the first occurrence of ``needle``."""
        index = self.text.index(needle) + offset
        line = self.text.count("\n", 0, index)
        return types.Position(line, index - (self.text.rfind("\n", 0, index) + 1))


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Text edits applied as an editor applies them (last first, so offsets hold)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start = starts[edit.range.start.line] + edit.range.start.character
        end = starts[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


def labels(result: Any) -> dict[str, types.CompletionItem]:
    items = result.items if isinstance(result, types.CompletionList) else result
    return {item.label: item for item in items}


async def _session(log: list[str]) -> None:
    s = Session()
    try:
        await s.start()
        s.open(BAD)
        found = await s.diagnostics()
        got = {(d.code, d.range.start.line, d.range.start.character, d.range.end.character)
               for d in found}
        assert got == EXPECTED
        assert all(d.source == "flowspec" for d in found)
        cycle = next(d for d in found if d.code == "FS207")
        assert {r.location.range.start.line for r in cycle.related_information or []} == {17, 23}
        log.append(f"diagnostics: {sorted(code for code, *_ in got)} at the validate spans")

        actions = await s.client.text_document_code_action_async(types.CodeActionParams(
            s.doc(), types.Range(types.Position(0, 0), types.Position(26, 0)),
            types.CodeActionContext(found)))
        fixes = [a for a in actions or [] if isinstance(a, types.CodeAction)]
        assert sorted(a.title for a in fixes) == [
            "Replace with 'extract'", "Replace with 'noop'", "Replace with 'threshold'",
            "Replace with 'timeout'"]
        edits = [e for a in fixes if a.edit and a.edit.changes for e in a.edit.changes[s.uri]]
        text = apply(s.text, edits)
        log.append(f"quick fixes applied: {len(fixes)}")
        text = (text.replace("> 'ten'", "> 3").replace("outputs.total", "outputs.count")
                .replace("[extract, publish]", "[extract]")
                .replace("hunter2hunter2", "{secret: {name: api, key: password}}"))
        s.change(text)
        assert await s.diagnostics() == []
        log.append("after the fixes: no diagnostics")

        steps = labels(await s.client.text_document_completion_async(types.CompletionParams(
            s.doc(), s.at("dependencies: [extract]", len("dependencies: [")))))
        assert {"extract", "load", "report", "publish"} <= set(steps)
        processors = labels(await s.client.text_document_completion_async(
            types.CompletionParams(s.doc(), s.at("processor: shell", len("processor: ")))))
        assert {"noop", "shell", "python"} <= set(processors)
        assert processors["noop"].documentation is not None
        outputs = labels(await s.client.text_document_completion_async(types.CompletionParams(
            s.doc(), s.at("steps.extract.outputs.count >", len("steps.extract.outputs.")))))
        assert set(outputs) == {"count"} and outputs["count"].detail == "integer"
        log.append(f"completion: steps {sorted(steps)}, {len(processors)} processors, "
                   "steps.extract.outputs. -> count (integer)")

        key = await s.client.text_document_hover_async(types.HoverParams(
            s.doc(), s.at("processor: shell", 2)))
        assert key is not None and isinstance(key.contents, types.MarkupContent)
        assert "registered name" in key.contents.value
        code = await s.client.text_document_hover_async(types.HoverParams(
            s.doc(), s.at("FS207", 2)))
        assert code is not None and isinstance(code.contents, types.MarkupContent)
        assert code.contents.value.startswith("**FS207**: dependency cycle")
        log.append("hover: key 'processor' -> its schema description; FS207 -> explain text")

        where = await s.client.text_document_definition_async(types.DefinitionParams(
            s.doc(), s.at("dependencies: [extract]", len("dependencies: [") + 2)))
        assert isinstance(where, list) and len(where) == 1
        assert where[0].range.start == s.at("name: extract", len("name: "))
        log.append(f"definition of 'extract' in dependencies -> line {where[0].range.start.line}")

        edit = await s.client.text_document_rename_async(types.RenameParams(
            s.doc(), s.at("name: extract", len("name: ") + 1), "extract-rows"))
        assert edit is not None and edit.changes is not None
        renamed = apply(s.text, edit.changes[s.uri])
        assert renamed.count("extract-rows") == len(edit.changes[s.uri]) == 5
        s.change(renamed)
        assert await s.diagnostics() == []
        assert check_loaded(*load_text(renamed, "renamed.yaml"))[1] == []
        log.append(f"rename extract -> extract-rows: {len(edit.changes[s.uri])} edits; "
                   "the result validates clean")

        await s.client.shutdown_async(None)
    finally:  # exit ends the server even after a failed check, so stop() does not wait forever
        s.client.exit(None)
        await s.client.stop()


def test_a_session_over_stdio() -> None:
    log: list[str] = []
    asyncio.run(_session(log))
    print("\n".join(log))


WORKSPACE_PROCESSOR = """\
import pathlib
pathlib.Path(__file__).with_name("IMPORTED").write_text("imported")


class Enrich:
    \"\"\"Adds the customer's region to each row.\"\"\"
    config_schema = {"properties": {"table": {"type": "string"}}}
    outputs = {"rows": "integer"}

    def process(self, context): ...
"""

WORKSPACE_SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: demo}
params:
  region: {type: string, default: eu}
steps:
  - name: extract
    processor: noop
    outputs: {count: integer}
  - name: enrich
    processor: no
    dependencies: [extract]
    when: steps.extract.outputs.count > 0 && params.region in ['eu', 'us']
"""


async def _workspace_session(root: Path, log: list[str]) -> None:
    s = Session(root)
    try:
        await s.start()
        s.open(WORKSPACE_SPEC)
        await s.diagnostics()
        processors = labels(await s.client.text_document_completion_async(
            types.CompletionParams(s.doc(), s.at("processor: no", len("processor: no")))))
        assert {"noop", "shell", "python", "pkg.steps:Enrich"} <= set(processors)
        enrich = processors["pkg.steps:Enrich"]
        assert enrich.detail == "processor in this workspace"
        assert isinstance(enrich.documentation, types.MarkupContent)
        assert "Adds the customer's region" in enrich.documentation.value
        assert "`rows` (integer)" in enrich.documentation.value
        assert not (root / "pkg" / "IMPORTED").exists()
        log.append("completion: pkg.steps:Enrich from the workspace, read and never imported")

        result = await s.client.text_document_semantic_tokens_full_async(
            types.SemanticTokensParams(s.doc()))
        legend = s.capabilities.semantic_tokens_provider
        assert result is not None and isinstance(legend, types.SemanticTokensOptions)
        when = s.at("steps.extract.outputs.count").line
        line, column, found = 0, 0, []
        for i in range(0, len(result.data), 5):
            delta_line, delta_start, length, kind, _ = result.data[i:i + 5]
            line, column = line + delta_line, (column if delta_line == 0 else 0) + delta_start
            found.append((line, s.text.split("\n")[line][column:column + length],
                          legend.legend.token_types[kind]))
        assert found == [
            (when, "steps", "namespace"), (when, "extract", "variable"),
            (when, "outputs", "property"), (when, "count", "property"), (when, ">", "operator"),
            (when, "0", "number"), (when, "&&", "operator"), (when, "params", "namespace"),
            (when, "region", "variable"), (when, "in", "keyword"), (when, "'eu'", "string"),
            (when, "'us'", "string")]
        log.append(f"semantic tokens of the when: {len(found)}")
        await s.client.shutdown_async(None)
    finally:
        s.client.exit(None)
        await s.client.stop()


def test_workspace_processors_and_condition_tokens_over_stdio(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "steps.py").write_text(WORKSPACE_PROCESSOR)
    log: list[str] = []
    asyncio.run(_workspace_session(tmp_path, log))
    print("\n".join(log))
