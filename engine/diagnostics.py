"""One diagnostic record for every check and every output format.

Each code is declared once, next to the rule that emits it (as yamllint's rules declare their
ID), with the explanation that ``flowspec explain`` prints; the code is stable, the wording may
improve. Renderers only ever see ``Diagnostic``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from engine.source import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    title: str
    severity: Severity
    explanation: str
    #: an ``# flowspec: ignore[...]`` comment may silence it (see engine.ignores)
    silenceable: bool


CODES: dict[str, Code] = {}


def code(id: str, title: str, explanation: str, severity: Severity = "error", *,
         silenceable: bool | None = None) -> Code:
    """Declare a diagnostic code; declaring one twice is a programming error.

    Warnings can always be silenced. An error can be only when it is declared ``silenceable``:
    one whose check guards a policy or another tool (a literal secret, an Argo limit, a
    processor installed only where the spec runs), not something ``run`` and ``compile``
    rely on (a typed condition, an acyclic graph), which would then fail in their hands.
    """
    if id in CODES:
        raise ValueError(f"diagnostic code {id} declared twice")
    may_silence = severity == "warning" if silenceable is None else silenceable
    CODES[id] = c = Code(id, title, severity, explanation.strip(), may_silence)
    return c


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Severity
    code: str
    message: str
    hint: str | None = None

    @classmethod
    def at(cls, file: str, span: Span, c: Code, message: str, hint: str | None = None) -> Diagnostic:
        return cls(
            file, span.line, span.column, span.end_line, span.end_column,
            c.severity, c.id, message, hint,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)


def finish(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file and position, exact duplicates dropped (actionlint's compareErrors)."""
    return sorted(set(diagnostics), key=lambda d: d.sort_key)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The known name ``name`` most likely misspells, or None when nothing is close.

    Every did-you-mean goes through here, so a hint and any check that assumes the fix (a
    condition below a misspelled dependency) agree on which name was meant.
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest known name, or None when nothing is close."""
    meant = closest(name, candidates)
    return f"did you mean '{meant}'?" if meant else None


class SpecError(Exception):
    """The one exception ``engine.load`` raises: it carries every diagnostic of the file."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0] if diagnostics else None
        summary = (
            f"{first.file}:{first.line}:{first.column}: {first.message} [{first.code}]"
            if first else "invalid spec"
        )
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(summary + more)
