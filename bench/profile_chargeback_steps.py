"""Where each chargeback step spends its time, one cProfile per step.

``bench_chargeback.py --profile`` merges every thread into one profile, which hides which step
a hot function belongs to (the three rule checks run side by side and share most code). The
executor runs each step attempt in a thread named ``flowspec:<step>``, so here every thread
gets its own profiler and the report is split by step; the event-loop thread (the engine:
scheduling, checking and encoding each step's result, writing it to the store) is reported
as ``engine``. The summary also gives each step's time in the cycle collector: a collection
runs in the thread whose allocation triggered it and scans every object the process holds
(every step's data included), so it is a cost no profile row shows on its own.

  python bench/profile_chargeback_steps.py --lines 2000
  python bench/profile_chargeback_steps.py --lines 10000 --step duplicate-check --top 40
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_chargeback import generate_844, pipeline

from processors.chargeback.reference.loader import ensure_loaded

ENGINE = "engine"


def _thread_name() -> str:
    name = threading.current_thread().name
    return ENGINE if name == "MainThread" else name.removeprefix("flowspec:")


class GcClock:
    """Seconds and collections of the cycle collector, per thread that triggered them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.collections: dict[str, int] = defaultdict(int)
        self._started: dict[str, float] = {}

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        name = _thread_name()
        if phase == "start":
            self._started[name] = time.perf_counter()
        else:
            self.seconds[name] += time.perf_counter() - self._started.pop(name)
            self.collections[name] += 1


def profile_steps(
    document: Path, workdir: Path, lines: int
) -> tuple[Any, dict[str, cProfile.Profile], GcClock]:
    """Run the pipeline once; a profile per step thread, and one for the event loop."""
    url = f"sqlite:///{workdir}/state.db"
    ensure_loaded(url)
    profiles: dict[str, cProfile.Profile] = {ENGINE: cProfile.Profile()}
    lock = threading.Lock()
    clock = GcClock()

    def start_in_thread(*_: Any) -> None:
        prof = cProfile.Profile()
        with lock:
            profiles[_thread_name()] = prof
        prof.enable()  # replaces this hook for the rest of the thread

    threading.setprofile(start_in_thread)
    gc.callbacks.append(clock)
    profiles[ENGINE].enable()
    try:
        result = pipeline(document, url, workdir, lines)
    finally:
        profiles[ENGINE].disable()
        gc.callbacks.remove(clock)
        threading.setprofile(None)
    return result, profiles, clock


def report(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    out.write("-- by own time --\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write("-- by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2000, help="claim lines (default 2000)")
    parser.add_argument("--top", type=int, default=25, help="profile rows per step")
    parser.add_argument(
        "--step", action="append", help="only this step (repeatable; 'engine' for the loop)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="profile-chargeback-") as tmp:
        root = Path(tmp)
        document = root / "844_bench.edi"
        document.write_text(generate_844(args.lines))
        start = time.perf_counter()
        result, profiles, clock = profile_steps(document, root, args.lines)
        print(f"{args.lines} lines, profiled run {time.perf_counter() - start:.1f}s")
        print(f"  {'step':<24}{'phase':<11}{'seconds':>9}{'gc s':>8}{'gc runs':>9}")
        for name, step in [*result.steps.items(), (ENGINE, None)]:
            phase = "" if step is None else step.phase
            duration = "-" if step is None or step.duration is None else f"{step.duration:.2f}"
            gc_seconds = f"{clock.seconds.get(name, 0.0):.2f}"
            print(
                f"  {name:<24}{phase:<11}{duration:>9}{gc_seconds:>8}"
                f"{clock.collections.get(name, 0):>9}"
            )
        for name, prof in profiles.items():
            if args.step and name not in args.step:
                continue
            print(f"\n===== {name} =====")
            print(report(prof, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
