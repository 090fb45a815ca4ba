"""Step results between Argo pods: written as an artifact by one pod, read back by another.

A step's result is what the local executor keeps of a finished attempt: its phase, outputs,
data and error, as gzipped canonical JSON (``contract.result_path``). Argo saves it as the
output artifact ``flowspec-result`` and hands it to every step that reads results, at
``contract.result_input_path``. What a pod then knows of an ancestor:

- one that ran left its result (the phase it ended in included), as an artifact or, with
  ``argo.store``, in the store;
- one that did not run (Skipped, Omitted) left none: in the main DAG its phase arrives in the
  ``ancestors`` parameter (``{{tasks.X.status}}``), and a fan-out ancestor's outputs as the
  parameters Argo aggregates;
- an exit handler's DAG cannot name the main DAG's tasks, so a ``finally`` step works the
  phase of a main step that left no result out the way the executor decided it, with the
  executor's own ``decide`` over what the others left: Omitted, Skipped, or Error for a step
  that should have run (its pod was lost before it could write anything).

Paths in a result are the producer's: a ``file`` output is re-pointed at the copy Argo put
in this pod, or null when this pod was not handed it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.canonical import dumps
from engine.compile import contract as c
from engine.model import Spec, Step
from engine.processors import Upstream

#: Phases a step that ran ends in; Skipped and Omitted steps never write a result.
_RAN = frozenset({"Succeeded", "Failed", "Error"})


def write_result(root: str, phase: str, outputs: Mapping[str, Any], data: Mapping[str, Any],
                 error: str | None) -> None:
    """The attempt's result, for Argo to save as the step's output artifact."""
    path = Path(c.result_path(root))
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"phase": phase, "outputs": dict(outputs), "data": dict(data), "error": error}
    path.write_bytes(gzip.compress(dumps(body).encode("utf-8"), compresslevel=6, mtime=0))


def read_result(path: Path) -> Upstream | None:
    """The result another pod wrote, or None when Argo did not hand it over."""
    if not path.is_file():
        return None
    try:
        body = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"the result artifact {path} is damaged: {exc}") from None
    if not isinstance(body, dict) or body.get("phase") not in _RAN:
        raise ValueError(f"the result artifact {path} is not a flowspec step result")
    return Upstream(body["phase"], body.get("outputs") or {}, body.get("data") or {},
                    body.get("error"))


def parse_phases(text: str | None) -> dict[str, str]:
    """``a=Succeeded,b=Skipped`` (the ``ancestors`` parameter) -> ``{a: Succeeded, ...}``."""
    found = {}
    for pair in (text or "").split(","):
        name, sep, phase = pair.partition("=")
        if sep and phase and "{{" not in phase:
            found[name] = phase
    return found


def upstream(spec: Spec, step: Step, root: str, names: list[str], phases: Mapping[str, str],
             fan_out_outputs: Mapping[str, Mapping[str, Any]],
             output_types: Mapping[str, Mapping[str, str]],
             params: Mapping[str, Any],
             stored: Mapping[str, Upstream] | None = None) -> dict[str, Upstream]:
    """``context.upstream`` of ``step``: each of ``names`` (its visible ancestors, in order)
    as the executor would hand it over. ``stored``: the results the workflow's store holds,
    read instead of result artifacts (``argo.store``)."""
    found: dict[str, Upstream] = {}
    for name in names:
        if stored is None:
            result = read_result(Path(c.result_input_path(root, name)))
        else:
            result = stored.get(name)
            result = result if result is not None and result.phase in _RAN else None
        if result is not None:
            found[name] = repointed(root, name, result, output_types)
        elif name in phases:
            found[name] = Upstream(phases[name], dict(fan_out_outputs.get(name, {})), {})
    if step.is_finally:
        missing = [s for s in spec.steps if s.name not in found]
        for name, phase in _replayed(spec, missing, found, params).items():
            found[name] = Upstream(phase, {}, {})
        return {name: found[name] for name in names if name in found}
    return found


def repointed(root: str, name: str, result: Upstream,
              output_types: Mapping[str, Mapping[str, str]]) -> Upstream:
    """``result`` of step ``name`` with each ``file`` output naming the copy in this pod (or
    null when the pod was not handed it) instead of the producer's path."""
    from engine.executor.files import FILE

    files = [o for o, t in output_types.get(name, {}).items() if t == FILE]
    if not files or not result.outputs:
        return result
    outputs = dict(result.outputs)
    for output in files:
        copy = Path(c.file_input_path(root, name, output))
        outputs[output] = str(copy) if copy.is_file() and outputs.get(output) else None
    return Upstream(result.phase, outputs, result.data, result.error)


def _replayed(spec: Spec, missing: list[Step], known: Mapping[str, Upstream],
              params: Mapping[str, Any]) -> dict[str, str]:
    """The phases of main steps that left no result, decided in the DAG's order (a step after
    everything it waits for) from what the others left."""
    import networkx as nx

    from engine.executor.decide import OMIT, SKIP, decide
    from engine.expr.depends import TaskState
    from engine.expr.evaluate import StepValues, Values

    if not missing:
        return {}
    def state(name: str, phase: str) -> TaskState:
        step = spec.step(name)
        return TaskState(phase, step.continue_on.failed, step.continue_on.error)

    states = {name: state(name, up.phase) for name, up in known.items()}
    # what a `when` reads: the outputs of the steps that left a result, which replay does
    # not change
    values = Values(params=params, steps={
        other: StepValues(up.phase, up.outputs if up.phase == "Succeeded" else {})
        for other, up in known.items()})
    decided: dict[str, str] = {}
    todo = {s.name for s in missing}
    for name in nx.topological_sort(spec.graph):
        if name not in todo:
            continue
        action = decide(spec.step(name), states, lambda: values).action
        phase = "Omitted" if action == OMIT else "Skipped" if action == SKIP else "Error"
        decided[name] = phase
        states[name] = state(name, phase)
    return decided
