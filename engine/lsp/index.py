"""Where each step, param and output of one spec is defined and where it is referred to.

Go to definition, find references, rename, hover and the related locations of a diagnostic
all ask which name sits under a position and where else it appears, so the answer is built
once per text. Definitions come from the loader's spans; references are found by scanning
the fields that may hold them (``dependencies`` items, ``depends``, ``when`` and ``${{ }}``
in any text) with the names' own grammar, so a reference is found even where the expression
around it does not parse. A reference whose span the loader cannot give exactly (a quoted
value with escapes, say) is left out: a rename must never overwrite the wrong characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from engine.loader import Document, Path
from engine.source import Span

Kind = Literal["step", "param", "output"]

#: The two step lists; a name in either is a step to every reference.
SECTIONS = ("steps", "finally")

_REFERENCE = re.compile(
    r"(?<![\w.-])(?:steps\.(?P<step>[a-z][-a-z0-9]*)(?:\.outputs\.(?P<output>[A-Za-z][A-Za-z0-9_]*))?"
    r"|params\.(?P<param>[A-Za-z][-A-Za-z0-9_]*))")
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_DEPENDS_NAME = re.compile(r"(?<![\w.-])([a-z][-a-z0-9]*)(?:\.[A-Za-z]+)?")


@dataclass(frozen=True, slots=True)
class Symbol:
    """One occurrence of a name; an output's name is ``step.output``."""

    kind: Kind
    name: str
    span: Span
    definition: bool


