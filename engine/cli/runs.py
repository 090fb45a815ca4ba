"""``flowspec runs``: the run history, newest first."""

from __future__ import annotations

import argparse
import json
import sys
import time

from engine.cli.run import EXIT_OK, add_store_argument, fail, positive_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)
    p.add_argument("--limit", type=positive_int, default=20, metavar="N",
                   help="how many runs to list (default 20)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def main(args: argparse.Namespace) -> int:
    from engine.store import StoreError, open_store
    from engine.store.lease import shown_phase

    try:
        store = open_store(args.db, create=False)
        try:
            listed = store.list_runs(args.limit)
        finally:
            store.close()
    except StoreError as exc:
        return fail("runs", str(exc))
    now = time.time()
    rows = []
    for run, counts in listed:
        phase = shown_phase(run.phase, run.lease_owner, run.lease_expires, now)
        end = run.finished_at if run.finished_at else (now if phase == "Running" else None)
        rows.append({"run_id": run.run_id, "workflow": run.workflow, "phase": phase,
                     "created_at": run.created_at, "finished_at": run.finished_at,
                     "duration": None if end is None else end - run.created_at,
                     "steps": counts, "message": run.message})
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    if not rows:
        print("no runs yet; start one with: flowspec run SPEC")
        return EXIT_OK
    _table(rows)
    return EXIT_OK


def _table(rows: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from engine.cli.progress import _STYLE, duration

    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("RUN ID", "WORKFLOW", "PHASE", "STARTED", "DURATION", "STEPS"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        counts = row["steps"]
        assert isinstance(counts, dict)
        steps = ", ".join(f"{n} {phase.lower()}" for phase, n in sorted(counts.items()))
        phase = str(row["phase"])
        created = row["created_at"]
        assert isinstance(created, float)
        took = row["duration"]
        table.add_row(str(row["run_id"]), str(row["workflow"]),
                      f"[{_STYLE.get(phase, '')}]{phase}[/]",
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)),
                      duration(took if isinstance(took, float) else None), steps)
    Console(highlight=False, width=None if sys.stdout.isatty() else 140).print(table)
