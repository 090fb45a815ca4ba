"""Unquoted values that YAML readers disagree on, reported where the difference bites.

The loader reads YAML 1.2 (``on`` is text, ``010`` is ten) but Kubernetes, Argo and many
editors read YAML 1.1 (``on`` is true, ``010`` is eight); ``1.10`` is the number 1.1 to both.
Where such a value is data that reaches a program (env values, params, names, labels, config),
a different reading changes behaviour, so we ask for quotes.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.diagnostics import Diagnostic, code
from engine.load import Path
from engine.rules.context import Context

AMBIGUOUS = code("FS009", "value reads differently in YAML 1.1", """
An unquoted value means different things to different YAML readers: `on`, `yes`, `no`, `off`
are booleans in YAML 1.1 (Kubernetes, Argo) but text in YAML 1.2; `010` is 8 in YAML 1.1 and
10 in YAML 1.2; `1.10` is the number 1.1 everywhere, not the version text "1.10". Quote the
value so that every reader, local and on Argo, sees the same thing.
""")


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


def check(ctx: Context) -> Iterator[Diagnostic]:
    for path, reason in ctx.doc.ambiguous.items():
        if _matters(path):
            text = ctx.doc.source.text
            info = ctx.doc.nodes[path]
            raw = text[info.start: info.start + 40].split("\n")[0].split("#")[0].strip()
            yield ctx.at(path, AMBIGUOUS, reason, f"quote it: \"{raw}\"")
