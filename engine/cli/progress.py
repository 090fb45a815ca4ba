"""What a run looks like while it runs and when it ends.

On a terminal: a ``rich`` live view, one line per running step with the last line it wrote,
and counts of what finished, redrawn a few times a second from the executor's callbacks.
Elsewhere (CI logs, pipes): one plain line per event, so a log reads as a history. Both write
to stderr; the summary table (or ``--format json`` document) goes to stdout, so
``flowspec run ... --format json | jq`` works.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import IO, Any

from engine.executor.result import RunResult, StepReport

_STYLE = {
    "Succeeded": "green", "Failed": "red", "Error": "red", "Skipped": "yellow",
    "Omitted": "dim", "Running": "cyan", "Pending": "dim", "Interrupted": "magenta",
}
#: The summary table stops after this many rows; ``flowspec show`` has them all.
_MAX_ROWS = 200


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def one_line(text: str | None, width: int = 90) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


class PlainProgress:
    """One line per event: start, retry, end, decision."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.started: dict[str, float] = {}

    def run_started(self, run_id: str, workflow: str, total: int, resumed: bool) -> None:
        verb = "resuming" if resumed else "running"
        self._line(f"{verb} {workflow} as run {run_id} ({total} steps)")

    def step_event(self, kind: str, name: str, phase: str, attempt: int,
                   message: str | None) -> None:
        if kind == "started":
            self.started[name] = time.monotonic()
            self._line(f"{name}: started" + (f" (attempt {attempt})" if attempt > 1 else ""))
            return
        took = self.started.pop(name, None)
        spent = f" in {duration(time.monotonic() - took)}" if took is not None else ""
        if kind == "retrying":
            self._line(f"{name}: {phase}{spent}, will retry: {one_line(message)}")
        else:
            tail = f": {one_line(message)}" if message else ""
            self._line(f"{name}: {phase}{spent}{tail}")

    def step_output(self, name: str, attempt: int, stream: str, line: str) -> None:
        """Not printed: parallel steps' lines would interleave into a history nobody can
        read; ``flowspec logs RUN_ID`` shows them, step by step."""

    def close(self) -> None:
        """Nothing is drawn, so nothing to take down."""

    def _line(self, text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", file=self.stream, flush=True)


class LiveProgress:
    """A rich live view: running steps with their elapsed time and last line, counts of
    finished steps."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.running: dict[str, tuple[int, float]] = {}
        #: the last line each running step wrote, set from the attempts' threads
        self.last_line: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.total = 0
        self.title = ""
        self.live = Live(console=self.console, refresh_per_second=8, transient=True,
                         get_renderable=self._render)
        self.live.start()

    def run_started(self, run_id: str, workflow: str, total: int, resumed: bool) -> None:
        self.total = total
        self.title = f"{'resuming' if resumed else 'running'} {workflow} · run {run_id}"

    def step_event(self, kind: str, name: str, phase: str, attempt: int,
                   message: str | None) -> None:
        if kind == "started":
            self.running[name] = (attempt, time.monotonic())
            self.last_line.pop(name, None)
            return
        self.running.pop(name, None)
        self.last_line.pop(name, None)
        if kind == "retrying":
            self.console.print(f"[yellow]{name}[/]: {phase}, will retry: "
                               f"{one_line(message)}", highlight=False)
            return
        if "(" not in name:  # count steps, not the instances of a for_each step
            self.counts[phase] = self.counts.get(phase, 0) + 1
        if phase in ("Failed", "Error"):
            self.console.print(f"[red]{name}[/]: {phase}: {one_line(message)}", highlight=False)

    def step_output(self, name: str, attempt: int, stream: str, line: str) -> None:
        if line.strip():
            self.last_line[name] = line

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_row(Text(self.title, style="bold"))
        now = time.monotonic()
        for name, (attempt, since) in list(self.running.items())[:20]:
            extra = f" (attempt {attempt})" if attempt > 1 else ""
            row = Text(f"  ⏵ {name}{extra}  {duration(now - since)}", style="cyan")
            last = self.last_line.get(name)
            if last is not None:
                row.append(f"  {one_line(last, 80)}", style="dim")
            grid.add_row(row)
        if len(self.running) > 20:
            grid.add_row(Text(f"  … and {len(self.running) - 20} more running", style="cyan"))
        done = sum(self.counts.values())
        parts = [f"{done}/{self.total} done"]
        for phase in ("Succeeded", "Failed", "Error", "Skipped", "Omitted"):
            if self.counts.get(phase):
                parts.append(f"[{_STYLE[phase]}]{self.counts[phase]} {phase.lower()}[/]")
        parts.append(f"{len(self.running)} running")
        grid.add_row(Text.from_markup("  " + " · ".join(parts)))
        return grid

    def close(self) -> None:
        self.live.stop()


def make_progress(stream: IO[str] | None = None) -> PlainProgress | LiveProgress:
    out = stream or sys.stderr
    return LiveProgress(out) if out.isatty() else PlainProgress(out)


#: A processor may return a short text for people under this key of its ``data`` (a decision
#: table, the paths it wrote); ``run``, ``resume`` and ``show`` print it after the table.
REPORT_KEY = "report"


def print_summary(result: RunResult, stream: IO[str] | None = None) -> None:
    """The table at the end of ``run``/``resume`` and the body of ``show``."""
    from rich.console import Console
    from rich.table import Table

    out = stream or sys.stdout
    console = Console(file=out, highlight=False, soft_wrap=False,
                      width=None if out.isatty() else 120)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("STEP", "PHASE", "ATTEMPTS", "DURATION", "RESULT"):
        table.add_column(column, no_wrap=column != "RESULT", overflow="fold")
    rows = list(result.steps.values())
    for step in _rows(rows):
        table.add_row(step.name, f"[{_STYLE.get(step.phase, '')}]{step.phase}[/]",
                      str(step.attempts) if step.attempts else "-",
                      duration(step.duration), _result_text(step))
    console.print(table)
    if len(rows) > _MAX_ROWS:
        console.print(f"... {len(rows) - _MAX_ROWS} more steps: flowspec show {result.run_id}")
    for step in rows:  # a processor's own words for a person: see REPORT_KEY
        report = step.data.get(REPORT_KEY) if step.phase == "Succeeded" else None
        if isinstance(report, str) and report.strip():
            console.print(f"\n[bold]{_escape(step.name)}[/]")
            console.print(_escape(report.rstrip()), soft_wrap=True)
    took = duration(result.finished_at - result.started_at
                    if result.finished_at and result.started_at else None)
    style = _STYLE.get(result.phase, "")
    console.print(f"run [bold]{result.run_id}[/] [{style}]{result.phase}[/] in {took}"
                  + (f": {one_line(result.message, 200)}" if result.message else ""))


def _rows(rows: list[StepReport]) -> Iterable[StepReport]:
    """Failed steps first-class: never cut from a long table."""
    if len(rows) <= _MAX_ROWS:
        return rows
    failed = [r for r in rows if r.phase in ("Failed", "Error")]
    keep = {id(r) for r in (rows[: _MAX_ROWS - min(len(failed), _MAX_ROWS // 2)] + failed)}
    return [r for r in rows if id(r) in keep][:_MAX_ROWS]


def _result_text(step: StepReport) -> str:
    if step.error:
        return f"[red]{_escape(one_line(step.error, 100))}[/]"
    shown = {k: v for k, v in step.outputs.items() if v is not None}
    if not shown:
        return ""
    return _escape(one_line(json.dumps(shown, ensure_ascii=False, default=str), 100))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
