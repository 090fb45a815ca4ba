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
from engine.executor.result import RunResult
from engine.model import Spec
from engine.run_id import new_run_id
from engine.store import Store, open_store
from engine.store.errors import StoreError
from engine.store.memory import MemoryStore
from engine.store.records import RUN_ACTIVE, RunRecord

__all__ = ["RunResult", "aresume", "arun", "resume", "run"]

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
               observer: Observer | None = None, run_id: str | None = None) -> RunResult:
    """Run ``spec`` (a Spec, a path or YAML text) with ``params`` (typed values or text).

    Raises engine.diagnostics.SpecError for an invalid spec, engine.params.ParamError for bad
    params and engine.store.StoreError when the store cannot be used; a failing step is not
    an exception, it is in the result (``result.phase``, ``result.steps``).
    """
    from engine.params import resolve_params

    spec = _as_spec(spec)
    values = resolve_params(spec, params or {})
    opened, owned = _open(store)
    try:
        run_id = run_id or new_run_id(spec.name)
        now = time.time()
        where = Path(workdir) if workdir is not None else Path.cwd()
        limit = max_parallel or os.cpu_count() or 1
        opened.create_run(RunRecord(
            run_id=run_id, workflow=spec.name, spec_file=spec.file,
            spec_text=spec.document.source.text, spec_hash=spec.source_hash, params=values,
            workdir=str(where), max_parallel=limit, phase="Running", created_at=now))
        execution = Execution(spec, values, opened, run_id, max_parallel=limit, secrets=secrets,
                              workdir=where, observer=observer, created_at=now)
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
        resolve = getattr(opened, "resolve_run_id", None)
        run_id = resolve(run_id) if resolve is not None else run_id
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
            created_at=state.run.created_at, restored=state)
        return await execution.execute()
    finally:
        if owned:
            opened.close()


def run(spec: Spec | str | os.PathLike[str], params: Mapping[str, Any] | None = None, *,
        store: Store | str | None = None, max_parallel: int | None = None,
        secrets: Mapping[str, str] | None = None, workdir: str | Path | None = None,
        observer: Observer | None = None, run_id: str | None = None) -> RunResult:
    """The blocking face of ``arun``; inside a running event loop, ``await arun(...)``."""
    _no_running_loop("run")
    return asyncio.run(arun(spec, params, store=store, max_parallel=max_parallel,
                            secrets=secrets, workdir=workdir, observer=observer, run_id=run_id))


def resume(run_id: str, *, store: Store | str | None = None, max_parallel: int | None = None,
           secrets: Mapping[str, str] | None = None,
           observer: Observer | None = None) -> RunResult:
    """The blocking face of ``aresume``."""
    _no_running_loop("resume")
    return asyncio.run(aresume(run_id, store=store, max_parallel=max_parallel, secrets=secrets,
                               observer=observer))


def _no_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"engine.{name}() was called inside a running event loop; "
                       f"use 'await engine.a{name}(...)' there")
