"""Chargeback pipeline throughput on a large claim, next to the cost of merely storing it.

A realistic 844 is generated from the shipped reference data (processors/chargeback/reference/
data): every line pairs an active, chargeback-eligible GPO contract with one of its contract
NDCs (contract price and WAC in force on the invoice date) and a roster member of the
contract's GPO whose class of trade the contract allows and whose state the distributor is
licensed for; controlled products go only to members whose DEA registration is in force. A
claim like a legitimate wholesaler's: hundreds of customers, mostly paid, with the planted
exclusions and 340B flags of the reference set still turning up.
Invoice numbers are distinct.

Measured in one process, each on a fresh SQLite file:
  floor     parse_844 + insert every line into one SQLAlchemy Core table in one transaction
  pipeline  engine.local.run(specs/chargeback.yaml) with the reference data already loaded
            (ensure_loaded before timing: loading it is a one-off, not per claim)

Each case is timed ``--repeat`` times (default 3) on fresh stores and its median counts; the
process collects garbage as the ``flowspec`` command does (``engine.cli.main.tune_gc``).
Each claim size (default 10,000 and 100,000 lines, smallest first) is measured on its own
claim. Reported per size: claim lines per second for both, their ratio, peak Python memory of
each (tracemalloc, measured on a second, untimed pass unless --no-tracemalloc), the process's
peak RSS after the pipeline's timed passes (the pipeline is measured before the floor, and
sizes run smallest first), the peak RSS of one more pipeline run in a process of its own
(what one claim costs, without what earlier passes left allocated) and per-step durations. Then the
issue's targets beside the figures: 10,000 lines within 3x their floor,
100,000 lines within 11x the 10,000-line time at a peak RSS under 1 GiB. --profile adds a
cProfile of the pipeline (top cumulative and own-time costs).

  python bench/bench_chargeback.py                  # 10,000 and 100,000 lines
  python bench/bench_chargeback.py --lines 1000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import dataclasses
import datetime as dt
import io
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.cli.main import tune_gc
from engine.local import run
from processors.chargeback.claim import (
    Address,
    Claim,
    ClaimLine,
    Identifier,
    Party,
    chargeback_amount,
)
from processors.chargeback.edi import parse_844, write_844
from processors.chargeback.reference.loader import SHIPPED_DATA, ensure_loaded

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "chargeback.yaml"
EXAMPLE_844 = REPO / "specs" / "samples" / "844_example.edi"
#: The invoice date of every generated line: inside the shipped contracts' current terms.
INVOICE_DATE = dt.date(2024, 3, 4)


def _csv(name: str) -> list[dict[str, str]]:
    with (SHIPPED_DATA / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _covers(start: str, end: str, day: dt.date) -> bool:
    return dt.date.fromisoformat(start) <= day and (not end or day <= dt.date.fromisoformat(end))


def _customer(member: dict[str, str]) -> Party:
    """An N1*ST party as a wholesaler sends it: DEA first (what the 849 echoes), then HIN."""
    idents = [Identifier("dea", member["dea"], True, qualifier="11")]
    if member["hin"]:
        idents.append(Identifier("hin", member["hin"], True, qualifier="21"))
    address = Address((member["addr1"],), member["city"], member["state"], member["zip"], "US")
    return Party("ST", member["facility_name"], tuple(idents), address)


def eligible_pairs() -> list[tuple[dict[str, str], list[tuple[str, Decimal, Decimal]], Party]]:
    """(contract, its NDCs with contract price and WAC, one allowed roster member) triples."""
    wac: dict[str, Decimal] = {
        r["ndc11"]: Decimal(r["wac"])
        for r in _csv("wac")
        if _covers(r["effective_from"], r["effective_to"], INVOICE_DATE)
    }
    ndcs: dict[str, list[tuple[str, Decimal, Decimal]]] = {}
    for r in _csv("contract_lines"):
        if r["ndc11"] in wac and _covers(r["start_date"], r["end_date"], INVOICE_DATE):
            price = Decimal(r["contract_price"])
            if price < wac[r["ndc11"]]:
                ndcs.setdefault(r["contract_id"], []).append((r["ndc11"], price, wac[r["ndc11"]]))
    # the example claim's distributor (DEA RA7301194) may ship only to the states it is licensed in
    dc = next(r for r in _csv("wholesaler_dc") if r["dea"] == "RA7301194")
    licensed = set(dc["licensed_states"].split("|"))
    # and a buyer of controlled products needs a registration in force on the invoice date:
    # members without one are sent only non-controlled products
    controlled = {r["ndc11"] for r in _csv("products") if r["dea_schedule"]}
    registered = {
        r["dea_no"]
        for r in _csv("dea")
        if r["active"] == "Y"
        and _covers(r["effective_from"] or "0001-01-01", r["expiration_date"], INVOICE_DATE)
    }
    roster: dict[str, list[dict[str, str]]] = {}
    for r in _csv("gpo_roster"):
        if r["state"] in licensed and _covers(
            r["membership_start_date"], r["membership_end_date"], INVOICE_DATE
        ):
            roster.setdefault(r["gpo_id"], []).append(r)
    triples = []
    for c in _csv("contracts"):
        if (
            c["contract_type"] != "GPO"
            or c["status"] != "ACTIVE"
            or c["mode"] not in ("INDIRECT", "BOTH")
            or not _covers(c["start_date"], c["end_date"], INVOICE_DATE)
            or c["contract_id"] not in ndcs
        ):
            continue
        allowed = set(filter(None, c["allowed_cot"].split("|")))
        for member in roster.get(c["gpo_id"], []):
            if allowed and member["class_of_trade"] not in allowed:
                continue
            sold = [
                n
                for n in ndcs[c["contract_id"]]
                if member["dea"] in registered or n[0] not in controlled
            ]
            if sold:
                triples.append((c, sold, _customer(member)))
    if not triples:
        raise SystemExit(f"no eligible contract/customer pair in {SHIPPED_DATA}")
    return triples


def generate_844(n_lines: int) -> str:
    """The example claim's envelope and parties with ``n_lines`` lines over real customers."""
    example = parse_844(EXAMPLE_844.read_text())
    template = example.lines[0]
    triples = eligible_pairs()
    lines = []
    for i in range(n_lines):
        contract, products, customer = triples[i % len(triples)]
        ndc, price, wac = products[(i // len(triples)) % len(products)]
        quantity = Decimal(1 + i % 12)
        lines.append(
            dataclasses.replace(
                template,
                line=i + 1,
                line_id=str(i + 1),
                contract_loop=None,
                contract_id=contract["contract_id"],
                customer=customer,
                ndc11=ndc,
                ndc_submitted=ndc,
                quantity=quantity,
                wac=wac,
                contract_price=price,
                claimed_amount=chargeback_amount(wac, price, quantity),
                invoice_number=f"INV{90000000 + i}",
                invoice_line="1",
                invoice_date=INVOICE_DATE,
            )
        )
    claim = dataclasses.replace(
        example,
        debit_memo=f"DMBENCH{n_lines}",
        lines=tuple(lines),
        total_claimed=sum((line.claimed_amount for line in lines), Decimal(0)),
    )
    return write_844(claim)


# --- the two measurements -------------------------------------------------------------------


def floor(document: Path, url: str) -> int:
    """Parse and store the lines: the least any pipeline that keeps its input must do."""
    claim: Claim = parse_844(document.read_text())
    meta = sa.MetaData()
    table = sa.Table(
        "claim_line",
        meta,
        sa.Column("debit_memo", sa.String, primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("contract_id", sa.String),
        sa.Column("customer", sa.String),
        sa.Column("ndc11", sa.String),
        sa.Column("quantity", sa.Numeric(14, 3)),
        sa.Column("wac", sa.Numeric(14, 4)),
        sa.Column("contract_price", sa.Numeric(14, 4)),
        sa.Column("claimed_amount", sa.Numeric(14, 2)),
        sa.Column("invoice_number", sa.String),
        sa.Column("invoice_date", sa.Date),
    )
    engine = sa.create_engine(url)
    meta.create_all(engine)
    rows = [_row(claim.debit_memo, line) for line in claim.lines]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()
    return len(rows)


def _row(debit_memo: str | None, line: ClaimLine) -> dict[str, Any]:
    return {
        "debit_memo": debit_memo,
        "line": line.line,
        "contract_id": line.contract_id,
        "customer": line.customer.identifiers[0].value if line.customer else None,
        "ndc11": line.ndc11,
        "quantity": line.quantity,
        "wac": line.wac,
        "contract_price": line.contract_price,
        "claimed_amount": line.claimed_amount,
        "invoice_number": line.invoice_number,
        "invoice_date": line.invoice_date,
    }


def pipeline(document: Path, url: str, workdir: Path, lines: int) -> Any:
    # the spec sends claims over max_lines (50,000 by default) to a person; the bench decides
    # every size it is given
    params = {"document": str(document), "max_lines": max(lines, 1)}
    result = run(SPEC, params, store=url, workdir=workdir)
    # manual-review catches a failed step and the workflow still succeeds, so the run only
    # counts when the claim was actually decided.
    if result.steps["chargeback-resolution"].phase != "Succeeded":
        failed = {n: s.error for n, s in result.steps.items() if s.error}
        raise SystemExit(f"pipeline run {result.run_id} did not decide the claim: {failed}")
    return result


# --- harness --------------------------------------------------------------------------------


@dataclasses.dataclass
class Measure:
    runs: list[float]
    peak_python_mb: float | None
    value: Any
    #: the process's peak RSS after the timed passes (before any traced one, which adds
    #: tracemalloc's own memory)
    rss_mib: float

    @property
    def seconds(self) -> float:
        """The median pass: one slow pass (a busy neighbour, a checkpoint) moves it least."""
        return statistics.median(self.runs)


def _fresh_stores(root: Path, name: str) -> Iterator[tuple[str, Path]]:
    """New SQLite files, one per pass; the pipeline's get the reference data up front."""
    n = 0
    while True:
        n += 1
        workdir = root / f"{name}-{n}"
        workdir.mkdir()
        url = f"sqlite:///{workdir}/state.db"
        if name == "pipeline":
            ensure_loaded(url)
        yield url, workdir


def measure(
    name: str, fn: Callable[[str, Path], Any], root: Path, traced: bool, repeat: int
) -> Measure:
    stores = _fresh_stores(root, name)
    runs: list[float] = []
    value = None
    for _ in range(repeat):
        url, workdir = next(stores)
        start = time.perf_counter()
        value = fn(url, workdir)
        runs.append(time.perf_counter() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = None
    if traced:
        url, workdir = next(stores)
        tracemalloc.start()
        fn(url, workdir)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return Measure(runs, peak, value, rss)


def profile(document: Path, root: Path, top: int, lines: int) -> str:
    """cProfile of one pipeline run, steps included: the executor runs each step attempt in a
    thread of its own, which a profiler enabled on the main thread never sees, so every new
    thread starts its own profiler and the statistics are merged."""
    workdir = root / "profile"
    workdir.mkdir()
    url = f"sqlite:///{workdir}/state.db"
    ensure_loaded(url)
    profiles = [cProfile.Profile()]

    def start_in_thread(*_: Any) -> None:
        prof = cProfile.Profile()
        profiles.append(prof)
        prof.enable()  # replaces this hook for the rest of the thread

    threading.setprofile(start_in_thread)
    profiles[0].enable()
    try:
        pipeline(document, url, workdir, lines)
    finally:
        profiles[0].disable()
        threading.setprofile(None)  # type: ignore[arg-type]
    out = io.StringIO()
    stats = pstats.Stats(*profiles, stream=out).strip_dirs()
    out.write("--- by cumulative time (all threads) ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    out.write("--- by own time (all threads) ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


@dataclasses.dataclass
class Case:
    """One claim size measured: the floor, the pipeline, and the process's peak RSS after the
    pipeline's timed passes."""

    lines: int
    floor: Measure
    pipeline: Measure
    rss_mib: float
    #: the peak RSS of one pipeline run in a process of its own (``one_run_rss``)
    one_run_rss_mib: float

    @property
    def ratio(self) -> float:
        return self.pipeline.seconds / self.floor.seconds


def measure_size(
    lines: int, root: Path, traced: bool, repeat: int, profiled: bool, top: int
) -> Case:
    """Generate a claim of ``lines`` lines and measure both cases on it, printing as it goes."""
    folder = root / f"{lines}-lines"
    folder.mkdir()
    start = time.perf_counter()
    document = folder / "844_bench.edi"
    document.write_text(generate_844(lines))
    size_mb = document.stat().st_size / 2**20
    print(
        f"\n=== {lines} lines ({size_mb:.1f} MiB), generated in {time.perf_counter() - start:.1f}s"
    )

    # the pipeline first: the process's peak RSS after it is the pipeline's own (sizes run
    # smallest first), not the floor's
    full = measure(
        "pipeline", lambda url, wd: pipeline(document, url, wd, lines), folder, traced, repeat
    )
    base = measure("floor", lambda url, _wd: floor(document, url), folder, traced, repeat)
    assert base.value == lines
    case = Case(lines, base, full, full.rss_mib, one_run_rss(document, folder, lines))

    def mem(m: Measure) -> str:
        return "-" if m.peak_python_mb is None else f"{m.peak_python_mb:.0f} MiB"

    print(f"{'case':<10}{'seconds':>10}{'lines/s':>12}{'peak python':>14}   passes")
    for label, m in (("floor", base), ("pipeline", full)):
        passes = " ".join(f"{r:.2f}" for r in m.runs)
        print(f"{label:<10}{m.seconds:>10.2f}{lines / m.seconds:>12.0f}{mem(m):>14}   {passes}")
    print(f"ratio pipeline/floor: {case.ratio:.1f}x")
    print(f"process peak RSS after the pipeline passes: {case.rss_mib:.0f} MiB")
    print(f"peak RSS of one pipeline run in a process of its own: {case.one_run_rss_mib:.0f} MiB")

    result = full.value
    print(f"run {result.run_id}: {result.phase}")
    for name, step in result.steps.items():
        duration = "-" if step.duration is None else f"{step.duration:.2f}s"
        print(f"  {name:<24}{step.phase:<11}{duration:>9}")
    decisions = result.steps["chargeback-resolution"].outputs
    print(
        "  decisions: "
        + ", ".join(f"{k}={decisions.get(k)}" for k in ("accepted", "adjusted", "rejected"))
    )
    codes = Counter(
        code
        for d in result.steps["chargeback-resolution"].data.get("decisions", [])
        for code in d.get("reason_codes", [])
    )
    print("  reason codes: " + (", ".join(f"{c}x{n}" for c, n in codes.most_common()) or "-"))
    if profiled:
        print()
        print(profile(document, folder, top, lines))
    return case


def one_run_rss(document: Path, folder: Path, lines: int) -> float:
    """The peak RSS of one pipeline run in a new process (the interpreter, the modules and the
    run): the passes measured above share one process, whose peak also holds what earlier
    passes and sizes left allocated."""
    workdir = folder / "one-run"
    workdir.mkdir()
    url = f"sqlite:///{workdir}/state.db"
    ensure_loaded(url)
    argv = [sys.executable, __file__, "--one-run", str(document), url, str(workdir), str(lines)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def _peak_rss_since_exec() -> float:
    """This process's peak RSS in MiB since it started its program (Linux ``VmHWM``):
    ``ru_maxrss`` keeps the peak of the process it was forked from, the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status: one_run_rss needs Linux")


def summary(cases: list[Case]) -> None:
    """The issue's targets beside the figures: 10,000 lines within 3x their floor; 100,000
    lines processed within 11x the 10,000-line time, at a peak RSS under 1 GiB."""
    print("\n=== against the targets (issue 13)")
    by_size = {case.lines: case for case in cases}
    for case in cases:
        print(
            f"{case.lines:>8} lines: pipeline {case.pipeline.seconds:.2f}s, floor "
            f"{case.floor.seconds:.2f}s, {case.ratio:.1f}x the floor; peak RSS "
            f"{case.rss_mib:.0f} MiB after all passes, {case.one_run_rss_mib:.0f} MiB for one run"
        )
    small, large = by_size.get(10_000), by_size.get(100_000)
    if small is not None:
        print(f"10,000 lines: {small.ratio:.1f}x the floor (target <= 3x)")
    if small is not None and large is not None:
        scale = large.pipeline.seconds / small.pipeline.seconds
        print(
            f"100,000 lines: {scale:.1f}x the 10,000-line time (target <= 11x), "
            f"{large.ratio:.1f}x its own floor; peak RSS of one run {large.one_run_rss_mib:.0f} MiB "
            "(target < 1024)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lines",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="claim sizes, measured smallest first (default 10000 100000)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline too")
    parser.add_argument("--top", type=int, default=30, help="profile rows to print")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the memory passes")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed passes per case; the median counts (3)"
    )
    parser.add_argument("--one-run", nargs=4, help=argparse.SUPPRESS)  # see one_run_rss
    args = parser.parse_args(argv)
    tune_gc()  # as the flowspec command does, for both cases
    if args.one_run:
        document, url, workdir, lines = args.one_run
        pipeline(Path(document), url, Path(workdir), int(lines))
        print(_peak_rss_since_exec())
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-chargeback-") as tmp:
        root = Path(tmp)
        traced = not args.no_tracemalloc
        cases = [
            measure_size(n, root, traced, args.repeat, args.profile, args.top)
            for n in sorted(set(args.lines))
        ]
    summary(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
