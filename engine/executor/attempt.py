"""One attempt of one step: build the processor, call it the way it wants, time it out.

- Processors that declare ``inline = True`` (pure, instant: ``noop``) are called on the event
  loop, saving a thread hand-off per step.
- ``async def process`` is awaited on the loop.
- Anything else is blocking and runs in its own daemon thread. A daemon thread, not a pool:
  a processor that hangs past its timeout is abandoned (Python cannot kill a thread) and must
  neither hold a pool slot nor keep the process alive at exit. A processor that runs commands
  learns of the timeout (``StepContext.control``) and stops them itself, and is waited for.

A processor ends an attempt by returning (Succeeded, if its outputs check out) or by raising:
StepFailed -> Failed, TransientError -> Failed and transient (``retry.on: transient``), any
other exception -> Failed as well (on Argo the step's container exits non-zero), with the
exception type kept. Overrunning ``timeout`` -> Failed, as Argo's deadline does.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from engine.executor.phases import ERROR, FAILED, SUCCEEDED
from engine.process_group import KILL_GRACE
from engine.processors import StepContext, StepFailed, StepResult, TransientError

#: How long a cancelled attempt of a cancellable processor is waited for at most: its process
#: group's SIGTERM grace, SIGKILL's own wait and a margin.
WIND_DOWN = 2 * KILL_GRACE + 5.0


@dataclass(slots=True)  # not frozen: frozen dataclasses pay a setattr call per field
class Outcome:
    phase: str
    result: Any = None
    error: str | None = None
    error_type: str | None = None
    transient: bool = False


def failure(exc: BaseException) -> Outcome:
    """The Outcome for an exception a processor raised."""
    if isinstance(exc, TransientError):
        return Outcome(FAILED, error=_text(exc), error_type=type(exc).__name__, transient=True)
    if isinstance(exc, StepFailed):
        return Outcome(FAILED, error=_text(exc), error_type=type(exc).__name__)
    return Outcome(FAILED, error=f"{type(exc).__name__}: {_text(exc)}",
                   error_type=f"{type(exc).__module__}.{type(exc).__qualname__}")


def errored(message: str, error_type: str = "Error") -> Outcome:
    """An attempt that could not run properly (its env, its processor): phase Error."""
    return Outcome(ERROR, error=message, error_type=error_type)


def _text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


_CONTEXT_FIELDS = frozenset(f.name for f in fields(StepContext))
_DIRECT = not hasattr(StepContext, "__slots__")


def new_context(shared: dict[str, Any], own: dict[str, Any]) -> StepContext:
    """A StepContext from the fields a run shares and an attempt's own, built without the
    frozen dataclass's per-field setattr calls (a third of a no-op step's cost); falls back
    to the constructor if the class ever changes shape."""
    values = {**shared, **own}
    if _DIRECT and values.keys() == _CONTEXT_FIELDS:
        context = object.__new__(StepContext)
        object.__setattr__(context, "__dict__", values)
        return context
    return StepContext(**values)


def is_inline(cls: type) -> bool:
    return bool(getattr(cls, "inline", False))


def is_async(cls: type) -> bool:
    return inspect.iscoroutinefunction(getattr(cls, "process", None))


def call_inline(processor: Any, context: StepContext) -> Outcome | Any:
    """Call a processor on the loop; returns an Outcome, or an awaitable still to await."""
    try:
        result = processor.process(context)
    except Exception as exc:  # noqa: BLE001 - whatever a processor raises fails its attempt
        return failure(exc)
    if type(result) is not StepResult and type(result) is not dict and inspect.isawaitable(result):
        return result
    return Outcome(SUCCEEDED, result)


async def call(processor: Any, context: StepContext, timeout: float | None,
               blocking: bool) -> Outcome:
    """Run ``process`` to its end (or its timeout).

    An attempt that times out or is cancelled has ``context.control`` cancelled. A blocking
    processor that is ``cancellable`` (the shell processor) is then waited for until it has
    stopped what it started, so nothing of this attempt runs beside the next one; any other
    thread is abandoned, as Python cannot stop it.
    """
    thread = _in_thread(processor.process, context) if blocking else None
    try:
        async with asyncio.timeout(timeout) as deadline:
            result = await _settle(processor.process(context) if thread is None
                                   else asyncio.shield(thread))
    except asyncio.CancelledError:
        await _wind_down(processor, context, thread)
        raise
    except TimeoutError as exc:
        if not deadline.expired():
            return failure(exc)  # the processor's own TimeoutError, not the step's timeout
        if await _wind_down(processor, context, thread):
            raise asyncio.CancelledError from None
        return Outcome(FAILED, error=f"timed out after {timeout:g}s (the step's timeout)",
                       error_type="Timeout")
    except Exception as exc:  # noqa: BLE001 - whatever a processor raises fails its attempt
        return failure(exc)
    return Outcome(SUCCEEDED, result)


async def _wind_down(processor: Any, context: StepContext,
                     thread: asyncio.Future[Any] | None) -> bool:
    """Cancel the attempt; wait, up to WIND_DOWN seconds, for a cancellable processor's thread
    to end; abandon any other. True if this task was itself cancelled meanwhile (the caller
    re-raises: a second Ctrl-C must neither leave a process group behind nor be lost)."""
    context.control.cancel()
    if thread is None:
        return False
    interrupted = False
    if getattr(processor, "cancellable", False):
        loop = asyncio.get_running_loop()
        until = loop.time() + WIND_DOWN
        while not thread.done() and loop.time() < until:
            try:
                await asyncio.wait((thread,), timeout=until - loop.time())
            except asyncio.CancelledError:
                interrupted = True
    if thread.done():
        thread.exception()  # ended, and nobody wants its result: no "never retrieved" report
    else:
        thread.cancel()  # abandoned: its late result is dropped
    return interrupted


async def _settle(value: Any) -> Any:
    """Await until a plain value: a blocking call may itself return an awaitable."""
    while inspect.isawaitable(value):
        value = await value
    return value


def _in_thread(fn: Callable[[StepContext], Any], context: StepContext) -> asyncio.Future[Any]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if future.done():
            return  # timed out or cancelled: nobody waits for this result any more
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)

    def work() -> None:
        try:
            result = fn(context)
        except BaseException as exc:  # noqa: BLE001 - even SystemExit fails only the attempt
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                exc = StepFailed(f"the processor raised {type(exc).__name__}")
            _post(loop, settle, None, exc)
        else:
            _post(loop, settle, result, None)

    threading.Thread(target=work, name=f"flowspec:{context.step}", daemon=True).start()
    return future


def _post(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    # RuntimeError: the loop is closed, the run ended while this thread hung.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


def config_error(name: str, exc: BaseException) -> Outcome:
    return Outcome(FAILED, error=f"processor {name} rejected its config: {_text(exc)}",
                   error_type=type(exc).__name__)
