"""Spec -> Argo Workflow, WorkflowTemplate or CronWorkflow, built from Hera's models.

Every object is constructed explicitly (``models.DAGTask(...)``), never through Hera's
``with`` context, whose bookkeeping is quadratic in the number of tasks. The manifest is
read from ``build().model_dump()`` once and emitted by ``yaml_out``; ``.workflow`` is the
Hera object for callers who want Hera's own API (``.create()``, ``.to_yaml()``).

Mapping choices (the rest is in the module docstrings of contract and templates):
- one DAG template ``main`` is the entrypoint; ``finally`` steps form the DAG template
  ``finally``, the exit handler (``onExit``), whose tasks receive ``{{workflow.status}}``;
- a DAG uses ``depends`` for every task as soon as one of its steps uses ``depends`` (Argo
  cannot mix the two in one DAG); ``dependencies`` are then written out as ``depends`` with
  the same meaning, else passed through with ``continueOn``;
- ``when`` is one ``{{=...}}`` tag from ``engine.expr.to_argo_when``;
- output parameters have no ``default``: a Skipped/Omitted producer's output must stay
  absent (null), and the runner writes every file otherwise (SEMANTICS appendix 8-10);
- retry ``on: transient`` retries the runner's transient exit code and every Error node (an
  evicted, deleted or lost pod), through ``retryStrategy.expression`` (Argo's
  OnTransientError matches controller-side messages, not a step's failure);
- ``timeout`` is enforced by the runner; the template's timeout adds TIMEOUT_GRACE so the
  runner can still write outputs (absent outputs of a killed pod would stall the workflow);
- every parameter value, IntOrString and duration is written as a string;
- step results and files travel as artifacts (``templates.Reads``), the spec once as a pod
  annotation (``contract``); ``argo.artifact_repository`` names the repository unless the
  cluster's default serves, and ``argo.store`` gives every pod a database to record attempts;
- what a namespace with quotas and an operator expect is there unless the spec says
  otherwise (docs/semantics.md lists the defaults): the service account that
  ``flowspec compile --rbac`` creates, resource requests, a workflow deadline, pod garbage
  collection and a time to live, and the labels and annotations again in
  ``workflowMetadata``, which Argo puts on every workflow a CronWorkflow or a
  WorkflowTemplate starts (their own metadata stays on them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.compile import codes
from engine.compile import contract as c
from engine.compile.templates import Reads, TemplatePlan, plan_templates, reads_results
from engine.compile.versions import LATEST, ArgoTarget
from engine.diagnostics import Code, Diagnostic, SpecError, finish
from engine.executor.files import FILE
from engine.loader import Path
from engine.model import Retry, Spec, Step

KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow")
ENTRY_TEMPLATE = "main"
EXIT_TEMPLATE = "finally"
#: Argo's CRD: ``dag.tasks`` maxItems.
MAX_TASKS = 200
#: Argo's CRD: ``spec.templates`` maxItems.
MAX_TEMPLATES = 200
#: Kubernetes caps a generated name at 58 characters plus a 5-character suffix.
GENERATE_NAME_PREFIX = 57
#: Kubernetes allows 256 KiB of annotations per object; the spec leaves room for Argo's own.
MAX_SPEC_ANNOTATION = 200 * 1024

SOURCE_HASH_ANNOTATION = "flowspec.dev/source-sha256"
WORKFLOW_LABEL = "flowspec.dev/workflow"
DESCRIPTION_ANNOTATION = "workflows.argoproj.io/description"

#: The service account of every pod unless ``argo.service_account`` names another; ``flowspec
#: compile --rbac`` prints it with the Role Argo's executor needs.
DEFAULT_SERVICE_ACCOUNT = "flowspec"
#: ``activeDeadlineSeconds`` without a spec ``timeout``: a hung step ends, nothing runs for ever.
DEFAULT_DEADLINE_SECONDS = 24 * 3600
#: Succeeded pods go at once; failed ones stay for their logs until the workflow does.
DEFAULT_POD_GC = "OnPodSuccess"
#: A finished workflow stays this long unless ``argo.ttl_after_finished`` says otherwise.
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
#: Requests of a step without ``resources`` (quotas refuse BestEffort pods); no limit, since
#: only the step's author knows how much memory it may take.
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "256Mi"}

_RETRY_POLICY = {"failure": "OnFailure", "error": "OnError", "always": "Always",
                 "transient": "Always"}
#: ``on: transient``: what the runner reports as transient, or whatever Argo marks Error.
TRANSIENT_EXPRESSION = f"lastRetry.status == 'Error' || lastRetry.exitCode == '{c.EXIT_TRANSIENT}'"
_POD_SECURITY = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}


def _uses_database(ref: str) -> bool:
    from engine.processor_info import describe
    from engine.processors import ProcessorNotFound

    try:
        return describe(ref).uses_database
    except ProcessorNotFound:
        return False  # validation reported it


def go_duration(seconds: float) -> str:
    """A Go duration Argo parses (``2s``, ``1m``, ``500ms``); never a bare number."""
    millis = round(seconds * 1000)
    if millis % 1000:
        return f"{millis}ms"
    whole = millis // 1000
    for unit, size in (("h", 3600), ("m", 60)):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


@dataclass
class Compiled:
    """A compiled spec: the Hera object, its manifest (built once) and how it was planned."""

    spec: Spec
    kind: str
    workflow: Any
    templates: list[TemplatePlan]
    #: The Argo line the manifest is written for (``--argo-version``); ``--check`` uses its schemas.
    argo: ArgoTarget = LATEST
    _manifest: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = self.workflow.build().model_dump(exclude_none=True, by_alias=True)
        return self._manifest

    def manifest_spec(self) -> dict[str, Any]:
        """The workflow spec: ``spec``, or a CronWorkflow's ``spec.workflowSpec``."""
        spec: dict[str, Any] = self.manifest["spec"]
        return spec["workflowSpec"] if self.kind == "CronWorkflow" else spec

    def to_yaml(self) -> str:
        from engine.compile.yaml_out import dump

        return dump(self.manifest)

    def template_of(self, step: str) -> str:
        for plan in self.templates:
            if any(s.name == step for s in plan.steps):
                return plan.name
        raise KeyError(step)


