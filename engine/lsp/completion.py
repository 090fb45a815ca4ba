"""Completion at the cursor: schema keys, processors, step names and expression references.

The text being typed rarely parses (``    proc`` is not YAML yet), so the place is read from
the lines themselves: the cursor's line says whether a key or a value is being typed, and the
less indented lines above it give the path of keys to it. The names offered (steps, outputs,
params) come from the last text that loaded, which is what the user is extending.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from lsprotocol import types

from engine.expr.depends import RESULTS
from engine.lsp import schema_paths
from engine.lsp.index import Index
from engine.lsp.schema_paths import ITEM

if TYPE_CHECKING:
    from engine.lsp.workspace import WorkspaceProcessors
    from engine.processor_info import ProcessorInfo

#: Processors every installation has, offered even when entry points cannot be read.
BUILTIN_PROCESSORS = ("noop", "shell", "python")

_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?:(?P<key>[^\s:#'\"][^:#]*?) *:(?: +|$))?")
_TYPING_KEY = re.compile(r"^ *(?:- +)?[\w-]*$")
_EXPRESSION_TAIL = re.compile(
    r"(?:steps\.(?P<output_of>[a-z][-a-z0-9]*)\.outputs\.|steps\.(?P<member_of>[a-z][-a-z0-9]*)\."
    r"|(?P<steps>steps\.)|(?P<params>params\.)|(?P<workflow>workflow\.))?[\w-]*$")

Path = list[str | int]


def complete(text: str, line: int, character: int, index: Index | None,
             workspace: WorkspaceProcessors | None = None) -> list[types.CompletionItem]:
    """The items for a 0-based position in ``text``; processors include the classes of the
    ``workspace`` folder's source, when there is one."""
    lines = text.split("\n")
    if line >= len(lines):
        return []
    prefix = lines[line][:character]
    path = path_at(lines, line, prefix)
    last = path[-1] if path else None
    if prefix.rfind("${{") > prefix.rfind("}}") or last == "when":
        return _expression(prefix, index)
    if last == "processor":
        return _processors(workspace)
    if last == "depends":
        if re.search(r"[a-z][-a-z0-9]*\.\w*$", prefix):
            return [_item(r, types.CompletionItemKind.EnumMember, "result",
                          f"true when the step's result is {r}") for r in RESULTS]
        return _steps(index)
    if last == "dependencies" or path[-2:] == ["dependencies", ITEM]:
        return _steps(index)
    if _TYPING_KEY.match(prefix):
        return _keys(path)
    return []


def path_at(lines: Sequence[str], row: int, prefix: str) -> Path:
    """The YAML path of what is typed at the end of ``prefix`` (the cursor's line up to it),
    list items as ITEM: ``['steps', ITEM, 'processor']`` on ``  - processor: no``."""
    m = _LINE.match(prefix)
    assert m is not None  # every part of the pattern is optional
    indent = len(m.group("indent"))
    path: Path
    if m.group("dash"):
        path = [*_above(lines, row, indent, True), ITEM]
        indent += len(m.group("dash"))
    else:
        path = _above(lines, row, indent, False)
    if m.group("key") is not None:
        path.append(m.group("key").strip())
    return path


def _above(lines: Sequence[str], row: int, want: int, equal_ok: bool) -> Path:
    """The keys (and list items) enclosing a value whose key starts at column ``want``."""
    path: Path = []
    for raw in reversed(lines[:row]):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _LINE.match(raw)
        assert m is not None
        dash_col = len(m.group("indent")) if m.group("dash") else None
        key_col = len(m.group("indent")) + len(m.group("dash") or "")
        key = m.group("key")
        if key is not None and (key_col < want or (equal_ok and key_col == want and dash_col is None)):
            path.insert(0, key.strip())
            want, equal_ok = key_col, False
        elif not (dash_col is not None and dash_col < want and key_col <= want):
            continue
        if dash_col is not None and dash_col < key_col and dash_col <= want:
            path.insert(0, ITEM)
            want, equal_ok = dash_col, True
        if want == 0 and not equal_ok:
            break
    return path


def _item(label: str, kind: types.CompletionItemKind, detail: str, doc: str,
          insert: str | None = None) -> types.CompletionItem:
    return types.CompletionItem(
        label=label, kind=kind, detail=detail, insert_text=insert,
        documentation=types.MarkupContent(types.MarkupKind.Markdown, doc))


