"""The store of a run nobody will resume: nothing is written, so nothing is paid for.

``engine.run(spec)`` without a store uses it; the executor keeps the state it needs in memory
anyway, so this store only answers the questions a durable one would. Step logs are not
kept either: the executor does not even make lines for it (``engine.executor.logs``), unless
a live view shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.store.errors import UnknownRun
from engine.store.records import EventRecord, LogCut, LogLine, Op, RunRecord, RunState


class MemoryStore:
    durable = False
    url: str | None = None
    display_url = "memory"
    lease_seconds = 0.0

    def create_run(self, run: RunRecord) -> None:
        """Nothing to record: the executor holds the run's state itself."""

    def claim(self, run_id: str) -> None:
        raise UnknownRun(f"run {run_id} ran without a store and cannot be resumed")

    def write(self, run_id: str, ops: Sequence[Op]) -> None:
        """Nothing to record."""

    def renew(self, run_id: str) -> None:
        """No lease: nobody else can see this run."""

    def run_ended(self, run_id: str, phase: str, message: str | None, at: float) -> None:
        """Nothing to record."""

    def load_run(self, run_id: str) -> RunState:
        raise UnknownRun(f"run {run_id} ran without a store; nothing about it was kept")

    def resolve_run_id(self, text: str) -> str:
        raise UnknownRun(f"no run '{text}': runs without a store are not kept")

    def list_runs(self, limit: int = 20, *, workflow: str | None = None,
                  phases: Sequence[str] = (), since: float | None = None,
                  ) -> list[tuple[RunRecord, dict[str, int]]]:
        return []

    def delete_runs(self, finished_before: float, *, dry_run: bool = False) -> list[str]:
        return []

    def request_stop(self, run_id: str, mode: str) -> str:
        raise UnknownRun(f"run {run_id} runs without a store: stop it where it runs (Ctrl-C)")

    def stop_requested(self, run_id: str) -> str | None:
        return None

    def reset_nodes(self, run_id: str, nodes: Sequence[str], message: str) -> None:
        raise UnknownRun(f"run {run_id} ran without a store and cannot be retried")

    def events(self, run_id: str) -> list[EventRecord]:
        return []

    def run_record(self, run_id: str) -> RunRecord:
        raise UnknownRun(f"run {run_id} ran without a store; nothing about it was kept")

    def write_logs(self, run_id: str, lines: Sequence[LogLine],
                   cuts: Sequence[LogCut]) -> None:
        """Nothing to record."""

    def read_logs(self, run_id: str, *, node: str | None = None, step: str | None = None,
                  attempt: int | None = None, after: int = 0) -> list[LogLine]:
        return []

    def log_marks(self, run_id: str, *, node: str | None = None, step: str | None = None,
                  attempt: int | None = None) -> dict[tuple[str, int], int]:
        return {}

    def log_tails(self, run_id: str, last: int
                  ) -> dict[tuple[str, int], tuple[list[LogLine], int]]:
        return {}

    def close(self) -> None:
        """Nothing to release."""
