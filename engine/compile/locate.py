"""Where in the spec a part of the compiled manifest came from, for ``--check`` messages.

The compiler records nothing while it builds (that would slow every compile for the rare
failing check); the mapping is recovered from the manifest's structure instead: tasks are
named after steps, step templates were planned from known steps, parameters after params.
"""

from __future__ import annotations

from typing import Any

from engine.compile.argo import EXIT_TEMPLATE
from engine.loader import Path
from engine.model import Step

ManifestPath = tuple[str | int, ...]

#: workflow spec field -> spec path
_SPEC_FIELDS: dict[str, Path] = {
    "serviceAccountName": ("argo", "service_account"),
    "podGC": ("argo", "pod_gc"),
    "ttlStrategy": ("argo", "ttl_after_finished"),
    "activeDeadlineSeconds": ("timeout",),
    "parallelism": ("parallelism",),
    "securityContext": ("argo", "security_context"),
    "nodeSelector": ("argo", "node_selector"),
    "tolerations": ("argo", "tolerations"),
    "schedules": ("argo", "schedules"),
    "timezone": ("argo", "timezone"),
    "concurrencyPolicy": ("argo", "concurrency_policy"),
    "onExit": ("finally",),
    "entrypoint": ("steps",),
}
#: DAG task field -> step key
_TASK_FIELDS = {"when": "when", "depends": "depends", "dependencies": "dependencies",
                "continueOn": "continue_on", "withParam": "for_each"}
#: step template field -> step key (or a workflow-level fallback)
_TEMPLATE_FIELDS: dict[str, tuple[str, Path]] = {
    "retryStrategy": ("retry", ("defaults", "retry")),
    "timeout": ("timeout", ("defaults", "timeout")),
    "podSpecPatch": ("argo", ("argo",)),
    "nodeSelector": ("argo", ("argo",)),
    "tolerations": ("argo", ("argo",)),
}
_CONTAINER_FIELDS: dict[str, tuple[str, Path]] = {
    "image": ("argo", ("argo", "image")),
    "imagePullPolicy": ("argo", ("argo", "image_pull_policy")),
    "command": ("argo", ("argo",)),
    "resources": ("resources", ("defaults", "resources")),
    "securityContext": ("argo", ("argo",)),
    "env": ("env", ("env",)),
}


def spec_path(compiled: Any, path: ManifestPath) -> Path:
    """The spec path (for ``Document.span``) that produced the manifest node at ``path``."""
    spec = compiled.spec
    if path[:1] == ("metadata",):
        if path[1:2] == ("labels",) and len(path) > 2 and path[2] in spec.labels:
            return ("metadata", "labels", path[2])
        return ("metadata",)
    rest = path[1:]
    if compiled.kind == "CronWorkflow" and rest[:1] == ("workflowSpec",):
        rest = rest[1:]
    if not rest:
        return ()
    head = rest[0]
    if head == "arguments":
        if len(rest) > 2 and isinstance(rest[2], int):
            params = list(spec.params)
            if rest[2] < len(params):
                return ("params", params[rest[2]])
        return ()
    if head == "templates" and len(rest) > 1 and isinstance(rest[1], int):
        return _template_path(compiled, rest[1], rest[2:])
    return _SPEC_FIELDS.get(str(head), ())


def _template_path(compiled: Any, index: int, rest: ManifestPath) -> Path:
    spec = compiled.spec
    templates = compiled.manifest_spec()["templates"]
    if index >= len(templates):
        return ()
    template = templates[index]
    if "dag" in template:
        steps = spec.finally_steps if template.get("name") == EXIT_TEMPLATE else spec.steps
        key = "finally" if steps is spec.finally_steps else "steps"
        if rest[:2] == ("dag", "tasks") and len(rest) > 2 and isinstance(rest[2], int):
            task = template["dag"]["tasks"][rest[2]] if rest[2] < len(template["dag"]["tasks"]) \
                else {}
            named = next((s for s in steps if s.name == task.get("name")), None)
            if named is not None:
                return _field(named, _TASK_FIELDS.get(str(rest[3]) if len(rest) > 3 else ""))
        return (key,)
    plan = next((p for p in compiled.templates if p.name == template.get("name")), None)
    if plan is None:
        return ()
    step: Step = plan.steps[0]
    if rest[:1] == ("container",) and len(rest) > 1:
        key, fallback = _CONTAINER_FIELDS.get(str(rest[1]), ("", ()))
    else:
        key, fallback = _TEMPLATE_FIELDS.get(str(rest[0]) if rest else "", ("", ()))
    if not key:
        return step.path
    own: Path = (*step.path, key)
    return own if own in compiled.spec.document.nodes else (fallback or step.path)


def _field(step: Step, key: str | None) -> Path:
    return (*step.path, key) if key else step.path
