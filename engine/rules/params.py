"""Typed params: defaults and enum values must be of the declared type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.diagnostics import Diagnostic, code
from engine.rules.context import Context
from engine.values import type_error

PARAM_DEFAULT_TYPE = code("FS701", "param default has the wrong type", """
A param's `default` (or an `enum` value) does not match its declared `type`. The default is
used whenever the param is not given, so it must be a valid value: quote text, write numbers
without quotes, use `true`/`false` for booleans and `[...]` for lists.
""")
PARAM_DEFAULT_NOT_IN_ENUM = code("FS702", "param default is not one of its enum values", """
A param declares `enum` (the allowed values) and a `default` that is not among them.
""")


def check(ctx: Context) -> Iterator[Diagnostic]:
    for param in ctx.spec.params.values():
        raw: Any = ctx.doc.data.get("params", {}).get(param.name) or {}
        if not isinstance(raw, dict):
            continue
        if "default" in raw and raw["default"] is not None:
            problem = type_error(raw["default"], param.type)
            if problem:
                yield ctx.at((*param.path, "default"), PARAM_DEFAULT_TYPE,
                             f"default of param '{param.name}' {problem}",
                             _fix_hint(param.type))
            elif param.enum is not None and raw["default"] not in param.enum:
                yield ctx.at((*param.path, "default"), PARAM_DEFAULT_NOT_IN_ENUM,
                             f"default {raw['default']!r} of param '{param.name}' is not in its enum",
                             "allowed: " + ", ".join(map(repr, param.enum)))
        for i, value in enumerate(param.enum or ()):
            problem = type_error(value, param.type)
            if problem:
                yield ctx.at((*param.path, "enum", i), PARAM_DEFAULT_TYPE,
                             f"enum value of param '{param.name}' {problem}", _fix_hint(param.type))


def _fix_hint(type_name: str) -> str:
    return {
        "string": "quote the value",
        "integer": "write a whole number without quotes",
        "number": "write a number without quotes",
        "boolean": "write true or false without quotes",
        "list": "write a list, e.g. [a, b]",
    }.get(type_name, "")
