"""``engine.run`` / ``engine.arun``: run a spec locally; ``engine.resume`` continues a stored run.

The module is ``engine.local`` so that importing it never replaces the function ``engine.run``.

Without ``store`` nothing is written (fastest; the run cannot be resumed). With a store URL
(``sqlite:///PATH``, ``postgresql+psycopg://...``) or an open store, every state change is
committed before the executor acts on it, and ``resume(run_id, store=...)`` continues a run
that was stopped or killed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.executor.loop import Execution, Observer
from engine.executor.phases import FAILED_OR_ERROR
from engine.executor.result import RunResult
from engine.model import Spec
from engine.run_id import new_run_id
from engine.store import Store, open_store
from engine.store.errors import NothingToRetry, RunBusy, StoreError
from engine.store.memory import MemoryStore
from engine.store.records import RUN_ACTIVE, RunRecord, RunState

__all__ = ["RunResult", "aresume", "aretry", "arun", "resume", "retry", "run"]

def _as_spec(spec: Spec | str | os.PathLike[str]) -> Spec:
    if isinstance(spec, Spec):
        return spec
    from engine.validation import load_spec_file

    return load_spec_file(spec)


def _open(store: Store | str | None) -> tuple[Store, bool]:
    """The store to use and whether we opened it (and so must close it)."""
    if store is None:
        return MemoryStore(), True
    if isinstance(store, str):
        return open_store(store), True
    return store, False


async def arun(spec: Spec | str | os.PathLike[str], params: Mapping[str, Any] | None = None, *,
               store: Store | str | None = None, max_parallel: int | None = None,
               secrets: Mapping[str, str] | None = None, workdir: str | Path | None = None,
               observer: Observer | None = None, run_id: str | None = None,
               output_dir: str | Path | None = None) -> RunResult:
    """Run ``spec`` (a Spec, a path or YAML text) with ``params`` (typed values or text).

    The files its steps write are kept under ``output_dir/RUN_ID`` (default
    ``WORKDIR/.flowspec/runs``); a ``file`` param is read from ``workdir`` when relative.

    Raises engine.diagnostics.SpecError for an invalid spec, engine.params.ParamError for bad
    params and engine.store.StoreError when the store cannot be used; a failing step is not
    an exception, it is in the result (``result.phase``, ``result.steps``).
    """
    from engine.executor.files import DEFAULT_FOLDER
    from engine.params import local_files, resolve_params

    spec = _as_spec(spec)
    where = Path(workdir) if workdir is not None else Path.cwd()
    values = local_files(spec, resolve_params(spec, params or {}), where)
    opened, owned = _open(store)
    try:
        run_id = run_id or new_run_id(spec.name)
        now = time.time()
        limit = max_parallel or os.cpu_count() or 1
        files_dir = (Path(output_dir) if output_dir is not None else where / DEFAULT_FOLDER)
        files_dir = files_dir.absolute() / run_id
        opened.create_run(RunRecord(
            run_id=run_id, workflow=spec.name, spec_file=spec.file,
            spec_text=spec.document.source.text, spec_hash=spec.source_hash, params=values,
            workdir=str(where), max_parallel=limit, phase="Running", created_at=now,
            files_dir=str(files_dir)))
        execution = Execution(spec, values, opened, run_id, max_parallel=limit, secrets=secrets,
                              workdir=where, observer=observer, created_at=now,
                              files_dir=files_dir)
        return await execution.execute()
    finally:
        if owned:
            opened.close()


async def aresume(run_id: str, *, store: Store | str | None = None,
                  max_parallel: int | None = None, secrets: Mapping[str, str] | None = None,
                  observer: Observer | None = None) -> RunResult:
    """Continue a stored run that was stopped or killed; ``run_id`` may be a unique prefix.

    ``store`` defaults to ``$FLOWSPEC_DB``, else ``sqlite:///.flowspec/state.db``.
    """
    from engine.diagnostics import SpecError
    from engine.validation import load_spec_text

    opened, owned = (open_store(None), True) if store is None else _open(store)
    try:
        run_id = opened.resolve_run_id(run_id)
        state = opened.load_run(run_id)
        if state.run.phase not in RUN_ACTIVE:
            raise StoreError(f"run {run_id} already finished ({state.run.phase}); "
                             "nothing to resume")
        try:
            spec = load_spec_text(state.run.spec_text, name=state.run.spec_file)
        except SpecError as exc:
            raise StoreError(f"run {run_id}'s stored spec no longer validates: {exc}") from None
        opened.claim(run_id)
        state = opened.load_run(run_id)
        execution = Execution(
            spec, state.run.params, opened, run_id,
            max_parallel=max_parallel or state.run.max_parallel, secrets=secrets,
            workdir=Path(state.run.workdir), observer=observer,
            created_at=state.run.created_at, restored=state,
            files_dir=Path(state.run.files_dir) if state.run.files_dir else None)
        return await execution.execute()
    finally:
        if owned:
            opened.close()


def nodes_to_retry(spec: Spec, state: RunState, from_step: str | None = None) -> list[str]:
    """What ``flowspec retry`` runs again, as Argo's ``argo retry`` does: every Failed or
    Error step of the DAG (or ``from_step``, whatever its phase) and every step after it,
    with their fan-out instances, and the ``finally`` steps; what succeeded elsewhere keeps
    its results. Empty when there is nothing to retry."""
    import networkx as nx

    graph = spec.graph
    if from_step is not None:
        if from_step not in graph:
            from engine.diagnostics import did_you_mean

            hint = did_you_mean(from_step, list(graph)) or f"its steps: {', '.join(graph)}"
            raise NothingToRetry(f"--from {from_step}: the run's workflow has no such step; "
                                 f"{hint}")
        roots = {from_step}
    else:
        roots = {name for name in graph if state.nodes.get(name) is not None
                 and state.nodes[name].phase in FAILED_OR_ERROR}
    if not roots:
        return []
    again = set(roots).union(*(nx.descendants(graph, r) for r in roots))
    again |= {s.name for s in spec.finally_steps}
    recorded = set(state.nodes) | set(state.attempts)
    return sorted(n for n in recorded if n.partition("(")[0] in again)


async def aretry(run_id: str, *, store: Store | str | None = None, from_step: str | None = None,
                 max_parallel: int | None = None, secrets: Mapping[str, str] | None = None,
                 observer: Observer | None = None) -> RunResult:
    """Run a finished run's failed part again (``nodes_to_retry``), keeping what succeeded;
    the attempts before stay in the run's history. ``run_id`` may be a unique prefix."""
    from engine.diagnostics import SpecError
    from engine.validation import load_spec_text

    opened, owned = (open_store(None), True) if store is None else _open(store)
    try:
        run_id = opened.resolve_run_id(run_id)
        state = opened.load_run(run_id)
        if state.run.phase in RUN_ACTIVE:
            raise RunBusy(f"run {run_id} has not finished ({state.run.phase}); continue it "
                          f"with: flowspec resume {run_id}")
        try:
            spec = load_spec_text(state.run.spec_text, name=state.run.spec_file)
        except SpecError as exc:
            raise StoreError(f"run {run_id}'s stored spec no longer validates: {exc}") from None
        again = nodes_to_retry(spec, state, from_step)
        if not again:
            raise NothingToRetry(f"run {run_id} {state.run.phase}: no step failed, so nothing "
                                 "to retry; run a step and what follows it again with --from "
                                 "STEP")
        what = f"from {from_step}" if from_step else "its failed steps"
        opened.reset_nodes(run_id, again, f"retried {what}")
    finally:
        if owned:
            opened.close()
    return await aresume(run_id, store=store, max_parallel=max_parallel, secrets=secrets,
                         observer=observer)


