"""The chargeback pipeline: eight processors, reference data, and the seed's two faces.

The faces are imported lazily: the validator imports this package to find processor classes
and must not pay for hera or the executor.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ChargebackWorkflowOrchestrationAdapter", "ChargebackWorkflowOrchestrator"]


def __getattr__(name: str) -> Any:
    if name == "ChargebackWorkflowOrchestrationAdapter":
        from processors.chargeback.adapter import ChargebackWorkflowOrchestrationAdapter

        return ChargebackWorkflowOrchestrationAdapter
    if name == "ChargebackWorkflowOrchestrator":
        from processors.chargeback.orchestrator import ChargebackWorkflowOrchestrator

        return ChargebackWorkflowOrchestrator
    raise AttributeError(f"module 'processors.chargeback' has no attribute {name!r}")
