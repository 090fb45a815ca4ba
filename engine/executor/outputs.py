"""A processor's return value made safe to store: declared outputs typed, the rest as data.

- A declared output must have its declared type; text is read as the type the way Argo
  parameters and ``$FLOWSPEC_OUTPUT`` lines are (``"3"`` is the integer 3), anything else of
  the wrong type fails the step with a message naming the output. A declared output the
  processor did not return is null (the contract; the in-pod runner writes it as such).
- An output the step does not declare is not dropped: it is kept in ``data`` (handed to
  descendants through ``context.upstream``/``outputs_of``), but it is not an output, so no
  condition and no Argo parameter can read it.
- A declared ``file`` output is the file the attempt wrote in its output folder
  (``engine.executor.files``); one it did not write fails the step.
- Outputs and data must be JSON and, together, at most MAX_BYTES: the store, Argo's
  parameters and every descendant's context hold them. Data is stored as JSON holds it
  (``engine.canonical``): tuples as lists, keys as text, and a NaN or infinity, which JSON has
  no way to write, as null; a declared output that is not a finite number fails instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.canonical import dumps
from engine.executor.files import FILE, MissingFile, collect
from engine.processors import StepResult
from engine.values import parse_text, type_error

#: Large enough for a 10,000-line claim's parsed form (about 7 MB of JSON), small enough that a
#: runaway processor fails its step instead of filling the store and every descendant's memory.
MAX_BYTES = 64 * 1024 * 1024


class OutputProblem(Exception):
    """The processor returned something the step cannot keep; the attempt is Failed."""


def normalise(result: Any) -> StepResult:
    if result is None:
        return StepResult()
    if isinstance(result, StepResult):
        return result
    if type(result) is dict or isinstance(result, Mapping):
        return StepResult(outputs=result)
    raise OutputProblem(f"the processor returned {type(result).__name__}; it must return a "
                        "StepResult or a dict of outputs")


def _encode(value: Any, what: str) -> str:
    if not value:
        return "{}"
    try:
        return dumps(value)
    except (TypeError, ValueError) as exc:
        raise OutputProblem(f"{what} cannot be stored as JSON: {exc}") from None


def check(result: Any, declared: Mapping[str, str],
          folder: Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Typed outputs and data, or OutputProblem; ``folder`` is where the attempt wrote its
    files."""
    res = normalise(result)
    if not declared and not res.outputs and not res.data:
        return {}, {}  # the no-op case, kept cheap
    # type() first: isinstance against the Mapping ABC costs more than the rest of a no-op step
    if (type(res.outputs) is not dict and not isinstance(res.outputs, Mapping)) or (
            type(res.data) is not dict and not isinstance(res.data, Mapping)):
        raise OutputProblem("outputs and data must be mappings of names to values")
    outputs: dict[str, Any] = {}
    data: dict[str, Any] = dict(res.data)
    for name, value in res.outputs.items():
        if not isinstance(name, str):
            raise OutputProblem(f"output names must be text, got {name!r}")
        type_name = declared.get(name)
        if type_name is None:
            data.setdefault(name, value)
            continue
        if value is not None:
            value = _typed(name, value, type_name)
        outputs[name] = value
    for name in declared:
        outputs.setdefault(name, None)
    if FILE in declared.values():
        try:
            outputs.update(collect(folder, declared, outputs))
        except MissingFile as exc:
            raise OutputProblem(str(exc)) from None
    return outputs, data


def _typed(name: str, value: Any, type_name: str) -> Any:
    if isinstance(value, str) and type_name != "string":
        try:
            return parse_text(value, type_name)
        except ValueError as exc:
            raise OutputProblem(f"output '{name}' is declared {type_name}: {exc}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise OutputProblem(f"output '{name}' is {value}, which JSON cannot hold")
    if isinstance(value, tuple) and type_name == "list":
        value = list(value)
    problem = type_error(value, type_name)
    if problem is not None:
        raise OutputProblem(f"output '{name}' {problem}")
    return value


def encode(outputs: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[str, str | None]:
    """JSON for the store, or OutputProblem when it is not JSON or too large."""
    out = _encode(outputs, "the outputs")
    dat = _encode(data, "the data") if data else None
    size = len(out) + (len(dat) if dat else 0)
    if size > MAX_BYTES:
        raise OutputProblem(
            f"outputs and data are {size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. Write large results to a file or a database "
            "and output its path or key")
    return out, dat
