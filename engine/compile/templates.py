"""Which steps can share one container template, and what that template must declare.

A step's template carries only what Argo itself must know before the pod starts: the image
and command, secret env references, resources, pod overrides, declared outputs (Argo
collects them), retry and timeout (Argo enforces them). Everything else (processor, config,
literal env, interpolations) the runner reads from the embedded spec, so steps that agree on
the shape above share one template and differ only by their arguments. That keeps a
200-step spec at a handful of templates and far below Kubernetes' object size limit.

What travels between pods is planned here too (``Reads``): a step whose processor reads its
ancestors' results (every processor but ``noop`` and ``shell``, which see only their env)
gets each non-fan-out ancestor's result artifact, every file its ancestors wrote, every file
param, the phases of its ancestors and the outputs of its fan-out ancestors; any step gets
the files and outputs its env interpolates. A template declares the union of its steps'
inputs, all optional; each task passes only its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NamedTuple

from engine.compile.contract import (
    RUNNER_COMMAND,
    file_input,
    param_file_input,
    result_input,
    upstream_input,
)
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
    #: whether the result is saved as an artifact (some step reads it), and exported under
    #: a global name (a ``finally`` step reads it)
    saves_result: bool = False
    exports_result: bool = False


class Reads(NamedTuple):
    """What one step's pod is handed besides its params: see the module docstring."""

    #: ancestors whose result artifact the step gets
    results: tuple[str, ...] = ()
    #: ancestors whose phase the step gets (``{{tasks.X.status}}``; main DAG only)
    phases: tuple[str, ...] = ()
    #: (producer, output) of the upstream files the step gets
    files: tuple[tuple[str, str], ...] = ()
    #: the file params the step gets
    params: tuple[str, ...] = ()
    #: (producer, output) of the upstream output parameters the step gets
    outputs: tuple[tuple[str, str], ...] = ()

    def artifacts(self) -> list[str]:
        """The names of the input artifacts these reads need."""
        return ([result_input(name) for name in self.results]
                + [file_input(p, o) for p, o in self.files]
                + [param_file_input(name) for name in self.params])


@dataclass
class TemplatePlan:
    name: str
    shape: Shape
    steps: list[Step] = field(default_factory=list)
    #: upstream inputs (see contract.upstream_input) any of its steps needs, in first-use order
    inputs: dict[str, None] = field(default_factory=dict)
    #: every output any of its steps declares; the runner writes them all (null if not its own)
    outputs: dict[str, None] = field(default_factory=dict)
    #: step name -> the upstream output parameters it gets (``Reads.outputs``)
    refs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: step name -> everything it is handed
    reads: dict[str, Reads] = field(default_factory=dict)
    #: input artifacts any of its steps needs, in first-use order
    artifacts: dict[str, None] = field(default_factory=dict)
    #: ``file`` outputs any of its steps declares: saved as output artifacts
    files: dict[str, None] = field(default_factory=dict)


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


_PARAM_REF = re.compile(r"\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

#: Built-in processors that never read ``context.upstream`` or ``context.params``' files.
_ENV_ONLY = frozenset({"noop", "shell"})


def reads_results(step: Step) -> bool:
    """Whether the step's processor may read its ancestors' results (its ``context``)."""
    return step.processor not in _ENV_ONLY


def step_reads(spec: Spec, step: Step, output_types: Mapping[str, Mapping[str, str]],
               via_store: bool = False) -> Reads:
    """What ``step``'s pod must be handed (see the module docstring); ``via_store``: results
    come from the workflow's store (``argo.store``), so no result artifact is handed over
    (the phases still are: a Skipped or Omitted step left nothing in the store either)."""
    from engine.executor.files import FILE
    from engine.graph import visible_ancestors

    file_params = [n for n, p in spec.params.items() if p.type == FILE]
    refs = upstream_refs(step)
    outputs = {r: None for r in refs if output_types.get(r[0], {}).get(r[1]) != FILE}
    files = {r: None for r in refs if output_types.get(r[0], {}).get(r[1]) == FILE}
    used_params = {n for var in step.env.values() if isinstance(var.value, str)
                   for n in _PARAM_REF.findall(var.value)}
    params = [n for n in file_params if n in used_params]
    if not reads_results(step):
        return Reads(files=tuple(files), params=tuple(params), outputs=tuple(outputs))
    results, phases = [], []
    for name in visible_ancestors(spec, step):
        producer = spec.step(name)
        same_dag = producer.is_finally == step.is_finally
        if same_dag:
            phases.append(name)
        types = output_types.get(name, {})
        if producer.for_each is not None:
            # a fan-out step's result is its instances' outputs, as a list: Argo aggregates
            # output parameters, and has no such thing for artifacts
            outputs.update({(name, o): None for o, t in types.items() if t != FILE})
            continue
        if not via_store:
            results.append(name)
        files.update({(name, o): None for o, t in types.items() if t == FILE})
    return Reads(tuple(results), tuple(phases), tuple(files), tuple(file_params),
                 tuple(outputs))


_POD_KEYS = ("pod_spec_patch", "node_selector", "tolerations", "security_context")


def shape_of(spec: Spec, step: Step, image: str | None = None, saves_result: bool = False,
             exports_result: bool = False) -> Shape:
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
        saves_result,
        exports_result,
    )


def plan_templates(spec: Spec, output_types: Mapping[str, Mapping[str, str]],
                   image: str | None = None) -> list[TemplatePlan]:
    """One plan per distinct shape, named ``run-1``, ``run-2``... in order of first use.

    Output parameters and file outputs are the union over the plan's steps (a step never
    reads an output its producer does not declare, so the extra ones are inert). A shape
    whose steps would need more than MAX_INPUTS upstream inputs is split.
    """
    from engine.executor.files import FILE

    via_store = bool(spec.argo.get("store"))
    reads = {step.name: step_reads(spec, step, output_types, via_store)
             for step in spec.all_steps}
    read = {name for r in reads.values() for name in (*r.results, *(p for p, _ in r.files))}
    exported = {name for step in spec.finally_steps for name in
                (*reads[step.name].results, *(p for p, _ in reads[step.name].files))
                if not spec.step(name).is_finally}
    plans: list[TemplatePlan] = []
    open_plan: dict[Shape, TemplatePlan] = {}
    for step in spec.all_steps:
        shape = shape_of(spec, step, image, step.name in read, step.name in exported)
        mine = reads[step.name]
        needed = [upstream_input(producer, output) for producer, output in mine.outputs]
        plan = open_plan.get(shape)
        if plan is None or (needed and len(plan.inputs.keys() | set(needed)) > MAX_INPUTS - 4):
            plan = TemplatePlan(f"run-{len(plans) + 1}", shape)
            plans.append(plan)
            open_plan[shape] = plan
        plan.steps.append(step)
        plan.refs[step.name] = list(mine.outputs)
        plan.reads[step.name] = mine
        plan.inputs.update(dict.fromkeys(needed))
        plan.artifacts.update(dict.fromkeys(mine.artifacts()))
        types = output_types.get(step.name, {})
        plan.outputs.update(dict.fromkeys(o for o, t in types.items() if t != FILE))
        plan.files.update(dict.fromkeys(o for o, t in types.items() if t == FILE))
    return plans
