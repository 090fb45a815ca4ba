"""Processors: the name resolves, the config fits the processor's schema, outputs agree.

Nothing here imports a module the spec names (``engine.processor_info``): validation runs on
untrusted pull requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from typing import Any

from engine.diagnostics import Diagnostic, code, did_you_mean
from engine.model import Step
from engine.processor_info import ProcessorInfo, describe
from engine.processors import ProcessorNotFound
from engine.rules.context import Context

UNKNOWN_PROCESSOR = code("FS401", "unknown processor", """
`processor` names no installed processor. Use a registered name (`noop`, `shell`, `python`,
`chargeback.extract-identifiers`, ... as listed by the `flowspec.processors` entry points) or
an import path `package.module:Class`.
""", silenceable=True)
BAD_CONFIG = code("FS402", "config does not fit the processor", """
A step's `config` is checked against the JSON Schema that its processor declares. The message
names the key and what the processor expects.
""", silenceable=True)
OUTPUT_MISMATCH = code("FS403", "output not produced by the processor", """
A step declares an output its processor does not produce, or with another type than the
processor declares. Conditions and Argo output parameters rely on declared outputs, so they
must match what the processor returns.
""", silenceable=True)
PROCESSOR_IMPORT = code("FS404", "processor cannot be found", """
The processor is given as `package.module:Class`, but no such class was found: the module is
not on the import path as Python source, or it defines no class of that name. Validation
finds the module and reads its source without importing it (a spec must not run code when it
is validated); check the module is installed in the same environment as flowspec and that the
class name is right.
""", silenceable=True)
NOT_CHECKED = code("FS405", "processor interface not read", """
The processor's `config_schema`, `outputs` or `open_outputs` is computed, or inherited from a
class in another module, so it cannot be read from the source without running the module's
code, and the step's config or outputs were not checked against it. Validation never imports
a module a spec names; `flowspec validate --import-processors` does, for specs you trust, and
checks everything. Writing those attributes as literals in the class makes them readable.
""", severity="warning")


@cache
def _validator(info: ProcessorInfo) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(dict(info.config_schema or {}))


def _config_problems(ctx: Context, info: ProcessorInfo, step: Step) -> Iterator[Diagnostic]:
    """The processor's config schema, read and placed like the spec's own schema errors (typos
    with did-you-mean, missing keys at their mapping, bad values at the value), as FS402."""
    from engine.schema import validate_at

    path = (*step.path, "config")
    if path not in ctx.doc.nodes:
        required = list((info.config_schema or {}).get("required", ()))
        if required:
            yield ctx.at((*step.path, "processor"), BAD_CONFIG,
                         f"processor '{step.processor}' needs a config with "
                         + ", ".join(f"'{k}'" for k in required),
                         f"add config: {{{required[0]}: ...}}")
        return
    if not isinstance(ctx.doc.value_at(path), dict):
        return  # the spec's schema pass has reported it
    for d in validate_at(ctx.doc, _validator(info), path):
        yield replace(d, code=BAD_CONFIG.id, severity=BAD_CONFIG.severity)


def check(ctx: Context) -> Iterator[Diagnostic]:
    for step in ctx.spec.all_steps:
        if not step.processor:
            continue
        path = (*step.path, "processor")
        try:
            info = describe(step.processor, import_code=ctx.import_processors)
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
        if info.unknown_because:
            yield ctx.at(path, NOT_CHECKED, f"{info.unknown_because}: the step's config and "
                         "outputs were not checked against it",
                         "run `flowspec validate --import-processors` on a spec you trust")
        if info.config_schema is not None:
            yield from _config_problems(ctx, info, step)
        if info.outputs is None:
            continue
        declared = info.outputs
        open_ended = info.open_outputs
        for name, type_name in step.outputs.items():
            out_path = (*step.path, "outputs", name)
            if name in declared and declared[name] != type_name:
                yield ctx.at(out_path, OUTPUT_MISMATCH,
                             f"output '{name}' is declared as {type_name}, but processor "
                             f"'{step.processor}' produces {_a(declared[name])}",
                             f"declare it as '{name}: {declared[name]}'")
            elif name not in declared and not open_ended:
                yield ctx.at(out_path, OUTPUT_MISMATCH,
                             f"processor '{step.processor}' does not produce an output '{name}'",
                             did_you_mean(name, declared)
                             or f"it produces: {', '.join(declared) or 'no outputs'}", key=True)


def _a(type_name: str) -> str:
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def step_output_types(ctx: Context) -> dict[str, dict[str, str]]:
    """Every step's outputs as conditions see them: the processor's, then the step's own."""
    result: dict[str, dict[str, str]] = {}
    for step in ctx.spec.all_steps:
        try:
            info = describe(step.processor, import_code=ctx.import_processors) \
                if step.processor else None
        except ProcessorNotFound:
            info = None
        declared = dict(info.outputs or {}) if info is not None else {}
        result[step.name] = {**declared, **step.outputs}
    return result
