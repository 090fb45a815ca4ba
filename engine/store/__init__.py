"""Where runs are kept: a Store protocol, a durable SQL store and a no-op in-memory one.

``open_store(url)`` picks the URL from the argument, else ``FLOWSPEC_DB``, else the default
SQLite file ``.flowspec/state.db`` in the current folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

from engine.store.errors import LeaseLost, RunBusy, StoreError, UnknownRun
from engine.store.records import EventRecord, LogCut, LogLine, NodeRecord, Op, RunRecord, RunState

DEFAULT_URL = "sqlite:///.flowspec/state.db"
ENV_VAR = "FLOWSPEC_DB"

__all__ = [
    "DEFAULT_URL", "ENV_VAR", "LeaseLost", "LogLine", "NodeRecord", "RunBusy", "RunRecord",
    "RunState", "Store", "StoreError", "UnknownRun", "open_store", "store_url",
]


class Store(Protocol):
    """What the executor and the commands need from a store; SqlStore and MemoryStore
    implement it (mypy checks both against it, see ``_IMPLEMENTATIONS``)."""

    @property
    def durable(self) -> bool:
        """Whether anything is kept: the executor then commits each change before acting."""

    @property
    def url(self) -> str | None:
        """The database processors may share (the run store's URL); None when nothing is kept."""

    @property
    def display_url(self) -> str:
        """The URL as it may be shown (no password)."""

    @property
    def lease_seconds(self) -> float:
        """How long a run's lease lasts without renewal."""


    def create_run(self, run: RunRecord) -> None: ...
    def claim(self, run_id: str) -> None: ...
    def write(self, run_id: str, ops: Sequence[Op]) -> None: ...
    def renew(self, run_id: str) -> None: ...
    def run_ended(self, run_id: str, phase: str, message: str | None, at: float) -> None: ...
    def load_run(self, run_id: str) -> RunState: ...
    def resolve_run_id(self, text: str) -> str: ...
    def list_runs(self, limit: int = 20, *, workflow: str | None = None,
                  phases: Sequence[str] = (), since: float | None = None,
                  ) -> list[tuple[RunRecord, dict[str, int]]]: ...
    def delete_runs(self, finished_before: float, *, dry_run: bool = False) -> list[str]: ...
    def reset_nodes(self, run_id: str, nodes: Sequence[str], message: str) -> None: ...
    def request_stop(self, run_id: str, mode: str) -> str: ...
    def stop_requested(self, run_id: str) -> str | None: ...
    def events(self, run_id: str) -> list[EventRecord]: ...
    def run_record(self, run_id: str) -> RunRecord: ...
    def write_logs(self, run_id: str, lines: Sequence[LogLine],
                   cuts: Sequence[LogCut]) -> None: ...
    def read_logs(self, run_id: str, *, node: str | None = None, step: str | None = None,
                  attempt: int | None = None, after: int = 0) -> list[LogLine]: ...
    def log_marks(self, run_id: str, *, node: str | None = None, step: str | None = None,
                  attempt: int | None = None) -> dict[tuple[str, int], int]: ...
    def log_tails(self, run_id: str, last: int
                  ) -> dict[tuple[str, int], tuple[list[LogLine], int]]: ...
    def close(self) -> None: ...


def store_url(url: str | None = None) -> str:
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


def open_store(url: str | None = None, *, lease_seconds: float | None = None,
               create: bool = True) -> Store:
    """The durable store at ``url`` (see store_url); raises StoreError with a clear message.

    ``create=False`` (``runs``, ``show``, ``resume``): a SQLite file that does not exist is
    reported instead of silently created empty.
    """
    from engine.store.sql import SqlStore

    if lease_seconds is None:
        return SqlStore(store_url(url), create=create)
    return SqlStore(store_url(url), lease_seconds=lease_seconds, create=create)


def _implementations() -> None:
    """Never called: mypy checks here that each store class is a Store."""
    from engine.store.memory import MemoryStore
    from engine.store.sql import SqlStore

    _: list[Store] = [MemoryStore(), SqlStore("sqlite:///")]
