"""``flowspec retry RUN_ID [--from STEP]``: run a finished run's failed part again, as
``argo retry`` does.

The Failed and Error steps and every step after them run again (``--from STEP``: that step
and every step after it, whatever their phase), and so do the ``finally`` steps; the steps
that succeeded elsewhere keep their results and are not run. The earlier attempts stay in the
run's history (``flowspec show --events``); the retried steps' attempts go on numbering after
them, with a fresh retry budget. Output and exit codes are those of ``flowspec run``.
"""

from __future__ import annotations

import argparse

from engine.cli.run import add_run_id_argument, add_run_options, drive, fail, stored_run


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_id_argument(p)
    p.add_argument("--from", dest="from_step", metavar="STEP",
                   help="run this step and every step after it again, whatever their phase")
    add_run_options(p)


def main(args: argparse.Namespace) -> int:
    from engine.local import aretry
    from engine.store import StoreError

    try:
        with stored_run(args) as (store, run_id):
            return drive("retry", run_id, args.format, lambda observer: aretry(
                run_id, store=store, from_step=args.from_step, max_parallel=args.max_parallel,
                observer=observer))
    except StoreError as exc:
        return fail("retry", str(exc))
