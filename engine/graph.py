"""The DAG a valid spec becomes, shared by the executor and the compiler.

Nodes are step names carrying the resolved ``Step``; an edge ``a -> b`` means ``b`` names ``a``
in ``dependencies`` or ``depends``. Order follows the spec, never hashing, so every consumer
sees the same generations whatever PYTHONHASHSEED is (graphlib's lesson).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from engine.model import Spec, Step


def step_parents(step: Step) -> list[str]:
    """The steps this one waits for, in the order it names them (unparseable depends: none)."""
    if step.depends is not None:
        from engine.expr.depends import depends_names, parse_depends
        from engine.expr.errors import ExprSyntaxError

        try:
            return depends_names(parse_depends(step.depends))
        except ExprSyntaxError:
            return []
    return list(dict.fromkeys(step.dependencies or ()))


def build_graph(spec: Spec, *, finally_steps: bool = False) -> nx.DiGraph:
    """The DAG of the main steps (or of the ``finally`` steps); unknown names are left out."""
    steps = spec.finally_steps if finally_steps else spec.steps
    graph = nx.DiGraph(name=spec.name)
    for step in steps:
        graph.add_node(step.name, step=step)
    for step in steps:
        kind = "depends" if step.depends is not None else "dependencies"
        for parent in step_parents(step):
            if parent in graph and parent != step.name:
                graph.add_edge(parent, step.name, kind=kind)
    return graph


def generations(graph: nx.DiGraph) -> list[list[str]]:
    """Topological generations, each in spec order: the steps that could run side by side."""
    index = {name: data["step"].index for name, data in graph.nodes(data=True)}
    return [sorted(gen, key=index.__getitem__) for gen in nx.topological_generations(graph)]


def ancestors(graph: nx.DiGraph, name: str) -> set[str]:
    return nx.ancestors(graph, name) if name in graph else set()


def is_ancestor(graph: nx.DiGraph, name: str, of: str) -> bool:
    """Whether ``of`` waits for ``name``, directly or through other steps.

    Searches upwards from ``of`` and stops at the first path, so asking about a parent costs
    one lookup: validation asks this per reference, where building every step's ancestor set
    would grow with the square of a long chain.
    """
    if name == of or name not in graph or of not in graph:
        return False
    seen, stack = {of}, [of]
    while stack:
        for parent in graph.pred[stack.pop()]:
            if parent == name:
                return True
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return False


def leaves(graph: nx.DiGraph) -> list[str]:
    """Steps no other step depends on, sorted by name as Argo's ``findLeafTaskNames`` does."""
    return sorted(n for n in graph if graph.out_degree(n) == 0)


def topological_order(graph: nx.DiGraph) -> list[str]:
    return [name for gen in generations(graph) for name in gen]


def cycles(graph: nx.DiGraph, order: Iterable[str], limit: int = 50) -> list[list[str]]:
    """Every elementary cycle (up to ``limit``), each starting at its earliest step in spec order.

    Rotating to the earliest step keeps the message stable across runs (actionlint's choice).
    """
    rank: dict[str, int] = {}
    for i, name in enumerate(order):
        rank.setdefault(name, i)  # a name used twice ranks by its first use
    found: list[list[str]] = []
    for cycle in nx.simple_cycles(graph):
        start = min(range(len(cycle)), key=lambda i: rank.get(cycle[i], len(rank)))
        found.append(cycle[start:] + cycle[:start])
        if len(found) >= limit:
            break
    return sorted(found, key=lambda c: [rank.get(n, len(rank)) for n in c])
