"""The language server: pygls wiring, debounced validation and the per-document state.

Validation of a large spec takes longer than a keystroke, so it runs after the user pauses
(``DEBOUNCE_SECONDS`` after the last change) and in one worker thread, leaving the event loop
free to answer completion and hover meanwhile from the last analysis. One thread, not one per
change: a second analysis started beside another would share the interpreter with it and make
both late. A change queued behind a running analysis is dropped from the queue when a newer
change replaces it, and a running analysis whose text has been replaced stops at its next
stage; so the pause before validating only spares the work of a keystroke's text, and is
short.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from engine.lsp import completion, convert, hover, navigation, tokens
from engine.lsp.analysis import Analysis, analyze, structure
from engine.lsp.index import Index
from engine.lsp.workspace import WorkspaceProcessors

DEBOUNCE_SECONDS = 0.05


def _path(uri: str) -> str:
    """The file name diagnostics carry (relative when under the working folder, as in
    ``flowspec validate`` output)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = unquote(parsed.path)
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path


def _line(text: str, number: int) -> str:
    """Line ``number`` (0-based) of a text, without splitting all of it."""
    start = 0
    for _ in range(number):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    return text[start:] if end == -1 else text[start:end]


class FlowspecServer(LanguageServer):
    """Holds the last analysis of each open document and the pending validation tasks."""

    def __init__(self) -> None:
        from engine.cli.main import _version

        super().__init__("flowspec", _version(),
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.analyses: dict[str, Analysis] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowspec-analysis")
        self._processors: WorkspaceProcessors | None = None
        self._structures: dict[str, tuple[str, Index | None]] = {}
        self._tokens: dict[str, tuple[str, list[int]]] = {}

    @property
    def workspace_processors(self) -> WorkspaceProcessors | None:
        """The processor classes of the workspace folder's source; None without a folder."""
        root = self.workspace.root_path
        if root is None:
            return None
        if self._processors is None or self._processors.root != Path(root):
            self._processors = WorkspaceProcessors(root)
        return self._processors

    def text(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def index(self, uri: str) -> Index | None:
        """The index of the document's current text, loading the text when the last analysis
        has not seen it; the last index that loaded if the text does not load now."""
        text = self.text(uri)
        analysis = self.analyses.get(uri)
        if analysis is not None and analysis.text == text and analysis.index is not None:
            return analysis.index
        cached = self._structures.get(uri)
        if cached is None or cached[0] != text:
            found = structure(text, _path(uri))
            cached = (text, found or self.last_index(uri))
            self._structures[uri] = cached
        return cached[1]

    def last_index(self, uri: str) -> Index | None:
        """The newest index at hand, never loading: completion runs on every keystroke, and
        the names it offers are those of the text the user is extending."""
        cached = self._structures.get(uri)  # only ever newer than the analysis, see _validate
        if cached is not None and cached[1] is not None:
            return cached[1]
        analysis = self.analyses.get(uri)
        return analysis.index if analysis is not None else None

    def index_near(self, uri: str, line: int) -> Index | None:
        """An index whose spans on ``line`` (0-based) are exact: the last one when the edits
        since left that line and the line count alone (hover and go-to after a keystroke on
        another line need no reload); else the current text's."""
        analysis = self.analyses.get(uri)
        if analysis is not None and analysis.index is not None:
            text = self.text(uri)
            if text.count("\n") == analysis.text.count("\n") and _line(
                    text, line) == _line(analysis.text, line):
                return analysis.index
        return self.index(uri)

    def semantic_tokens(self, uri: str) -> list[int]:
        """The current text's semantic tokens, kept until the text changes; none while it
        does not load (tokens placed by an older text would colour the wrong characters)."""
        text = self.text(uri)
        cached = self._tokens.get(uri)
        if cached is not None and cached[0] == text:
            return cached[1]
        index = self.index(uri)
        data = tokens.semantic_tokens(index.doc) if index is not None and \
            index.doc.source.text == text else []
        self._tokens[uri] = (text, data)
        return data

    def schedule(self, uri: str, delay: float) -> None:
        """Validate the document after ``delay`` seconds unless it changes again first."""
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._validate(uri, delay))

    async def _validate(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        document = self.workspace.get_text_document(uri)
        text, version = document.source, document.version
        analysis = await asyncio.get_running_loop().run_in_executor(
            self.worker, analyze, text, _path(uri), lambda: self.text(uri) != text)
        if analysis is None or self.text(uri) != text:
            return  # changed while validating: the task scheduled by that change publishes
        self.analyses[uri] = analysis
        if analysis.index is not None:  # the current text's: any loaded alone is older
            self._structures.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version,
            diagnostics=[convert.to_lsp(d, uri, analysis.index) for d in analysis.diagnostics]))

    def forget(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.analyses.pop(uri, None)
        self._structures.pop(uri, None)
        self._tokens.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


def build_server() -> FlowspecServer:
    server = FlowspecServer()

    def feature(name: str, options: Any = None) -> Callable[[Callable[..., Any]], Any]:
        register: Callable[[Callable[..., Any]], Any] = server.feature(name, options)
        return register

    @feature(types.INITIALIZED)
    def initialized(params: types.InitializedParams) -> None:
        """Read the workspace's processor classes before the first completion asks, in a
        thread of their own: behind the analysis worker's queue they would delay the first
        diagnostics by the whole read of a large repository."""
        processors = server.workspace_processors
        if processors is not None:
            threading.Thread(target=processors.scan, name="flowspec-workspace",
                             daemon=True).start()

    @feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        server.schedule(params.text_document.uri, 0)

    @feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        server.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.forget(params.text_document.uri)

    @feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        return convert.quick_fixes(params.text_document.uri, params.context.diagnostics)

    @feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(
        trigger_characters=[".", " ", "[", ","]))
    def complete(params: types.CompletionParams) -> types.CompletionList:
        uri, pos = params.text_document.uri, params.position
        items = completion.complete(server.text(uri), pos.line, pos.character,
                                    server.last_index(uri), server.workspace_processors)
        return types.CompletionList(is_incomplete=False, items=items)

    @feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        uri, pos = params.text_document.uri, params.position
        text = hover.hover(_line(server.text(uri), pos.line), *convert.position(pos), server.index_near(uri, pos.line))
        if text is None:
            return None
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text))

    @feature(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(params: types.DefinitionParams) -> list[types.Location]:
        index = server.index_near(params.text_document.uri, params.position.line)
        return navigation.definition(index, params.text_document.uri,
                                     *convert.position(params.position)) if index else []

    @feature(types.TEXT_DOCUMENT_REFERENCES)
    def on_references(params: types.ReferenceParams) -> list[types.Location]:
        index = server.index(params.text_document.uri)
        return navigation.references(
            index, params.text_document.uri, *convert.position(params.position),
            params.context.include_declaration) if index else []

    @feature(types.TEXT_DOCUMENT_RENAME)
    def on_rename(params: types.RenameParams) -> types.WorkspaceEdit | None:
        index = server.index(params.text_document.uri)
        return navigation.rename(index, params.text_document.uri,
                                 *convert.position(params.position),
                                 params.new_name) if index else None

    @feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def on_symbols(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        index = server.index(params.text_document.uri)
        return navigation.outline(index) if index else []

    @feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, types.SemanticTokensLegend(
        token_types=list(tokens.TYPES), token_modifiers=[]))
    async def on_semantic_tokens(params: types.SemanticTokensParams) -> types.SemanticTokens:
        """Made in a thread: a large spec's tokens take as long to make as loading it, and the
        event loop meanwhile keeps answering completion and hover."""
        data = await asyncio.to_thread(server.semantic_tokens, params.text_document.uri)
        return types.SemanticTokens(data=data)

    return server
