"""Executor overhead: no-op steps on chain, wide and layered DAGs, next to baselines.

Every measurement runs in a fresh process (so peak memory is its own) and the cases are
interleaved round by round (so a busy moment on a shared machine hits all of them alike).
Reported: microseconds per step (best and median of the rounds), the process's peak resident
memory (interpreter, imports and the graph included) and the peak Python memory the run itself
allocates (tracemalloc, measured on a second, untimed run).

Cases:
  graphlib      calling a no-op function per step in graphlib.TopologicalSorter order
  threadpool    a ready queue feeding a ThreadPoolExecutor (CPU-count workers)
  dask          dask's threaded scheduler on the same graph (only if dask is installed)
  sqlite-floor  the graphlib loop plus three commits per step with the raw sqlite3 module
                (insert Pending, update Running, update Succeeded; WAL, synchronous=NORMAL)
  flowspec-mem  engine.run(spec) without a store
  flowspec-db   engine.run(spec, store=open_store("sqlite:///...")) on a new SQLite file,
                the store opened before timing (as the floor's connection is)

Targets (issue 3): flowspec-mem within 10x of graphlib; flowspec-db within 1.5x of the
sqlite-floor, growing linearly with the number of steps.

  python bench/bench_executor.py                 # sizes 1000 and 10000, 3 rounds
  python bench/bench_executor.py --quick         # size 1000, 2 rounds
  python bench/bench_executor.py --json out.json
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ("chain", "wide", "layered")
CASES = ("graphlib", "threadpool", "dask", "sqlite-floor", "flowspec-mem", "flowspec-db")


# --- the DAGs ---------------------------------------------------------------------------------
def dag(shape: str, n: int) -> dict[str, list[str]]:
    """Step name -> the steps it waits for, in spec order."""
    names = [f"s{i}" for i in range(n)]
    if shape == "chain":
        return {name: ([names[i - 1]] if i else []) for i, name in enumerate(names)}
    if shape == "wide":  # one root, n-2 steps side by side, one step joining them all
        graph: dict[str, list[str]] = {names[0]: []}
        for name in names[1:-1]:
            graph[name] = [names[0]]
        graph[names[-1]] = names[1:-1]
        return graph
    width = max(2, int(n ** 0.5))  # layers of ~sqrt(n) steps, each waiting for two above
    graph = {}
    for i, name in enumerate(names):
        layer, slot = divmod(i, width)
        if layer == 0:
            graph[name] = []
        else:
            above = (layer - 1) * width
            graph[name] = sorted({names[above + slot], names[above + (slot + 1) % width]})
    return graph


def spec_text(graph: dict[str, list[str]]) -> str:
    lines = ["apiVersion: flowspec/v1", "kind: Workflow", "metadata: {name: bench}", "steps:"]
    for name, parents in graph.items():
        deps = f", dependencies: [{', '.join(parents)}]" if parents else ""
        lines.append(f"  - {{name: {name}, processor: noop{deps}}}")
    return "\n".join(lines) + "\n"


# --- one measurement (in a child process) -------------------------------------------------------
def _noop() -> None:
    pass


def _graphlib(graph: dict[str, list[str]], _tmp: Path) -> Callable[[], None]:
    from graphlib import TopologicalSorter

    def go() -> None:
        sorter = TopologicalSorter(graph)
        sorter.prepare()
        while sorter.is_active():
            for node in sorter.get_ready():
                _noop()
                sorter.done(node)
    return go


def _threadpool(graph: dict[str, list[str]], _tmp: Path) -> Callable[[], None]:
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
    from graphlib import TopologicalSorter

    def go() -> None:
        sorter = TopologicalSorter(graph)
        sorter.prepare()
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            running: dict[Any, str] = {}
            while sorter.is_active():
                for node in sorter.get_ready():
                    running[pool.submit(_noop)] = node
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    sorter.done(running.pop(future))
    return go


def _dask(graph: dict[str, list[str]], _tmp: Path) -> Callable[[], None]:
    from dask.threaded import get  # type: ignore[import-not-found]  # optional peer

    def task(*_: Any) -> None:
        return None

    dsk = {name: (task, *parents) for name, parents in graph.items()}
    leaves = [n for n in graph if not any(n in p for p in graph.values())]
    return lambda: get(dsk, leaves, num_workers=os.cpu_count() or 1)


def _sqlite_floor(graph: dict[str, list[str]], tmp: Path) -> Callable[[], None]:
    import sqlite3
    from graphlib import TopologicalSorter

    db = sqlite3.connect(tmp / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE steps (run_id TEXT, step TEXT, phase TEXT, at REAL, "
               "PRIMARY KEY (run_id, step)) WITHOUT ROWID")
    cur = db.cursor()

    def go() -> None:
        sorter = TopologicalSorter(graph)
        sorter.prepare()
        while sorter.is_active():
            for node in sorter.get_ready():
                cur.execute("BEGIN")
                cur.execute("INSERT INTO steps VALUES (?, ?, ?, ?)",
                            ("bench-run", node, "Pending", time.time()))
                cur.execute("COMMIT")
                cur.execute("BEGIN")
                cur.execute("UPDATE steps SET phase = ?, at = ? WHERE run_id = ? AND step = ?",
                            ("Running", time.time(), "bench-run", node))
                cur.execute("COMMIT")
                _noop()
                cur.execute("BEGIN")
                cur.execute("UPDATE steps SET phase = ?, at = ? WHERE run_id = ? AND step = ?",
                            ("Succeeded", time.time(), "bench-run", node))
                cur.execute("COMMIT")
                sorter.done(node)
    return go


def _flowspec(store: bool) -> Callable[[dict[str, list[str]], Path], Callable[[], None]]:
    def make(graph: dict[str, list[str]], tmp: Path) -> Callable[[], None]:
        from engine.loader import load_text
        from engine.local import run
        from engine.model import build_spec
        from engine.store import open_store

        # Built without validation: a local benchmark may exceed Argo's 200 steps per DAG.
        doc, _ = load_text(spec_text(graph), "bench.yaml")
        assert doc is not None
        spec = build_spec(doc)
        warm, _ = load_text(spec_text(dag("chain", 2)), "warm.yaml")
        assert warm is not None
        run(build_spec(warm))  # import what the first run imports lazily, outside the timing
        # Opened before timing, like the floor's connection and table: opening (and the
        # migration of a new file) and closing (SQLite's checkpoint) happen once per run, not
        # per step; main() reports them separately as fixed costs.
        opened = open_store(f"sqlite:///{tmp}/state.db") if store else None

        def go() -> None:
            result = run(spec, store=opened)
            assert result.phase == "Succeeded", result
        return go
    return make


MAKERS: dict[str, Callable[[dict[str, list[str]], Path], Callable[[], None]]] = {
    "graphlib": _graphlib, "threadpool": _threadpool, "dask": _dask,
    "sqlite-floor": _sqlite_floor, "flowspec-mem": _flowspec(False),
    "flowspec-db": _flowspec(True),
}


def measure(case: str, shape: str, n: int) -> dict[str, float]:
    """Time one run; then, untimed, trace the memory a second, identical run allocates."""
    import tracemalloc

    graph = dag(shape, n)
    with tempfile.TemporaryDirectory(prefix="flowspec-bench-") as tmp:
        go = MAKERS[case](graph, Path(tmp))
        # The garbage the setup left (building the spec, the warm-up run) is collected first,
        # for every case: a collection of it falling inside the timing is the setup's cost,
        # not the run's (it moved a 1,000-step run by 20 us a step). As `flowspec run` does
        # with gc.freeze(), the collector then sees only what the run itself makes.
        gc.collect()
        start = time.perf_counter()
        go()
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        again = Path(tmp, "again")
        again.mkdir()
        go = MAKERS[case](graph, again)
        tracemalloc.start()
        go()
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"us_per_step": seconds / n * 1e6, "peak_mb": peak / 1024,
            "run_mb": traced / 1024 / 1024}


# --- the driver ------------------------------------------------------------------------------------
def run_case(case: str, shape: str, n: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, __file__, "--case", case, shape, str(n)], env=env,
                         capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{case} {shape} {n} failed:\n{out.stderr}")
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="size 1000, 2 rounds")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--case", nargs=3, metavar=("CASE", "SHAPE", "N"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.case:
        case, shape, n = args.case
        print(json.dumps(measure(case, shape, int(n))))
        return 0
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 2 if args.quick else args.rounds
    cases = [c for c in CASES if c != "dask" or importlib.util.find_spec("dask")]
    shapes = args.shapes.split(",")
    samples: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    for r in range(rounds):
        for n in sizes:
            for shape in shapes:
                for case in cases:
                    samples.setdefault((case, shape, n), []).append(run_case(case, shape, n))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    rows = []
    for (case, shape, n), got in samples.items():
        us = [g["us_per_step"] for g in got]
        rows.append({"case": case, "shape": shape, "steps": n, "best_us": min(us),
                     "median_us": statistics.median(us),
                     "peak_mb": max(g["peak_mb"] for g in got),
                     "run_mb": statistics.median(g["run_mb"] for g in got)})
    _print(rows, sizes, shapes, cases, os.cpu_count() or 1)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


def _print(rows: list[dict[str, Any]], sizes: list[int], shapes: list[str], cases: list[str],
           cpus: int) -> None:
    by = {(r["case"], r["shape"], r["steps"]): r for r in rows}
    print(f"no-op steps, {cpus} CPUs, Python {sys.version.split()[0]}; microseconds per step "
          "(best / median of rounds); peak RSS of the process; run MB = peak Python memory "
          "the run allocates (tracemalloc)")
    header = f"{'shape':<8} {'steps':>6} {'case':<13} {'best us':>8} {'median':>8} {'peak MB':>8}"
    print(header + f" {'run MB':>7}  ratio (median)")
    print("-" * (len(header) + 24))
    for n in sizes:
        for shape in shapes:
            for case in cases:
                r = by[(case, shape, n)]
                ratio = ""
                if case == "flowspec-mem":
                    ratio = f"{r['median_us'] / by[('graphlib', shape, n)]['median_us']:.1f}x graphlib (target 10x)"
                elif case == "flowspec-db":
                    ratio = f"{r['median_us'] / by[('sqlite-floor', shape, n)]['median_us']:.2f}x sqlite-floor (target 1.5x)"
                print(f"{shape:<8} {n:>6} {case:<13} {r['best_us']:>8.1f} {r['median_us']:>8.1f} "
                      f"{r['peak_mb']:>8.1f} {r['run_mb']:>7.1f}  {ratio}")
            print()


if __name__ == "__main__":
    sys.exit(main())
