"""``flowspec plan SPEC``: what would run, in which order, with which env, retries, timeouts.

Secrets are shown as references, with whether their local variable is set, never with their
value, so a plan is safe to paste into a ticket. A required param that is not given makes the
plan fail (exit 1) with what to pass, since a run could not start either; a secret that is
not set is shown, not failed, as a plan may be made on a machine that will not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.cli.common import add_param_argument, given_params
from engine.model import EnvVar, SecretRef, Spec, Step


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="the spec file")
    add_param_argument(p)
    p.add_argument("--format", choices=("text", "json"), default="text")


def _env_entry(var: EnvVar) -> dict[str, Any]:
    if isinstance(var.value, SecretRef):
        ref = var.value
        return {"secret": {"name": ref.name, "key": ref.key}, "optional": ref.optional,
                "local": f"${ref.local_variable}", "origin": var.origin}
    return {"value": var.value, "origin": var.origin}


def _seconds(value: float | None) -> str | None:
    if value is None:
        return None
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{int(value // size)}{unit}"
    return f"{value:g}s"


def _step_plan(step: Step) -> dict[str, Any]:
    from engine.graph import step_parents

    r = step.retry
    return {
        "name": step.name,
        "processor": step.processor,
        "waits_for": step_parents(step),
        "depends": step.depends,
        "when": step.when,
        "for_each": step.for_each,
        "retry": {"limit": r.limit, "on": r.on,
                  "backoff": None if r.backoff is None else {
                      "delay": _seconds(r.backoff.delay), "factor": r.backoff.factor,
                      "cap": _seconds(r.backoff.cap)},
                  "max_duration": _seconds(r.max_duration)},
        "timeout": _seconds(step.timeout),
        "continue_on": {"failed": step.continue_on.failed, "error": step.continue_on.error},
        "env": {name: _env_entry(var) for name, var in sorted(step.env.items())},
    }


def _secrets(spec: Spec, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    from engine.secrets import spec_secrets

    return [{"name": ref.name, "key": ref.key, "optional": ref.optional,
             "local": f"${ref.local_variable}", "set": ref.local_variable in environ,
             "steps": list(steps)}
            for ref, steps in spec_secrets(spec).items()]


def build_plan(spec: Spec, params: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The plan as data; ``environ`` is only asked which secrets' variables are set."""
    from engine.graph import build_graph, generations

    return {
        "workflow": spec.name,
        "params": params,
        "parallelism": spec.parallelism,
        "timeout": _seconds(spec.timeout),
        "order": generations(spec.graph),
        "secrets": _secrets(spec, environ),
        "steps": [_step_plan(spec.step(n)) for gen in generations(spec.graph) for n in gen],
        "finally": [_step_plan(spec.step(n))
                    for gen in generations(build_graph(spec, finally_steps=True)) for n in gen],
    }


def _print_text(plan: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"workflow {plan['workflow']}")
    if plan["params"]:
        out.write("  params: " + ", ".join(f"{k}={v!r}" for k, v in plan["params"].items()))
    out.write("\n")
    for i, gen in enumerate(plan["order"], 1):
        out.write(f"  stage {i}: {', '.join(gen)}\n")
    if plan["secrets"]:
        every = {s["name"] for s in plan["steps"] + plan["finally"]}
        out.write("\nsecrets (locally read from environment variables):\n")
        for e in plan["secrets"]:
            state = "set" if e["set"] else "not set" if e["optional"] else "MISSING"
            optional = ", optional" if e["optional"] else ""
            readers = "every step" if set(e["steps"]) == every else ", ".join(e["steps"])
            out.write(f"- {e['name']}/{e['key']}  {e['local']}  {state}{optional}"
                      f"  (read by {readers})\n")
    for title, steps in (("steps", plan["steps"]), ("finally", plan["finally"])):
        if not steps:
            continue
        out.write(f"\n{title}:\n")
        for s in steps:
            out.write(f"- {s['name']}  ({s['processor']})\n")
            if s["depends"]:
                out.write(f"    depends: {s['depends']}\n")
            elif s["waits_for"]:
                out.write(f"    after:   {', '.join(s['waits_for'])}\n")
            if s["when"]:
                out.write(f"    when:    {s['when']}\n")
            if s["for_each"]:
                out.write(f"    for_each: {s['for_each']}\n")
            r = s["retry"]
            retry = f"{r['limit']} retries on {r['on']}" if r["limit"] else "no retries"
            if r["backoff"]:
                b = r["backoff"]
                retry += f", backoff {b['delay']} x{b['factor']}" + (f" cap {b['cap']}" if b["cap"] else "")
            out.write(f"    retry:   {retry}\n")
            out.write(f"    timeout: {s['timeout'] or 'none'} per attempt\n")
            for name, e in s["env"].items():
                if "secret" in e:
                    shown = f"<secret {e['secret']['name']}/{e['secret']['key']}"
                    shown += (", optional" if e["optional"] else "") + f"; locally {e['local']}>"
                else:
                    shown = repr(e["value"])
                out.write(f"    env {name} = {shown}  [{e['origin']}]\n")


def main(args: argparse.Namespace) -> int:
    from engine.cli.common import load_or_report
    from engine.params import ParamError, local_files, resolve_params

    spec = load_or_report(args.spec)
    if isinstance(spec, int):
        return spec
    try:  # what run would refuse, plan refuses: a file param that names no file included
        params = local_files(spec, resolve_params(spec, given_params(args)), Path.cwd())
    except ParamError as exc:
        print("flowspec plan: " + str(exc).replace("\n", "\n  "), file=sys.stderr)
        return 2 if exc.problems else 1
    plan = build_plan(spec, params, os.environ)
    if args.format == "json":
        json.dump(plan, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        _print_text(plan)
    return 0
