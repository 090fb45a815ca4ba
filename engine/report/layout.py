"""The DAG in layers, top-down: what the page draws, leaving pixels to the browser.

A step's layer is its topological generation (every parent in an earlier layer); the
``finally`` steps form layers of their own below. Within a layer steps are ordered by the
mean position of their parents in the layer above (one barycentre pass, spec order breaking
ties), which untangles most fan-outs and fan-ins at linear cost. A layer wider than
``COLLAPSE_OVER`` starts collapsed in the page: a 10,000-step run stays one screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.graph import known_parents
from engine.model import Step

#: a layer with more steps than this is drawn as one box until it is opened
COLLAPSE_OVER = 40


@dataclass(frozen=True, slots=True)
class Layout:
    """Layers of step names, top first, and the edges ``(parent, child, kind)`` between them;
    ``kind`` is ``depends`` or ``dependencies``, the field the child named its parent in."""

    layers: list[list[str]]
    edges: list[tuple[str, str, str]]
    finally_from: int  # index of the first layer of finally steps (len(layers) if none)


def layout(steps: Sequence[Step]) -> Layout:
    """The layers of the main steps, then those of the finally steps."""
    main = [s for s in steps if not s.is_finally]
    final = [s for s in steps if s.is_finally]
    layers, edges = _layers(main)
    more, more_edges = _layers(final)
    return Layout(layers + more, edges + more_edges, len(layers))


def _layers(steps: Sequence[Step]) -> tuple[list[list[str]], list[tuple[str, str, str]]]:
    import networkx as nx

    if not steps:
        return [], []
    parents = known_parents(steps)
    kinds = {s.name: "depends" if s.depends is not None else "dependencies" for s in steps}
    index = {s.name: s.index for s in steps}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(parents)
    edges = [(p, child, kinds[child]) for child, ps in parents.items() for p in ps]
    graph.add_edges_from((p, c) for p, c, _ in edges)
    try:
        generations = [sorted(g, key=index.__getitem__) for g in nx.topological_generations(graph)]
    except nx.NetworkXUnfeasible:  # a stored spec with a cycle never ran; show it flat
        generations = [sorted(parents, key=index.__getitem__)]
    return _ordered(generations, parents), edges


def _ordered(layers: list[list[str]], parents: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Each layer sorted by the mean position of its steps' parents above (a stable sort: a
    step without parents, or ties, keep spec order)."""
    position: dict[str, float] = {}
    result: list[list[str]] = []
    for layer in layers:
        own = {name: float(i) for i, name in enumerate(layer)}

        def centre(name: str, own: dict[str, float] = own) -> float:
            placed = [position[p] for p in parents.get(name, ()) if p in position]
            return sum(placed) / len(placed) if placed else own[name]

        ordered = sorted(layer, key=centre) if result else list(layer)
        position.update((name, float(i)) for i, name in enumerate(ordered))
        result.append(ordered)
    return result
