"""Validation cost: run by hand (``python bench/bench_validate.py``); prints figures, asserts nothing.

Measured in one run, on the same generated documents:

- flowspec's full validation (text -> load -> JSON Schema -> semantic passes) of specs with
  1,000 and 10,000 steps, next to ``jsonschema`` alone validating the already-parsed data
  against the same schema; time (best of a few repeats) and peak memory (tracemalloc, in a
  separate pass so that tracing does not distort the times);
- how the cost grows: the 10k/1k time ratio (linear growth gives about 10);
- cold start: ``flowspec validate`` on one small spec against ``check-jsonschema
  --schemafile schemas/flowspec.schema.json`` on the same file, as subprocesses, medians of
  several runs.

The issues' targets are printed next to each figure: 10k/1k <= 12; 1k steps no slower than
jsonschema alone (issue 15: validation is on the editor's keystroke path); cold start no slower
than check-jsonschema.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.cli.main import tune_gc
from engine.loader import load_text
from engine.rules import parsed
from engine.schema import load_schema, schema_path
from engine.validation import check_document


def generate(steps: int) -> str:
    """A realistic spec: fan-in and fan-out dependencies (a few earlier steps each, some by
    ``depends``), typed outputs, ``when`` conditions over params and ancestors' outputs, env
    with literals, secrets and ``${{ }}`` references, retries and timeouts. Deterministic."""
    lines = [
        "apiVersion: flowspec/v1", "kind: Workflow",
        "metadata:", f"  name: bench-{steps}", "  labels: {team: platform}",
        "params:",
        "  region: {type: string, default: eu-west-1}",
        "  threshold: {type: integer, default: 10}",
        "  strict: {type: boolean, default: false}",
        "env:",
        "  LOG_LEVEL: info",
        "  DATABASE_URL: {secret: {name: app-db, key: url}}",
        "defaults:",
        "  retry: {limit: 2, on: transient, backoff: {delay: 1s, factor: 2, cap: 30s}}",
        "  timeout: 5m",
        "steps:",
    ]
    for i in range(steps):
        lines += [f"  - name: step-{i}", "    processor: noop",
                  "    outputs: {count: integer, ok: boolean}"]
        parents = [i - d for d in (1, 3, 7) if i - d >= 0][: 1 + i % 3]
        if parents and i % 5 == 4:
            lines.append("    depends: " + " && ".join(f"step-{p}.Succeeded" for p in parents))
        elif parents:
            lines.append("    dependencies: [" + ", ".join(f"step-{p}" for p in parents) + "]")
        if parents and i % 2 == 0:
            lines.append(f"    when: steps.step-{parents[0]}.outputs.count > params.threshold"
                         " && params.region in ['eu-west-1', 'us-east-1']")
        elif parents and i % 3 == 0:
            lines.append(f"    when: steps.step-{parents[-1]}.outputs.ok == true || params.strict")
        lines += ["    env:", f"      SHARD: '{i}'", "      MODE: fast"]
        if parents:
            lines.append(f"      UPSTREAM: ${{{{ steps.step-{parents[0]}.outputs.count }}}}")
        if i % 10 == 0:
            lines += ["    retry: {limit: 3, on: always}", "    timeout: 90s"]
    return "\n".join(lines) + "\n"


def flowspec_validate(text: str) -> list[Any]:
    """What ``flowspec validate`` does for one file, from a cold start of the rules' parse
    caches (the language server's re-validations find them warm: bench_lsp measures those)."""
    for cached in (parsed.condition, parsed.depends, parsed.interpolation):
        cached.cache_clear()
    doc, diagnostics = load_text(text, "bench.yaml")
    assert doc is not None
    return diagnostics + check_document(doc)[1]


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def median_runtime(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=REPO, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(steps: int, validator: Any, repeats: int) -> dict[str, float]:
    """Print and return the times of flowspec and of jsonschema alone for one size."""
    text = generate(steps)
    doc, problems = load_text(text, "bench.yaml")
    assert doc is not None and not problems
    data = doc.data
    codes = sorted({d.code for d in flowspec_validate(text)})
    fs_time = best_time(lambda: flowspec_validate(text), repeats)
    js_time = best_time(lambda: list(validator.iter_errors(data)), repeats)
    fs_mem = peak_memory(lambda: flowspec_validate(text))
    js_mem = peak_memory(lambda: list(validator.iter_errors(data)))
    print(f"{steps:>6} steps ({len(text) / 1e6:.1f} MB of YAML; diagnostics: {codes}):")
    print(f"    flowspec full validation  {fs_time * 1000:9.1f} ms   peak {fs_mem / 2**20:8.2f} MiB")
    print(f"    jsonschema alone          {js_time * 1000:9.1f} ms   peak {js_mem / 2**20:8.2f} MiB")
    print(f"    ratio flowspec/jsonschema {fs_time / js_time:9.2f}")
    return {"fs": fs_time, "js": js_time}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=9)
    args = parser.parse_args()
    tune_gc()  # measured as the flowspec command runs it: the library leaves GC alone

    validator = Draft202012Validator(load_schema())  # built once, as flowspec does
    results = {steps: measure(steps, validator, args.repeats) for steps in (1_000, 10_000)}
    ratio = results[10_000]["fs"] / results[1_000]["fs"]
    print(f"\n10k/1k time ratio (flowspec): {ratio:.2f}   target <= 12")
    print(f"1k steps, flowspec/jsonschema: {results[1_000]['fs'] / results[1_000]['js']:.2f}"
          "   target <= 1")

    spec = "specs/examples/hello.yaml"
    flowspec = shutil.which("flowspec") or "flowspec"
    checker = shutil.which("check-jsonschema")
    fs_cold = median_runtime([flowspec, "validate", spec], args.cold_runs)
    print(f"\ncold start, median of {args.cold_runs} runs on {spec}:")
    print(f"    flowspec validate         {fs_cold * 1000:7.0f} ms")
    if checker is None:
        print("    check-jsonschema          not installed (pip install check-jsonschema)")
        return
    cj_cold = median_runtime([checker, "--schemafile", str(schema_path()), spec], args.cold_runs)
    print(f"    check-jsonschema          {cj_cold * 1000:7.0f} ms")
    print(f"    ratio                     {fs_cold / cj_cold:7.2f}   target <= 1")


if __name__ == "__main__":
    main()
