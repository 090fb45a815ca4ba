"""How large the Workflow object grows while it runs, estimated from the compiled manifest.

Argo keeps one node per attempt of every step (plus a retry node around them, a group node
per fan-out, one per DAG) in the object's status, each with its inputs and outputs. etcd
caps the whole object, so a spec whose manifest is small can still fail mid-run. The estimate
counts the worst case of what the spec decides (every retry used) and a nominal size for what
it cannot know (an output's value, a fan-out's item count when no default list gives it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: A node's fixed fields (id, names, type, phase, times, progress, resources, children...).
NODE_BYTES = 700
#: What an output parameter's value is assumed to hold when the spec cannot say.
NOMINAL_VALUE_BYTES = 256
#: An artifact in a node: name, path, key in the repository.
ARTIFACT_BYTES = 250
#: Instances assumed for a fan-out over a list no default gives.
NOMINAL_ITEMS = 10


@dataclass(frozen=True)
class Estimate:
    manifest: int
    status: int
    nodes: int

    @property
    def total(self) -> int:
        return self.manifest + self.status


def estimate(compiled: Any, manifest_bytes: int) -> Estimate:
    """The object's size at the end of a run in which every retry is used."""
    spec = compiled.manifest_spec()
    templates = {t["name"]: t for t in spec.get("templates", [])}
    prefix = len(compiled.spec.name)
    status = 0
    nodes = 0
    for dag in (t for t in templates.values() if "dag" in t):
        nodes += 1
        status += NODE_BYTES + prefix
        for task in dag["dag"]["tasks"]:
            callee = templates.get(task["template"], {})
            one = _pod_node(task, callee, prefix)
            limit = int(str(callee.get("retryStrategy", {}).get("limit", "0")))
            attempts = limit + 1
            instances = _instances(task, compiled)
            per_instance = one * attempts + (NODE_BYTES if limit else 0)
            group = NODE_BYTES if instances > 1 or "withParam" in task else 0
            nodes += instances * (attempts + (1 if limit else 0)) + (1 if group else 0)
            status += instances * per_instance + group
    return Estimate(manifest_bytes, status, nodes)


def _pod_node(task: Mapping[str, Any], callee: Mapping[str, Any], prefix: int) -> int:
    size = NODE_BYTES + 3 * (prefix + len(task["name"]))
    for parameter in task.get("arguments", {}).get("parameters", []):
        value = parameter.get("value", "")
        # a tag is replaced by what it stands for, whose size the spec does not know
        size += 30 + len(parameter["name"]) + (NOMINAL_VALUE_BYTES if "{{" in value
                                               else len(value))
    size += ARTIFACT_BYTES * len(task.get("arguments", {}).get("artifacts", []))
    outputs = callee.get("outputs", {})
    for parameter in outputs.get("parameters", []):
        size += 60 + len(parameter["name"]) + len(parameter.get("valueFrom", {}).get(
            "path", "")) + NOMINAL_VALUE_BYTES
    size += ARTIFACT_BYTES * len(outputs.get("artifacts", []))
    return size


def _instances(task: Mapping[str, Any], compiled: Any) -> int:
    """How many pods one task makes: 1, or a fan-out's items (its source's default when the
    spec gives one)."""
    source = task.get("withParam")
    if source is None:
        return 1
    step = compiled.spec.step(task["name"])
    ref = step.for_each or ""
    if ref.startswith("params."):
        default = compiled.spec.params[ref.removeprefix("params.")].default
        if isinstance(default, list):
            return max(1, len(default))
    return NOMINAL_ITEMS

