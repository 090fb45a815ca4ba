"""Expressions parsed once per text for the rules: ``when``, ``for_each``, ``depends`` and
the ``${{ }}`` of env values.

The language server validates a spec again after every pause in typing, and nearly every
expression in it is the same text as the time before; parsing them was the largest part of
the semantic passes on a large spec. The parsed forms are immutable, so one can serve every
caller; a text that does not parse raises each time (errors are not kept). The caches are
bounded, so a long editing session does not grow them.
"""

from __future__ import annotations

from functools import lru_cache

from engine.expr.ast import Expr
from engine.expr.depends import DependsExpr, parse_depends
from engine.expr.interpolate import Part, parse_interpolation
from engine.expr.parser import parse_condition

#: entries per cache: several 10,000-step specs' expressions
_SIZE = 32_768


@lru_cache(maxsize=_SIZE)
def condition(text: str) -> Expr:
    """``parse_condition``'s answer for ``text``."""
    return parse_condition(text)


@lru_cache(maxsize=_SIZE)
def depends(text: str) -> DependsExpr:
    """``parse_depends``'s answer for ``text``."""
    return parse_depends(text)


@lru_cache(maxsize=_SIZE)
def interpolation(text: str) -> tuple[Part, ...]:
    """``parse_interpolation``'s parts of ``text``."""
    return tuple(parse_interpolation(text))
