"""Argo's ``{{...}}`` substitution (util/template): simple tags and ``{{=expr}}`` tags.

A simple tag is looked up by its trimmed name; a name nobody set stays as written (Argo's
non-strict passes), except under a *strict* prefix (``tasks``, ``steps``), where a missing
value is ``Unresolved``: the controller would requeue and wait for it. An expression tag is
evaluated by expr-lang through the oracle (``Decider.expression``) with the scope as its
variables, and what it renders is inserted. A scope value of ``None`` is an absent optional
(the output of a Skipped/Omitted producer with no default): for simple tags it is missing,
for expressions it is ``nil``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: fasttemplate's tags: from ``{{`` to the first ``}}``.
TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

Scope = Mapping[str, str | None]
#: Renders one ``{{=...}}`` body with the scope, or raises Unresolved.
Evaluate = Callable[[str, Scope], str]


class Unresolved(Exception):
    """A tag under a strict prefix has no value (Argo: requeue, for ever if it never comes)."""

    def __init__(self, tag: str) -> None:
        super().__init__(f"Unable to resolve: {{{{{tag}}}}}")
        self.tag = tag


def replace(text: str, scope: Scope, *, strict: tuple[str, ...] = (),
            evaluate: Evaluate | None = None) -> str:
    """``text`` with every tag that ``scope`` (or an expression) resolves replaced."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.startswith("="):
            if evaluate is None:
                return match.group(0)
            return evaluate(name[1:], scope)
        value = scope.get(name)
        if value is not None:
            return value
        if name.split(".", 1)[0] in strict:
            raise Unresolved(name)
        return match.group(0)

    return TAG.sub(one, text)


def replace_all(value: Any, scope: Scope, *, strict: tuple[str, ...] = (),
                evaluate: Evaluate | None = None) -> Any:
    """``replace`` over every string of a JSON-like value (Argo substitutes the template's JSON)."""
    if isinstance(value, str):
        return replace(value, scope, strict=strict, evaluate=evaluate)
    if isinstance(value, list):
        return [replace_all(v, scope, strict=strict, evaluate=evaluate) for v in value]
    if isinstance(value, dict):
        return {k: replace_all(v, scope, strict=strict, evaluate=evaluate)
                for k, v in value.items()}
    return value


def pure_reference(text: str) -> str | None:
    """The tag name when ``text`` is exactly one simple tag (``{{tasks.a.outputs.parameters.x}}``)."""
    match = TAG.fullmatch(text.strip())
    if match is None or match.group(1).strip().startswith("="):
        return None
    return match.group(1).strip()


def unresolved_tags(value: Any, prefixes: tuple[str, ...]) -> list[str]:
    """Simple tags under ``prefixes`` still left in a JSON-like value."""
    if isinstance(value, str):
        return [m.group(1).strip() for m in TAG.finditer(value)
                if m.group(1).strip().split(".", 1)[0] in prefixes]
    if isinstance(value, list):
        return [t for v in value for t in unresolved_tags(v, prefixes)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in unresolved_tags(v, prefixes)]
    return []
