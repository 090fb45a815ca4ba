"""``flowspec logs RUN_ID [STEP]``: what a run's steps wrote, kept per attempt.

The lines come from the store (``engine.executor.logs``): each attempt's stdout and stderr in
the order they were written, masked, at most 1 MiB per attempt with the cut said where it was
made. Attempts are shown in the order of ``flowspec show``, each in one block.

Each line starts with what tells it from the other lines shown, and nothing else: its step
and attempt (``report(0:eu) #2``) when several attempts are shown, its stream when both
streams are, so the lines of one attempt and one stream come out as the command wrote them.

``-f`` prints lines as they are written, in the order they were, until the run ends (it polls
the store). Since it cannot know what is yet to come, it prefixes every line with its step
and attempt unless STEP and ``--attempt`` choose one attempt, and with its stream unless
``--stream`` chooses one. A run that Argo drives has no end in the store: ``-f`` follows it
until Ctrl-C.

Exit 0; 2 for an unknown run, step or attempt, or a store that cannot be read.
"""

from __future__ import annotations

import argparse
import heapq
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.cli.run import (
    EXIT_OK,
    add_run_id_argument,
    add_store_argument,
    fail,
    positive_int,
    stored_run,
)
from engine.executor.logs import NOTE
from engine.executor.result import iso8601
from engine.store import Store
from engine.store.records import LogLine

#: Seconds between two looks at the store while following.
FOLLOW_EVERY = 0.5


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_id_argument(p)
    p.add_argument("step", metavar="STEP", nargs="?",
                   help="only this step (a for_each step with all its instances), or one "
                        "instance as flowspec show names it")
    p.add_argument("--attempt", type=positive_int, metavar="N", help="only attempt N")
    p.add_argument("--stream", choices=("stdout", "stderr"),
                   help="only this stream (a note of a cut is always shown)")
    p.add_argument("-f", "--follow", action="store_true",
                   help="print lines as they are written, until the run ends")
    p.add_argument("-t", "--timestamps", action="store_true",
                   help="start each line with the time it was written (UTC)")
    add_store_argument(p)


class _Unknown(Exception):
    """The command line names a step or attempt the run does not have."""


def main(args: argparse.Namespace) -> int:
    from engine.store import StoreError

    run_id = args.run_id
    try:
        with stored_run(args) as (store, run_id):
            return _logs(store, run_id, args)
    except _Unknown as exc:
        return fail("logs", f"run {run_id} {exc}")
    except StoreError as exc:
        return fail("logs", str(exc))


def _logs(store: Store, run_id: str, args: argparse.Namespace) -> int:
    from engine.executor.result import stored_result, stored_steps

    state = store.load_run(run_id)
    steps = stored_steps(state.run)
    # as flowspec show orders them, then any other node with lines (a pod names a
    # for_each instance after its item only)
    order = list(stored_result(state, steps).steps)
    order += sorted({node for node, _ in store.log_marks(run_id)} - set(order))
    node, step = _selection(args.step, order)
    if args.follow:
        fan_out = {s.name for s in steps if s.for_each is not None}
        one = args.attempt is not None and args.step is not None and (
            node is not None or args.step not in fan_out)
        view = _View(not one, args.stream is None, args.timestamps, args.stream, True)
        return _follow(store, run_id, node, step, args.attempt, view)
    lines = store.read_logs(run_id, node=node, step=step, attempt=args.attempt)
    if not lines and args.attempt is not None:
        _check_attempt(state.attempts, args.step, args.attempt)
    if not lines:
        print(f"flowspec logs: run {run_id}: {args.step or 'its steps'} wrote nothing",
              file=sys.stderr)
    _print(lines, order, args)
    return EXIT_OK


def _selection(step: str | None, order: list[str]) -> tuple[str | None, str | None]:
    """``read_logs``'s ``node`` and ``step`` for STEP: an instance is one node, a step is
    itself and its instances."""
    if step is None:
        return None, None
    if step not in order:
        from engine.diagnostics import did_you_mean

        hint = did_you_mean(step, order)
        raise _Unknown(f"has no step '{step}'" + (f"; {hint}" if hint else ""))
    return (step, None) if "(" in step else (None, step)


