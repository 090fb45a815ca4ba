"""Render time of ``flowspec report`` for 10,000-step runs, next to a baseline.

Each run is real, run untimed into a fresh SQLite store:

  fanout  a root, one ``for_each`` step over 10,000 items and a join: how a valid spec gets
          10,000 nodes (one Argo DAG holds at most 200 steps, FS602)
  steps   10,000 distinct steps (a root, a wide layer, a join and a short chain), built
          without validation: the stored spec itself is then 10,000 steps long

Per round and case:

  baseline  store.load_run + json.dumps of the RunState's nodes and attempts: what any report
            must at least do, read the run and serialise it
  report    engine.report: gather (the run, its stored spec, logs, files, layout, processor
            sections) and render, the page as ``flowspec report`` writes it

Target (issue 16): the report within 2 s for 10,000 steps. Reported: best and median of the
rounds, the page's size and its ratio to the baseline.

  python bench/bench_report.py                  # both cases, 10,000, 3 rounds
  python bench/bench_report.py --size 2000 --rounds 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from typing import Any

CHAIN = 5
TARGET = 2.0


def fanout_spec() -> str:
    return """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: report-bench-fanout}
params:
  items: {type: list, default: []}
steps:
  - {name: root, processor: noop}
  - {name: each, processor: noop, for_each: params.items, dependencies: [root],
     config: {outputs: {ok: true}}, outputs: {ok: boolean}}
  - {name: join, processor: noop, dependencies: [each]}
"""


def steps_spec(size: int) -> str:
    """A root, ``size - CHAIN - 2`` side by side, a join, then a chain of ``CHAIN``."""
    wide = size - CHAIN - 2
    lines = ["apiVersion: flowspec/v1", "kind: Workflow", "metadata: {name: report-bench}",
             "steps:", "  - {name: root, processor: noop}"]
    lines += [f"  - {{name: w{i}, processor: noop, dependencies: [root]}}" for i in range(wide)]
    lines.append("  - name: join\n    processor: noop\n    dependencies: ["
                 + ", ".join(f"w{i}" for i in range(wide)) + "]")
    prev = "join"
    for i in range(CHAIN):
        lines.append(f"  - {{name: c{i}, processor: noop, dependencies: [{prev}]}}")
        prev = f"c{i}"
    return "\n".join(lines) + "\n"


def measure(case: str, size: int, rounds: int) -> bool:
    from engine.loader import load_text
    from engine.local import run
    from engine.model import build_spec
    from engine.report.model import gather
    from engine.report.render import render
    from engine.store import open_store

    text, params = ((fanout_spec(), {"items": list(range(size))}) if case == "fanout"
                    else (steps_spec(size), {}))
    with tempfile.TemporaryDirectory() as tmp:
        # Built without validation: the steps case exceeds Argo's 200 steps per DAG.
        doc, _ = load_text(text, f"{case}.yaml")
        assert doc is not None
        url = f"sqlite:///{tmp}/state.db"
        started = time.perf_counter()
        result = run(build_spec(doc), params, store=url, workdir=tmp, max_parallel=8)
        print(f"{case}: ran {len(result.steps):,} nodes ({result.phase}) in "
              f"{time.perf_counter() - started:.1f} s (untimed)")
        store = open_store(url, create=False)
        times: dict[str, list[float]] = {"baseline": [], "report": []}
        size_bytes = 0
        try:
            for _ in range(rounds):
                t0 = time.perf_counter()
                state = store.load_run(result.run_id)
                json.dumps({"nodes": _plain(state.nodes), "attempts": {
                    k: [dataclasses.asdict(a) for a in v] for k, v in state.attempts.items()}},
                    default=str)
                t1 = time.perf_counter()
                size_bytes = len(render(gather(store, result.run_id)).encode())
                times["baseline"].append(t1 - t0)
                times["report"].append(time.perf_counter() - t1)
        finally:
            store.close()
    for name, got in times.items():
        print(f"  {name:<9} best {min(got):.3f} s  median {statistics.median(got):.3f} s")
    best = min(times["report"])
    print(f"  page {size_bytes / 1e6:.2f} MB; report / baseline "
          f"{best / min(times['baseline']):.1f}x; within {TARGET:.0f} s: "
          f"{'yes' if best <= TARGET else 'NO'}")
    return best <= TARGET


def _plain(nodes: dict[str, Any]) -> dict[str, Any]:
    return {k: dataclasses.asdict(v) for k, v in nodes.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--case", choices=("fanout", "steps"), action="append")
    args = parser.parse_args()
    met = [measure(case, args.size, args.rounds) for case in args.case or ("fanout", "steps")]
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
