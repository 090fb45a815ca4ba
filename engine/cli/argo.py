"""``flowspec argo list | logs NAME [STEP] | stop NAME | terminate NAME | retry NAME``: the
day-to-day operations on workflows already on an Argo Server, so that following up on a
``flowspec submit`` needs neither the ``argo`` CLI nor ``kubectl``.

The connection options and environment are those of ``submit`` and ``watch``. Exit 0 when
done, 1 when some of the logs asked for are gone (their pods were deleted), 2 when the
server cannot be used or the workflow or step does not exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from engine.cli.watch import add_server_arguments

_HELP = {
    "list": "the namespace's workflows, newest first: name, phase, started, duration",
    "logs": "what the pods of a workflow's steps wrote (every attempt), or of one step",
    "stop": "stop a workflow: nothing new starts, exit handlers still run (argo stop)",
    "terminate": "terminate a workflow: its pods are killed, exit handlers do not run",
    "retry": "run a Failed or Error workflow's failed steps again (argo retry)",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, help_text in _HELP.items():
        q = sub.add_parser(action, help=help_text, description=help_text)
        if action != "list":
            q.add_argument("name", help="the workflow's name")
        if action == "logs":
            q.add_argument("step", nargs="?", help="only this step's logs")
        if action == "list":
            q.add_argument("--format", choices=("text", "json"), default="text")
        add_server_arguments(q)


def main(args: argparse.Namespace) -> int:
    from engine.argo_client import ArgoError, act, list_workflows, logs
    from engine.cli.watch import connection

    try:
        conn = connection(args)
        if args.action == "list":
            return _list(list_workflows(conn), args.format)
        if args.action == "logs":
            return _logs(logs(conn, args.name, args.step))
        view = act(conn, args.action, args.name)
    except ArgoError as exc:
        print(f"flowspec: {exc}", file=sys.stderr)
        return 2
    done = {"stop": "stop requested for", "terminate": "terminate requested for",
            "retry": "retrying"}[args.action]
    print(f"flowspec: {done} workflow {view.name} in namespace {conn.namespace}; it is "
          f"{view.phase}; follow it with: flowspec watch {view.name}", file=sys.stderr)
    print(f"{view.name} {view.phase}")
    return 0


def _list(rows: list[Any], form: str) -> int:
    from engine.cli.progress import duration

    now = datetime.now(UTC)
    if form == "json":
        json.dump([{"name": r.name, "phase": r.phase, "started": r.started,
                    "finished": r.finished, "duration": r.duration(now)} for r in rows],
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print("no workflows in this namespace")
        return 0
    from rich.console import Console
    from rich.table import Table

    from engine.cli.progress import _STYLE

    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("NAME", "PHASE", "STARTED", "DURATION"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        started = (r.started or "-").replace("T", " ")[:19]
        table.add_row(r.name, f"[{_STYLE.get(r.phase, '')}]{r.phase}[/]", started,
                      duration(r.duration(now)))
    Console(highlight=False, width=None if sys.stdout.isatty() else 140).print(table)
    return 0


def _logs(found: list[Any]) -> int:
    """Each attempt's lines under a header naming its step (no header for a single pod, so
    that one step's log pipes cleanly); the pods that are gone are said on stderr (exit 1)."""
    code = 0
    for log in found:
        if len(found) > 1:
            print(f"==> {log.step} (attempt {log.attempt}, pod {log.pod}) <==")
        for line in log.lines:
            print(line)
        if log.missing:
            print(f"flowspec: no logs of {log.step} (attempt {log.attempt}): {log.missing}",
                  file=sys.stderr)
            code = 1
    return code
