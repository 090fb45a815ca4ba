"""`${{ ref }}` in env values: the only place user data is spliced into text.

A value is substituted as data, never parsed again, and only into env values (not into
commands or config), so an output can never become code: GitHub Actions' `run:` injection
lesson. References are the condition language's, minus ``steps.S.status`` and plus
``workflow.name``; they are parsed, checked and resolved by the same code as conditions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeAlias

from engine.values import to_text

from .ast import (
    ItemRef,
    ParamRef,
    Reference,
    StepOutputRef,
    WorkflowNameRef,
    WorkflowStatusRef,
)
from .check import Scope, check_references
from .errors import INTERPOLATION_SYNTAX, ExprProblem, ExprSyntaxError
from .evaluate import Values, resolve_reference
from .parser import parse_reference

OPEN = "${{"
CLOSE = "}}"

#: References an env value may interpolate.
INTERPOLATION_REFERENCES: frozenset[type] = frozenset(
    {ParamRef, StepOutputRef, WorkflowNameRef, WorkflowStatusRef, ItemRef}
)


_WRAPPED = re.compile(r"\s*\$\{\{(.*)\}\}\s*", re.DOTALL)


def wrapped(text: str) -> tuple[int, int] | None:
    """Where the inside of a text that is one ``${{ ... }}`` and nothing else starts and ends
    (GitHub Actions wraps whole conditions so); None for any other text."""
    match = _WRAPPED.fullmatch(text)
    return match.span(1) if match and CLOSE not in match.group(1) else None


#: Literal text, or a reference (whose offsets point inside the env value).
Part: TypeAlias = str | Reference


def parse_interpolation(text: str) -> list[Part]:
    """Split an env value into literal text and the references of its ``${{ }}``.

    Raises ExprSyntaxError (code FS309) for an unclosed ``${{`` or a bad reference, with
    offsets into ``text``.
    """
    parts: list[Part] = []
    pos = 0
    while True:
        opening = text.find(OPEN, pos)
        if opening < 0:
            break
        closing = text.find(CLOSE, opening + len(OPEN))
        if closing < 0:
            raise ExprSyntaxError(
                f"'{OPEN}' is not closed", opening, len(text),
                f"end the reference with '{CLOSE}', e.g. ${{{{ params.name }}}}",
                INTERPOLATION_SYNTAX,
            )
        if opening > pos:
            parts.append(text[pos:opening])
        ref = parse_reference(
            text, opening + len(OPEN), closing, INTERPOLATION_REFERENCES, INTERPOLATION_SYNTAX
        )
        pos = closing + len(CLOSE)
        parts.append(ref)
    if pos < len(text) or not parts:
        parts.append(text[pos:])
    return parts


def check_interpolation(parts: Sequence[Part], scope: Scope) -> list[ExprProblem]:
    """Problems of every reference (the FS30x codes of conditions)."""
    return check_references((part for part in parts if not isinstance(part, str)), scope)


def render(parts: Sequence[Part], values: Values) -> str:
    """The env value with every reference replaced by its text; null becomes ''.

    Raises ExprEvalError when a reference has no value at all (e.g. an unfinished step).
    """
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(to_text(resolve_reference(part, values)))
    return "".join(out)
