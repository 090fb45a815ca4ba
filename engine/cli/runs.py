"""``flowspec runs``: the run history, newest first, filtered by workflow, phase and age."""

from __future__ import annotations

import argparse
import json
import sys
import time

from engine.cli.common import moment
from engine.cli.run import EXIT_OK, add_store_argument, fail, positive_int

#: phases a run is shown in; Running and Interrupted are told apart by the run's lease
PHASES = ("Running", "Interrupted", "Succeeded", "Failed", "Error")
#: enough runs to filter by a lease-derived phase in Python; there are never many unfinished
_ACTIVE_SCAN = 10_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)
    p.add_argument("--workflow", metavar="NAME", help="only runs of this workflow")
    p.add_argument("--phase", choices=PHASES, action="append", default=[],
                   help="only runs in this phase (repeatable)")
    p.add_argument("--since", type=moment, metavar="AGE|DATE",
                   help="only runs started since then: an age (12h, 7d) or a date (2026-12-01)")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N",
                   help="how many runs to list (default 20)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def main(args: argparse.Namespace) -> int:
    from engine.executor.result import iso8601
    from engine.store import StoreError, open_store
    from engine.store.lease import shown_phase
    from engine.store.records import RUN_ACTIVE

    wanted = set(args.phase)
    lease_derived = bool(wanted & set(RUN_ACTIVE))
    stored = sorted(wanted | (set(RUN_ACTIVE) if lease_derived else set()))
    try:
        store = open_store(args.db, create=False)
        try:
            listed = store.list_runs(_ACTIVE_SCAN if lease_derived else args.limit,
                                     workflow=args.workflow, phases=stored, since=args.since)
        finally:
            store.close()
    except StoreError as exc:
        return fail("runs", str(exc))
    now = time.time()
    rows: list[dict[str, object]] = []
    for run, counts in listed:
        phase = shown_phase(run.phase, run.lease_owner, run.lease_expires, now)
        if wanted and phase not in wanted:
            continue
        end = run.finished_at if run.finished_at else (now if phase == "Running" else None)
        rows.append({"run_id": run.run_id, "workflow": run.workflow, "phase": phase,
                     "created_at": iso8601(run.created_at),
                     "finished_at": iso8601(run.finished_at),
                     "duration": None if end is None else end - run.created_at,
                     "steps": counts, "message": run.message, "_created": run.created_at})
    rows = rows[: args.limit]
    if args.format == "json":
        json.dump([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
                  sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    if not rows:
        filtered = args.workflow or args.phase or args.since is not None
        print("no runs match" if filtered else "no runs yet; start one with: flowspec run SPEC")
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
        created = row["_created"]
        assert isinstance(created, float)
        took = row["duration"]
        table.add_row(str(row["run_id"]), str(row["workflow"]),
                      f"[{_STYLE.get(phase, '')}]{phase}[/]",
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)),
                      duration(took if isinstance(took, float) else None), steps)
    Console(highlight=False, width=None if sys.stdout.isatty() else 140).print(table)
