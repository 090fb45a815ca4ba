"""flowspec: declarative YAML workflows with Argo's semantics, locally and on Argo.

The public API, imported lazily so that ``import engine`` stays cheap for the validator:

- ``load(path_or_text) -> Spec`` raises ``SpecError`` carrying every diagnostic;
- ``validate(path_or_text) -> list[Diagnostic]``;
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
    "load",
    "resume",
    "run",
    "validate",
]


def load(path_or_text: str | os.PathLike[str]) -> Spec:
    from engine.validation import load_spec

    return load_spec(path_or_text)


def validate(path_or_text: str | os.PathLike[str]) -> list[Diagnostic]:
    from engine.loader import load_text
    from engine.validation import check_loaded, validate_file

    text = str(path_or_text)
    if isinstance(path_or_text, os.PathLike) or ("\n" not in text and os.path.isfile(text)):
        return validate_file(text)
    return check_loaded(*load_text(text))[1]


def __getattr__(name: str) -> Any:
    if name in ("run", "arun", "resume", "aresume"):
        from engine import local

        return getattr(local, name)
    if name == "compile":
        from engine.compile import compile_spec

        return compile_spec
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
