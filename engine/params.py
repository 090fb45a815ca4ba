"""Workflow params as the user gives them (``-p k=v``, the API) checked against the spec.

One function serves ``run``, ``plan``, ``compile`` and the API, so a value accepted by one is
accepted by all, and read the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.diagnostics import did_you_mean
from engine.expr.to_argo import NULL_MARKER
from engine.model import Spec
from engine.values import parse_text, type_error


class ParamError(ValueError):
    """Every problem with the given params, one per line: first those given wrongly
    (``problems``), then the required params not given at all (``missing``), which ``plan``
    reports as a spec that cannot run yet (exit 1) rather than as a usage error (exit 2)."""

    def __init__(self, problems: Sequence[str] = (), missing: Sequence[str] = ()) -> None:
        self.problems = tuple(problems)
        self.missing = tuple(missing)
        super().__init__("\n".join([*self.problems, *self.missing]))


def parse_pairs(pairs: list[str] | None) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}``."""
    result: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ParamError([f"-p {pair!r}: expected NAME=VALUE"])
        result[name.strip()] = value
    return result


def _text_problem(value: Any) -> str | None:
    """A text no run can carry: bytes the shell could not decode as UTF-8 (Python keeps them as
    lone surrogates, which no JSON, database or Argo manifest holds), or the text that stands
    for null on Argo, which would read back as null there and as itself here."""
    if isinstance(value, str):
        if value == NULL_MARKER:
            return f"is {NULL_MARKER!r}, a text reserved for null on Argo; pass another value"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return ("is not UTF-8 text (the shell passed bytes that are not UTF-8, such as a "
                    "file name in another encoding); rename the file or pass UTF-8 text")
    elif isinstance(value, list):
        return next((p for p in map(_text_problem, value) if p), None)
    return None


#: A params file is a handful of values; anything larger is a wrong path.
MAX_PARAMS_FILE_BYTES = 1024 * 1024


def read_params_file(path: str) -> dict[str, Any]:
    """``{name: value}`` from a YAML or JSON mapping (JSON is YAML); values keep their types
    (a YAML ``3`` is the integer 3, as ``-p n=3`` reads it for an integer param)."""
    import yaml

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PARAMS_FILE_BYTES + 1)
    except OSError as exc:
        raise ParamError([f"--params-file {path}: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_PARAMS_FILE_BYTES:
        raise ParamError([(f"--params-file {path}: larger than 1 MiB; a params file is a mapping "
                          "of a few values")])
    try:
        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ParamError([f"--params-file {path}{where}: {exc.problem or exc}"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ParamError([f"--params-file {path}: not YAML or JSON text ({exc})"]) from None
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ParamError([(f"--params-file {path}: expected a mapping of param names to values, "
                          "such as 'document: claim.edi'")])
    return data


def resolve_params(spec: Spec, given: Mapping[str, Any], *, require: bool = True) -> dict[str, Any]:
    """Typed values for every declared param: given, else default; text is read by type.

    ``require=False`` (for ``plan``) leaves a missing required param as None instead of failing.
    """
    problems: list[str] = []
    missing: list[str] = []
    values: dict[str, Any] = {}
    for name in given:
        if name not in spec.params:
            hint = did_you_mean(name, spec.params) or (
                f"declared params: {', '.join(spec.params) or 'none'}")
            problems.append(f"unknown param '{name}'; {hint}")
    for name, param in spec.params.items():
        if given.get(name) is not None:  # None is "not given": resolved params read again
            raw = given[name]
            text_problem = _text_problem(raw)
            if text_problem:
                problems.append(f"param '{name}' {text_problem}")
                continue
            if isinstance(raw, str) and param.type != "string":
                try:
                    value = parse_text(raw, param.type)
                except ValueError as exc:
                    problems.append(f"param '{name}' ({param.type}): {exc}")
                    continue
            else:
                value = raw
                problem = type_error(value, param.type) or _text_problem(value)
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
            about = " ".join([f"{param.type}:", *param.description.split()]).rstrip(":")
            missing.append(f"param '{name}' ({about}) is required; pass it with "
                           f"-p {name}=VALUE")
        else:
            values[name] = None
    if problems or missing:
        raise ParamError(problems, missing)
    return values


def local_files(spec: Spec, values: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
    """``values`` with every ``file`` param made the absolute path of a readable file (a
    relative path is read from ``workdir``), or ParamError naming each one that is not."""
    problems: list[str] = []
    result = dict(values)
    for name, param in spec.params.items():
        value = values.get(name)
        if param.type != "file" or value is None:
            continue
        path = Path(value)
        path = path if path.is_absolute() else workdir / path
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            problems.append(f"param '{name}': {value} {what}; a file param is the path of a "
                            "file")
        elif not os.access(path, os.R_OK):
            problems.append(f"param '{name}': {value} cannot be read (permission denied)")
        else:
            result[name] = str(path.resolve())
    if problems:
        raise ParamError(problems)
    return result
