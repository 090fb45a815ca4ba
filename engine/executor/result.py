"""What a run produced, the same whether it was just run or read back from the store.

``RunResult.document()`` is the JSON of ``flowspec show --format json`` and
``flowspec run --format json``: ``{run_id, phase, steps: {NAME: {phase, attempts, outputs,
error}}}`` plus timings: moments as ISO 8601 UTC text (what every JSON reader, jq and a
person can compare), durations as seconds. Instances of a for_each step appear as
``step(i:item)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.executor.phases import FAILED_OR_ERROR, PENDING, RUNNING, SUCCEEDED
from engine.store.records import RunState


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
            "started_at": iso8601(self.started_at),
            "finished_at": iso8601(self.finished_at),
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

    def __repr__(self) -> str:
        # Short on purpose: asyncio formats the result of a run's task in some error paths,
        # and a dataclass repr of 10,000 steps costs more than running them.
        return (f"RunResult(run_id={self.run_id!r}, phase={self.phase!r}, "
                f"steps={len(self.steps)})")

    def document(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "workflow": self.workflow,
            "phase": self.phase,
            "message": self.message,
            "params": dict(self.params),
            "started_at": iso8601(self.started_at),
            "finished_at": iso8601(self.finished_at),
            "steps": {name: step.document() for name, step in self.steps.items()},
        }


def iso8601(moment: float | None) -> str | None:
    """Seconds since the epoch as ``2026-12-06T19:29:27.123Z`` (milliseconds, UTC)."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def from_state(state: RunState, step_order: Sequence[str], phase: str) -> RunResult:
    """The result as the store has it, for a finished run or one still in progress."""
    reports: dict[str, StepReport] = {}
    # instances by their step, found once: a scan per step would grow with the square of a
    # 10,000-step run
    instances_of: dict[str, list[str]] = {}
    for node in set(state.nodes) | set(state.attempts):
        step, paren, _ = node.partition("(")
        if paren:
            instances_of.setdefault(step, []).append(node)
    for name in step_order:
        reports[name] = _stored(state, name, None)
        instances = sorted(instances_of.get(name, ()), key=_index)
        for inst in instances:
            reports[inst] = _stored(state, inst, name)
        group = reports[name]
        if instances and group.phase == SUCCEEDED and not group.outputs:
            outputs: dict[str, list[Any]] = {}
            for inst in instances:
                if reports[inst].phase == SUCCEEDED:
                    for key, value in reports[inst].outputs.items():
                        outputs.setdefault(key, []).append(value)
            reports[name] = StepReport(group.name, group.phase, group.attempts, outputs,
                                       group.data, group.error, group.started_at,
                                       group.finished_at, None)
    run = state.run
    return RunResult(run_id=run.run_id, workflow=run.workflow, phase=phase, steps=reports,
                     params=run.params, message=run.message, started_at=run.created_at,
                     finished_at=run.finished_at, store="")


def _index(name: str) -> int:
    digits = name.partition("(")[2].partition(":")[0]
    return int(digits) if digits.isdigit() else 0


def _stored(state: RunState, name: str, parent: str | None) -> StepReport:
    node = state.nodes.get(name)
    tries = state.attempts.get(name, [])
    last = tries[-1] if tries else None
    if node is not None:
        final = last if last is not None and last.final else None
        return StepReport(
            name, node.phase, node.attempts,
            (final.outputs or {}) if final else {}, (final.data or {}) if final else {},
            node.message if node.phase in FAILED_OR_ERROR else None,
            node.started_at, node.finished_at, parent)
    if last is None:
        return StepReport(name, PENDING, parent=parent)
    phase = RUNNING if last.finished_at is None else PENDING
    return StepReport(name, phase, last.attempt, error=last.error,
                      started_at=tries[0].started_at, parent=parent)


def stored_steps(run: Any) -> list[Any]:
    """The steps of the run's stored spec, finally steps last."""
    from engine.loader import load_text
    from engine.model import build_spec

    doc, _ = load_text(run.spec_text, run.spec_file)
    return list(build_spec(doc).all_steps) if doc is not None else []


def stored_result(state: Any, steps: list[Any] | None = None) -> RunResult:
    """The run as stored, steps in spec order (the stored spec says which steps exist;
    ``steps`` when the caller has read them already)."""
    import time

    from engine.store.lease import shown_phase

    run = state.run
    order = [s.name for s in (stored_steps(run) if steps is None else steps)]
    known = set(order)
    order += sorted(n for n in state.nodes if n not in known and "(" not in n)
    phase = shown_phase(run.phase, run.lease_owner, run.lease_expires, time.time())
    return from_state(state, order, phase)
