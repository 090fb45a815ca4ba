"""Workflow params as the user gives them (``-p k=v``, the API) checked against the spec.

One function serves ``run``, ``plan``, ``compile`` and the API, so a value accepted by one is
accepted by all, and read the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.diagnostics import did_you_mean
from engine.model import Spec
from engine.values import parse_text, type_error


class ParamError(ValueError):
    """Every problem with the given params, one per line."""


def parse_pairs(pairs: list[str] | None) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}``."""
    result: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ParamError(f"-p {pair!r}: expected NAME=VALUE")
        result[name.strip()] = value
    return result


def resolve_params(spec: Spec, given: Mapping[str, Any], *, require: bool = True) -> dict[str, Any]:
    """Typed values for every declared param: given, else default; text is read by type.

    ``require=False`` (for ``plan``) leaves a missing required param as None instead of failing.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name in given:
        if name not in spec.params:
            hint = did_you_mean(name, spec.params) or (
                f"declared params: {', '.join(spec.params) or 'none'}")
            problems.append(f"unknown param '{name}'; {hint}")
    for name, param in spec.params.items():
        if name in given:
            raw = given[name]
            if isinstance(raw, str) and param.type != "string":
                try:
                    value = parse_text(raw, param.type)
                except ValueError as exc:
                    problems.append(f"param '{name}' ({param.type}): {exc}")
                    continue
            else:
                value = raw
                problem = type_error(value, param.type)
                if problem:
                    problems.append(f"param '{name}' {problem}")
                    continue
            if param.enum is not None and value not in param.enum:
                problems.append(f"param '{name}' must be one of {list(param.enum)}, got {value!r}")
                continue
            values[name] = value
        elif param.default is not None:
            values[name] = param.default
        elif param.required and require:
            problems.append(f"param '{name}' is required; pass it with -p {name}=VALUE")
        else:
            values[name] = None
    if problems:
        raise ParamError("\n".join(problems))
    return values
