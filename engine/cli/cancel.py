"""``flowspec cancel RUN_ID [--terminate]``: stop a run from another terminal, as ``argo stop``
(and ``argo terminate``) do.

The request is kept in the store; the process running the run sees it within a second, stops
its running attempts (their process groups included) and records them Failed, starts nothing
new, runs the ``finally`` steps (not with ``--terminate``) and ends the run Failed. A run that
nobody is running (Interrupted: its process was killed) is stopped here, by resuming it with
the request already in place. Exit 0 once the run has ended; 2 when it had already finished.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from engine.cli.run import (
    EXIT_OK,
    EXIT_USAGE,
    add_run_id_argument,
    add_store_argument,
    fail,
    stored_run,
)

if TYPE_CHECKING:
    from engine.store import Store

#: how long to wait for the running process to obey before saying it has not
WAIT_SECONDS = 60.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_id_argument(p)
    p.add_argument("--terminate", action="store_true",
                   help="do not run the finally steps either (argo terminate)")
    p.add_argument("--no-wait", action="store_true",
                   help="ask and return; the run stops within a second")
    add_store_argument(p)


def main(args: argparse.Namespace) -> int:
    from engine.store import StoreError
    from engine.store.lease import shown_phase
    from engine.store.records import RUN_ACTIVE

    mode = "terminate" if args.terminate else "stop"
    try:
        with stored_run(args) as (store, run_id):
            phase = store.request_stop(run_id, mode)
            if phase not in RUN_ACTIVE:
                return fail("cancel", f"run {run_id} already finished ({phase})", EXIT_USAGE)
            run = store.run_record(run_id)
            if shown_phase(run.phase, run.lease_owner, run.lease_expires,
                           time.time()) != "Running":
                return _stop_here(run_id, store)
            print(f"flowspec cancel: asked run {run_id} to {mode}", file=sys.stderr)
            if args.no_wait:
                return EXIT_OK
            deadline = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < deadline:
                run = store.run_record(run_id)  # the row alone: not the whole event log
                if run.phase not in RUN_ACTIVE:
                    print(f"run {run_id} {run.phase}: {run.message or ''}".rstrip(": "))
                    return EXIT_OK
                time.sleep(0.2)
            return fail("cancel", f"run {run_id} has not stopped after {WAIT_SECONDS:g}s; "
                                  "the request stays, and it stops when its process next looks")
    except StoreError as exc:
        return fail("cancel", str(exc))


def _stop_here(run_id: str, store: Store) -> int:
    """Nobody runs it: resume it here, where it stops at once (leftover processes of its
    killed runner stopped first, the finally steps run unless terminated)."""
    import asyncio

    from engine.local import aresume

    result = asyncio.run(aresume(run_id, store=store))
    print(f"run {run_id} {result.phase}")
    return EXIT_OK
