"""What a run's page shows, gathered from the store as plain JSON data.

The page is drawn by its own script from this data, so the data is the whole contract: a
``run`` header (params as stored: secrets never are; the workflow's env as the spec declares
it, a secret as its reference), ``steps`` (one per node, for_each instances included, with
the ``when``/``depends`` and the message that decided a skip or an omission, every attempt,
outputs, a summary of the free-form data, files, the tail of each attempt's log and a
processor's own section) and the DAG's ``layers`` and ``edges`` (``engine.report.layout``).

Moments are seconds after the run was created (``run.created`` is the epoch), which keeps a
10,000-step page small and the timeline's arithmetic trivial.

A processor adds its own section through the class method ``report_section(result)``
(see ``engine.processors.Processor``): it gets the step's ``StepResult`` and returns a table
as data, ``{"title", "columns", "rows", "totals"}``; the page renders it, every cell as text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.model import Step
from engine.report.layout import COLLAPSE_OVER, layout

if TYPE_CHECKING:
    from engine.executor.result import RunResult, StepReport
    from engine.store import Store
    from engine.store.records import AttemptRecord, LogLine, RunState

#: characters of one output value or data preview kept in the page; the store has the rest
MAX_TEXT = 4000
#: characters of one data key's preview in the summary
PREVIEW = 300
#: last log lines kept per attempt (the page says how many it left out)
LOG_TAIL = 200


def gather(store: Store, run_id: str) -> dict[str, Any]:
    """The page's data for one stored run (``run_id`` already resolved)."""
    from engine.executor.files import run_files
    from engine.executor.result import stored_result, stored_steps

    state = store.load_run(run_id)
    steps = stored_steps(state.run)
    result = stored_result(state, steps)
    return build(state, steps, result, store.log_tails(run_id, LOG_TAIL),
                 run_files(state.run.files_dir))


def build(state: RunState, steps: Sequence[Step], result: RunResult,
          logs: Mapping[tuple[str, int], tuple[list[LogLine], int]],
          files: Sequence[tuple[Path, int]]) -> dict[str, Any]:
    """The page's data from what the store holds (see the module docstring)."""
    run = state.run
    base = run.created_at
    by_name = {s.name: s for s in steps}
    shape = layout(steps)
    kept = _files_by_node(files, run.files_dir)
    tails = _log_tails(logs)
    workflow_env: dict[str, str] = {}
    for step in steps:
        for name, var in step.env.items():
            if var.origin == "workflow":
                workflow_env[name] = str(var.value)
    nodes = []
    for name, report in result.steps.items():
        spec_step = by_name.get(report.parent or name)
        nodes.append(_node(state, name, report, spec_step, base, kept.get(name, []),
                           tails.get(name, {})))
    return {
        "run": {
            "id": run.run_id, "workflow": run.workflow, "spec_file": run.spec_file,
            "phase": result.phase, "message": run.message, "created": base,
            "finished": _rel(run.finished_at, base), "now": time.time() - base,
            "params": {k: _clip(v) for k, v in run.params.items()},
            "env": workflow_env, "files_dir": run.files_dir,
        },
        "steps": nodes,
        "layers": shape.layers,
        "edges": shape.edges,
        "finally_from": shape.finally_from,
        "collapse_over": COLLAPSE_OVER,
    }


