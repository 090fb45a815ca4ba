"""The workflow's phase from its leaf steps, exactly as Argo's ``assessDAGPhase`` finds it.

A breadth-first walk from the root steps carries a *branch phase*: a step that completed
(Succeeded, Failed, Error) sets it, a Skipped or Omitted one passes on what it received. Each
(step, branch phase) pair is visited once, so one step reached through a failed and through a
succeeded branch is visited twice. A leaf keeps the first Failed or Error that reaches it.
Then leaves are read in name order: the first Failed/Error one that its own ``continue_on``
does not cover decides (failFast). Where Argo's order depends on node creation order, ours is
spec order, so the answer is always the same.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

from engine.executor.phases import (
    COMPLETED,
    ERROR,
    FAILED,
    FAILED_OR_ERROR,
    FULFILLED,
    RUNNING,
    SUCCEEDED,
)
from engine.model import Step


def continues_on(step: Step, phase: str) -> bool:
    """Argo's ``DAGTask.ContinuesOn``."""
    return ((phase == ERROR and step.continue_on.error)
            or (phase == FAILED and step.continue_on.failed))


def assess_phase(steps: Sequence[Step], parents: Mapping[str, Sequence[str]],
                 phases: Mapping[str, str]) -> str:
    """Succeeded, Failed, Error, or Running while a reachable step is not fulfilled.

    ``steps`` in spec order; ``parents`` maps each step to the steps it waits for; ``phases``
    holds the phase of every step that has a node.
    """
    if all(p == SUCCEEDED for p in phases.values()) and len(phases) == len(steps):
        return SUCCEEDED  # no branch can carry a failure: the walk would find nothing
    children: dict[str, list[str]] = {s.name: [] for s in steps}
    for s in steps:
        for parent in dict.fromkeys(parents.get(s.name, ())):
            if parent in children and parent != s.name:
                children[parent].append(s.name)
    roots = [s.name for s in steps if not any(p in children for p in parents.get(s.name, ()))]
    leaves = sorted(name for name, kids in children.items() if not kids)
    target: dict[str, str] = dict.fromkeys(leaves, "")

    queue = deque((name, SUCCEEDED) for name in roots)
    seen = set(queue)
    while queue:
        name, branch = queue.popleft()
        phase = phases.get(name)
        if phase is None:
            continue  # no node yet: Argo's walk never reaches it
        if phase not in FULFILLED:
            return RUNNING
        if phase in COMPLETED:
            branch = phase
        if name in target and target[name] not in FAILED_OR_ERROR:
            target[name] = branch
        for child in children[name]:
            pair = (child, branch)
            if pair not in seen:
                seen.add(pair)
                queue.append(pair)

    by_name = {s.name: s for s in steps}
    result = SUCCEEDED
    for name in leaves:
        branch = target[name]
        if branch == "":
            result = RUNNING
        elif branch in FAILED_OR_ERROR:
            if continues_on(by_name[name], branch):
                continue
            return branch
    return result


def with_finally(workflow: str, finally_phase: str | None) -> str:
    """A failing ``finally`` turns a Succeeded workflow Failed (or Error), never the reverse."""
    if workflow == SUCCEEDED and finally_phase in FAILED_OR_ERROR:
        return finally_phase
    return workflow
