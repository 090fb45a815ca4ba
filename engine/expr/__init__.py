"""flowspec's expression languages: typed `when` conditions, `${{ }}` references, `depends`.

One module per stage: lexer -> parser -> ast -> check (with types) -> evaluate / to_argo;
interpolate for env values; depends for Argo's task-result logic. Names are re-exported here
lazily, so ``import engine.expr`` costs nothing until a stage is used (the validator imports
only what it needs).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "parse_condition": "parser",
    "check_condition": "check",
    "check_reference": "check",
    "Scope": "check",
    "StepScope": "check",
    "evaluate_condition": "evaluate",
    "resolve_reference": "evaluate",
    "Values": "evaluate",
    "StepValues": "evaluate",
    "to_argo_when": "to_argo",
    "NULL_MARKER": "to_argo",
    "parse_interpolation": "interpolate",
    "check_interpolation": "interpolate",
    "render": "interpolate",
    "parse_depends": "depends",
    "depends_names": "depends",
    "evaluate_depends": "depends",
    "dependencies_to_depends": "depends",
    "to_argo_depends": "depends",
    "TaskState": "depends",
    "ExprSyntaxError": "errors",
    "ExprEvalError": "errors",
    "ExprCompileError": "errors",
    "ExprProblem": "errors",
}

__all__ = [
    "NULL_MARKER",
    "ExprCompileError",
    "ExprEvalError",
    "ExprProblem",
    "ExprSyntaxError",
    "Scope",
    "StepScope",
    "StepValues",
    "TaskState",
    "Values",
    "check_condition",
    "check_interpolation",
    "check_reference",
    "dependencies_to_depends",
    "depends_names",
    "evaluate_condition",
    "evaluate_depends",
    "parse_condition",
    "parse_depends",
    "parse_interpolation",
    "render",
    "resolve_reference",
    "to_argo_depends",
    "to_argo_when",
]

if TYPE_CHECKING:
    from .check import Scope, StepScope, check_condition, check_reference
    from .depends import (
        TaskState,
        dependencies_to_depends,
        depends_names,
        evaluate_depends,
        parse_depends,
        to_argo_depends,
    )
    from .errors import ExprCompileError, ExprEvalError, ExprProblem, ExprSyntaxError
    from .evaluate import StepValues, Values, evaluate_condition, resolve_reference
    from .interpolate import check_interpolation, parse_interpolation, render
    from .parser import parse_condition
    from .to_argo import NULL_MARKER, to_argo_when


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.expr' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
