"""Semantic tokens: the condition language highlighted inside YAML strings.

To a YAML grammar a ``when`` is one string; these tokens let an editor colour its parts the
way it colours code: references (``params``, ``steps`` and ``workflow`` as namespaces, the
step, param or output named after them), keywords (``true``, ``in``), operators, strings and
numbers; the same in ``for_each`` and inside every ``${{ }}``. An expression that does not
tokenize yet (it is being typed) is left plain, and so is any token whose characters the
source does not hold exactly where the loader says (``index.placer``).
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.expr.errors import ExprSyntaxError
from engine.expr.lexer import FLOAT, INT, KEYWORDS, NAME, STRING, Token, tokenize
from engine.loader import Document
from engine.lsp.index import expressions, placer
from engine.source import Span

#: The legend the server announces; a token's type is its index here.
TYPES = ("namespace", "variable", "property", "keyword", "operator", "string", "number")
_ROOTS = frozenset({"params", "steps", "workflow"})
_OPERATORS = frozenset({"==", "!=", "<", "<=", ">", ">=", "&&", "||", "!"})


def semantic_tokens(doc: Document) -> list[int]:
    """The protocol's encoding of every token: five integers each (line and start relative
    to the previous token, length, type, no modifiers), in document order."""
    found = sorted({(span.line, span.column, span.end_column - span.column, kind)
                    for span, kind in _tokens(doc)})
    data: list[int] = []
    line, column = 1, 1
    for at_line, at_column, length, kind in found:
        data += [at_line - line, at_column - (column if at_line == line else 1), length, kind, 0]
        line, column = at_line, at_column
    return data


def _tokens(doc: Document) -> Iterator[tuple[Span, int]]:
    for path, text, start, end in expressions(doc):
        try:
            tokens = tokenize(text, start=start, stop=end)
        except ExprSyntaxError:
            continue
        place = placer(doc, path, start, end)
        depth = 0  # names so far in the current dotted reference
        previous: Token | None = None
        for token in tokens:
            if token.kind == NAME:
                depth = depth + 1 if previous is not None and previous.kind == "." else 1
            kind = _kind(token, depth)
            previous = token
            if kind is None:
                continue
            span = place(token.start, token.end)
            if span is not None:
                yield span, TYPES.index(kind)


def _kind(token: Token, depth: int) -> str | None:
    """A token's type in the legend (a name by its place in a reference: ``steps`` . step .
    ``outputs`` . output); None for punctuation and the end."""
    if token.kind == NAME:
        if depth == 1:
            return "namespace" if token.text in _ROOTS else "variable"
        return "variable" if depth == 2 else "property"
    if token.kind in KEYWORDS:
        return "keyword"
    if token.kind in _OPERATORS:
        return "operator"
    if token.kind == STRING:
        return "string"
    return "number" if token.kind in (INT, FLOAT) else None
