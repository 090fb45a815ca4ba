"""Functions the example specs call through the built-in ``python`` processor."""

from __future__ import annotations

from typing import Any

from engine.processors import StepContext


def merge_counts(context: StepContext, sources: list[str]) -> dict[str, Any]:
    """Adds the ``rows`` output of every named upstream step that succeeded."""
    total = 0
    for name in sources:
        rows = context.outputs_of(name).get("rows")
        if isinstance(rows, int):
            total += rows
    return {"total": total}
