"""``flowspec resume RUN_ID``: continue a run that was stopped (Ctrl-C) or killed.

Finished steps keep their results; an attempt that was running when the process stopped is
recorded as interrupted and the step runs again (``on_interrupt: fail`` opts out), so the run
ends as an uninterrupted one would. Output and exit codes are those of ``flowspec run``.
"""

from __future__ import annotations

import argparse

from engine.cli.run import (
    EXIT_USAGE,
    add_run_id_argument,
    add_run_options,
    drive,
    fail,
    stored_run,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_id_argument(p)
    add_run_options(p)


def main(args: argparse.Namespace) -> int:
    from engine.local import aresume
    from engine.store import StoreError
    from engine.store.records import RUN_ACTIVE

    try:
        with stored_run(args) as (store, run_id):
            phase = store.run_record(run_id).phase
            if phase not in RUN_ACTIVE:
                return fail("resume", f"run {run_id} already finished ({phase}); "
                                      f"see it with: flowspec show {run_id}", EXIT_USAGE)
            return drive("resume", run_id, args.format, lambda observer: aresume(
                run_id, store=store, max_parallel=args.max_parallel, observer=observer))
    except StoreError as exc:
        return fail("resume", str(exc))
