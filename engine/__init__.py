"""flowspec: declarative YAML workflows with Argo's semantics, locally and on Argo.

The public API, imported lazily so that ``import engine`` stays cheap for the validator:

- ``load_file(path) -> Spec`` and ``load_text(text) -> Spec`` raise ``SpecError`` carrying
  every diagnostic (two functions: a mistyped file name must not be read as YAML text);
- ``validate_file(path)`` and ``validate_text(text)`` return ``list[Diagnostic]``;
- ``spec.graph`` is the networkx DiGraph of the steps;
- ``run(spec, params, store=...) -> RunResult`` and ``arun(...)``, its async twin (both in
  ``engine.local``: a module named ``engine.run`` would shadow the function);
- ``resume(run_id, store=...)`` and ``aresume(...)`` continue a stored run;
- ``compile(spec, kind=...)`` returns a Hera workflow (``.to_yaml()``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from engine.diagnostics import Diagnostic, SpecError

if TYPE_CHECKING:
    from engine.model import Spec

__all__ = [
    "Diagnostic",
    "SpecError",
    "aresume",
    "arun",
    "compile",
    "load_file",
    "load_text",
    "resume",
    "run",
    "validate_file",
    "validate_text",
]


def load_file(path: str | os.PathLike[str]) -> Spec:
    from engine.validation import load_spec_file

    return load_spec_file(path)


def load_text(text: str, *, name: str = "<string>") -> Spec:
    from engine.validation import load_spec_text

    return load_spec_text(text, name=name)


def validate_file(path: str | os.PathLike[str]) -> list[Diagnostic]:
    from engine.validation import validate_file as validate

    return validate(os.fspath(path))


def validate_text(text: str, *, name: str = "<string>") -> list[Diagnostic]:
    from engine.loader import load_text as load
    from engine.validation import check_loaded

    return check_loaded(*load(text, name))[1]


def __getattr__(name: str) -> Any:
    if name in ("run", "arun", "resume", "aresume"):
        from engine import local

        return getattr(local, name)
    if name == "compile":
        from engine.compile import compile_spec

        return compile_spec
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
