"""``flowspec show RUN_ID``: one run's steps, phases, attempts, durations, errors and outputs.

``--format json`` prints ``{run_id, phase, steps: {NAME: {phase, attempts, outputs, error,
...}}}``, the same document ``flowspec run --format json`` ends with. ``--events`` prints the
run's append-only event log instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from engine.cli.run import EXIT_OK, add_run_id_argument, add_store_argument, fail, stored_run


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_id_argument(p)
    add_store_argument(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--events", action="store_true", help="print the run's event log")


def main(args: argparse.Namespace) -> int:
    from engine.store import StoreError

    try:
        with stored_run(args) as (store, run_id):
            state = store.load_run(run_id)
            events = store.events(run_id) if args.events else []
    except StoreError as exc:
        return fail("show", str(exc))
    if args.events:
        _print_events(events, args.format)
        return EXIT_OK
    from engine.executor.files import run_files
    from engine.executor.result import stored_result

    result = stored_result(state)
    kept = run_files(state.run.files_dir)
    if args.format == "json":
        document = result.document()
        document["files"] = [{"path": str(path), "bytes": size} for path, size in kept]
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
        return EXIT_OK
    from engine.cli.progress import print_summary

    run = state.run
    print(f"run       {run.run_id}")
    print(f"workflow  {run.workflow} ({run.spec_file})")
    print(f"started   {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(run.created_at))}")
    if run.params:
        print("params    " + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                                       for k, v in run.params.items()))
    print()
    print_summary(result)
    if kept and run.files_dir:
        print(f"\nfiles in {run.files_dir}")
        for path, size in kept:
            print(f"  {path.relative_to(run.files_dir)}  ({size:,} bytes)")
    if result.phase == "Interrupted":
        print(f"continue it with: flowspec resume {run.run_id}")
    return EXIT_OK


def _print_events(events: list[Any], fmt: str) -> None:
    if fmt == "json":
        json.dump([e.__dict__ if hasattr(e, "__dict__") else
                   {f: getattr(e, f) for f in e.__slots__} for e in events],
                  sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for e in events:
        when = time.strftime("%H:%M:%S", time.localtime(e.at)) + f".{int(e.at % 1 * 1000):03d}"
        what = " ".join(str(x) for x in (e.node, f"#{e.attempt}" if e.attempt else None,
                                         e.phase) if x)
        tail = f": {e.message}" if e.message else ""
        print(f"{e.seq:>6} {when} {e.kind:<11} {what}{tail}")
