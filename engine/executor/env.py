"""The environment a step's processor sees: plain values, secrets, and ``${{ }}`` references.

Precedence (step > defaults > workflow) was settled when the spec was built; here each value
is resolved for one attempt: secrets from the local source, references rendered as data from
params and ancestors' outputs (never re-parsed, so an output cannot inject anything).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from engine.expr.interpolate import OPEN, Part, parse_interpolation, render
from engine.model import SecretRef, Step
from engine.secrets import lookup


@lru_cache(maxsize=4096)
def _parts(text: str) -> tuple[Part, ...]:
    return tuple(parse_interpolation(text))


def step_env(step: Step, secrets: Mapping[str, str], values: Callable[[], Any]) -> dict[str, str]:
    """Raises MissingSecret, ExprSyntaxError or ExprEvalError: the attempt then ends in Error."""
    env: dict[str, str] = {}
    for name, var in step.env.items():
        value = var.value
        if isinstance(value, SecretRef):
            secret = lookup(value, secrets)
            if secret is not None:
                env[name] = secret
        elif OPEN in value:
            env[name] = render(_parts(value), values())
        else:
            env[name] = value
    return env
