"""``# flowspec: ignore[FS501,FS402]``: silence chosen codes on one line, and say when that
silences nothing.

A trailing comment on a line silences the named codes for diagnostics that start on that
line, and nothing else: a whole file or a whole step cannot be silenced, so an ignore stays
next to what it excuses (ruff's ``# noqa: F401``, yamllint's ``disable-line``). It applies
to every command, since ``run``, ``plan`` and ``compile`` load a spec as ``validate`` checks
it; so only warnings and the errors declared ``silenceable`` (policies and other tools'
limits, see ``engine.diagnostics.code``) can be silenced, and ``validate`` never passes a spec
that ``run`` would then refuse or mishandle.

An ignore that silences nothing (the problem was fixed, the code is mistyped or cannot be
silenced, the comment sits on the line above) is itself a warning, so stale ignores get
cleaned up instead of silently excusing the next problem on their line. Warnings never fail
``validate``, so a stale ignore does not break a build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from engine.diagnostics import CODES, Diagnostic, code, did_you_mean
from engine.loader import Document, comments

UNUSED_IGNORE = code("FS011", "ignore comment silences nothing", """
A `# flowspec: ignore[CODE]` comment at the end of a line silences the named codes for
diagnostics that start on that line; several codes are separated by commas:
`# flowspec: ignore[FS501,FS402]`. This one silences nothing: no diagnostic on its line has
that code (the problem was fixed, or the comment is on another line than the problem), the
code does not exist, or it is an error that cannot be silenced.

Warnings can be silenced, and the errors that guard a policy or another tool rather than what
`run` and `compile` rely on (a literal secret, an Argo limit, a processor installed only where
the spec runs); `flowspec explain` marks them "silenceable". An ignored code is ignored by
every command. Remove the comment or move it to the line the diagnostic points at. This
warning does not fail `flowspec validate`; it is there so that stale ignores are cleaned up.
""", severity="warning", silenceable=False)

_DIRECTIVE = re.compile(r"#\s*flowspec:\s*ignore\[([^\]\n]*)\]")
_CODE = re.compile(r"[^,\s]+")


@dataclass(frozen=True, slots=True)
class _Named:
    """One code named by an ignore comment, and where it is written."""

    code: str
    line: int
    start: int  # offset in the file
    end: int


def _named(doc: Document) -> Iterator[_Named]:
    for match in comments(doc.source.text, _DIRECTIVE):
        line = doc.source.position(match.start())[0]
        for name in _CODE.finditer(match.group(1)):
            start = match.start(1) + name.start()
            yield _Named(name.group().upper(), line, start, start + len(name.group()))


def apply_ignores(doc: Document, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics`` without those an ignore comment silences, plus an FS011 warning for
    each named code that silenced nothing."""
    named = list(_named(doc))
    if not named:
        return list(diagnostics)
    wanted = {(n.line, n.code) for n in named if n.code in CODES and CODES[n.code].silenceable}
    used: set[tuple[int, str]] = set()
    kept = []
    for d in diagnostics:
        if (d.line, d.code) in wanted:
            used.add((d.line, d.code))
        else:
            kept.append(d)
    for n in named:
        if (n.line, n.code) in used:
            continue
        if n.code not in CODES:
            message = f"'{n.code}' is not a flowspec code"
            hint = did_you_mean(n.code, CODES) or "`flowspec explain` lists every code"
        elif not CODES[n.code].silenceable:
            message = f"{n.code} cannot be silenced: run and compile rely on its check"
            hint = f"fix what it reports (flowspec explain {n.code})"
        else:
            message = f"'ignore[{n.code}]' silences nothing: no {n.code} starts on this line"
            hint = "remove it, or move it to the end of the line the diagnostic points at"
        kept.append(Diagnostic.at(doc.file, doc.source.span(n.start, n.end), UNUSED_IGNORE,
                                  message, hint))
    return kept
