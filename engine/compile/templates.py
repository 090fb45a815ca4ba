"""Which steps can share one container template, and what that template must declare.

A step's template carries only what Argo itself must know before the pod starts: the image
and command, secret env references, resources, pod overrides, declared outputs (Argo
collects them), retry and timeout (Argo enforces them). Everything else (processor, config,
literal env, interpolations) the runner reads from the embedded spec, so steps that agree on
the shape above share one template and differ only by their arguments. That keeps a
200-step spec at a handful of templates and far below Kubernetes' object size limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NamedTuple

from engine.compile.contract import RUNNER_COMMAND, upstream_input
from engine.model import SecretRef, Spec, Step

#: Argo's CRD allows at most 500 input parameters per template.
MAX_INPUTS = 500


def _default_image() -> str:
    try:
        tag = version("flowspec")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        tag = "latest"
    return f"ghcr.io/flowspec/flowspec:{tag}"


DEFAULT_IMAGE = _default_image()


class SecretEnv(NamedTuple):
    env: str
    name: str
    key: str
    optional: bool


class Shape(NamedTuple):
    """Everything a step template holds; equal shapes share a template (a tuple: cheap to
    build and hash, which matters at one shape per step)."""

    image: str
    image_pull_policy: str | None
    command: tuple[str, ...]
    secrets: tuple[SecretEnv, ...]
    resources: tuple[tuple[str, str], ...]
    #: (limit, on, backoff, max_duration): the Retry without its source path
    retry: tuple[Any, ...]
    timeout: float | None
    in_finally: bool
    fans_out: bool
    #: pod_spec_patch, node_selector, tolerations, security_context as canonical JSON
    pod: str


@dataclass
class TemplatePlan:
    name: str
    shape: Shape
    steps: list[Step] = field(default_factory=list)
    #: upstream inputs (see contract.upstream_input) any of its steps needs, in first-use order
    inputs: dict[str, None] = field(default_factory=dict)
    #: every output any of its steps declares; the runner writes them all (null if not its own)
    outputs: dict[str, None] = field(default_factory=dict)
    #: step name -> the upstream outputs its env interpolates (``upstream_refs``)
    refs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


#: ``${{ steps.X.outputs.Y }}`` in an env value. Specs reaching the compiler are valid, so
#: every ``${{`` holds a well-formed reference and a scan finds exactly what the parser would.
_OUTPUT_REF = re.compile(r"\$\{\{\s*steps\.([a-z0-9-]+)\.outputs\.([A-Za-z0-9_]+)\s*\}\}")


def upstream_refs(step: Step) -> list[tuple[str, str]]:
    """(step, output) of each ``${{ steps.X.outputs.Y }}`` in the step's env, once, in order."""
    seen: dict[tuple[str, str], None] = {}
    for var in step.env.values():
        if isinstance(var.value, str) and "${{" in var.value:
            seen.update(dict.fromkeys(_OUTPUT_REF.findall(var.value)))
    return list(seen)


_POD_KEYS = ("pod_spec_patch", "node_selector", "tolerations", "security_context")


def shape_of(spec: Spec, step: Step, image: str | None = None) -> Shape:
    """``image``: the workflow's image chosen at compile time (``--image``), which wins over
    ``argo.image``; a step's own ``argo.image`` still wins over both."""
    own, workflow = step.argo, spec.argo
    retry = step.retry
    secrets = tuple(sorted(
        SecretEnv(name, var.value.name, var.value.key, var.value.optional)
        for name, var in step.env.items() if type(var.value) is SecretRef))
    workflow_image = image or workflow.get("image") or DEFAULT_IMAGE
    if own:
        pod = {k: own[k] for k in _POD_KEYS if k in own}
        image = own.get("image") or workflow_image
        pull = own.get("image_pull_policy") or workflow.get("image_pull_policy")
        command = tuple(own.get("command") or RUNNER_COMMAND)
    else:
        pod, image, command = {}, workflow_image, RUNNER_COMMAND
        pull = workflow.get("image_pull_policy")
    return Shape(
        str(image), pull, command, secrets,
        tuple(sorted(step.resources.items())) if step.resources else (),
        (retry.limit, retry.on, retry.backoff, retry.max_duration),
        step.timeout,
        step.is_finally,
        step.for_each is not None,
        json.dumps(pod, sort_keys=True) if pod else "",
    )


def plan_templates(spec: Spec, output_types: Mapping[str, Mapping[str, str]],
                   image: str | None = None) -> list[TemplatePlan]:
    """One plan per distinct shape, named ``run-1``, ``run-2``... in order of first use.

    Output parameters are the union over the plan's steps (a step never reads an output
    its producer does not declare, so the extra ones are inert). A shape whose steps would
    need more than MAX_INPUTS upstream inputs is split.
    """
    plans: list[TemplatePlan] = []
    open_plan: dict[Shape, TemplatePlan] = {}
    for step in spec.all_steps:
        shape = shape_of(spec, step, image)
        refs = upstream_refs(step)
        needed = [upstream_input(producer, output) for producer, output in refs]
        plan = open_plan.get(shape)
        if plan is None or (needed and len(plan.inputs.keys() | set(needed)) > MAX_INPUTS - 3):
            plan = TemplatePlan(f"run-{len(plans) + 1}", shape)
            plans.append(plan)
            open_plan[shape] = plan
        plan.steps.append(step)
        plan.refs[step.name] = refs
        plan.inputs.update(dict.fromkeys(needed))
        plan.outputs.update(dict.fromkeys(output_types.get(step.name, {})))
    return plans
