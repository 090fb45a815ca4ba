"""Compiling a spec to Argo Workflows (through Hera's models) and checking what we emit.

``compile_spec(spec, kind=..., params=...)`` returns the Hera object (``engine.compile``);
``build(...)`` returns a ``Compiled`` with the manifest dict and fast YAML; ``checks``
validates a manifest against Argo's JSON Schema, its v4 CRDs and their CEL rules. Hera is
imported only when something is compiled.
"""

from __future__ import annotations

from engine.compile.argo import KINDS, Compiled, build, compile_spec

__all__ = ["KINDS", "Compiled", "build", "compile_spec"]
