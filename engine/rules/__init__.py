"""Semantic passes: one module per concern, each a ``check(ctx)`` generator of diagnostics.

The registry is this list; a new concern is a new module plus one line here (yamllint's
layout). Every pass sees the whole spec, so one run reports every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

from engine.diagnostics import Diagnostic
from engine.rules import (
    argo_limits,
    conditions,
    dependencies,
    env,
    interpolation,
    names,
    params,
    processors,
    schedules,
    yaml11,
)
from engine.rules.context import Context

PASSES: tuple[ModuleType, ...] = (
    yaml11, names, params, dependencies, conditions, interpolation, processors, env, argo_limits,
    schedules,
)


def run_passes(ctx: Context) -> Iterator[Diagnostic]:
    for module in PASSES:
        check: Callable[[Context], Iterator[Diagnostic]] = module.check
        yield from check(ctx)
