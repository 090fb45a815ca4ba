"""Compile benchmark: generated specs of 200 and 1,000 steps, against two baselines.

    python bench/bench_compile.py [--repeat 9] [--sizes 200 1000]

For each size it reports (best of ``--repeat`` runs, garbage collection off while timing):

- ``validate``: load + validate the spec (not part of compile; shown for scale);
- ``compile``: a validated Spec to YAML text (Hera models built, dumped, written);
- ``lower bound``: the same manifest, already a plain dict, through ``yaml.CSafeDumper``
  as PyYAML ships it (same options as ours: block style, unsorted keys, no line folding);
- ``hera to_yaml``: Hera's own ``Workflow.to_yaml()`` on an equivalent workflow hand-built
  from Hera's classes (``Container``, ``DAG``, ``Task``), explicitly, without ``with``;
- peak memory of each (tracemalloc, a separate run).

A spec over 200 steps is refused by design (Argo allows 200 tasks per DAG and flowspec does
not partition; FS602/FS801): for 1,000 steps the time to refuse is reported, and both
baselines are measured on a hand-built 1,000-task workflow for scale.

Targets (issue 4): compile within 1.5x of the lower bound, at least 2x faster than Hera.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, ClassVar

import yaml


def generate(steps: int) -> str:
    """A spec shaped like real ones: fan-in dependencies, typed outputs, a third of the
    steps with a two-clause condition, a quarter passing an upstream output through env."""
    lines = [
        "apiVersion: flowspec/v1", "kind: Workflow", f"metadata: {{name: bench-{steps}}}",
        "params:", "  threshold: {type: integer, default: 3}", "  region: {type: string, default: eu}",
        "env:", "  LOG_LEVEL: info", "  DATABASE_URL: {secret: {name: db, key: url}}",
        "defaults:", "  retry: {limit: 2, on: failure, backoff: {delay: 2s, factor: 2, cap: 1m}}",
        "  timeout: 5m", "steps:",
    ]
    for i in range(steps):
        lines += [f"  - name: s{i:04d}", "    processor: noop",
                  f"    config: {{outputs: {{ok: true, count: {i}}}}}",
                  "    outputs: {ok: boolean, count: integer}"]
        parents = sorted({i - 1, i // 2} - {i}) if i else []
        if parents:
            lines.append("    dependencies: [" + ", ".join(f"s{p:04d}" for p in parents) + "]")
        if i and i % 3 == 0:
            lines.append(f"    when: steps.s{i - 1:04d}.outputs.ok == true && "
                         f"steps.s{i - 1:04d}.outputs.count >= params.threshold")
        if i and i % 4 == 0:
            lines.append(f"    env: {{COUNT: '${{{{ steps.s{i - 1:04d}.outputs.count }}}}'}}")
    return "\n".join(lines) + "\n"


class _Pristine(yaml.CSafeDumper):
    """CSafeDumper as PyYAML ships it (importing hera changes the shared str representer)."""

    yaml_representers: ClassVar[dict[Any, Any]] = {**yaml.SafeDumper.yaml_representers,
                         str: yaml.representer.SafeRepresenter.represent_str}


def lower_bound(manifest: dict[str, Any]) -> str:
    return yaml.dump(manifest, Dumper=_Pristine, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1_000_000)


def hand_built(manifest: dict[str, Any]) -> Any:
    """The same workflow written with Hera's own classes, one object at a time."""
    from hera.workflows import DAG, Container, Parameter, Task, Workflow
    from hera.workflows import models as m

    spec = manifest["spec"]
    templates: list[Any] = []
    for t in spec["templates"]:
        if "dag" in t:
            tasks: list[Any] = [Task(name=task["name"], template=task["template"],
                          arguments=[Parameter(name=p["name"], value=p["value"])
                                     for p in task["arguments"]["parameters"]]
                          + [m.Artifact.model_validate(a)
                             for a in task["arguments"].get("artifacts", [])],
                          depends=task.get("depends"), dependencies=task.get("dependencies"),
                          when=task.get("when"))
                     for task in t["dag"]["tasks"]]
            templates.append(DAG(name=t["name"], tasks=tasks))
        else:
            c = t["container"]
            templates.append(Container(
                name=t["name"], image=c["image"], command=c["command"], args=c["args"],
                env=[m.EnvVar.model_validate(e) for e in c["env"]],
                inputs=[m.Parameter.model_validate(p) for p in t["inputs"]["parameters"]]
                + [m.Artifact.model_validate(a) for a in t["inputs"].get("artifacts", [])],
                outputs=[m.Parameter.model_validate(p)
                         for p in t.get("outputs", {}).get("parameters", [])]
                + [m.Artifact.model_validate(a)
                   for a in t.get("outputs", {}).get("artifacts", [])],
                retry_strategy=m.RetryStrategy.model_validate(t["retryStrategy"])
                if "retryStrategy" in t else None,
                timeout=t.get("timeout"),
                security_context=m.SecurityContext.model_validate(c["securityContext"]),
                volume_mounts=[m.VolumeMount.model_validate(v) for v in c["volumeMounts"]]))
    return Workflow(generate_name=manifest["metadata"]["generateName"], entrypoint="main",
                    arguments=[Parameter(name=p["name"], value=p.get("value"))
                               for p in spec.get("arguments", {}).get("parameters", [])],
                    pod_metadata=m.Metadata.model_validate(spec["podMetadata"]),
                    volumes=[m.Volume.model_validate(v) for v in spec["volumes"]],
                    templates=templates)


