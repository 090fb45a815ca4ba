"""Go to definition, find references, rename and the outline, all read off the index."""

from __future__ import annotations

import re

from lsprotocol import types

from engine.loader import Path
from engine.lsp import schema_paths
from engine.lsp.convert import to_range
from engine.lsp.index import SECTIONS, Index
from engine.source import Span

#: What a rename may change: an output's name is also a key its processor may fill, so
#: renaming it is left to the user.
RENAMEABLE = frozenset({"step", "param"})


def definition(index: Index, uri: str, line: int, column: int) -> list[types.Location]:
    symbol = index.at(line, column)
    if symbol is None:
        return []
    target = index.definition(symbol.kind, symbol.name)
    return [types.Location(uri, to_range(target.span))] if target else []


def references(index: Index, uri: str, line: int, column: int,
               include_declaration: bool) -> list[types.Location]:
    symbol = index.at(line, column)
    if symbol is None:
        return []
    return [types.Location(uri, to_range(s.span))
            for s in index.occurrences(symbol.kind, symbol.name)
            if include_declaration or not s.definition]


class RenameRefused(ValueError):
    """A new name the spec could not hold; the client shows the message."""


def rename(index: Index, uri: str, line: int, column: int,
           new_name: str) -> types.WorkspaceEdit | None:
    """Every occurrence of the step or param under the cursor, renamed; None elsewhere.

    A name the schema would refuse, or one already taken (two steps would merge into one
    in every reference), is refused instead of producing a broken spec."""
    symbol = index.at(line, column)
    if symbol is None or symbol.kind not in RENAMEABLE:
        return None
    definition = schema_paths.root()["$defs"][f"{symbol.kind}Name"]
    if re.fullmatch(definition["pattern"], new_name) is None:
        raise RenameRefused(f"'{new_name}' is {definition['patternErrorMessage']}")
    if new_name != symbol.name and index.definition(symbol.kind, new_name) is not None:
        raise RenameRefused(f"a {symbol.kind} named '{new_name}' already exists")
    edits = [types.TextEdit(to_range(s.span), new_name)
             for s in index.occurrences(symbol.kind, symbol.name)]
    return types.WorkspaceEdit(changes={uri: edits})


def outline(index: Index) -> list[types.DocumentSymbol]:
    """The params, then each step list, as the spec declares them."""
    doc = index.doc
    groups: list[types.DocumentSymbol] = []
    params = [types.DocumentSymbol(
        name=str(name), kind=types.SymbolKind.Variable,
        detail=str(raw.get("type", "")) if isinstance(raw, dict) else "",
        range=to_range(_whole(index, ("params", name))),
        selection_range=to_range(doc.span(("params", name), key=True)))
        for name, raw in index.params().items()]
    if params:
        groups.append(_group(index, "params", params))
    for section in SECTIONS:
        steps = [types.DocumentSymbol(
            name=str(raw.get("name", "?")), kind=types.SymbolKind.Function,
            detail=str(raw.get("processor", "")), range=to_range(doc.span(path)),
            selection_range=to_range(doc.span((*path, "name"))))
            for path, raw in index.steps() if path[0] == section]
        if steps:
            groups.append(_group(index, section, steps))
    return groups


def _group(index: Index, key: str, children: list[types.DocumentSymbol]) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=key, kind=types.SymbolKind.Namespace,
        range=to_range(_whole(index, (key,))),
        selection_range=to_range(index.doc.span((key,), key=True)), children=children)


def _whole(index: Index, path: Path) -> Span:
    """From a key to the end of its value: an outline entry's range holds its name."""
    key, value = index.doc.span(path, key=True), index.doc.span(path)
    return Span(key.line, key.column, value.end_line, value.end_column)
