"""What every pass gets: the document for positions, the typed spec, and its graphs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from engine.diagnostics import Code, Diagnostic
from engine.graph import build_graph, known_parents, meant_parents
from engine.loader import Document, Path
from engine.model import Spec, Step
from engine.source import Span

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class Context:
    doc: Document
    spec: Spec
    #: import ``module:Class`` processors to check their config (validate --import-processors)
    import_processors: bool = False

    @cached_property
    def graph(self) -> nx.DiGraph[str]:
        return build_graph(self.spec)

    @cached_property
    def finally_graph(self) -> nx.DiGraph[str]:
        return build_graph(self.spec, finally_steps=True)

    @cached_property
    def parents(self) -> dict[str, list[str]]:
        """The main steps' known edges, enough for most passes without building a graph."""
        return known_parents(self.spec.steps)

    @cached_property
    def finally_parents(self) -> dict[str, list[str]]:
        return known_parents(self.spec.finally_steps)

    def meant_parents_of(self, step: Step) -> dict[str, list[str]]:
        """The edges of the list ``step`` belongs to, as their author meant them: a
        dependency on an unknown name is read as the step it most likely misspells (FS203
        says so where it is written).

        Conditions are checked on these, so a typo in ``dependencies`` is reported once, with
        its fix, instead of again as "not an ancestor" at every reference to the real step
        below it, and the rest of those conditions is still checked.
        """
        return self._meant_parents[step.is_finally]

    @cached_property
    def _meant_parents(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        main, final = self.spec.steps, self.spec.finally_steps
        return meant_parents(main, final), meant_parents(final, main)

    def at(self, path: Path, c: Code, message: str, hint: str | None = None,
           *, key: bool = False) -> Diagnostic:
        return Diagnostic.at(self.doc.file, self.doc.span(path, key=key), c, message, hint)

    def at_span(self, span: Span, c: Code, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic.at(self.doc.file, span, c, message, hint)
