"""A stand-in for Argo running one step pod of a compiled manifest, for the runner tests.

It does what the controller and the executor do for our templates, from the manifest alone:
substitutes the task's arguments (an argument whose producer output is absent is dropped, so
the input's default applies), the template's ``{{inputs.*}}``/``{{workflow.*}}`` tags, puts
secrets from ``secretKeyRef`` into the env (a missing non-optional secret stops the pod, as
the kubelet does), writes the spec annotation where the downward-API volume shows it, copies
the input artifacts the test hands over (``artifacts``: ``{"tasks.X.outputs.artifacts.A":
path}``) to their paths, runs the container's command as a real process with the pod's paths
under its folder, and collects the output files, trimming one trailing newline as Argo's
executor does. The full execution harness, with a real artifact repository, is
``tests/argo_harness``.
The pod's stdout and stderr are files, ``pod.stdout`` and ``pod.stderr`` in its folder, as a
container runtime keeps them: a command in the pod can look at what already reached them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.compile import contract as c

from .conftest import REPO

_TAG = re.compile(r"\{\{([^{}]+)\}\}")


@dataclass
class PodRun:
    exit_code: int
    outputs: dict[str, str] = field(default_factory=dict)
    stderr: str = ""
    stdout: str = ""
    #: the pod's folder for ``contract.ROOT``: its result and files are under it
    root: Path = Path()

    @property
    def result(self) -> Path:
        return Path(c.result_path(str(self.root)))


def _substitute(text: str, scope: dict[str, str]) -> str:
    return _TAG.sub(lambda m: scope.get(m.group(1).strip(), m.group(0)), text)


def run_pod(compiled: Any, step: str, tmp: Path, *, produced: dict[str, str | None] | None = None,
            status: str | None = None, item: str | None = None, retries: int = 0,
            secrets: dict[tuple[str, str], str] | None = None, uid: str = "uid-1",
            extra_env: dict[str, str] | None = None,
            artifacts: dict[str, Path] | None = None) -> PodRun:
    """Run ``step``'s pod. ``produced`` maps ``tasks.X.outputs.parameters.Y`` to the text
    Argo holds (None: absent, a Skipped/Omitted producer)."""
    tmp.mkdir(parents=True, exist_ok=True)
    spec = compiled.manifest_spec()
    templates = {t["name"]: t for t in spec["templates"]}
    dag = templates["finally" if step in {s.name for s in compiled.spec.finally_steps}
                    else "main"]
    task = next(t for t in dag["dag"]["tasks"] if t["name"] == step)
    template = templates[task["template"]]
    scope = {f"workflow.parameters.{p['name']}": p.get("value", "")
             for p in spec.get("arguments", {}).get("parameters", [])}
    scope.update({"workflow.name": "wf-abc12", "workflow.uid": uid, "retries": str(retries),
                  "item": item or "", "workflow.status": status or ""})
    tasks_scope = {f"tasks.{k}": v for k, v in (produced or {}).items() if v is not None}
    inputs = {p["name"]: p.get("default") for p in template["inputs"]["parameters"]}
    for arg in task["arguments"]["parameters"]:
        value = arg["value"]
        pure = _TAG.fullmatch(value)
        if pure and pure.group(1).startswith("tasks.") and pure.group(1) not in tasks_scope:
            continue  # an absent optional output: the argument is dropped, the default applies
        inputs[arg["name"]] = _substitute(_substitute(value, tasks_scope), scope)
    scope.update({f"inputs.parameters.{k}": v for k, v in inputs.items() if v is not None})

    mounts = {c.SPEC_MOUNT: tmp / "spec-volume", c.WORK_DIR: tmp / "work-volume"}
    mounts[c.SPEC_MOUNT].mkdir(parents=True, exist_ok=True)
    (mounts[c.SPEC_MOUNT] / "spec").write_text(
        spec["podMetadata"]["annotations"][c.SPEC_ANNOTATION], encoding="utf-8")

    def local(path: str) -> str:
        for mount, folder in mounts.items():
            if path == mount or path.startswith(mount + "/"):
                return str(folder) + path[len(mount):]
        return path

    root = Path(local(c.ROOT))
    inputs_at = {a["name"]: a["path"] for a in template["inputs"].get("artifacts", [])}
    for arg in task["arguments"].get("artifacts", []):
        source = (artifacts or {}).get(arg.get("from", "").strip("{}"))
        if source is not None and source.exists():
            target = Path(local(inputs_at[arg["name"]]))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO / "tests"), "HOME": str(tmp),
           **(extra_env or {})}
    for entry in template["container"].get("env", []):
        if "value" in entry:
            env[entry["name"]] = _substitute(entry["value"], scope)
            continue
        ref = entry["valueFrom"]["secretKeyRef"]
        value = (secrets or {}).get((ref["name"], ref["key"]))
        if value is None and not ref.get("optional"):
            raise RuntimeError(f"pod would not start: secret {ref['name']}/{ref['key']}")
        if value is not None:
            env[entry["name"]] = value
    args = [local(_substitute(a, scope)) for a in template["container"]["args"]]
    with (tmp / "pod.stdout").open("wb") as stdout, (tmp / "pod.stderr").open("wb") as stderr:
        proc = subprocess.run(
            [sys.executable, "-m", "engine.runner", *args],
            check=False, env=env, stdout=stdout, stderr=stderr, cwd=tmp, timeout=120)
    outputs = {}
    for parameter in template.get("outputs", {}).get("parameters", []):
        path = Path(local(parameter["valueFrom"]["path"]))
        if path.exists():
            outputs[parameter["name"]] = path.read_text(encoding="utf-8").removesuffix("\n")
    return PodRun(proc.returncode, outputs, (tmp / "pod.stderr").read_text(encoding="utf-8"),
                  (tmp / "pod.stdout").read_text(encoding="utf-8"), root)
