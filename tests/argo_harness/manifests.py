"""Small hand-written Argo manifests for the harness's own tests.

Every container runs ``sh -c SCRIPT`` (the image is ignored) with its working directory on
the ``work`` volume (``/work``), so a script writes its outputs with relative paths and the
template collects them from ``/work/NAME``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

WORK = {"name": "work", "emptyDir": {}}


def sh(name: str, script: str, *, inputs: Sequence[str | Mapping[str, Any]] = (),
       outputs: Sequence[str | Mapping[str, Any]] = (),
       artifacts_in: Sequence[Mapping[str, Any]] = (),
       artifacts_out: Sequence[Mapping[str, Any]] = (),
       env: Sequence[Mapping[str, Any]] = (), mounts: Sequence[Mapping[str, Any]] = (),
       **extra: Any) -> dict[str, Any]:
    """A container template; ``inputs``/``outputs`` name parameters (or give them whole),
    an output NAME is read from ``/work/NAME``."""
    template: dict[str, Any] = {
        "name": name,
        "inputs": {"parameters": [p if isinstance(p, Mapping) else {"name": p}
                                  for p in inputs],
                   "artifacts": list(artifacts_in)},
        "outputs": {"parameters": [p if isinstance(p, Mapping) else
                                   {"name": p, "valueFrom": {"path": f"/work/{p}"}}
                                   for p in outputs],
                    "artifacts": list(artifacts_out)},
        "container": {"image": "ignored", "command": ["sh", "-c", script], "workingDir": "/work",
                      "env": list(env),
                      "volumeMounts": [{"name": "work", "mountPath": "/work"}, *mounts]},
    }
    template.update(extra)
    return template


def task(name: str, template: str, **fields: Any) -> dict[str, Any]:
    """A DAG task; ``params={name: value}`` become its argument parameters."""
    params = fields.pop("params", {})
    artifacts = fields.pop("artifacts", [])
    return {"name": name, "template": template,
            "arguments": {"parameters": [{"name": k, "value": v} for k, v in params.items()],
                          "artifacts": artifacts},
            **fields}


def workflow(tasks: Sequence[Mapping[str, Any]], templates: Sequence[Mapping[str, Any]], *,
             on_exit: Sequence[Mapping[str, Any]] | None = None,
             parameters: Mapping[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    """A Workflow whose entrypoint ``main`` is a DAG of ``tasks``; ``on_exit`` tasks make the
    ``exit`` DAG the exit handler."""
    dags = [{"name": "main", "dag": {"tasks": list(tasks)}}]
    if on_exit is not None:
        dags.append({"name": "exit", "dag": {"tasks": list(on_exit)}})
        spec["onExit"] = "exit"
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "harness-"},
        "spec": {"entrypoint": "main",
                 "arguments": {"parameters": [{"name": k, "value": v}
                                              for k, v in (parameters or {}).items()]},
                 "volumes": [WORK, *spec.pop("volumes", [])],
                 "templates": [*dags, *templates], **spec},
    }
