"""The DAG a valid spec becomes, shared by the executor and the compiler.

Nodes are step names carrying the resolved ``Step``; an edge ``a -> b`` means ``b`` names ``a``
in ``dependencies`` or ``depends``. Order follows the spec, never hashing, so every consumer
sees the same generations whatever PYTHONHASHSEED is (graphlib's lesson).

Validation works on plain ``{step: parents}`` mappings and imports networkx only to list the
cycles of a spec that has one: networkx costs a tenth of a second to import, and
``flowspec validate`` must start fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from engine.model import Spec, Step

if TYPE_CHECKING:
    import networkx as nx

#: step name -> the known steps it waits for (a networkx graph's ``pred`` is one too)
Parents = Mapping[str, Iterable[str]]


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


def known_parents(steps: Sequence[Step]) -> dict[str, list[str]]:
    """The edges of ``build_graph`` as a mapping: each step's parents among ``steps``, itself
    and unknown names left out (a name used twice gets the parents of both)."""
    names = {step.name for step in steps}
    parents: dict[str, list[str]] = {step.name: [] for step in steps}
    for step in steps:
        parents[step.name].extend(p for p in step_parents(step) if p in names and p != step.name)
    return parents


def meant_parents(steps: Sequence[Step], elsewhere: Sequence[Step] = ()) -> dict[str, list[str]]:
    """``known_parents`` with each unknown name replaced by the step of ``steps`` it most
    likely misspells (the did-you-mean of its diagnostic); left out when none is close or
    when it names a step of the other list (``elsewhere``), which is no typo."""
    from engine.diagnostics import closest

    names = [step.name for step in steps]
    known = set(names)
    other = {step.name for step in elsewhere}
    parents: dict[str, list[str]] = {step.name: [] for step in steps}
    for step in steps:
        for parent in step_parents(step):
            meant = parent if parent in known or parent in other else closest(parent, names)
            if meant in known and meant != step.name:
                parents[step.name].append(meant)
    return parents


def build_graph(spec: Spec, *, finally_steps: bool = False) -> nx.DiGraph[str]:
    """The DAG of the main steps (or of the ``finally`` steps); unknown names are left out."""
    import networkx as nx

    steps = spec.finally_steps if finally_steps else spec.steps
    graph: nx.DiGraph[str] = nx.DiGraph(name=spec.name)
    for step in steps:
        graph.add_node(step.name, step=step)
    for step in steps:
        kind = "depends" if step.depends is not None else "dependencies"
        for parent in step_parents(step):
            if parent in graph and parent != step.name:
                graph.add_edge(parent, step.name, kind=kind)
    return graph


def generations(graph: nx.DiGraph[str]) -> list[list[str]]:
    """Topological generations, each in spec order: the steps that could run side by side."""
    import networkx as nx

    index = {name: data["step"].index for name, data in graph.nodes(data=True)}
    return [sorted(gen, key=index.__getitem__) for gen in nx.topological_generations(graph)]


def ancestors(graph: nx.DiGraph[str] | Parents, name: str) -> set[str]:
    """Every step ``name`` waits for, directly or through others."""
    parents = graph.pred if hasattr(graph, "pred") else graph
    return set(_walk_up(parents, name))


def is_ancestor(parents: Parents, name: str, of: str) -> bool:
    """Whether ``of`` waits for ``name``, directly or through other steps.

    Searches upwards from ``of`` and stops at the first path, so asking about a parent costs
    one lookup: validation asks this per reference, where building every step's ancestor set
    would grow with the square of a long chain.
    """
    return name != of and any(step == name for step in _walk_up(parents, of))


def _walk_up(parents: Parents, of: str) -> Iterator[str]:
    """The ancestors of ``of``, nearest first, each once (``of`` itself never, even in a cycle)."""
    seen, stack = {of}, [of]
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
                yield parent


def has_cycle(parents: Parents) -> bool:
    """Whether some steps wait for each other in a circle (Kahn's algorithm: linear)."""
    waiting = {name: 0 for name in parents}
    children: dict[str, list[str]] = {name: [] for name in parents}
    for name, names in parents.items():
        for parent in names:
            waiting[name] += 1
            children[parent].append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    done = 0
    while ready:
        done += 1
        for child in children[ready.pop()]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return done < len(waiting)


def leaves(graph: nx.DiGraph[str]) -> list[str]:
    """Steps no other step depends on, sorted by name as Argo's ``findLeafTaskNames`` does."""
    return sorted(n for n in graph if graph.out_degree(n) == 0)


def cycles(graph: nx.DiGraph[str], order: Iterable[str], limit: int = 50) -> list[list[str]]:
    """Every elementary cycle (up to ``limit``), each starting at its earliest step in spec order.

    Rotating to the earliest step keeps the message stable across runs (actionlint's choice).
    """
    import networkx as nx

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


def visible_ancestors(spec: Spec, step: Step) -> list[str]:
    """The steps whose results a step's context holds, in spec order: its ancestors, and for a
    ``finally`` step every main step before its own ancestors (it runs after all of them).
    The executor, the compiler and the in-pod runner must agree on this list."""
    graph = build_graph(spec, finally_steps=True) if step.is_finally else spec.graph
    mine = ancestors(graph, step.name)
    names = [s.name for s in (spec.finally_steps if step.is_finally else spec.steps)
             if s.name in mine]
    return [s.name for s in spec.steps] + names if step.is_finally else names
