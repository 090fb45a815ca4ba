"""Every decision Argo makes with its expression libraries, asked of the oracle.

``depends``/``dependencies`` (expr-lang over task results), ``when`` (the controller's
substitution passes, then govaluate), ``retryStrategy.expression`` and ``{{=...}}`` tags
(expr-lang with Argo's function map): the harness never evaluates an expression itself, so
what it decides is what Argo's own libraries decide (tests/parity/oracle/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .substitution import Scope, Unresolved


class Asks(Protocol):
    def ask(self, request: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TaskState:
    """What ``depends`` sees of one task of the DAG (None: no node yet)."""

    phase: str | None
    fanout: bool = False
    children: tuple[str, ...] = ()
    continue_on: Mapping[str, bool] | None = None

    def request(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.phase is not None:
            out["phase"] = self.phase
        if self.fanout:
            out["fanout"] = True
            out["children"] = list(self.children)
        if self.continue_on is not None:
            out["continueOn"] = {"failed": bool(self.continue_on.get("failed")),
                                 "error": bool(self.continue_on.get("error"))}
        return out


@dataclass(frozen=True)
class DependsAnswer:
    decision: str  # execute, omit, wait, error, invalid
    dependencies: tuple[str, ...]
    error: str = ""


@dataclass(frozen=True)
class WhenAnswer:
    decision: str  # execute, skip, error, requeue
    substituted: str = ""
    error: str = ""


class Decider:
    def __init__(self, oracle: Asks) -> None:
        self._oracle = oracle

    def depends(self, task: Mapping[str, Any], tasks: Mapping[str, TaskState]) -> DependsAnswer:
        """Argo's ``evaluateDependsLogic`` for ``task`` (``depends`` or ``dependencies``)."""
        request: dict[str, Any] = {"kind": "depends",
                                   "tasks": {n: s.request() for n, s in tasks.items()}}
        if task.get("depends"):
            request["expr"] = task["depends"]
        else:
            request["dependencies"] = list(task.get("dependencies") or [])
        answer = self._oracle.ask(request)
        return DependsAnswer(answer["decision"], tuple(answer.get("dependencies") or ()),
                             str(answer.get("error", "")))

    def when(self, when: str, scope: Scope) -> WhenAnswer:
        """The ``when`` as written, through the controller's passes and govaluate."""
        answer = self._oracle.ask({"kind": "when_template", "expr": when, "vars": dict(scope)})
        return WhenAnswer(answer["decision"], str(answer.get("substituted", "")),
                          str(answer.get("error", "")))

    def expression(self, expr: str, scope: Scope) -> str:
        """What a ``{{=expr}}`` tag renders to; Unresolved when a ``tasks.*`` value is missing."""
        answer = self._oracle.ask({"kind": "expression", "expr": expr, "vars": dict(scope)})
        if not answer.get("ok"):
            if answer.get("requeue"):
                raise Unresolved("=" + expr)
            raise ExpressionError(f"failed to evaluate expression {expr!r}: "
                                  f"{answer.get('error')}")
        return str(answer["rendered"])

    def retry(self, expr: str, last: Mapping[str, str], retries: int) -> bool:
        """``retryStrategy.expression`` with ``lastRetry.*`` and ``retries`` (operator.go)."""
        scope = {f"lastRetry.{k}": v for k, v in last.items()}
        scope["retries"] = str(retries)
        answer = self._oracle.ask({"kind": "expression", "expr": expr, "vars": scope})
        if not answer.get("ok") or not isinstance(answer.get("result"), bool):
            raise ExpressionError(f"retryStrategy.expression {expr!r}: "
                                  f"{answer.get('error') or answer.get('result')}")
        return bool(answer["result"])


class ExpressionError(Exception):
    """An expression Argo could not evaluate: the node it belongs to is Error."""

