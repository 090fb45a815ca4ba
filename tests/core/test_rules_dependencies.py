"""The dependency rule on random graphs: every cycle, each once, whatever else is wrong.

The corpus pins exact positions on hand-written cases; here hypothesis draws step graphs
(cycles, self-loops, unknown names, both dependency styles) and the rule's findings are
compared with networkx's own enumeration of the same graph.
"""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph import build_graph, is_ancestor
from engine.loader import load_text
from engine.validation import check_document

NAMES = [f"s{i}" for i in range(7)]


@st.composite
def step_graphs(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]], dict[str, bool]]:
    """Step names, each step's parents (maybe unknown, maybe itself), and which use depends."""
    names = NAMES[: draw(st.integers(1, len(NAMES)))]
    pool = st.sampled_from([*names, "ghost", "missing-step"])
    parents = {n: draw(st.lists(pool, max_size=3, unique=True)) for n in names}
    uses_depends = {n: draw(st.booleans()) for n in names}
    return names, parents, uses_depends


def spec_text(names: list[str], parents: dict[str, list[str]],
              uses_depends: dict[str, bool]) -> str:
    lines = ["apiVersion: flowspec/v1", "kind: Workflow", "metadata: {name: g}", "steps:"]
    for name in names:
        lines += [f"  - name: {name}", "    processor: noop"]
        if parents[name] and uses_depends[name]:
            lines.append("    depends: " + " || ".join(f"{p}.Succeeded" for p in parents[name]))
        elif parents[name]:
            lines.append(f"    dependencies: [{', '.join(parents[name])}]")
    return "\n".join(lines) + "\n"


def expected_graph(names: list[str], parents: dict[str, list[str]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from((p, n) for n in names for p in parents[n] if p in names and p != n)
    return graph


@settings(max_examples=200, deadline=None, database=None)
@given(step_graphs())
def test_every_cycle_once_even_with_unknown_dependencies(
        drawn: tuple[list[str], dict[str, list[str]], dict[str, bool]]) -> None:
    names, parents, uses_depends = drawn
    doc, problems = load_text(spec_text(names, parents, uses_depends))
    assert doc is not None and not problems
    diagnostics = check_document(doc)[1]

    reported = [d.message.removeprefix("dependency cycle: ").split(" -> ")
                for d in diagnostics if d.code == "FS207"]
    graph = expected_graph(names, parents)
    expected = {frozenset(zip(c, c[1:] + c[:1], strict=True)) for c in nx.simple_cycles(graph)}
    assert all(path[0] == path[-1] for path in reported)
    assert {frozenset(pairwise(p)) for p in reported} == expected
    assert len(reported) == len(expected)
    # each cycle starts at its earliest step and is placed on the dependency that closes it:
    # where its first step names its last
    lines = doc.source.text.splitlines()
    for d in diagnostics:
        if d.code == "FS207":
            path = d.message.removeprefix("dependency cycle: ").split(" -> ")
            assert min(path, key=names.index) == path[0]
            assert lines[d.line - 1][d.column - 1:].startswith(path[-2])
            step_line = lines.index(f"  - name: {path[0]}")
            assert step_line < d.line - 1 <= step_line + 3

    unknown = sum(p not in names for n in names for p in parents[n])
    assert sum(d.code == "FS203" for d in diagnostics) == unknown
    assert sum(d.code == "FS204" for d in diagnostics) == sum(n in parents[n] for n in names)


@settings(max_examples=200, deadline=None, database=None)
@given(step_graphs(), st.sampled_from(NAMES), st.sampled_from(NAMES))
def test_is_ancestor_agrees_with_networkx(
        drawn: tuple[list[str], dict[str, list[str]], dict[str, bool]], a: str, b: str) -> None:
    names, parents, uses_depends = drawn
    doc, _ = load_text(spec_text(names, parents, uses_depends))
    assert doc is not None
    spec, _ = check_document(doc)
    graph = build_graph(spec)
    truth = b in graph and a != b and a in nx.ancestors(graph, b)
    assert is_ancestor(graph.pred, a, b) == truth