def best(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` runs, in milliseconds, with the collector off."""
    return best_with(lambda _: fn(), repeat, lambda: None)


def best_with(fn: Callable[[Any], Any], repeat: int, setup: Callable[[], Any]) -> float:
    """As ``best``, each run on a fresh ``setup()`` value made outside the timing."""
    times = []
    for _ in range(repeat):
        arg = setup()
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
        gc.enable()
    return min(times) * 1000


def peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024 / 1024


def measure(steps: int, repeat: int) -> dict[str, Any]:
    from engine.compile import build
    from engine.diagnostics import SpecError
    from engine.loader import load_text
    from engine.model import build_spec
    from engine.validation import load_spec_text

    text = generate(steps)
    row: dict[str, Any] = {"steps": steps}
    try:
        spec = load_spec_text(text)
    except SpecError as exc:
        codes = sorted({d.code for d in exc.diagnostics})
        row["validate_ms"] = best(lambda: _refused(load_spec_text, text), repeat)
        doc, _ = load_text(text, "bench.yaml")
        assert doc is not None
        unchecked = build_spec(doc)  # what the compiler does when handed it anyway
        row["compile_ms"] = best(lambda: _refused(build, unchecked), repeat)
        row["refused"] = codes + sorted({d.code for d in _refused(build, unchecked)})
        manifest = build(load_spec_text(generate(200))).manifest
        manifest = _scaled(manifest, steps)
    else:
        row["validate_ms"] = best(lambda: load_spec_text(text), max(3, repeat // 3))
        row["compile_ms"] = best_with(lambda s: build(s).to_yaml(), repeat,
                                      lambda: load_spec_text(text))
        row["compile_mb"] = peak_mb(lambda: build(spec).to_yaml())
        manifest = build(spec).manifest
        row["templates"] = len(manifest["spec"]["templates"])
        row["yaml_kb"] = len(build(spec).to_yaml()) / 1024
    row["lower_bound_ms"] = best(lambda: lower_bound(manifest), repeat)
    row["lower_bound_mb"] = peak_mb(lambda: lower_bound(manifest))
    workflow = hand_built(manifest)
    row["hera_ms"] = best(workflow.to_yaml, max(3, repeat // 3))
    row["hera_mb"] = peak_mb(workflow.to_yaml)
    return row


def _refused(fn: Callable[..., Any], arg: Any) -> list[Any]:
    from engine.diagnostics import SpecError

    try:
        fn(arg)
    except SpecError as exc:
        return exc.diagnostics
    raise AssertionError("expected the spec to be refused")


def _scaled(manifest: dict[str, Any], steps: int) -> dict[str, Any]:
    """The 200-step manifest grown to ``steps`` tasks: what a 1,000-task DAG would weigh."""
    import copy

    grown = copy.deepcopy(manifest)
    tasks = grown["spec"]["templates"][0]["dag"]["tasks"]
    base = len(tasks)
    for i in range(base, steps):
        task = copy.deepcopy(tasks[i % base])
        task["name"] = f"s{i:04d}"
        task["arguments"]["parameters"][0]["value"] = task["name"]
        tasks.append(task)
    return grown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args(argv)
    import hera.workflows  # noqa: F401  (imported up front: its import is not a compile cost)

    from engine.compile import build
    from engine.validation import load_spec_text

    build(load_spec_text(generate(20))).to_yaml()  # warm imports and caches
    rows = [measure(n, args.repeat) for n in args.sizes]
    for row in rows:
        print(f"\n{row['steps']} steps")
        if "refused" in row:
            print(f"  refused by design ({', '.join(row['refused'])}): validate "
                  f"{row['validate_ms']:.1f} ms, compile refuses in {row['compile_ms']:.1f} ms")
            print(f"  baselines on an equivalent hand-built {row['steps']}-task workflow:")
        else:
            print(f"  validate       {row['validate_ms']:8.1f} ms")
            print(f"  compile        {row['compile_ms']:8.1f} ms  peak {row['compile_mb']:6.1f} MB"
                  f"  ({row['templates']} templates, {row['yaml_kb']:.0f} kB of YAML)")
        print(f"  lower bound    {row['lower_bound_ms']:8.1f} ms  peak "
              f"{row['lower_bound_mb']:6.1f} MB  (CSafeDumper on the plain dict)")
        print(f"  hera to_yaml   {row['hera_ms']:8.1f} ms  peak {row['hera_mb']:6.1f} MB")
        if "refused" not in row:
            ratio = row["compile_ms"] / row["lower_bound_ms"]
            speedup = row["hera_ms"] / row["compile_ms"]
            print(f"  compile / lower bound = {ratio:.2f}x (target <= 1.5x); "
                  f"hera / compile = {speedup:.1f}x (target >= 2x)")
        else:
            print(f"  hera / lower bound = {row['hera_ms'] / row['lower_bound_ms']:.1f}x")
    print(f"\n(best of {args.repeat} runs each; python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
