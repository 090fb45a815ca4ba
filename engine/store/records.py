"""What the store holds, as plain records shared by every store and by ``flowspec show``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from engine.process_group import GroupId

#: Run phases are Argo's workflow phases, plus Interrupted for a run stopped before it
#: finished (Ctrl-C, a store error); ``flowspec resume`` continues the runs in RUN_ACTIVE.
RUN_ACTIVE = ("Running", "Interrupted")


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    workflow: str
    spec_file: str
    spec_text: str
    spec_hash: str
    params: dict[str, Any]
    workdir: str
    max_parallel: int
    phase: str
    created_at: float
    message: str | None = None
    finished_at: float | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None
    #: the folder of the run's files; None: ``<workdir>/.flowspec/runs/<run_id>``
    files_dir: str | None = None


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A finished node: a step, a for_each group (``parent`` None) or one of its instances."""

    name: str
    step: str
    phase: str
    attempts: int
    finished_at: float
    started_at: float | None = None
    message: str | None = None
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    node: str
    attempt: int
    phase: str
    started_at: float
    finished_at: float | None = None
    outputs: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    error: str | None = None
    error_type: str | None = None
    #: this attempt decided the node's phase (no retry followed it)
    final: bool = False
    #: of the result as stored (``engine.canonical.result_digest``), when read from the text
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    at: float
    kind: str
    node: str | None
    attempt: int | None
    phase: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line an attempt wrote (``engine.executor.logs``), masked, without its newline.

    ``seq`` numbers an attempt's lines from 1 in the order they were written, both streams
    together; a number missing between two lines is a line the size cap dropped. ``stream``
    is ``stdout``, ``stderr``, or ``flowspec`` for what flowspec says in the log (the cut).
    """

    node: str
    attempt: int
    seq: int
    stream: str
    at: float
    text: str


#: Lines ``seq`` first..last of an attempt that the size cap dropped: ``(node, attempt, first,
#: last)``; the store deletes them, and the cut's own line takes the number ``first``.
LogCut = tuple[str, int, int, int]


@dataclass(slots=True)
class RunState:
    """Everything recorded about one run: what resume replays and what show prints."""

    run: RunRecord
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    attempts: dict[str, list[AttemptRecord]] = field(default_factory=dict)
    #: the process groups each (node, attempt) started
    groups: dict[tuple[str, int], list[GroupId]] = field(default_factory=dict)
    #: ``flowspec retry``: node -> its last attempt before it was reset; those attempts are
    #: history, and the node's retry budget and phase start afresh after them
    retired: dict[str, int] = field(default_factory=dict)

    def live_attempts(self, node: str) -> list[AttemptRecord]:
        """The node's attempts since it was last reset (all of them if it never was)."""
        tries = self.attempts.get(node, [])
        after = self.retired.get(node)
        return tries if after is None else [t for t in tries if t.attempt > after]


#: State changes the executor hands to ``Store.write``, one commit for a batch of them:
#: ("start", node, attempt, at),
#: ("end", node, attempt, phase, at, outputs_json, data_json, error, error_type, final),
#: ("node", NodeRecord) for a node that finished without an attempt of its own,
#: ("group", node, attempt, at, GroupId) for a process group an attempt started.
StartOp = tuple[Literal["start"], str, int, float]
EndOp = tuple[Literal["end"], str, int, str, float, str | None, str | None, str | None,
              str | None, bool]
NodeOp = tuple[Literal["node"], NodeRecord]
GroupOp = tuple[Literal["group"], str, int, float, GroupId]
Op = StartOp | EndOp | NodeOp | GroupOp
