"""Engine records as protocol records: diagnostics, their related places and quick fixes.

The engine counts lines and columns from 1 and ends a span one past its last character; the
protocol counts from 0 with the same exclusive end, so converting is a shift by one. Columns
are counted in characters, as the loader counts them; the protocol's UTF-16 units differ only
after a character outside the Basic Multilingual Plane on the same line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

from engine.diagnostics import Diagnostic
from engine.lsp.index import Index
from engine.source import Span

SOURCE = "flowspec"

_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")
_QUOTED = re.compile(r"'([^']+)'")
#: codes whose message names steps (a cycle's members): each is a related place
_NAMES_STEPS = frozenset({"FS207"})


def to_range(span: Span) -> types.Range:
    return types.Range(types.Position(span.line - 1, span.column - 1),
                       types.Position(span.end_line - 1, span.end_column - 1))


def position(pos: types.Position) -> tuple[int, int]:
    """A protocol position as the engine's 1-based (line, column)."""
    return pos.line + 1, pos.character + 1


def to_lsp(d: Diagnostic, uri: str, index: Index | None) -> types.Diagnostic:
    """One diagnostic, with its hint on a second line of the message, the "did you mean"
    replacement kept in ``data`` for the quick fix, and the definitions it concerns."""
    span = Span(d.line, d.column, d.end_line, d.end_column)
    message = f"{d.message}\nhint: {d.hint}" if d.hint else d.message
    meant = _DID_YOU_MEAN.search(d.hint or "")
    return types.Diagnostic(
        range=to_range(span), message=message, code=d.code, source=SOURCE,
        severity=(types.DiagnosticSeverity.Error if d.severity == "error"
                  else types.DiagnosticSeverity.Warning),
        related_information=_related(d, span, uri, index) or None,
        data={"replacement": meant.group(1)} if meant else None,
    )


def _related(d: Diagnostic, span: Span, uri: str,
             index: Index | None) -> list[types.DiagnosticRelatedInformation]:
    """The definition a reference under the diagnostic points to, and the steps of a cycle."""
    if index is None:
        return []
    found: list[types.DiagnosticRelatedInformation] = []
    for symbol in index.covering(span.line, span.column):
        if symbol.definition:
            continue
        target = index.definition(symbol.kind, symbol.name)
        if target is not None:
            found.append(types.DiagnosticRelatedInformation(
                types.Location(uri, to_range(target.span)),
                f"{symbol.kind} '{symbol.name}' is defined here"))
    if d.code in _NAMES_STEPS:
        for name in dict.fromkeys(n for part in d.message.split(": ", 1)[-1:]
                                  for n in re.findall(r"[a-z][-a-z0-9]*", part)):
            target = index.definition("step", name)
            if target is not None:
                found.append(types.DiagnosticRelatedInformation(
                    types.Location(uri, to_range(target.span)), f"step '{name}' of the cycle"))
    unique: dict[str, types.DiagnosticRelatedInformation] = {}
    for info in found:  # a cycle's step may also be the reference under the diagnostic
        unique.setdefault(str(info.location.range), info)
    return list(unique.values())


def quick_fixes(uri: str, diagnostics: Sequence[types.Diagnostic]) -> list[types.CodeAction]:
    """A fix for every "did you mean": replace the diagnostic's range with the name meant."""
    actions: list[types.CodeAction] = []
    for diagnostic in diagnostics:
        data = diagnostic.data
        meant = data.get("replacement") if isinstance(data, dict) else None
        if not isinstance(meant, str):
            continue
        edit = types.TextEdit(diagnostic.range, meant)
        actions.append(types.CodeAction(
            title=f"Replace with '{meant}'", kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic], is_preferred=True,
            edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return actions
