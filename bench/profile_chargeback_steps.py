"""Where each chargeback step spends its time, one cProfile per step.

``bench_chargeback.py --profile`` merges every thread into one profile, which hides which step
a hot function belongs to (the three rule checks run side by side and share most code). The
executor runs each step attempt in a thread named ``flowspec:<step>``, so here every thread
gets its own profiler and the report is split by step; the event-loop thread (the engine:
scheduling, checking and encoding each step's result, writing it to the store) is reported
as ``engine``.

  python bench/profile_chargeback_steps.py --lines 2000
  python bench/profile_chargeback_steps.py --lines 10000 --step duplicate-check --top 40
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_chargeback import generate_844, pipeline

from processors.chargeback.reference.loader import ensure_loaded

ENGINE = "engine"


def profile_steps(document: Path, workdir: Path) -> tuple[Any, dict[str, cProfile.Profile]]:
    """Run the pipeline once; a profile per step thread, and one for the event loop."""
    url = f"sqlite:///{workdir}/state.db"
    ensure_loaded(url)
    profiles: dict[str, cProfile.Profile] = {ENGINE: cProfile.Profile()}
    lock = threading.Lock()

    def start_in_thread(*_: Any) -> None:
        name = threading.current_thread().name.removeprefix("flowspec:")
        prof = cProfile.Profile()
        with lock:
            profiles[name] = prof
        prof.enable()  # replaces this hook for the rest of the thread

    threading.setprofile(start_in_thread)
    profiles[ENGINE].enable()
    try:
        result = pipeline(document, url, workdir)
    finally:
        profiles[ENGINE].disable()
        threading.setprofile(None)
    return result, profiles


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
        result, profiles = profile_steps(document, root)
        print(f"{args.lines} lines, profiled run {time.perf_counter() - start:.1f}s")
        for name, step in result.steps.items():
            duration = "-" if step.duration is None else f"{step.duration:.2f}s"
            print(f"  {name:<24}{step.phase:<11}{duration:>9}")
        for name, prof in profiles.items():
            if args.step and name not in args.step:
                continue
            print(f"\n===== {name} =====")
            print(report(prof, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
