"""Unquoted values that YAML readers disagree on, reported where the difference bites.

The loader reads YAML 1.2 (``on`` is text, ``010`` is ten) but Kubernetes, Argo and many
editors read YAML 1.1 (``on`` is true, ``010`` is eight); ``1.10`` is the number 1.1 to both.
Where such a value is data that reaches a program (env values, params, names, labels, config),
a different reading changes behaviour, so we ask for quotes.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.diagnostics import Diagnostic, code
from engine.loader import Path, octal_value
from engine.rules.context import Context
from engine.values import type_error

AMBIGUOUS = code("FS009", "value reads differently in YAML 1.1", """
An unquoted value means different things to different YAML readers: `on`, `yes`, `no`, `off`
are booleans in YAML 1.1 (Kubernetes, Argo) but text in YAML 1.2; `010` is 8 in YAML 1.1 and
10 in YAML 1.2; `1.10` is the number 1.1 everywhere, not the version text "1.10". Quote the
value so that every reader, local and on Argo, sees the same thing.
""", silenceable=True)


def _matters(path: Path) -> bool:
    if not path:
        return False
    head = path[0]
    if head == "env" and len(path) == 2:
        return True
    if head == "params" and len(path) >= 3 and path[2] in ("default", "enum"):
        return True
    if head == "metadata" and path[1:2] in (("name",), ("labels",), ("annotations",)):
        return True
    if head == "defaults" and path[1:2] == ("env",):
        return True
    if head in ("steps", "finally") and len(path) >= 3:
        return path[2] in ("name", "env", "config", "processor")
    return False


def _raw_text(ctx: Context, path: Path) -> str:
    """The scalar as written (one line of it), for the "quote it" hint."""
    info = ctx.doc.nodes[path]
    span = info.value
    line = ctx.doc.source.text[info.start:].split("\n", 1)[0]
    return line[: span.end_column - span.column] if span.end_line == span.line else line.rstrip()


def _left_to_params_rule(ctx: Context, path: Path, raw: str) -> bool:
    """A param default or enum value is judged against the param's declared type: a value of
    the wrong type is FS701's (with the same fix), and a number is only a surprise for a
    numeric param when YAML 1.1 would read it as another number (``010``)."""
    if path[0] != "params":
        return False
    param = ctx.spec.params.get(str(path[1]))
    if param is None:
        return False
    value = ctx.doc.value_at(path)
    if type_error(value, param.type):
        return True
    octal = octal_value(raw)
    return param.type in ("integer", "number") and (octal is None or octal == value)


def check(ctx: Context) -> Iterator[Diagnostic]:
    for path, reason in ctx.doc.ambiguous.items():
        if not _matters(path):
            continue
        raw = _raw_text(ctx, path)
        if _left_to_params_rule(ctx, path, raw):
            continue
        value = ctx.doc.value_at(path)
        numeric_param = path[0] == "params" and isinstance(value, (int, float))
        hint = (f"write {value} without the leading zeros" if numeric_param
                else f"quote it: \"{raw}\"")
        yield ctx.at(path, AMBIGUOUS, reason, hint)
