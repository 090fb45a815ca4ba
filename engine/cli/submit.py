"""``flowspec submit SPEC``: compile, create on an Argo Server, then follow it to its end.

Every required param must have a value (``-p``): the workflow is created as compiled.
Whatever goes wrong after the server created the workflow is reported together with the
workflow's name, so nothing is left running unnoticed.
"""

from __future__ import annotations

import argparse
import sys

from engine.cli.compile import add_kind_arguments, compiled_or_report
from engine.cli.watch import add_follow_arguments, add_server_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="the spec file")
    add_kind_arguments(p)
    add_server_arguments(p)
    add_follow_arguments(p)
    p.add_argument("--no-wait", action="store_true",
                   help="create the workflow and return; follow it later with flowspec watch")


def main(args: argparse.Namespace) -> int:
    from engine.argo_client import ArgoError, create
    from engine.cli.watch import connection, follow_and_report

    compiled = compiled_or_report(args, require_values=True)
    if isinstance(compiled, int):
        return compiled
    try:
        conn = connection(args, compiled.spec.argo.get("namespace"))
        kind, name = create(conn, compiled)
    except ArgoError as exc:
        print(f"flowspec: {exc}", file=sys.stderr)
        return 2
    print(f"flowspec: created {kind} {name} in namespace {conn.namespace} on {conn.base_url}",
          file=sys.stderr)
    print(name)
    if kind != "Workflow" or args.no_wait:
        return 0
    code = follow_and_report(args, conn, name)
    if code == 2:
        print(f"flowspec: workflow {name} was created in namespace {conn.namespace} and may "
              "still be running; check it with: flowspec watch " + name, file=sys.stderr)
    return code