def run(spec: Spec | str | os.PathLike[str], params: Mapping[str, Any] | None = None, *,
        store: Store | str | None = None, max_parallel: int | None = None,
        secrets: Mapping[str, str] | None = None, workdir: str | Path | None = None,
        observer: Observer | None = None, run_id: str | None = None,
        output_dir: str | Path | None = None) -> RunResult:
    """The blocking face of ``arun``; inside a running event loop, ``await arun(...)``."""
    _no_running_loop("run")
    return asyncio.run(arun(spec, params, store=store, max_parallel=max_parallel,
                            secrets=secrets, workdir=workdir, observer=observer, run_id=run_id,
                            output_dir=output_dir))


def resume(run_id: str, *, store: Store | str | None = None, max_parallel: int | None = None,
           secrets: Mapping[str, str] | None = None,
           observer: Observer | None = None) -> RunResult:
    """The blocking face of ``aresume``."""
    _no_running_loop("resume")
    return asyncio.run(aresume(run_id, store=store, max_parallel=max_parallel, secrets=secrets,
                               observer=observer))


def retry(run_id: str, *, store: Store | str | None = None, from_step: str | None = None,
          max_parallel: int | None = None, secrets: Mapping[str, str] | None = None,
          observer: Observer | None = None) -> RunResult:
    """The blocking face of ``aretry``."""
    _no_running_loop("retry")
    return asyncio.run(aretry(run_id, store=store, from_step=from_step,
                              max_parallel=max_parallel, secrets=secrets, observer=observer))


def _no_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"engine.{name}() was called inside a running event loop; "
                       f"use 'await engine.a{name}(...)' there")
