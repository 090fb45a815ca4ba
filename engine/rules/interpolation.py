"""``${{ }}`` outside ``env``: text that looks interpolated but never is.

Only env values interpolate references; a command or a config value reaches its processor as
written (so an output can never become code: GitHub Actions' ``run:`` injection lesson). A
``${{ params.branch }}`` in a shell command is therefore a ``Bad substitution`` at run time,
and in any other config the processor receives the braces as text. Both are caught here, on
the ``${{`` itself, with the env variable that carries the value instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.diagnostics import Diagnostic, code
from engine.expr.interpolate import CLOSE, OPEN
from engine.loader import Path
from engine.model import Step
from engine.rules.context import Context

OUTSIDE_ENV = code("FS310", "`${{ }}` outside env", """
`${{ ... }}` is replaced only in env values. In a shell command or any other config value it
stays as written: the shell fails with `Bad substitution`, and other processors receive the
braces as text. This keeps data out of code (an output such as `x; rm -rf /` can never
become part of a command). Pass the value through env and read the variable:

    env: {BRANCH: ${{ params.branch }}}
    config: {command: 'git checkout "$BRANCH"'}

A command given as a list runs without a shell, so `$BRANCH` is not expanded there: read the
variable in the program, or write the command as one string.
""", silenceable=True)

#: the reference roots whose name says nothing about the value (``steps.a.outputs.n`` is A_N)
_NOISE = {"params", "steps", "outputs", "inputs", "secrets", "env", "vars", "matrix"}
_DOTTED = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")


def variable_for(reference: str) -> str:
    """The env variable name a reference's value would be passed in: ``params.branch`` ->
    ``BRANCH``, ``steps.extract.outputs.rows`` -> ``EXTRACT_ROWS``, anything else ``VALUE``."""
    if not _DOTTED.fullmatch(reference):
        return "VALUE"
    words = [w for w in reference.split(".") if w not in _NOISE] or reference.split(".")[-1:]
    return re.sub(r"\W+", "_", "_".join(words).replace("-", "_")).upper()


def _env_value(reference: str) -> str:
    """What the env entry holds: the reference, or for GitHub's ``secrets.X`` a secret."""
    if reference.startswith("secrets."):
        return "{secret: {name: <k8s secret>, key: <key>}}"
    return f"{OPEN} {reference} {CLOSE}"


def _strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every text inside a config value that holds ``${{``, with its path."""
    if isinstance(value, str):
        if OPEN in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))


def _advice(step: Step, path: Path, variable: str) -> tuple[str, str]:
    """What the text is (for the message, with what happens to it) and how the processor
    should read the variable instead."""
    if step.processor != "shell" or path[len(step.path) + 1:][:1] != ("command",):
        return ("config (the processor receives it as text)",
                f"read {variable} from the environment in the processor")
    if isinstance(path[-1], int):
        return ("a command (the program receives it as text)",
                (f"read {variable} in the program (a list command runs without a shell), or "
                 f"write the command as one string using \"${variable}\""))
    return ("a shell command (the shell fails with 'Bad substitution')",
            f"write \"${variable}\" in the command")


def _check_text(ctx: Context, step: Step, path: Path, text: str) -> Iterator[Diagnostic]:
    start = text.find(OPEN)
    while start != -1:
        close = text.find(CLOSE, start + len(OPEN))
        inner_end = len(text) if close == -1 else close
        end = len(text) if close == -1 else close + len(CLOSE)
        reference = text[start + len(OPEN): inner_end].strip()
        variable = variable_for(reference)
        where, read = _advice(step, path, variable)
        yield ctx.at_span(
            ctx.doc.text_span(path, start, end), OUTSIDE_ENV,
            f"'{OPEN} {CLOSE}' is not replaced in {where}; only env values interpolate",
            f"pass it through env: env: {{{variable}: {_env_value(reference)}}}, and {read}")
        start = text.find(OPEN, end)


def check(ctx: Context) -> Iterator[Diagnostic]:
    for step in ctx.spec.all_steps:
        config_path = (*step.path, "config")
        if config_path in ctx.doc.nodes and isinstance(ctx.doc.value_at(config_path), dict):
            for path, text in _strings(ctx.doc.value_at(config_path), config_path):
                yield from _check_text(ctx, step, path, text)
