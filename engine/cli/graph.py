"""``flowspec graph SPEC``: the DAG as mermaid, dot or JSON."""

from __future__ import annotations

import argparse
import json
import sys

from engine.model import Spec, Step


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="the spec file")
    p.add_argument("--format", choices=("mermaid", "dot", "json"), default="mermaid")


def _parts(step: Step) -> list[str]:
    """What a node shows: name, processor and condition, each on one line."""
    return [" ".join(text.split()) for text in
            (step.name, step.processor, *([f"when: {step.when}"] if step.when else []))]


#: characters mermaid (or the HTML of its labels) reads as syntax inside a quoted label
_MERMAID_ESCAPES = {'"': "#34;", "#": "#35;", "&": "#38;", "<": "#60;", ">": "#62;"}


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in text)


def _mermaid_label(step: Step) -> str:
    name, processor, *when = map(_mermaid_text, _parts(step))
    return "<br/>".join([name, f"<small>{processor}</small>", *when])


def render_mermaid(spec: Spec) -> str:
    from engine.graph import build_graph

    ids = {s.name: f"s{i}" for i, s in enumerate(spec.all_steps)}
    lines = ["flowchart TD"]
    for step in spec.steps:
        lines.append(f'  {ids[step.name]}["{_mermaid_label(step)}"]')
    for parent, child, data in spec.graph.edges(data=True):
        arrow = "-.->" if data.get("kind") == "depends" else "-->"
        lines.append(f"  {ids[parent]} {arrow} {ids[child]}")
    if spec.finally_steps:
        lines.append('  subgraph finally["finally (after the DAG, sees workflow.status)"]')
        for step in spec.finally_steps:
            lines.append(f'    {ids[step.name]}["{_mermaid_label(step)}"]')
        for parent, child in build_graph(spec, finally_steps=True).edges():
            lines.append(f"    {ids[parent]} --> {ids[child]}")
        lines.append("  end")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render_dot(spec: Spec) -> str:
    from engine.graph import build_graph

    def q(text: str) -> str:
        return f'"{_dot_text(text)}"'

    def node(step: Step) -> str:
        label = "\\n".join(_dot_text(part) for part in _parts(step))
        return f'{q(step.name)} [label="{label}"];'

    lines = [f"digraph {q(spec.name or 'workflow')} {{", "  rankdir=TB;", "  node [shape=box];"]
    lines.extend(f"  {node(step)}" for step in spec.steps)
    for parent, child, data in spec.graph.edges(data=True):
        style = " [style=dashed]" if data.get("kind") == "depends" else ""
        lines.append(f"  {q(parent)} -> {q(child)}{style};")
    if spec.finally_steps:
        lines.append('  subgraph cluster_finally { label="finally";')
        lines.extend(f"    {node(step)}" for step in spec.finally_steps)
        for parent, child in build_graph(spec, finally_steps=True).edges():
            lines.append(f"    {q(parent)} -> {q(child)};")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_json(spec: Spec) -> str:
    from engine.graph import generations

    doc = {
        "name": spec.name,
        "steps": [{"name": s.name, "processor": s.processor, "depends": s.depends,
                   "dependencies": list(s.dependencies) if s.dependencies is not None else None,
                   "when": s.when} for s in spec.steps],
        "edges": [{"from": a, "to": b, "kind": d.get("kind")}
                  for a, b, d in spec.graph.edges(data=True)],
        "generations": generations(spec.graph),
        "finally": [s.name for s in spec.finally_steps],
    }
    return json.dumps(doc, indent=2) + "\n"


RENDERERS = {"mermaid": render_mermaid, "dot": render_dot, "json": render_json}


def main(args: argparse.Namespace) -> int:
    from engine.cli.common import load_or_report

    spec = load_or_report(args.spec)
    if isinstance(spec, int):
        return spec
    sys.stdout.write(RENDERERS[args.format](spec))
    return 0
