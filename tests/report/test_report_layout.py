"""The DAG's layers: generations top-down, finally steps below, parents' order kept."""

from __future__ import annotations

from engine.loader import load_text
from engine.model import Step, build_spec
from engine.report.layout import layout


def steps(text: str) -> list[Step]:
    doc, _ = load_text("apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: t}\n" + text)
    assert doc is not None
    return list(build_spec(doc).all_steps)


def test_layers_are_generations_and_finally_comes_last() -> None:
    shape = layout(steps("""\
steps:
  - {name: a, processor: noop}
  - {name: b, processor: noop, dependencies: [a]}
  - {name: c, processor: noop, depends: a.Succeeded}
  - {name: d, processor: noop, dependencies: [b, c]}
finally:
  - {name: f, processor: noop}
  - {name: g, processor: noop, dependencies: [f]}
"""))
    assert shape.layers == [["a"], ["b", "c"], ["d"], ["f"], ["g"]]
    assert shape.finally_from == 3
    assert sorted(shape.edges) == [("a", "b", "dependencies"), ("a", "c", "depends"),
                                   ("b", "d", "dependencies"), ("c", "d", "dependencies"),
                                   ("f", "g", "dependencies")]


def test_children_follow_their_parents_order() -> None:
    shape = layout(steps("""\
steps:
  - {name: p1, processor: noop}
  - {name: p2, processor: noop}
  - {name: under-p2, processor: noop, dependencies: [p2]}
  - {name: under-p1, processor: noop, dependencies: [p1]}
  - {name: free, processor: noop, dependencies: [p2]}
"""))
    assert shape.layers == [["p1", "p2"], ["under-p1", "under-p2", "free"]]
    assert shape.finally_from == 2


def test_a_cycle_is_shown_flat() -> None:
    shape = layout(steps("""\
steps:
  - {name: a, processor: noop, dependencies: [b]}
  - {name: b, processor: noop, dependencies: [a]}
"""))
    assert shape.layers == [["a", "b"]]
