"""A stand-in for Argo running one step pod of a compiled manifest, for the runner tests.

It does what the controller and the executor do for our templates, from the manifest alone:
substitutes the task's arguments (an argument whose producer output is absent is dropped, so
the input's default applies), the template's ``{{inputs.*}}``/``{{workflow.*}}`` tags, puts
secrets from ``secretKeyRef`` into the env (a missing non-optional secret stops the pod, as
the kubelet does), writes the raw spec artifact, runs the container's command as a real
process and collects the output files, trimming one trailing newline as Argo's executor does.
The pod's stdout and stderr are files, ``pod.stdout`` and ``pod.stderr`` in its folder, as a
container runtime keeps them: a command in the pod can look at what already reached them.
"""

from __future__ import annotations

import os
import re
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


def _substitute(text: str, scope: dict[str, str]) -> str:
    return _TAG.sub(lambda m: scope.get(m.group(1).strip(), m.group(0)), text)


def run_pod(compiled: Any, step: str, tmp: Path, *, produced: dict[str, str | None] | None = None,
            status: str | None = None, item: str | None = None, retries: int = 0,
            secrets: dict[tuple[str, str], str] | None = None, uid: str = "uid-1",
            extra_env: dict[str, str] | None = None) -> PodRun:
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
             for p in spec["arguments"]["parameters"]}
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

    [artifact] = template["inputs"]["artifacts"]
    spec_file = tmp / "spec.gz.b64"
    spec_file.write_text(_substitute(artifact["raw"]["data"], scope), encoding="utf-8")
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
    args = [_substitute(a, scope) for a in template["container"]["args"]]
    args = [str(spec_file) if a == c.SPEC_PATH else a for a in args]
    out_dir = tmp / "outputs"
    with (tmp / "pod.stdout").open("wb") as stdout, (tmp / "pod.stderr").open("wb") as stderr:
        proc = subprocess.run(
            [sys.executable, "-m", "engine.runner", *args, "--output-dir", str(out_dir),
             "--workdir", str(tmp / "work")],
            check=False, env=env, stdout=stdout, stderr=stderr, cwd=tmp, timeout=120)
    outputs = {}
    for parameter in template.get("outputs", {}).get("parameters", []):
        path = out_dir / Path(parameter["valueFrom"]["path"]).name
        if path.exists():
            outputs[parameter["name"]] = path.read_text(encoding="utf-8").removesuffix("\n")
    return PodRun(proc.returncode, outputs, (tmp / "pod.stderr").read_text(encoding="utf-8"),
                  (tmp / "pod.stdout").read_text(encoding="utf-8"))