def _keys(path: Path) -> list[types.CompletionItem]:
    schema = schema_paths.at(path)
    if schema is None:
        return []
    return [_item(key, types.CompletionItemKind.Property, schema_paths.summary(sub),
                  str(sub.get("description", "")), f"{key}: ")
            for key, sub in schema_paths.properties(schema).items()]


@cache
def processor_names() -> tuple[str, ...]:
    """The installed processors (entry points) and the built-in three, sorted."""
    from engine.processors import registered

    return tuple(sorted({*registered(), *BUILTIN_PROCESSORS}))


def _processors(workspace: WorkspaceProcessors | None) -> list[types.CompletionItem]:
    from engine.lsp.hover import processor_text

    installed = [_item(name, types.CompletionItemKind.Class, "processor", processor_text(name))
                 for name in processor_names()]
    return installed + [_workspace_item(info) for info in (workspace.scan() if workspace else ())]


def _workspace_item(info: ProcessorInfo) -> types.CompletionItem:
    """A processor class read from the workspace's source. One this Python cannot find (the
    workspace is not installed, nor on ``PYTHONPATH``) is still offered, saying so: it is what
    the user wrote, but validating or running the spec will report it not found."""
    from engine.lsp.hover import info_text
    from engine.processor_info import IMPORT_HINT, find_module_source

    module = info.ref.partition(":")[0]
    if find_module_source(module) is not None:
        return _item(info.ref, types.CompletionItemKind.Class, "processor in this workspace",
                     info_text(info))
    note = (f"**Not on this Python's import path**: flowspec will not find `{module}` until "
            f"you {IMPORT_HINT}.\n\n")
    return _item(info.ref, types.CompletionItemKind.Class,
                 "processor in this workspace, not importable here", note + info_text(info))


def _steps(index: Index | None) -> list[types.CompletionItem]:
    if index is None:
        return []
    from engine.lsp.hover import step_text

    return [_item(str(raw["name"]), types.CompletionItemKind.Function,
                  f"step ({raw.get('processor', '?')})", step_text(index, str(raw["name"])))
            for _, raw in index.steps() if isinstance(raw.get("name"), str)]


def _expression(prefix: str, index: Index | None) -> list[types.CompletionItem]:
    """References a condition or a ``${{ }}`` may use, after what is already typed."""
    from engine.lsp.hover import param_text

    tail = _EXPRESSION_TAIL.search(prefix)
    assert tail is not None  # the pattern matches the empty tail
    value = types.CompletionItemKind.Variable
    if tail.group("output_of"):
        raw = index.step(tail.group("output_of")) if index else None
        outputs = raw.get("outputs") if raw else None
        return [_item(str(name), value, str(kind),
                      f"Output `{name}` ({kind}) of step `{tail.group('output_of')}`.")
                for name, kind in (outputs.items() if isinstance(outputs, dict) else ())]
    if tail.group("member_of"):
        return [_item("outputs", types.CompletionItemKind.Module, "outputs",
                      "The step's declared outputs: `steps.NAME.outputs.OUTPUT`."),
                _item("status", value, "string",
                      "The step's phase: Succeeded, Failed, Error, Skipped or Omitted.")]
    if tail.group("steps"):
        return _steps(index)
    if tail.group("params"):
        params = index.params() if index else {}
        return [_item(str(name), value, str(p.get("type", "string")) if isinstance(p, dict)
                      else "string", param_text(index, str(name)) if index else "")
                for name, p in params.items()]
    if tail.group("workflow"):
        return [_item("status", value, "string", "The workflow's phase (in `finally` steps): "
                      "Succeeded, Failed or Error."),
                _item("name", value, "string", "The workflow's name.")]
    return [
        _item("params", types.CompletionItemKind.Module, "params", "The workflow's params: "
              "`params.NAME`.", "params."),
        _item("steps", types.CompletionItemKind.Module, "steps", "Earlier steps: "
              "`steps.NAME.outputs.OUTPUT` or `steps.NAME.status`.", "steps."),
        _item("workflow.status", value, "string", "The workflow's phase (in `finally` "
              "steps): Succeeded, Failed or Error."),
        _item("workflow.name", value, "string", "The workflow's name."),
        _item("item", value, "any", "The current item of a fan-out step (`items`)."),
    ]
