"""What a harness run produced: the workflow's phase and every node, the way Argo's status has it.

A node is one DAG task (``main``'s or the exit handler's), one fan-out child (``task(0:x)``)
or one retry attempt of either; ``WorkflowResult.nodes`` holds tasks and fan-out children by
their display name, and each keeps its attempts, so a test reads ``result.node("merge")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SavedArtifact:
    """An output artifact the wait step put in the repository: its S3 key and exact bytes."""

    name: str
    key: str
    data: bytes
    archive: str  # "none" or "tgz": how ``data`` holds the file
    global_name: str | None = None


@dataclass
class Attempt:
    """One pod: what it was started with and what came out of it."""

    pod_name: str
    phase: str
    exit_code: int | None
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, SavedArtifact] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    backoff_seconds: float | None = None  # the wait Argo would have made before the next try
    duration: float = 0.0  # seconds the pod ran, init to wait


@dataclass
class Node:
    """A task or a fan-out child: its final phase, the attempt that decided it, its children."""

    name: str  # display name: task, or task(i:desc) for a fan-out child
    phase: str
    message: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)  # fan-out children, in item order
    template: str | None = None

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def exit_code(self) -> int | None:
        return self.last.exit_code if self.last else None

    @property
    def outputs(self) -> dict[str, str]:
        """Output parameters; Argo keeps them only for a node that succeeded or failed."""
        return self.last.outputs if self.last else {}

    @property
    def artifacts(self) -> dict[str, SavedArtifact]:
        return self.last.artifacts if self.last else {}

    @property
    def stdout(self) -> str:
        return self.last.stdout if self.last else ""

    @property
    def stderr(self) -> str:
        return self.last.stderr if self.last else ""


@dataclass
class WorkflowResult:
    name: str
    uid: str
    phase: str  # the workflow's: main's phase, made Failed/Error by a failing exit handler
    main_phase: str  # what ``{{workflow.status}}`` said inside the exit handler
    nodes: dict[str, Node] = field(default_factory=dict)  # main's tasks and fan-out children
    exit_nodes: dict[str, Node] = field(default_factory=dict)  # the exit handler's
    global_parameters: dict[str, str] = field(default_factory=dict)
    global_artifacts: dict[str, SavedArtifact] = field(default_factory=dict)
    message: str = ""

    def node(self, name: str) -> Node:
        """A node of main or of the exit handler by display name."""
        found = self.nodes.get(name) or self.exit_nodes.get(name)
        if found is None:
            known = sorted({*self.nodes, *self.exit_nodes})
            raise KeyError(f"no node {name!r} in workflow {self.name}; nodes: {known}")
        return found

    def all_nodes(self) -> dict[str, Node]:
        return {**self.nodes, **self.exit_nodes}

    def summary(self) -> dict[str, Any]:
        """Phases by node name: what a failing assertion prints first."""
        return {"phase": self.phase, "message": self.message,
                **{n: node.phase for n, node in self.all_nodes().items()}}
