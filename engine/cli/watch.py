"""``flowspec watch NAME``: follow a workflow on an Argo Server until it ends.

Connection settings follow the Argo CLI's environment (``ARGO_SERVER``, ``ARGO_TOKEN``,
``ARGO_NAMESPACE``, ``ARGO_SECURE``, ``ARGO_BASE_HREF``, ``ARGO_INSECURE_SKIP_VERIFY``); the
token is read from the environment only, never from the command line, where other users of
the machine could see it. Progress goes to stderr (a live table on a terminal, a line per
change elsewhere); the final table goes to stdout. Exit 0 Succeeded, 1 Failed or Error,
2 when the server cannot be used.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import IO, Any

_STYLE = {"Succeeded": "green", "Failed": "red", "Error": "red", "Skipped": "yellow",
          "Omitted": "dim", "Running": "cyan", "Pending": "dim"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="the workflow's name")
    add_server_arguments(p)
    add_follow_arguments(p)


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", help="the Argo Server URL (default: $ARGO_SERVER); the bearer "
                                    "token is read from $ARGO_TOKEN")
    p.add_argument("--namespace", "-n", help="default: the spec's argo.namespace, then "
                                             "$ARGO_NAMESPACE")
    tls = p.add_mutually_exclusive_group()
    tls.add_argument("--ca-cert", metavar="FILE", help="verify the server with this CA bundle")
    tls.add_argument("--insecure", action="store_true",
                     help="do not verify the server's TLS certificate")
    p.add_argument("--request-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="give up on one request after this long (default 30)")


def add_follow_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="stop following after this long (the workflow keeps running); exit 2")
    p.add_argument("--poll", type=float, default=2.0, metavar="SECONDS",
                   help="seconds between two looks at the workflow (default 2)")


def connection(args: argparse.Namespace, spec_namespace: str | None = None) -> Any:
    """The Connection of ``args`` and the environment; ArgoError when something is missing."""
    from engine.argo_client import connect

    return connect(args.server, args.namespace or spec_namespace, ca_cert=args.ca_cert,
                   insecure=args.insecure, request_timeout=args.request_timeout)


class _Lines:
    """One line per change of the workflow's or a step's phase."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.seen: dict[str, str] = {}

    def __call__(self, view: Any) -> None:
        changes = [("workflow " + view.name, view.phase)]
        changes += [(node.name, node.phase) for node in view.nodes]
        for name, phase in changes:
            if self.seen.get(name) != phase:
                self.seen[name] = phase
                print(f"{time.strftime('%H:%M:%S')} {name}: {phase}", file=self.stream,
                      flush=True)

    def close(self) -> None:
        """Nothing is drawn, so nothing to take down."""


class _Live:
    """A rich live table, redrawn at every poll."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.live = Live(console=Console(file=stream), auto_refresh=False, transient=True)
        self.live.start()

    def __call__(self, view: Any) -> None:
        self.live.update(table(view), refresh=True)

    def close(self) -> None:
        self.live.stop()


def table(view: Any) -> Any:
    from rich.table import Table

    from engine.cli.progress import one_line

    style = _STYLE.get(view.phase, "")
    grid = Table(title=f"{view.name} ({view.namespace}): [{style}]{view.phase}[/]",
                 title_justify="left")
    for column in ("step", "phase", "attempts", "started", "finished", "message"):
        grid.add_column(column)
    for node in view.nodes:
        grid.add_row(node.name, f"[{_STYLE.get(node.phase, '')}]{node.phase}[/]",
                     str(node.attempts), (node.started or "")[11:19],
                     (node.finished or "")[11:19], one_line(node.message, 60))
    return grid


def follow_and_report(args: argparse.Namespace, conn: Any, name: str) -> int:
    """Follow ``name`` to its end; the final table on stdout; the exit code from its phase."""
    from rich.console import Console

    from engine.argo_client import ArgoError, follow

    display = _Live(sys.stderr) if sys.stderr.isatty() else _Lines(sys.stderr)
    try:
        final = follow(conn, name, display, poll=args.poll, timeout=args.timeout)
    except ArgoError as exc:
        display.close()
        print(f"flowspec: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        display.close()
        print(f"flowspec: stopped following '{name}'; it keeps running on the server",
              file=sys.stderr)
        return 130
    display.close()
    Console(file=sys.stdout, soft_wrap=True).print(table(final))
    if final.message:
        print(f"{name}: {final.message}", file=sys.stderr)
    return 0 if final.phase == "Succeeded" else 1


def main(args: argparse.Namespace) -> int:
    from engine.argo_client import ArgoError

    try:
        conn = connection(args)
    except ArgoError as exc:
        print(f"flowspec: {exc}", file=sys.stderr)
        return 2
    return follow_and_report(args, conn, args.name)