def _node(state: RunState, name: str, report: StepReport, step: Step | None, base: float,
          files: list[dict[str, Any]], logs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    record = state.nodes.get(name)
    retired = state.retired.get(name, 0)
    attempts = [_attempt(a, base, a.attempt <= retired, logs.get(a.attempt))
                for a in state.attempts.get(name, [])]
    node: dict[str, Any] = {
        "name": name, "parent": report.parent, "phase": report.phase,
        "message": record.message if record is not None else None,
        "error": report.error, "attempts": attempts,
        "started": _rel(report.started_at, base), "finished": _rel(report.finished_at, base),
        "outputs": {k: _clip(v) for k, v in report.outputs.items()},
        "data": [_preview(k, v) for k, v in report.data.items()],
        "files": files,
    }
    if step is not None:
        node.update({
            "processor": step.processor, "finally": step.is_finally, "when": step.when,
            "depends": step.depends, "dependencies": list(step.dependencies or ()),
            "for_each": step.for_each,
            "env": {k: [str(v.value), v.origin] for k, v in step.env.items()},
        })
        if report.parent is None:
            node["section"] = processor_section(step.processor, report)
    return node


def _attempt(a: AttemptRecord, base: float, retired: bool,
             log: dict[str, Any] | None) -> dict[str, Any]:
    return {"n": a.attempt, "phase": a.phase, "start": _rel(a.started_at, base),
            "end": _rel(a.finished_at, base), "error": a.error, "error_type": a.error_type,
            "retired": retired, "log": log}


def processor_section(ref: str, report: StepReport) -> dict[str, Any] | None:
    """The processor's own table for a step that succeeded (``report_section``), checked
    for shape; a processor that cannot be loaded or whose hook fails gets a note instead of
    taking the page down (the page is about the run, which has ended either way)."""
    from engine.processors import ProcessorNotFound, StepResult, resolve

    if report.phase != "Succeeded" or not report.data and not report.outputs:
        return None
    try:
        hook = getattr(resolve(ref), "report_section", None)
    except ProcessorNotFound:
        return None
    if hook is None:
        return None
    try:
        section = hook(StepResult(outputs=report.outputs, data=report.data))
    except Exception as exc:  # noqa: BLE001 - a processor's bug must not take the page down
        return {"title": "section unavailable", "note": f"{type(exc).__name__}: {exc}"}
    return None if section is None else _checked_section(section)


def _checked_section(section: Any) -> dict[str, Any]:
    if not isinstance(section, Mapping) or not isinstance(section.get("columns"), Sequence) \
            or not isinstance(section.get("rows"), Sequence):
        return {"title": "section unavailable",
                "note": "report_section must return a mapping with 'columns' and 'rows'"}
    return {
        "title": str(section.get("title", "")),
        "columns": [str(c) for c in section["columns"]],
        "rows": [[_cell(c) for c in row] for row in section["rows"]],
        "totals": [[str(label), _cell(value)] for label, value in section.get("totals", ())],
    }


def _cell(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else \
        json.dumps(value, ensure_ascii=False, default=str)


def _files_by_node(files: Sequence[tuple[Path, int]],
                   files_dir: str | None) -> dict[str, list[dict[str, Any]]]:
    """Files under ``files_dir/<node>/``, by node."""
    by_node: dict[str, list[dict[str, Any]]] = {}
    if not files_dir:
        return by_node
    for path, size in files:
        relative = path.relative_to(files_dir)
        if len(relative.parts) > 1:
            by_node.setdefault(relative.parts[0], []).append(
                {"path": str(path), "name": str(Path(*relative.parts[1:])), "bytes": size})
    return by_node


def _log_tails(logs: Mapping[tuple[str, int], tuple[list[LogLine], int]]
               ) -> dict[str, dict[int, dict[str, Any]]]:
    """node -> attempt -> its last ``LOG_TAIL`` lines as ``[stream, text]`` (``Store.log_tails``
    keeps no more) and how many earlier lines were left out."""
    tails: dict[str, dict[int, dict[str, Any]]] = {}
    for (node, attempt), (lines, total) in logs.items():
        tails.setdefault(node, {})[attempt] = {
            "lines": [[x.stream, x.text] for x in lines[-LOG_TAIL:]],
            "left_out": max(0, total - LOG_TAIL)}
    return tails


def _rel(moment: float | None, base: float) -> float | None:
    return None if moment is None else round(moment - base, 4)


def _clip(value: Any) -> Any:
    """A value as the page shows it: as is when small, else its JSON text cut short."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + " …"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " …"


def _preview(key: str, value: Any) -> dict[str, Any]:
    """One key of a step's free-form data: its kind, size and the start of its JSON."""
    if isinstance(value, list):
        kind = f"list of {len(value):,}"
    elif isinstance(value, dict):
        kind = f"object of {len(value):,} keys"
    else:
        kind = type(value).__name__
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return {"key": key, "kind": kind,
            "preview": text if len(text) <= PREVIEW else text[:PREVIEW] + " …"}