@dataclass
class Index:
    """Every occurrence of every name in one loaded document.

    Lookups go through tables made on first use, after ``build_index`` has added every
    symbol: a diagnostic's related places, hover and completion ask once per diagnostic,
    step or item, and scanning all symbols each time made a spec with many of them quadratic.
    """

    doc: Document
    symbols: list[Symbol] = field(default_factory=list)

    @cached_property
    def _by_line(self) -> dict[int, list[Symbol]]:
        table: dict[int, list[Symbol]] = {}
        for symbol in self.symbols:
            for line in range(symbol.span.line, symbol.span.end_line + 1):
                table.setdefault(line, []).append(symbol)
        return table

    @cached_property
    def _by_name(self) -> dict[tuple[Kind, str], list[Symbol]]:
        table: dict[tuple[Kind, str], list[Symbol]] = {}
        for symbol in self.symbols:
            table.setdefault((symbol.kind, symbol.name), []).append(symbol)
        return table

    @cached_property
    def _steps_by_name(self) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = {}
        for _, raw in self.steps():
            name = raw.get("name")
            if isinstance(name, str):
                table.setdefault(name, raw)
        return table

    def covering(self, line: int, column: int) -> list[Symbol]:
        """The occurrences covering a 1-based position, in document order."""
        return [s for s in self._by_line.get(line, ()) if contains(s.span, line, column)]

    def at(self, line: int, column: int) -> Symbol | None:
        """The occurrence covering a 1-based position, if any."""
        return next(iter(self.covering(line, column)), None)

    def occurrences(self, kind: Kind, name: str) -> list[Symbol]:
        return list(self._by_name.get((kind, name), ()))

    def definition(self, kind: Kind, name: str) -> Symbol | None:
        return next((s for s in self._by_name.get((kind, name), ()) if s.definition), None)

    def steps(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """Each step's path and raw mapping, main steps first, as written."""
        for section in SECTIONS:
            listed = self.doc.data.get(section)
            if isinstance(listed, list):
                for i, step in enumerate(listed):
                    if isinstance(step, dict):
                        yield (section, i), step

    def step(self, name: str) -> dict[str, Any] | None:
        """The first step so named, as written."""
        return self._steps_by_name.get(name)

    def params(self) -> dict[str, Any]:
        params = self.doc.data.get("params")
        return params if isinstance(params, dict) else {}


def contains(span: Span, line: int, column: int) -> bool:
    """Whether a 1-based position lies in a span; its end (one past the last character)
    counts too, so a name is found with the cursor just after it, where typing leaves it."""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def build_index(doc: Document) -> Index:
    index = Index(doc)
    add = index.symbols.append
    for name in index.params():
        add(Symbol("param", str(name), doc.span(("params", name), key=True), True))
    for path, raw in index.steps():
        step = raw.get("name")
        if isinstance(step, str):
            add(Symbol("step", step, doc.span((*path, "name")), True))
            outputs = raw.get("outputs")
            if isinstance(outputs, dict):
                for output in outputs:
                    add(Symbol("output", f"{step}.{output}",
                               doc.span((*path, "outputs", output), key=True), True))
        dependencies = raw.get("dependencies")
        if isinstance(dependencies, list):
            for j, parent in enumerate(dependencies):
                if isinstance(parent, str):
                    span = exact_span(doc, (*path, "dependencies", j), 0, len(parent))
                    if span is not None:
                        add(Symbol("step", parent, span, False))
        depends = raw.get("depends")
        if isinstance(depends, str):
            place = placer(doc, (*path, "depends"), 0, len(depends))
            for match in _DEPENDS_NAME.finditer(depends):
                _add_part(index, place, "step", match.group(1), match.start(1))
    for path, text, start, end in expressions(doc):
        _add_references(index, placer(doc, path, start, end), text, start, end)
    return index


def expressions(doc: Document) -> Iterator[tuple[Path, str, int, int]]:
    """Every expression of the condition language in a document: (the path of the string
    holding it, that string, where the expression starts and ends in it). A step's ``when``
    and ``for_each`` are one each; elsewhere each ``${{ }}``'s inside is one."""
    whole = set()
    for section in SECTIONS:
        listed = doc.data.get(section)
        for i, raw in enumerate(listed if isinstance(listed, list) else ()):
            for key in ("when", "for_each"):
                text = raw.get(key) if isinstance(raw, dict) else None
                if isinstance(text, str):
                    whole.add((section, i, key))
                    yield (section, i, key), text, 0, len(text)
    for path, text in _texts(doc.data, ()):
        if path not in whole:
            for template in _TEMPLATE.finditer(text):
                yield path, text, template.start(1), template.end(1)


def exact_span(doc: Document, path: Path, start: int, end: int) -> Span | None:
    """The span of characters [start, end) of the string at ``path`` when the source holds
    exactly those characters there on one line; None where it cannot be sure (escapes, a
    value folded over lines), so that nothing is ever marked or rewritten in the wrong place."""
    span = doc.text_span(path, start, end)
    value = doc.value_at(path)
    if span.line == span.end_line and isinstance(value, str) and doc.source.line_text(
            span.line)[span.column - 1: span.end_column - 1] == value[start:end]:
        return span
    return None


def _texts(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every string value holding a ``${{``, with its path."""
    if isinstance(value, str):
        if "${{" in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _texts(item, (*path, i))


def _add_references(index: Index, place: Placer, text: str, start: int, end: int) -> None:
    for match in _REFERENCE.finditer(text, start, end):
        if match.group("param"):
            _add_part(index, place, "param", match.group("param"), match.start("param"))
            continue
        step = match.group("step")
        _add_part(index, place, "step", step, match.start("step"))
        if match.group("output"):
            _add_part(index, place, "output", f"{step}.{match.group('output')}",
                      match.start("output"), len(match.group("output")))


def _add_part(index: Index, place: Placer, kind: Kind, name: str, start: int,
              length: int | None = None) -> None:
    """A reference to ``name`` at characters [start, start + length) of an expression, kept
    only when the source really holds those characters there."""
    span = place(start, start + (len(name) if length is None else length))
    if span is not None:
        index.symbols.append(Symbol(kind, name, span, False))


#: places characters [start, end) of one string value in the source, or None (exact_span)
Placer = Callable[[int, int], Span | None]


def placer(doc: Document, path: Path, start: int, end: int) -> Placer:
    """Places parts of the expression at [start, end) of the string at ``path``: by offset
    from the expression's own span when the source holds it as written on one line (nearly
    always; one lookup for all its parts), else part by part with ``exact_span``."""
    whole = exact_span(doc, path, start, end)
    if whole is None:
        return lambda a, b: exact_span(doc, path, a, b)
    line, column = whole.line, whole.column - start
    return lambda a, b: Span(line, column + a, line, column + b)