def _check_attempt(attempts: dict[str, list[Any]], step: str | None, attempt: int) -> None:
    """_Unknown unless the chosen steps had an attempt ``attempt`` (which wrote nothing)."""
    for node, tries in attempts.items():
        chosen = step is None or node == step or node.startswith(f"{step}(")
        if chosen and any(t.attempt == attempt for t in tries):
            return
    raise _Unknown(f"has no attempt {attempt}" + (f" of {step}" if step else ""))


@dataclass(frozen=True)
class _View:
    """How lines are printed: which prefixes they get, which stream is shown."""

    several: bool  # lines of several attempts: prefix each with its step and attempt
    streams: bool  # lines of both streams: prefix each with its stream
    timestamps: bool
    only: str | None  # the one stream shown (flowspec's notes always are)
    live: bool = False  # flush each line: someone is watching

    def show(self, line: LogLine) -> None:
        if self.only is not None and line.stream not in (self.only, NOTE):
            return
        parts = []
        if self.timestamps:
            parts.append(iso8601(line.at) or "")
        if self.several:
            parts.append(f"{line.node} #{line.attempt}")
        if self.streams:
            parts.append(line.stream)
        print(f"{' '.join(parts)} | {line.text}" if parts else line.text, flush=self.live)


def _print(lines: list[LogLine], order: list[str], args: argparse.Namespace) -> None:
    """Each attempt's lines in one block, attempts in ``order``."""
    rank = {node: i for i, node in enumerate(order)}
    blocks: dict[tuple[str, int], list[LogLine]] = {}
    for line in lines:
        blocks.setdefault((line.node, line.attempt), []).append(line)
    streams = {line.stream for line in lines} - {NOTE}
    view = _View(len(blocks) > 1, args.stream is None and len(streams) > 1, args.timestamps,
                 args.stream)
    for key in sorted(blocks, key=lambda k: (rank.get(k[0], len(rank)), k[1])):
        for line in blocks[key]:
            view.show(line)


def _follow(store: Store, run_id: str, node: str | None, step: str | None,
            attempt: int | None, view: _View) -> int:
    """Print new lines every FOLLOW_EVERY seconds until the run has ended and its last lines
    are printed (the executor stores every line before it records the end)."""
    from engine.store.lease import shown_phase

    seen: dict[tuple[str, int], int] = {}
    while True:
        run = store.run_record(run_id)
        # Running without a holder: a run Argo drives, whose end the store never learns.
        going = run.phase == "Running" and (run.lease_owner is None or shown_phase(
            run.phase, run.lease_owner, run.lease_expires, time.time()) == "Running")
        fresh = []
        marks = store.log_marks(run_id, node=node, step=step, attempt=attempt)
        for key, last in marks.items():
            after = seen.get(key, 0)
            lines = store.read_logs(run_id, node=key[0], attempt=key[1], after=after) \
                if last > after else []
            if lines:
                fresh.append(_noted(lines, after))
                seen[key] = lines[-1].seq
        for line in heapq.merge(*fresh, key=lambda line: line.at):
            view.show(line)
        if not going:
            return EXIT_OK
        time.sleep(FOLLOW_EVERY)


def _noted(lines: list[LogLine], after: int) -> Iterator[LogLine]:
    """An attempt's lines numbered after ``after``, with a note where the size cap dropped
    lines before this follower read them (a cut's own line covers the lines after it)."""
    covered = False
    for line in lines:
        if line.seq > after + 1 and line.stream != NOTE and not covered:
            yield LogLine(line.node, line.attempt, line.seq - 1, NOTE, line.at,
                          f"[log cut: {line.seq - after - 1} lines dropped]")
        covered = line.stream == NOTE
        after = line.seq
        yield line
