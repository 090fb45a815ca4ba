"""What a run produced, the same whether it was just run or read back from the store.

``RunResult.document()`` is the JSON of ``flowspec show --format json`` and
``flowspec run --format json``: ``{run_id, phase, steps: {NAME: {phase, attempts, outputs,
error}}}`` plus timings. Instances of a for_each step appear as ``step(i:item)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.executor.phases import SUCCEEDED


@dataclass(frozen=True, slots=True)
class StepReport:
    name: str
    phase: str
    attempts: int = 0
    outputs: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    parent: str | None = None

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    def document(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "attempts": self.attempts,
            "outputs": dict(self.outputs),
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": self.duration,
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    workflow: str
    phase: str
    steps: Mapping[str, StepReport]
    params: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    store: str = "memory"

    @property
    def succeeded(self) -> bool:
        return self.phase == SUCCEEDED

    @property
    def outputs(self) -> dict[str, Mapping[str, Any]]:
        """Outputs by step name: the usual thing a caller wants from a finished run."""
        return {name: step.outputs for name, step in self.steps.items()}

    def counts(self) -> dict[str, int]:
        """How many steps (instances aside) ended in each phase."""
        counts: dict[str, int] = {}
        for step in self.steps.values():
            if step.parent is None:
                counts[step.phase] = counts.get(step.phase, 0) + 1
        return counts

    def document(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "workflow": self.workflow,
            "phase": self.phase,
            "message": self.message,
            "params": dict(self.params),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "steps": {name: step.document() for name, step in self.steps.items()},
        }
