"""``--check``: does the target Argo line accept what we emit? Four layers, all offline.

1. Argo's JSON Schema (schema.json, kind selected) with unknown fields rejected;
2. the full CRD's openAPIV3Schema (what the API server enforces), unknown fields rejected;
3. the CRD's CEL rules, as Python predicates (the CRDs carry them from v4.0);
4. what the API server and Argo's controller check beyond the schemas: object names, labels,
   annotations and size, and the DAG rules of ``validate.go`` that our compiler could break
   (references, depends/dependencies per DAG, parameters supplied, output dependencies).

Layers 1-3 use the schemas of the release ``engine.compile.versions`` names for the target
line (the newest by default). Each problem carries its manifest path; ``check_compiled``
maps it back to the spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.compile import codes
from engine.compile.schemas import cel_problems, crd_schema, crd_validator, json_schema_validator
from engine.compile.versions import LATEST, ArgoTarget
from engine.diagnostics import Code, Diagnostic, finish

ManifestPath = tuple[str | int, ...]

MAX_OBJECT_BYTES = 1_572_864  # etcd's default request limit, 1.5 MiB
MAX_ANNOTATION_BYTES = 262_144
MAX_NAME = {"Workflow": 63, "WorkflowTemplate": 63, "CronWorkflow": 52}
MAX_ERRORS_PER_LAYER = 50

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_TAG = re.compile(r"\{\{\s*([^={}][^{}]*?)\s*\}\}")
_DEPENDS_WORD = re.compile(r"[A-Za-z0-9][-A-Za-z0-9]*(?:\.[A-Z][A-Za-z]+)?")


@dataclass(frozen=True)
class ManifestProblem:
    path: ManifestPath
    code: Code
    message: str

    def __str__(self) -> str:
        return f"{dotted(self.path)}: {self.message}"


def dotted(path: ManifestPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def check_manifest(manifest: Mapping[str, Any], kind: str | None = None,
                   argo: ArgoTarget = LATEST) -> list[ManifestProblem]:
    """Every problem the ``argo`` line (API server + controller) would have with the manifest."""
    kind = kind or str(manifest.get("kind"))
    problems: list[ManifestProblem] = []
    for validator, code in ((json_schema_validator(kind, argo), codes.ARGO_SCHEMA),
                            (crd_validator(kind, argo), codes.ARGO_CRD)):
        errors = sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.path)))
        for error in errors[:MAX_ERRORS_PER_LAYER]:
            problems.append(ManifestProblem(tuple(error.absolute_path), code, _short(error.message)))
    for path, message in cel_problems(crd_schema(kind, argo), manifest):
        problems.append(ManifestProblem(path, codes.ARGO_RULE, message))
    problems.extend(_object_problems(manifest, kind))
    spec_path: ManifestPath = ("spec", "workflowSpec") if kind == "CronWorkflow" else ("spec",)
    workflow_spec = manifest.get("spec", {})
    if kind == "CronWorkflow":
        workflow_spec = workflow_spec.get("workflowSpec", {})
    problems.extend(_lint(workflow_spec, spec_path, kind))
    if kind == "CronWorkflow":
        problems.extend(_cron(manifest.get("spec", {})))
    unique = {(p.path, p.code.id, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (list(map(str, p.path)), p.code.id))


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


# --- what the API server checks itself ---------------------------------------------------

def _object_problems(manifest: Mapping[str, Any], kind: str) -> Iterator[ManifestProblem]:
    meta = manifest.get("metadata") or {}
    name, prefix = meta.get("name"), meta.get("generateName")

    def bad(path: ManifestPath, message: str) -> ManifestProblem:
        return ManifestProblem(path, codes.ARGO_OBJECT, message)

    if not name and not prefix:
        yield bad(("metadata",), "name or generateName is required")
    if name and (len(name) > MAX_NAME[kind] or not _DNS_SUBDOMAIN.match(name)):
        yield bad(("metadata", "name"),
                  f"'{name}' must be a DNS-1123 name of at most {MAX_NAME[kind]} characters")
    if prefix:
        masked = prefix[:-1] + "a" if prefix.endswith("-") else prefix
        if len(prefix) > 63 or not _DNS_SUBDOMAIN.match(masked):
            yield bad(("metadata", "generateName"), f"'{prefix}' is not a valid name prefix")
    for key, value in (meta.get("labels") or {}).items():
        if not _qualified_name(key):
            yield bad(("metadata", "labels", key), f"label key '{key}' is not a qualified name")
        if len(value) > 63 or (value and not _QUALIFIED_NAME.match(value)):
            yield bad(("metadata", "labels", key),
                      f"label value '{value}' must be at most 63 letters, digits, '-', '_', '.'")
    annotations = meta.get("annotations") or {}
    for key in annotations:
        if not _qualified_name(key):
            yield bad(("metadata", "annotations", key),
                      f"annotation key '{key}' is not a qualified name")
    if sum(len(k) + len(v) for k, v in annotations.items()) > MAX_ANNOTATION_BYTES:
        yield bad(("metadata", "annotations"), "annotations exceed 256 KiB")
    size = _size(manifest)
    if size > MAX_OBJECT_BYTES:
        path, part = _largest_part(manifest, size)
        yield bad(path, f"the manifest is {size} bytes, {part} of them here; Kubernetes stores "
                        f"at most {MAX_OBJECT_BYTES}")


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _largest_part(value: Any, size: int) -> tuple[ManifestPath, int]:
    """Where most of the bytes are: follow the biggest child while it holds most of them."""
    path: ManifestPath = ()
    while isinstance(value, (dict, list)) and value:
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        key, child = max(items, key=lambda kv: _size(kv[1]))
        child_size = _size(child)
        if child_size * 2 < size:
            break
        path, value, size = (*path, key), child, child_size
    return path, size


def _qualified_name(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


# --- what Argo's controller checks (validate.go), for what a compiler can get wrong -----

def _cron(spec: Mapping[str, Any]) -> Iterator[ManifestProblem]:
    """``validateCronWorkflow``: every schedule parses (and fires), the zone loads."""
    from engine.cron import CronError, check_schedule, check_timezone

    for i, schedule in enumerate(spec.get("schedules", [])):
        try:
            check_schedule(str(schedule))
        except CronError as exc:
            yield ManifestProblem(("spec", "schedules", i), codes.ARGO_LINT,
                                  f"cron schedule {schedule} is malformed: {exc}")
    if spec.get("timezone"):
        try:
            check_timezone(str(spec["timezone"]))
        except CronError as exc:
            yield ManifestProblem(("spec", "timezone"), codes.ARGO_LINT,
                                  f"invalid timezone: {exc}")


def _lint(spec: Mapping[str, Any], base: ManifestPath, kind: str) -> Iterator[ManifestProblem]:
    def bad(path: ManifestPath, message: str) -> ManifestProblem:
        return ManifestProblem((*base, *path), codes.ARGO_LINT, message)

    templates = {str(t.get("name")): t for t in spec.get("templates", []) if isinstance(t, dict)}
    index = {t.get("name"): i for i, t in enumerate(spec.get("templates", []))}
    if len(templates) != len(spec.get("templates", [])):
        yield bad(("templates",), "template names are not unique")
    workflow_params = {p.get("name") for p in spec.get("arguments", {}).get("parameters", [])}
    for key in ("entrypoint", "onExit"):
        if spec.get(key) is not None and spec[key] not in templates:
            yield bad((key,), f"template name '{spec[key]}' undefined")
    if kind == "Workflow" and not spec.get("entrypoint"):
        yield bad(("entrypoint",), "spec.entrypoint is required")
    for name, template in templates.items():
        where: ManifestPath = ("templates", index[name])
        for tag in _tags(template):
            if tag.startswith("workflow.parameters.") and \
                    tag.removeprefix("workflow.parameters.") not in workflow_params | {"json"}:
                yield bad(where, f"failed to resolve {{{{{tag}}}}}")
            if tag.startswith("inputs.parameters.") and tag.removeprefix(
                    "inputs.parameters.") not in _input_names(template):
                yield bad(where, f"failed to resolve {{{{{tag}}}}}")
        if "dag" in template:
            yield from (bad((*where, *p), m) for p, m in _lint_dag(template["dag"], templates))


def _tags(node: Any) -> Iterator[str]:
    """Simple ``{{...}}`` tags in a template, except inside its DAG tasks (checked per task)."""
    if isinstance(node, str):
        yield from _TAG.findall(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "dag":
                yield from _tags(value)
    elif isinstance(node, list):
        for value in node:
            yield from _tags(value)


def _input_names(template: Mapping[str, Any]) -> set[str]:
    return {p.get("name") for p in template.get("inputs", {}).get("parameters", [])}


def _task_parents(task: Mapping[str, Any]) -> list[str]:
    if "depends" in task:
        return [w.split(".")[0] for w in _DEPENDS_WORD.findall(task["depends"])]
    return list(task.get("dependencies", []))


def _lint_dag(dag: Mapping[str, Any], templates: Mapping[str, Any]
              ) -> Iterator[tuple[ManifestPath, str]]:
    tasks = dag.get("tasks", [])
    by_name = {t.get("name"): t for t in tasks}
    if len(by_name) != len(tasks):
        yield ("dag", "tasks"), "task names are not unique"
    uses_depends = any("depends" in t for t in tasks)
    parents = {t.get("name"): _task_parents(t) for t in tasks}
    for i, task in enumerate(tasks):
        where: ManifestPath = ("dag", "tasks", i)
        name = task.get("name", "")
        if uses_depends and "dependencies" in task:
            yield where, "cannot use both 'depends' and 'dependencies' in the same DAG template"
        if uses_depends and "continueOn" in task:
            yield where, "cannot use 'continueOn' when using 'depends'"
        if uses_depends and name[:1].isdigit():
            yield where, "name cannot begin with a digit when using 'depends'"
        for parent in parents[name]:
            if parent not in by_name:
                yield where, f"dependency '{parent}' not defined"
        callee = templates.get(task.get("template"))
        if callee is None:
            yield where, f"template name '{task.get('template')}' undefined"
            continue
        given = {p.get("name"): p for p in task.get("arguments", {}).get("parameters", [])}
        for p in callee.get("inputs", {}).get("parameters", []):
            if p.get("name") not in given and "default" not in p and "value" not in p:
                yield where, f"inputs.parameters.{p.get('name')} was not supplied"
        for key in given:
            if key not in _input_names(callee):
                yield where, f"argument '{key}' is not an input of template '{callee.get('name')}'"
        artifacts = {a.get("name"): a for a in task.get("arguments", {}).get("artifacts", [])}
        inputs = {a.get("name"): a for a in callee.get("inputs", {}).get("artifacts", [])}
        for key in artifacts:
            if key not in inputs:
                yield where, f"artifact '{key}' is not an input of template '{callee.get('name')}'"
        for key, art in inputs.items():
            if key not in artifacts and not art.get("optional") and not _located(art):
                yield where, f"inputs.artifacts.{key} was not supplied"
        ancestry = _ancestors(name, parents)
        values = [p.get("value", "") for p in given.values()] + [task.get("withParam", "")]
        values += [a.get("from", "") for a in artifacts.values()]
        for value in values:
            for tag in _TAG.findall(value or ""):
                if not tag.startswith("tasks."):
                    continue
                producer, _, rest = tag.removeprefix("tasks.").partition(".")
                if producer not in ancestry:
                    yield where, f"missing dependency '{producer}' for {{{{{tag}}}}}"
                    continue
                if rest in _TASK_FIELDS:
                    continue
                kind, _, output = rest.removeprefix("outputs.").partition(".")
                produced = templates.get(by_name[producer].get("template"), {})
                declared = {p.get("name") for p in produced.get("outputs", {}).get(kind, [])}
                if output not in declared:
                    what = "artifact" if kind == "artifacts" else "parameter"
                    yield where, f"'{producer}' has no output {what} '{output}'"


#: ``{{tasks.X.FIELD}}`` of an ancestor that every node has (SEMANTICS: the local scope)
_TASK_FIELDS = frozenset({"id", "startedAt", "finishedAt", "ip", "status", "hostNodeName",
                          "exitCode"})
_LOCATIONS = ("s3", "gcs", "http", "git", "raw", "hdfs", "oss", "azure", "artifactory",
              "plugin")


def _located(artifact: Mapping[str, Any]) -> bool:
    return any(key in artifact for key in _LOCATIONS)


def _ancestors(name: str, parents: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(parents.get(name, []))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(parents.get(current, []))
    return seen


# --- back to the spec ----------------------------------------------------------------------

def check_compiled(compiled: Any) -> list[Diagnostic]:
    """``check_manifest`` of a ``Compiled``, each problem placed on the spec line it came from."""
    from engine.compile.locate import spec_path

    spec = compiled.spec
    diagnostics = []
    problems = check_manifest(compiled.manifest, compiled.kind, compiled.argo)
    for problem in problems:
        where = spec_path(compiled, problem.path)
        span = spec.document.span(where)
        diagnostics.append(Diagnostic.at(spec.file, span, problem.code, str(problem),
                                         "the manifest path is named first; this line is "
                                         "where that part of the manifest comes from"))
    if not any(p.code is codes.ARGO_OBJECT for p in problems):
        diagnostics.extend(_status_problems(compiled))
    return finish(diagnostics)


def _status_problems(compiled: Any) -> list[Diagnostic]:
    """FS818: the object the running workflow becomes would pass the size limit."""
    from engine.compile.status_size import NOMINAL_VALUE_BYTES, estimate

    found = estimate(compiled, _size(compiled.manifest))
    if found.total <= MAX_OBJECT_BYTES:
        return []
    spec = compiled.spec
    return [Diagnostic.at(
        spec.file, spec.document.span(("steps",)), codes.STATUS_TOO_LARGE,
        f"while it runs, the workflow object would reach about {found.total:,} bytes (the "
        f"manifest {found.manifest:,}, the status of up to {found.nodes:,} nodes "
        f"{found.status:,}, every retry used and each output value taken as "
        f"{NOMINAL_VALUE_BYTES} bytes); Kubernetes stores at most {MAX_OBJECT_BYTES:,}",
        "use fewer retries or outputs, or split the workflow")]