def compile_spec(spec: Spec, kind: str = "Workflow",
                 params: Mapping[str, Any] | None = None, image: str | None = None) -> Any:
    """The Hera Workflow / WorkflowTemplate / CronWorkflow of a valid spec (``engine.compile``).

    Raises SpecError (positioned diagnostics) when the spec cannot be compiled for ``kind``,
    and engine.params.ParamError for bad ``params``.
    """
    return build(spec, kind=kind, params=params, image=image).workflow


def build(spec: Spec, *, kind: str = "Workflow", params: Mapping[str, Any] | None = None,
          require_values: bool = False, image: str | None = None,
          argo: ArgoTarget = LATEST) -> Compiled:
    """``require_values``: every required param must have a value now (for submitting).
    ``image``: the steps' image in place of ``argo.image`` (a step's own image still wins),
    so one spec can be compiled against the image a pipeline has just built and pushed.
    ``argo``: the Argo line to write for (``engine.compile.versions``); what it cannot
    express is a SpecError.

    A Workflow or WorkflowTemplate may leave a required param without a value (``argo
    submit -p`` gives it); a CronWorkflow may not, since nobody is there to give it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    require = require_values or kind == "CronWorkflow"
    return _Builder(spec, kind, dict(params or {}), require, image, argo).compile()


class _Builder:
    def __init__(self, spec: Spec, kind: str, params: dict[str, Any], require: bool,
                 image: str | None, argo: ArgoTarget) -> None:
        from hera.workflows import models

        from engine.rules.context import Context
        from engine.rules.processors import step_output_types

        self.m = models
        self.spec = spec
        self.kind = kind
        self.given = params
        self.require = require
        self.image = image
        self.argo = argo
        self.problems: list[Diagnostic] = []
        self.context = Context(spec.document, spec)
        self.output_types = step_output_types(self.context)
        self.param_types = {name: p.type for name, p in spec.params.items()}
        #: file param -> its artifact location, as a task argument passes it
        self.file_params: dict[str, dict[str, Any]] = {}
        self.repository = spec.argo.get("artifact_repository")
        self.store = spec.argo.get("store")

    # --- problems ------------------------------------------------------------------------
    def problem(self, path: Path, code: Code, message: str, hint: str | None = None) -> None:
        self.problems.append(self.context.at(path, code, message, hint))

    def user_model(self, cls: Any, data: Mapping[str, Any], path: Path) -> Any:
        """A Kubernetes model from settings the spec passes through; a bad one is a problem."""
        from pydantic import ValidationError

        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"])
                self.problem((*path, *error["loc"][:1]), codes.BAD_OVERRIDE,
                             f"{where}: {error['msg']}",
                             f"see the Kubernetes {cls.__name__} reference")
            return None

    # --- the whole object ----------------------------------------------------------------
    def compile(self) -> Compiled:
        from hera.workflows import CronWorkflow, Workflow, WorkflowTemplate

        spec, argo = self.spec, self.spec.argo
        for key, steps in (("steps", spec.steps), ("finally", spec.finally_steps)):
            if len(steps) > MAX_TASKS:
                self.problem((key,), codes.TOO_MANY_TASKS,
                             f"'{key}' has {len(steps)} steps; one Argo DAG holds at most "
                             f"{MAX_TASKS}, and flowspec does not split a DAG",
                             "split the workflow, or use for_each to fan out over a list")
        if self.problems:  # a DAG Argo cannot hold: nothing else is worth building
            raise SpecError(finish(self.problems))
        if self.kind == "CronWorkflow" and not argo.get("schedules"):
            self.problem(("argo",), codes.NO_SCHEDULE,
                         "--kind CronWorkflow needs argo.schedules",
                         "add e.g. argo: {schedules: ['0 2 * * *']}")
        from engine.compile.versions import SKIPPED_INPUT, skipped_input_problems

        for steps in (spec.steps, spec.finally_steps):
            for path, message, hint in skipped_input_problems(steps, self.argo):
                self.problem(path, SKIPPED_INPUT, message, hint)
        arguments = self.arguments()
        plans = plan_templates(spec, self.output_types, self.image)
        self.check_transport(plans)
        encoded = c.encode_spec(spec.document.source.text)
        if len(encoded) > MAX_SPEC_ANNOTATION:
            self.problem((), codes.SPEC_TOO_LARGE,
                         f"the spec is {len(encoded):,} bytes compressed; pods receive it as "
                         f"an annotation, which holds at most {MAX_SPEC_ANNOTATION:,}",
                         "split the workflow, or move large config values into files")
        plan_of = {step.name: plan for plan in plans for step in plan.steps}
        if len(plans) + 2 > MAX_TEMPLATES:
            self.problem(("steps",), codes.TOO_MANY_TEMPLATES,
                         f"the steps need {len(plans)} distinct templates; Argo allows "
                         f"{MAX_TEMPLATES} in a workflow",
                         "give steps the same image, resources, retry and timeout where you can")
        templates = [self.m.Template(name=ENTRY_TEMPLATE, dag=self.dag(spec.steps, plan_of))]
        if spec.finally_steps:
            templates.append(self.m.Template(name=EXIT_TEMPLATE,
                                             dag=self.dag(spec.finally_steps, plan_of)))
        templates.extend(self.step_template(plan) for plan in plans)
        labels = {**spec.labels, **argo.get("labels", {}), WORKFLOW_LABEL: spec.name}
        annotations = self.annotations()
        fields: dict[str, Any] = {
            "namespace": argo.get("namespace"),
            "labels": labels,
            "annotations": annotations,
            "workflow_metadata": self.m.WorkflowMetadata(labels=labels, annotations=annotations),
            "entrypoint": ENTRY_TEMPLATE,
            "on_exit": EXIT_TEMPLATE if spec.finally_steps else None,
            "arguments": arguments,
            "service_account_name": argo.get("service_account", DEFAULT_SERVICE_ACCOUNT),
            "pod_gc": self.m.PodGC(strategy=argo.get("pod_gc", DEFAULT_POD_GC)),
            "ttl_strategy": self.ttl(),
            "active_deadline_seconds": math.ceil(spec.timeout) if spec.timeout
            else DEFAULT_DEADLINE_SECONDS,
            "parallelism": spec.parallelism,
            "security_context": self.user_model(
                self.m.PodSecurityContext, {**_POD_SECURITY, **argo.get("security_context", {})},
                ("argo", "security_context")),
            "node_selector": argo.get("node_selector"),
            "tolerations": [self.user_model(self.m.Toleration, t, ("argo", "tolerations", i))
                            for i, t in enumerate(argo.get("tolerations", ()))] or None,
            "pod_metadata": self.m.Metadata(annotations={c.SPEC_ANNOTATION: encoded}),
            "volumes": [
                self.m.Volume(name=c.WORK_VOLUME, empty_dir=self.m.EmptyDirVolumeSource()),
                self.m.Volume(name=c.SPEC_VOLUME, downward_api=self.m.DownwardAPIVolumeSource(
                    items=[self.m.DownwardAPIVolumeFile(
                        path=c.SPEC_PATH.rsplit("/", 1)[1],
                        field_ref=self.m.ObjectFieldSelector(
                            field_path=f"metadata.annotations['{c.SPEC_ANNOTATION}']"))])),
            ],
            "artifact_repository_ref": self.repository_ref(),
            "templates": templates,
        }
        if self.problems:
            raise SpecError(finish(self.problems))
        if self.kind == "Workflow":
            workflow = Workflow(generate_name=spec.name[:GENERATE_NAME_PREFIX] + "-", **fields)
        elif self.kind == "WorkflowTemplate":
            workflow = WorkflowTemplate(name=spec.name, **fields)
        else:
            workflow = CronWorkflow(
                name=spec.name, schedules=list(argo.get("schedules", ())),
                timezone=argo.get("timezone"), concurrency_policy=argo.get("concurrency_policy"),
                **fields)
        return Compiled(spec, self.kind, workflow, plans, self.argo)

    def annotations(self) -> dict[str, str]:
        result = {**self.spec.argo.get("annotations", {}),
                  SOURCE_HASH_ANNOTATION: self.spec.source_hash}
        if self.spec.description:
            result[DESCRIPTION_ANNOTATION] = self.spec.description
        return result

    def ttl(self) -> Any:
        from engine.model import parse_duration

        seconds = parse_duration(self.spec.argo.get("ttl_after_finished"))
        after = DEFAULT_TTL_SECONDS if seconds is None else math.ceil(seconds)
        return self.m.TTLStrategy(seconds_after_completion=after)

    # --- params --------------------------------------------------------------------------
    def arguments(self) -> Any:
        from engine.expr.to_argo import NULL_MARKER, argo_value_text
        from engine.params import resolve_params
        from engine.values import to_text

        values = resolve_params(self.spec, self.given, require=False)
        parameters = []
        for name, param in self.spec.params.items():
            value: str | None
            if values.get(name) is not None:
                value = argo_value_text(values[name])
                if "{{" in value:
                    self.problem(param.path, codes.TEMPLATE_TAG_IN_VALUE,
                                 f"the value of param '{name}' contains '{{{{'",
                                 "Argo would substitute it; remove the '{{' or pass the value "
                                 "at submit time")
            elif param.required:
                value = None
                if self.require:
                    self.problem(param.path, codes.PARAM_NEEDS_VALUE,
                                 f"param '{name}' is required and has no value",
                                 f"pass it with -p {name}=VALUE")
            else:
                value = NULL_MARKER
            enum = None
            if param.enum is not None:
                enum = [to_text(v) for v in param.enum]
                if value == NULL_MARKER:
                    enum.append(NULL_MARKER)
            parameters.append(self.m.Parameter(name=name, value=value, enum=enum,
                                               description=param.description or None))
            if param.type == FILE:
                self.file_params[name] = self.file_location(name, param.path, value)
        return self.m.Arguments(parameters=parameters) if parameters else None

    # --- what travels between pods --------------------------------------------------------
    def file_location(self, name: str, path: Path, value: str | None) -> dict[str, Any]:
        """Where a file param's artifact is fetched from: ``s3://BUCKET/KEY``, an http(s)
        URL, or a key in the workflow's repository (also when the value is given at submit
        time, ``-p NAME=KEY``, which Argo substitutes into the key)."""
        from engine.expr.to_argo import NULL_MARKER

        if value is None or value == NULL_MARKER:
            return {"s3": {"key": f"{{{{workflow.parameters.{name}}}}}"}}
        if value.startswith("s3://"):
            bucket, _, key = value.removeprefix("s3://").partition("/")
            if bucket and key:
                return {"s3": {"bucket": bucket, "key": key}}
        elif value.startswith(("http://", "https://")):
            return {"http": {"url": value}}
        elif not value.startswith(("/", "./", "../", "~")) and "://" not in value:
            return {"s3": {"key": value}}
        self.problem(path, codes.FILE_PARAM_VALUE,
                     f"param '{name}' is a file, and {value!r} is not a place a pod can fetch "
                     "it from", "upload it and pass s3://BUCKET/KEY, an https:// URL or a key "
                     "in the artifact repository")
        return {}

    def repository_ref(self) -> Any:
        if not isinstance(self.repository, Mapping):
            return None
        return self.m.ArtifactRepositoryRef(config_map=self.repository["configmap"],
                                            key=self.repository.get("key"))

    def check_transport(self, plans: list[TemplatePlan]) -> None:
        """Every result and file a step reads has a way to it (FS815, FS816)."""
        no_repository = self.repository == "none"
        fanned = [s.name for s in self.spec.steps if s.for_each is not None]
        for plan in plans:
            for step in plan.steps:
                reads = plan.reads[step.name]
                if no_repository and (reads.files or reads.params):
                    self.problem(step.path, codes.NO_RESULTS_PATH,
                                 f"step '{step.name}' reads a file, and files travel only as "
                                 "artifacts, but argo.artifact_repository is 'none'",
                                 "remove 'artifact_repository: none' to use the cluster's "
                                 "default repository, or name one")
                elif no_repository and reads_results(step) and not self.store:
                    self.problem(step.path, codes.NO_RESULTS_PATH,
                                 f"step '{step.name}' reads its ancestors' results (processor "
                                 f"'{step.processor}'), but there is no artifact repository "
                                 "and no store to carry them",
                                 "remove 'artifact_repository: none', or add argo.store: "
                                 "{secret: {name: NAME, key: KEY}}")
                if not self.store and _uses_database(step.processor):
                    self.problem((*step.path, "processor"), codes.NO_SHARED_DATABASE,
                                 f"step '{step.name}' (processor '{step.processor}') keeps "
                                 "state in the run's database, and on Argo no database is "
                                 "shared by the pods", "add argo.store: {secret: {name: "
                                 "NAME, key: KEY}}, a Secret with a database URL every pod "
                                 "reaches")
                for producer, output in self.fan_out_files(step, reads):
                    self.problem(step.path, codes.FAN_OUT_FILES,
                                 f"step '{step.name}' reads file '{output}' of fan-out "
                                 f"step '{producer}', whose instances each write one; Argo "
                                 "cannot hand them all on",
                                 "write the file in one step after the fan-out")
                if step.is_finally and fanned and reads_results(step) and not self.store:
                    self.problem(step.path, codes.FINALLY_READS_FAN_OUT,
                                 f"finally step '{step.name}' reads the main steps' "
                                 f"results, and '{fanned[0]}' fans out: Argo cannot hand "
                                 "an exit handler a fan-out step's results",
                                 "add argo.store: {secret: {name: NAME, key: KEY}}")

    def fan_out_files(self, step: Step, reads: Reads) -> list[tuple[str, str]]:
        """(producer, output) of the fan-out steps' files ``step`` would read: through its
        env, or, when its processor reads results, through theirs."""
        from engine.graph import visible_ancestors

        found = [(p, o) for p, o in reads.files if self.spec.step(p).for_each is not None]
        if reads_results(step):
            found += [(name, o) for name in visible_ancestors(self.spec, step)
                      if self.spec.step(name).for_each is not None
                      for o, t in self.output_types.get(name, {}).items()
                      if t == FILE and (name, o) not in found]
        return found

    def artifact_arguments(self, step: Step, reads: Reads) -> list[dict[str, Any]]:
        """The input artifacts one task passes (all optional: a Skipped or Omitted producer
        has none, and Argo drops an optional argument whose ``from`` does not resolve)."""
        arguments = []
        for name in reads.results:
            arguments.append({"name": c.result_input(name), "optional": True,
                              "from": self.artifact_ref(step, name, c.RESULT_ARTIFACT)})
        for producer, output in reads.files:
            arguments.append({"name": c.file_input(producer, output), "optional": True,
                              "from": self.artifact_ref(step, producer, output)})
        for name in reads.params:
            location = self.file_params.get(name)
            if location:
                arguments.append({"name": c.param_file_input(name), **location})
        return arguments

    def artifact_ref(self, step: Step, producer: str, artifact: str) -> str:
        """``{{tasks.P.outputs.artifacts.A}}`` in the producer's DAG, the exported global
        artifact from the exit handler."""
        if step.is_finally and not self.spec.step(producer).is_finally:
            name = c.result_global(producer) if artifact == c.RESULT_ARTIFACT else \
                c.file_global(producer, artifact)
            return f"{{{{workflow.outputs.artifacts.{name}}}}}"
        return f"{{{{tasks.{producer}.outputs.artifacts.{artifact}}}}}"

    # --- DAGs ----------------------------------------------------------------------------
    def dag(self, steps: tuple[Step, ...], plan_of: Mapping[str, TemplatePlan]) -> Any:
        uses_depends = any(s.depends is not None for s in steps)
        by_name = {s.name: s for s in steps}
        return self.m.DAGTemplate(
            tasks=[self.task(s, plan_of[s.name], uses_depends, by_name) for s in steps])

    def task(self, step: Step, plan: TemplatePlan, uses_depends: bool,
             by_name: Mapping[str, Step]) -> Any:
        from engine.expr.depends import dependencies_to_depends, parse_depends, to_argo_depends

        depends: str | None = None
        dependencies: list[str] | None = None
        continue_on: dict[str, bool | None] | None = None
        if step.depends is not None:
            depends = to_argo_depends(parse_depends(step.depends))
        elif step.dependencies and uses_depends:
            widen = {d: (by_name[d].continue_on.failed, by_name[d].continue_on.error)
                     for d in step.dependencies if d in by_name}
            depends = dependencies_to_depends(step.dependencies, widen)
        elif step.dependencies:
            dependencies = list(dict.fromkeys(step.dependencies))
        if step.continue_on.failed or step.continue_on.error:
            if uses_depends:
                self.problem((*step.path, "continue_on"), codes.CONTINUE_ON_IN_DEPENDS_DAG,
                             f"step '{step.name}' has continue_on, but a step of its DAG uses "
                             "depends", f"write 'depends: {step.name}.Succeeded || "
                             f"{step.name}.Failed' in the steps after it")
            continue_on = {"failed": step.continue_on.failed or None,
                           "error": step.continue_on.error or None}
        # nested values as plain data: pydantic validates them in one call per task
        arguments = [{"name": c.STEP_INPUT, "value": step.name}]
        if step.for_each is not None:
            arguments.append({"name": c.ITEM_INPUT, "value": "{{item}}"})
        if step.is_finally:
            arguments.append({"name": c.WORKFLOW_STATUS_INPUT, "value": "{{workflow.status}}"})
        for producer, output in plan.refs[step.name]:
            arguments.append({"name": c.upstream_input(producer, output),
                              "value": f"{{{{tasks.{producer}.outputs.parameters.{output}}}}}"})
        reads = plan.reads[step.name]
        if reads.phases:
            arguments.append({"name": c.PHASES_INPUT, "value": ",".join(
                f"{name}={{{{tasks.{name}.status}}}}" for name in reads.phases)})
        task: dict[str, Any] = {"name": step.name, "template": plan.name,
                                "arguments": {"parameters": arguments}}
        artifacts = self.artifact_arguments(step, reads)
        if artifacts:
            task["arguments"]["artifacts"] = artifacts
        optional = (("depends", depends), ("dependencies", dependencies),
                    ("continueOn", continue_on), ("when", self.when(step)),
                    ("withParam", self.with_param(step)))
        task.update((key, value) for key, value in optional if value is not None)
        return self.m.DAGTask.model_validate(task)

    def when(self, step: Step) -> str | None:
        if step.when is None:
            return None
        from engine.expr.parser import parse_condition
        from engine.expr.to_argo import to_argo_when

        item_type = None
        if step.for_each is not None:
            from engine.rules.conditions import item_type as for_each_item_type

            item_type = for_each_item_type(self.context, step, self.output_types)
        from engine.compile.versions import EMPTY_STRING_IS_NULL, condition_problems

        condition = parse_condition(step.when)
        for message, hint in condition_problems(condition, self.output_types, self.argo):
            self.problem((*step.path, "when"), EMPTY_STRING_IS_NULL, message, hint)
        return to_argo_when(condition, self.param_types, self.output_types,
                            item_type=item_type, nil_skipped_outputs=self.argo.nil_skipped_outputs)

    def with_param(self, step: Step) -> str | None:
        if step.for_each is None:
            return None
        from engine.expr.ast import ParamRef, StepOutputRef
        from engine.expr.parser import parse_condition

        ref = parse_condition(step.for_each)
        if isinstance(ref, ParamRef):
            return f"{{{{workflow.parameters.{ref.name}}}}}"
        if isinstance(ref, StepOutputRef):
            return f"{{{{tasks.{ref.step}.outputs.parameters.{ref.output}}}}}"
        raise AssertionError(f"validation lets through for_each {step.for_each!r}")

    # --- step templates ------------------------------------------------------------------
    def step_template(self, plan: TemplatePlan) -> Any:
        m, shape = self.m, plan.shape
        inputs = [m.Parameter(name=c.STEP_INPUT)]
        env = [
            m.EnvVar(name=c.ENV_SPEC_SHA256, value=self.spec.source_hash),
            m.EnvVar(name=c.ENV_RUN_ID, value="{{workflow.uid}}"),
            m.EnvVar(name=c.ENV_WORKFLOW_NAME, value="{{workflow.name}}"),
        ]
        if plan.outputs:
            env.append(m.EnvVar(name=c.ENV_OUTPUTS, value=",".join(plan.outputs)))
        if plan.steps[0].retry.limit:
            env.append(m.EnvVar(name=c.ENV_ATTEMPT, value="{{retries}}"))
        if shape.fans_out:
            inputs.append(m.Parameter(name=c.ITEM_INPUT))
            env.append(m.EnvVar(name=c.ENV_ITEM, value=f"{{{{inputs.parameters.{c.ITEM_INPUT}}}}}"))
        if shape.in_finally:
            inputs.append(m.Parameter(name=c.WORKFLOW_STATUS_INPUT))
            env.append(m.EnvVar(name=c.ENV_WORKFLOW_STATUS,
                                value=f"{{{{inputs.parameters.{c.WORKFLOW_STATUS_INPUT}}}}}"))
        from engine.expr.to_argo import NULL_MARKER

        for name in plan.inputs:
            inputs.append(m.Parameter(name=name, default=NULL_MARKER))
            env.append(m.EnvVar(name=c.upstream_env(name),
                                value=f"{{{{inputs.parameters.{name}}}}}"))
        if any(r.phases for r in plan.reads.values()):
            inputs.append(m.Parameter(name=c.PHASES_INPUT, default=""))
            env.append(m.EnvVar(name=c.ENV_PHASES,
                                value=f"{{{{inputs.parameters.{c.PHASES_INPUT}}}}}"))
        if self.store:
            env.append(m.EnvVar(name=c.ENV_RESULTS_FROM, value="store"))
        env.extend(m.EnvVar(name=c.param_env(name), value=f"{{{{workflow.parameters.{name}}}}}")
                   for name in self.spec.params)
        env.extend(
            m.EnvVar(name=s.env, value_from=m.EnvVarSource(secret_key_ref=m.SecretKeySelector(
                name=s.name, key=s.key, optional=True if s.optional else None)))
            for s in shape.secrets)
        if self.store:
            secret = self.store["secret"]
            env.append(m.EnvVar(name=c.ENV_STORE, value_from=m.EnvVarSource(
                secret_key_ref=m.SecretKeySelector(name=secret["name"], key=secret["key"]))))
        resources = dict(shape.resources)
        pod: dict[str, Any] = json.loads(shape.pod) if shape.pod else {}
        container = m.Container(
            image=shape.image,
            image_pull_policy=shape.image_pull_policy,
            command=list(shape.command),
            args=["--spec", c.SPEC_PATH, "--root", c.ROOT,
                  "--step", f"{{{{inputs.parameters.{c.STEP_INPUT}}}}}"],
            env=env,
            resources=m.ResourceRequirements(
                requests={**DEFAULT_REQUESTS, **resources},
                limits={"memory": resources["memory"]} if "memory" in resources else None,
            ),
            security_context=self.user_model(
                m.SecurityContext, {**_CONTAINER_SECURITY, **pod.get("security_context", {})},
                (*plan.steps[0].path, "argo", "security_context")),
            volume_mounts=[m.VolumeMount(name=c.WORK_VOLUME, mount_path=c.WORK_DIR),
                           m.VolumeMount(name=c.SPEC_VOLUME, mount_path=c.SPEC_MOUNT,
                                         read_only=True)],
        )
        outputs = [m.Parameter(name=name, value_from=m.ValueFrom(path=c.output_path(name)))
                   for name in plan.outputs]
        return m.Template(
            name=plan.name,
            inputs=m.Inputs(parameters=inputs,
                            artifacts=self.input_artifacts(plan) or None),
            outputs=m.Outputs(parameters=outputs or None,
                              artifacts=self.output_artifacts(plan) or None)
            if outputs or shape.saves_result or plan.files else None,
            retry_strategy=self.retry(plan.steps[0].retry),
            timeout=go_duration(shape.timeout + c.TIMEOUT_GRACE) if shape.timeout else None,
            pod_spec_patch=pod.get("pod_spec_patch"),
            node_selector=pod.get("node_selector"),
            tolerations=[self.user_model(m.Toleration, t,
                                         (*plan.steps[0].path, "argo", "tolerations", i))
                         for i, t in enumerate(pod.get("tolerations", ()))] or None,
            container=container,
        )

    def input_artifacts(self, plan: TemplatePlan) -> list[Any]:
        """Every input artifact a step of the plan may be passed, at the path the runner reads
        it from; optional, since each task passes only its own."""
        paths = {}
        for reads in plan.reads.values():
            for name in reads.results:
                paths[c.result_input(name)] = c.result_input_path(c.ROOT, name)
            for producer, output in reads.files:
                paths[c.file_input(producer, output)] = c.file_input_path(c.ROOT, producer,
                                                                           output)
            for name in reads.params:
                paths[c.param_file_input(name)] = c.param_file_path(c.ROOT, name)
        return [self.m.Artifact(name=name, path=paths[name], optional=True)
                for name in plan.artifacts]

    def output_artifacts(self, plan: TemplatePlan) -> list[Any]:
        """The step's result (when a step reads it) and its files, stored as they are (no
        tar), exported under a global name when a ``finally`` step reads them."""
        m, shape = self.m, plan.shape
        step = f"{{{{inputs.parameters.{c.STEP_INPUT}}}}}"
        plain = m.ArchiveStrategy(none=m.NoneStrategy())
        found = []
        if shape.saves_result:
            found.append(m.Artifact(
                name=c.RESULT_ARTIFACT, path=c.result_path(c.ROOT), optional=True,
                archive=plain,
                global_name=c.result_global(step) if shape.exports_result else None))
        found.extend(m.Artifact(
            name=name, path=f"{c.files_dir(c.ROOT)}/{name}", optional=True, archive=plain,
            global_name=c.file_global(step, name) if shape.exports_result else None)
            for name in plan.files)
        return found

    def retry(self, retry: Retry) -> Any:
        if retry.limit <= 0:
            return None
        m = self.m
        backoff = None
        if retry.backoff is not None or retry.max_duration is not None:
            b = retry.backoff
            cap = b.cap if b and self.argo.backoff_cap else None
            if b and b.cap is not None and not self.argo.backoff_cap:
                from engine.compile.versions import BACKOFF_CAP_UNSUPPORTED, cap_binds

                if cap_binds(retry):  # else the waits never reach it: leaving it out is exact
                    self.problem((*retry.path, "backoff", "cap"), BACKOFF_CAP_UNSUPPORTED,
                                 f"Argo {self.argo.version} has no backoff cap, and a wait of "
                                 f"this retry would exceed it ({go_duration(b.delay)} x "
                                 f"{b.factor}^{retry.limit - 1})",
                                 "lower limit, factor or delay below the cap, or compile with "
                                 "--argo-version 3.7 or later")
            backoff = m.Backoff(
                duration=go_duration(b.delay if b else 0),
                factor=m.IntOrString(str(b.factor if b else 1)),
                cap=go_duration(cap) if cap is not None else None,
                max_duration=go_duration(retry.max_duration)
                if retry.max_duration is not None else None,
            )
        return m.RetryStrategy(
            limit=m.IntOrString(str(retry.limit)),
            retry_policy=_RETRY_POLICY[retry.on],
            expression=TRANSIENT_EXPRESSION if retry.on == "transient" else None,
            backoff=backoff,
        )
