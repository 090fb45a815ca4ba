"""Processors the executor tests (and their child processes) run; import path executor_procs."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from engine.processors import StepContext, StepFailed, StepResult, TransientError

_lock = threading.Lock()
running = 0
peak = 0


class Sleep:
    """Blocking: sleeps, tracks how many run at once, returns its configured outputs."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {}
    open_outputs: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.seconds = float(config.get("seconds", 0))
        self.values = dict(config.get("outputs") or {})

    def process(self, context: StepContext) -> StepResult:
        global running, peak
        with _lock:
            running += 1
            peak = max(peak, running)
        try:
            time.sleep(self.seconds)
        finally:
            with _lock:
                running -= 1
        return StepResult(outputs=self.values)


class AsyncSleep(Sleep):
    async def process(self, context: StepContext) -> StepResult:  # type: ignore[override]
        await asyncio.sleep(self.seconds)
        return StepResult(outputs=self.values)


class Raise:
    """Raises what its config says: failed, transient, or a plain bug."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.kind = config.get("kind", "failed")
        self.message = config.get("message", "it broke")
        self.until = int(config.get("until", 10**9))  # succeed from this attempt on

    def process(self, context: StepContext) -> StepResult:
        if context.attempt >= self.until:
            return StepResult(outputs={})
        if self.kind == "transient":
            raise TransientError(self.message)
        if self.kind == "bug":
            raise KeyError(self.message)
        raise StepFailed(self.message)


class Returns:
    """Returns ``result`` as it is (outputs mapping, or anything else)."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {}
    open_outputs: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.result = config.get("result")
        self.huge = int(config.get("huge", 0))

    def process(self, context: StepContext) -> Any:
        if self.huge:
            return {"blob": "x" * self.huge}
        return self.result


class Hang:
    """Never returns on its own (blocking, or async with ``async: true``)."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        pass

    def process(self, context: StepContext) -> StepResult:
        time.sleep(3600)
        return StepResult()


class AsyncHang(Hang):
    async def process(self, context: StepContext) -> StepResult:  # type: ignore[override]
        await asyncio.sleep(3600)
        return StepResult()


class Reveal:
    """Returns its env, the outputs it sees upstream and the workflow status."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {"env": "string", "upstream": "string",
                                            "status": "string"}

    def __init__(self, config: Mapping[str, Any]) -> None:
        pass

    def process(self, context: StepContext) -> StepResult:
        seen = {name: {"phase": up.phase, "outputs": dict(up.outputs), "data": dict(up.data)}
                for name, up in context.upstream.items()}
        return StepResult(outputs={
            "env": json.dumps(dict(context.env), sort_keys=True),
            "upstream": json.dumps(seen, sort_keys=True),
            "status": context.workflow_status or "",
        })


class Journal:
    """Appends ``step attempt`` to the file $JOURNAL, then sleeps; for the crash tests, which
    need to know which attempts really started, and deterministic outputs to compare."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {"value": "integer"}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.seconds = float(config.get("seconds", 0.03))
        self.fail = bool(config.get("fail", False))

    def process(self, context: StepContext) -> StepResult:
        journal = Path(os.environ["JOURNAL"])
        with journal.open("a") as fh:
            fh.write(f"{context.step} {context.attempt}\n")
        time.sleep(self.seconds)
        if self.fail:
            raise StepFailed(f"{context.step} fails on purpose")
        total = sum(int(up.outputs.get("value") or 0) for up in context.upstream.values())
        return StepResult(outputs={"value": total + len(context.step)})


class Digests:
    """Outputs, as data, the digest of every ancestor's result it is handed."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        pass

    def process(self, context: StepContext) -> StepResult:
        return StepResult(data={n: up.digest for n, up in context.upstream.items()})


class IntKeys:
    """Data with integer keys, which JSON turns into text."""

    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        pass

    def process(self, context: StepContext) -> StepResult:
        return StepResult(data={"by_line": {10: "b", 9: "a"}})


def write_log(context: StepContext) -> dict[str, Any]:
    """Writes to its step's log as an in-process processor may; what it prints is not kept."""
    print("printed, not kept")
    context.log.write("stdout", b"from python\nno newline at the end")
    return {}
