"""What every pass gets: the document for positions, the typed spec, and its graphs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from engine.diagnostics import Code, Diagnostic
from engine.graph import build_graph
from engine.load import Document, Path
from engine.model import Spec, Step
from engine.source import Span


@dataclass
class Context:
    doc: Document
    spec: Spec
    #: step index -> names it waits for, filled by the dependency pass for later passes
    notes: dict[str, object] = field(default_factory=dict)

    @cached_property
    def graph(self) -> nx.DiGraph:
        return build_graph(self.spec)

    @cached_property
    def finally_graph(self) -> nx.DiGraph:
        return build_graph(self.spec, finally_steps=True)

    def graph_of(self, step: Step) -> nx.DiGraph:
        return self.finally_graph if step.is_finally else self.graph

    def at(self, path: Path, c: Code, message: str, hint: str | None = None,
           *, key: bool = False) -> Diagnostic:
        return Diagnostic.at(self.doc.file, self.doc.span(path, key=key), c, message, hint)

    def at_span(self, span: Span, c: Code, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic.at(self.doc.file, span, c, message, hint)
