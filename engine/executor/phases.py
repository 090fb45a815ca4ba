"""Node phases as Argo names them, and the groupings its controller tests with."""

from __future__ import annotations

PENDING, RUNNING = "Pending", "Running"
SUCCEEDED, FAILED, ERROR = "Succeeded", "Failed", "Error"
SKIPPED, OMITTED = "Skipped", "Omitted"

#: ``NodePhase.Fulfilled()``: the node will not change again.
FULFILLED = frozenset({SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED})
#: ``NodePhase.Completed()``: it ran (or failed to); Skipped and Omitted are not completed.
COMPLETED = frozenset({SUCCEEDED, FAILED, ERROR})
FAILED_OR_ERROR = frozenset({FAILED, ERROR})
