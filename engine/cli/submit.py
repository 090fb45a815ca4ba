"""``flowspec submit SPEC``: compile, create on an Argo Server, then follow it to its end.
``flowspec submit --from-template NAME``: the same for a Workflow made on the server from a
WorkflowTemplate already there (one ``submit --kind WorkflowTemplate`` put there, say).

Every required param must have a value (``-p``): the workflow is created as compiled. A
template is checked against its params by Argo, which owns it. Whatever goes wrong after the
server created the workflow is reported together with the workflow's name, so nothing is
left running unnoticed.
"""

from __future__ import annotations

import argparse
import sys

from engine.cli.compile import add_kind_arguments, compiled_or_report
from engine.cli.watch import add_follow_arguments, add_server_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", nargs="?", help="the spec file (not with --from-template)")
    add_kind_arguments(p)
    add_server_arguments(p)
    add_follow_arguments(p)
    p.add_argument("--no-wait", action="store_true",
                   help="create the workflow and return; follow it later with flowspec watch")
    p.add_argument("--update", action="store_true",
                   help="a WorkflowTemplate or CronWorkflow of the same name is updated in "
                        "place instead of refused")
    p.add_argument("--from-template", metavar="NAME",
                   help="submit a Workflow from the WorkflowTemplate NAME on the server "
                        "(-p and -f give its params)")


def _usage(args: argparse.Namespace) -> str | None:
    """Why this combination of options cannot be run, if it cannot."""
    if (args.spec is None) == (args.from_template is None):
        return "give either a spec file or --from-template NAME"
    if args.update and (args.from_template or args.kind == "Workflow"):
        return "--update applies to --kind WorkflowTemplate and --kind CronWorkflow"
    if args.from_template and (args.kind != "Workflow" or args.image or args.check
                               or args.argo_version):
        return ("--from-template takes no --kind, --image, --argo-version or --check: the "
                "template is on the server")
    return None


def main(args: argparse.Namespace) -> int:
    from engine.argo_client import ArgoError, create, submit_template
    from engine.cli.common import given_params
    from engine.cli.watch import connection, follow_and_report
    from engine.params import ParamError

    problem = _usage(args)
    if problem:
        print(f"flowspec submit: {problem}", file=sys.stderr)
        return 2
    try:
        if args.from_template:
            conn = connection(args)
            kind, made = "Workflow", "created"
            name = submit_template(conn, args.from_template, given_params(args))
        else:
            compiled = compiled_or_report(args, require_values=True)
            if isinstance(compiled, int):
                return compiled
            conn = connection(args, compiled.spec.argo.get("namespace"))
            kind, name, updated = create(conn, compiled.workflow, compiled.kind,
                                         update=args.update)
            made = "updated" if updated else "created"
    except ParamError as exc:
        for line in str(exc).splitlines():
            print(f"flowspec: {line}", file=sys.stderr)
        return 2
    except ArgoError as exc:
        print(f"flowspec: {exc}", file=sys.stderr)
        return 2
    print(f"flowspec: {made} {kind} {name} in namespace {conn.namespace} on {conn.base_url}",
          file=sys.stderr)
    print(name)
    if kind != "Workflow" or args.no_wait:
        return 0
    code = follow_and_report(args, conn, name)
    if code == 2:
        print(f"flowspec: workflow {name} was created in namespace {conn.namespace} and may "
              "still be running; check it with: flowspec watch " + name, file=sys.stderr)
    return code
