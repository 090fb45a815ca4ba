"""Processors: the name resolves, the config fits the processor's schema, outputs agree."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from engine.diagnostics import Diagnostic, code, did_you_mean
from engine.processors import (
    ProcessorNotFound,
    config_schema,
    declared_outputs,
    open_ended_outputs,
    resolve,
)
from engine.rules.context import Context

UNKNOWN_PROCESSOR = code("FS401", "unknown processor", """
`processor` names no installed processor. Use a registered name (`noop`, `shell`, `python`,
`chargeback.extract-identifiers`, ... as listed by the `flowspec.processors` entry points) or
an import path `package.module:Class`.
""")
BAD_CONFIG = code("FS402", "config does not fit the processor", """
A step's `config` is checked against the JSON Schema that its processor declares. The message
names the key and what the processor expects.
""")
OUTPUT_MISMATCH = code("FS403", "output not produced by the processor", """
A step declares an output its processor does not produce, or with another type than the
processor declares. Conditions and Argo output parameters rely on declared outputs, so they
must match what the processor returns.
""")
PROCESSOR_IMPORT = code("FS404", "processor cannot be imported", """
The processor is given as `package.module:Class`, but importing it failed. Check the module
is installed in the same environment as flowspec and that the class name is right.
""")


@cache
def _validator(cls: type) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(dict(config_schema(cls)))


def _config_problems(ctx: Context, cls: type, config: Mapping[str, Any],
                     base: tuple[Any, ...], processor: str) -> Iterator[Diagnostic]:
    for error in _validator(cls).iter_errors(config):
        path = (*base, *error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = list((error.schema.get("properties") or {}))
            extra = [k for k in error.instance if k not in allowed]
            for key in extra:
                hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
                yield ctx.at((*path, key), BAD_CONFIG,
                             f"processor '{processor}' has no config key '{key}'", hint, key=True)
            continue
        where = ".".join(str(p) for p in error.absolute_path) or "config"
        message = error.message if len(error.message) < 160 else error.message[:157] + "..."
        yield ctx.at(path, BAD_CONFIG, f"{where}: {message}",
                     _describe(error.schema) or None)


def _describe(schema: Mapping[str, Any]) -> str:
    text = schema.get("description")
    return f"expected: {text}" if isinstance(text, str) else ""


def check(ctx: Context) -> Iterator[Diagnostic]:
    for step in ctx.spec.all_steps:
        if not step.processor:
            continue
        path = (*step.path, "processor")
        try:
            cls = resolve(step.processor)
        except ProcessorNotFound as exc:
            if ":" in step.processor:
                yield ctx.at(path, PROCESSOR_IMPORT, exc.reason,
                             "check the module path and that the package is installed")
            else:
                hint = did_you_mean(step.processor, exc.known) or (
                    "registered processors: " + ", ".join(exc.known))
                yield ctx.at(path, UNKNOWN_PROCESSOR,
                             f"no processor is registered as '{step.processor}'", hint)
            continue
        yield from _config_problems(ctx, cls, step.config, (*step.path, "config"), step.processor)
        declared = declared_outputs(cls)
        open_ended = open_ended_outputs(cls)
        for name, type_name in step.outputs.items():
            out_path = (*step.path, "outputs", name)
            if name in declared and declared[name] != type_name:
                yield ctx.at(out_path, OUTPUT_MISMATCH,
                             f"output '{name}' is declared as {type_name}, but processor "
                             f"'{step.processor}' produces a {declared[name]}",
                             f"declare it as '{name}: {declared[name]}'")
            elif name not in declared and not open_ended:
                yield ctx.at(out_path, OUTPUT_MISMATCH,
                             f"processor '{step.processor}' does not produce an output '{name}'",
                             did_you_mean(name, declared)
                             or f"it produces: {', '.join(declared) or 'no outputs'}", key=True)


def step_output_types(ctx: Context) -> dict[str, dict[str, str]]:
    """Every step's outputs as conditions see them: the processor's, then the step's own."""
    result: dict[str, dict[str, str]] = {}
    for step in ctx.spec.all_steps:
        try:
            declared = dict(declared_outputs(resolve(step.processor))) if step.processor else {}
        except ProcessorNotFound:
            declared = {}
        result[step.name] = {**declared, **step.outputs}
    return result
