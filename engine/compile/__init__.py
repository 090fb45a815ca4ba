"""Compiling a spec to Argo Workflows (through Hera's models) and checking what we emit.

``compile_spec(spec, kind=..., params=...)`` returns the Hera object; ``build(...)`` returns
a ``Compiled`` with the manifest dict and fast YAML; ``checks`` validates a manifest against
Argo's JSON Schema, its v4 CRDs and their CEL rules. Hera is imported only when something is
compiled.

The public API promises ``engine.compile(spec, kind=...)``. Once this package is imported,
``engine.compile`` *is* this module (the import system sets the attribute), so the module
itself is made callable: ``engine.compile(spec)`` is ``compile_spec(spec)`` whatever was
imported first.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from typing import Any

from engine.compile.argo import KINDS, Compiled, build, compile_spec

__all__ = ["KINDS", "Compiled", "build", "compile_spec"]


class _CallableModule(types.ModuleType):
    def __call__(self, spec: Any, kind: str = "Workflow",
                 params: Mapping[str, Any] | None = None) -> Any:
        return compile_spec(spec, kind=kind, params=params)


sys.modules[__name__].__class__ = _CallableModule
