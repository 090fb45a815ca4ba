"""``flowspec compile SPEC``: the Argo manifest as YAML for one Argo line (``--argo-version``),
optionally checked against that line's schema, CRDs and rules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from engine.cli.common import add_param_argument, given_params, load_or_report
from engine.compile.versions import LATEST, TARGETS
from engine.diagnostics import Diagnostic

KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="the spec file")
    add_kind_arguments(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write the manifest here, not stdout")
    p.add_argument("--rbac", action="store_true",
                   help="print the ServiceAccount, Role and RoleBinding the workflow's pods need "
                        "in its namespace instead of the workflow (apply them once)")


def add_kind_arguments(p: argparse.ArgumentParser) -> None:
    """Options ``compile`` and ``submit`` share."""
    p.add_argument("--kind", choices=KINDS, default="Workflow", help="the Argo resource kind")
    add_param_argument(p)
    p.add_argument("--image", metavar="IMAGE",
                   help="the image the steps run in, in place of argo.image (a step's own "
                        "argo.image still wins); it must have flowspec and the processors "
                        "installed, e.g. the image the Dockerfile builds")
    p.add_argument("--argo-version", choices=list(TARGETS),
                   help=f"the Argo Workflows line the manifest is for (default {LATEST.version}): "
                        "what is emitted and which schema --check uses; what that line cannot "
                        "express is refused")
    p.add_argument("--check", action="store_true",
                   help="validate the manifest against the Argo line's JSON Schema, CRDs and "
                        "their rules; problems point at the spec's line:column")


def report(diagnostics: Sequence[Diagnostic]) -> None:
    from engine.cli.reporters import REPORTERS
    from engine.loader import LoadError, read_source

    def source(path: str) -> Any:
        try:
            return read_source(path)
        except LoadError:
            return None

    REPORTERS["text"](list(diagnostics), 1, sys.stderr, source)


def compiled_or_report(args: argparse.Namespace, *, require_values: bool = False) -> Any:
    """The ``Compiled`` spec of ``args``, or the exit code after saying why there is none.

    ``require_values``: every required param needs a value now (``submit``)."""
    from engine.compile import build
    from engine.compile.versions import target
    from engine.diagnostics import SpecError
    from engine.params import ParamError

    spec = load_or_report(args.spec)
    if isinstance(spec, int):
        return spec
    try:
        compiled = build(spec, kind=args.kind, params=given_params(args),
                         require_values=require_values, image=args.image,
                         argo=target(args.argo_version or LATEST.version))
    except ParamError as exc:
        for line in str(exc).splitlines():
            print(f"flowspec: {line}", file=sys.stderr)
        return 2
    except SpecError as exc:
        report(exc.diagnostics)
        return 1
    if args.check:
        from engine.compile.checks import check_compiled

        problems = check_compiled(compiled)
        if problems:
            report(problems)
            return 1
        templates = len(compiled.manifest_spec()["templates"])
        print(f"flowspec: {args.spec}: the {args.kind} passes Argo {compiled.argo.version}'s "
              f"JSON Schema, CRD and CEL rules ({compiled.argo.schema_release}; {templates} "
              f"templates, {len(spec.all_steps)} steps)", file=sys.stderr)
    return compiled


def main(args: argparse.Namespace) -> int:
    compiled = compiled_or_report(args)
    if isinstance(compiled, int):
        return compiled
    if args.rbac:
        from engine.compile.rbac import rbac_objects
        from engine.compile.yaml_out import dump

        text = "---\n".join(dump(obj) for obj in rbac_objects(compiled.spec))
    else:
        text = compiled.to_yaml()
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"flowspec: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    return 0
