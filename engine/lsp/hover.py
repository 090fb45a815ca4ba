"""Hover text: a key's schema description, a processor, a step, a param, a diagnostic code.

Processors named ``module:Class`` are described from their source by
``engine.processor_info`` and never imported: opening a spec in an editor must not run the
code it names, as validating it in CI must not.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from engine.loader import Path
from engine.lsp import schema_paths
from engine.lsp.index import Index, contains

if TYPE_CHECKING:
    from engine.processor_info import ProcessorInfo

_CODE = re.compile(r"\bFS\d{3}\b")


def hover(line_text: str, line: int, column: int, index: Index | None) -> str | None:
    """Markdown for a 1-based position, or None when there is nothing to say."""
    for match in _CODE.finditer(line_text):
        if match.start() < column <= match.end() + 1:
            return code_text(match.group())
    if index is None:
        return None
    symbol = index.at(line, column)
    if symbol is not None:
        if symbol.kind == "step":
            return step_text(index, symbol.name)
        if symbol.kind == "param":
            return param_text(index, symbol.name)
        step, output = symbol.name.split(".", 1)
        raw = index.step(step)
        outputs = raw.get("outputs") if raw else None
        kind = outputs.get(output) if isinstance(outputs, dict) else None
        return f"**output** `{output}` of step `{step}`: {kind or 'undeclared'}"
    found = _node_at(index, line, column)
    if found is None:
        return None
    path, on_key = found
    if not on_key and path[-1:] == ("processor",):
        ref = index.doc.value_at(path)
        return processor_text(ref) if isinstance(ref, str) else None
    if on_key:
        schema = schema_paths.at(path)
        if schema is not None:
            return f"**{path[-1]}** ({schema_paths.summary(schema)})\n\n" + str(
                schema.get("description", ""))
    return None


def _node_at(index: Index, line: int, column: int) -> tuple[Path, bool] | None:
    """The innermost value or key at a position, and whether the position is on its key."""
    best: tuple[Path, bool] | None = None
    for path, info in index.doc.nodes.items():
        if info.key is not None and contains(info.key, line, column):
            return path, True
        if contains(info.value, line, column) and (best is None or len(path) > len(best[0])):
            best = (path, False)
    return best


def code_text(code_id: str) -> str | None:
    """``flowspec explain``'s text for a code."""
    from engine.cli.explain import registered_codes

    c = registered_codes().get(code_id)
    return f"**{c.id}**: {c.title} ({c.severity})\n\n{c.explanation}" if c else None


def processor_text(ref: str) -> str:
    """A processor's docstring, config keys and outputs, as far as they are known."""
    from engine.processor_info import describe
    from engine.processors import ProcessorNotFound

    try:
        info = describe(ref)
    except ProcessorNotFound as exc:
        return f"**{ref}**: {exc}"
    return info_text(info)


def info_text(info: ProcessorInfo) -> str:
    """What is known of a processor's interface, as Markdown."""
    parts = [f"**processor** `{info.ref}`"]
    if info.doc:
        parts.append(info.doc)
    props = (info.config_schema or {}).get("properties")
    if isinstance(props, dict) and props:
        parts.append("config:\n" + "\n".join(
            f"- `{key}` ({_type(sub)}): {sub.get('description', '')}" if isinstance(sub, dict)
            else f"- `{key}`" for key, sub in props.items()))
    if info.outputs:
        parts.append("outputs: " + ", ".join(f"`{k}` ({t})" for k, t in info.outputs.items()))
    elif info.open_outputs:
        parts.append("outputs: named by the step's `outputs`")
    if info.unknown_because:
        parts.append(f"_{info.unknown_because}_")
    return "\n\n".join(parts)


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "any")
    return " | ".join(kind) if isinstance(kind, list) else str(kind)


def step_text(index: Index, name: str) -> str:
    raw = index.step(name)
    if raw is None:
        return f"unknown step `{name}`"
    parts = [f"**step** `{name}`", f"processor: `{raw.get('processor', '?')}`"]
    if raw.get("dependencies"):
        parts.append("dependencies: " + ", ".join(f"`{d}`" for d in raw["dependencies"]))
    if raw.get("depends"):
        parts.append(f"depends: `{raw['depends']}`")
    outputs = raw.get("outputs")
    if isinstance(outputs, dict) and outputs:
        parts.append("outputs: " + ", ".join(f"`{k}` ({t})" for k, t in outputs.items()))
    if raw.get("when"):
        parts.append(f"when: `{raw['when']}`")
    return "\n\n".join(parts)


def param_text(index: Index, name: str) -> str:
    raw = index.params().get(name)
    if not isinstance(raw, dict):
        return f"unknown param `{name}`"
    parts = [f"**param** `{name}`: {raw.get('type', 'string')}"]
    if "default" in raw:
        parts.append(f"default: `{json.dumps(raw['default'])}`")
    if raw.get("required"):
        parts.append("required")
    if raw.get("description"):
        parts.append(str(raw["description"]))
    return "\n\n".join(parts)
