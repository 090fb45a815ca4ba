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
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from engine.compile.contract import RUNNER_COMMAND, upstream_input
from engine.expr.ast import StepOutputRef
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


@dataclass(frozen=True)
class SecretEnv:
    env: str
    name: str
    key: str
    optional: bool


@dataclass(frozen=True)
class Shape:
    """Everything a step template holds; equal shapes share a template."""

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


def upstream_refs(step: Step) -> list[StepOutputRef]:
    """The ``${{ steps.X.outputs.Y }}`` references of a step's env, each once, in env order."""
    from engine.expr.interpolate import parse_interpolation

    seen: dict[tuple[str, str], StepOutputRef] = {}
    for var in step.env.values():
        if isinstance(var.value, str) and "${{" in var.value:
            for part in parse_interpolation(var.value):
                if isinstance(part, StepOutputRef):
                    seen.setdefault((part.step, part.output), part)
    return list(seen.values())


def shape_of(spec: Spec, step: Step) -> Shape:
    argo: Mapping[str, Any] = {**spec.argo, **step.argo}
    secrets = tuple(
        SecretEnv(name, var.value.name, var.value.key, var.value.optional)
        for name, var in sorted(step.env.items())
        if isinstance(var.value, SecretRef)
    )
    pod = {k: step.argo[k] for k in ("pod_spec_patch", "node_selector", "tolerations",
                                     "security_context") if k in step.argo}
    return Shape(
        image=str(argo.get("image") or DEFAULT_IMAGE),
        image_pull_policy=argo.get("image_pull_policy"),
        command=tuple(step.argo.get("command") or RUNNER_COMMAND),
        secrets=secrets,
        resources=tuple(sorted(step.resources.items())),
        retry=(step.retry.limit, step.retry.on, step.retry.backoff, step.retry.max_duration),
        timeout=step.timeout,
        in_finally=step.is_finally,
        fans_out=step.for_each is not None,
        pod=json.dumps(pod, sort_keys=True),
    )


def plan_templates(spec: Spec, output_types: Mapping[str, Mapping[str, str]]) -> list[TemplatePlan]:
    """One plan per distinct shape, named ``run-1``, ``run-2``... in order of first use.

    Output parameters are the union over the plan's steps (a step never reads an output
    its producer does not declare, so the extra ones are inert). A shape whose steps would
    need more than MAX_INPUTS upstream inputs is split.
    """
    plans: list[TemplatePlan] = []
    open_plan: dict[Shape, TemplatePlan] = {}
    for step in spec.all_steps:
        shape = shape_of(spec, step)
        needed = [upstream_input(r.step, r.output) for r in upstream_refs(step)]
        plan = open_plan.get(shape)
        if plan is None or len(plan.inputs.keys() | set(needed)) > MAX_INPUTS - 3:
            plan = TemplatePlan(f"run-{len(plans) + 1}", shape)
            plans.append(plan)
            open_plan[shape] = plan
        plan.steps.append(step)
        plan.inputs.update(dict.fromkeys(needed))
        plan.outputs.update(dict.fromkeys(output_types.get(step.name, {})))
    return plans
