"""The processor interface: the one seam between the engine and the work a step does.

A processor is a class with three class attributes and one method. The validator reads the
class attributes without running anything (config schema, declared outputs); the executor and
the in-pod runner call ``process``. Keeping the interface this small lets the same class run
in-process, in a thread, or in an Argo pod.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast, runtime_checkable

from engine.canonical import digest_of

if TYPE_CHECKING:
    from engine.process_group import GroupId

ENTRY_POINT_GROUP = "flowspec.processors"


class StepFailed(Exception):
    """A permanent failure: the step is Failed and retried only under ``on: failure|always``."""


class TransientError(StepFailed):
    """A failure worth retrying (network, lock, rate limit): retried under ``on: transient`` too."""


@dataclass(frozen=True)
class Upstream:
    """What one finished ancestor left behind: its phase, typed outputs, free-form data, error.

    A ``finally`` step sees every step of the DAG here, so an audit or a review router can
    tell what failed and why.
    """

    phase: str
    outputs: Mapping[str, Any]
    data: Mapping[str, Any]
    error: str | None = None
    #: the digest the engine took of the stored text; otherwise computed from the values
    known_digest: str | None = field(default=None, repr=False, compare=False)

    @property
    def digest(self) -> str:
        """sha256 of the result as the store keeps it (``engine.canonical.result_digest``):
        what an audit names the result by, recomputable from the store alone. Taken from the
        stored text itself whenever the engine has it (a fresh or a resumed run, a pod), so
        it is the same whichever of them hands it on."""
        if self.known_digest is not None:
            return self.known_digest
        return digest_of(self.outputs, self.data)


class AttemptControl:
    """The engine's hold on a running attempt, for processors that start processes.

    Python cannot stop a thread: when an attempt times out or is cancelled (Ctrl-C or SIGTERM
    of flowspec, the workflow's deadline) the engine only sets ``cancelled``, and a processor
    that runs a command must stop it itself (the shell processor stops its process group). A
    processor whose class says ``cancellable = True`` is waited for until it has, so nothing
    of an attempt overlaps the next. ``started_group`` tells the engine of a process group a
    processor started: a run resumed after flowspec itself was killed stops what is left of it.
    """

    __slots__ = ("_on_group", "cancelled")

    def __init__(self, on_group: Callable[[GroupId], None] | None = None) -> None:
        self.cancelled = False
        self._on_group = on_group

    def cancel(self) -> None:
        self.cancelled = True

    def started_group(self, group: GroupId) -> None:
        if self._on_group is not None:
            self._on_group(group)


class LogSink(Protocol):
    """Where an attempt's log goes: ``stream`` is ``"stdout"`` or ``"stderr"``, ``data`` the
    bytes as a command wrote them (any cut: lines are put together again behind it).

    The executor gives each attempt its own (``engine.executor.logs``): the lines are masked,
    timestamped and kept in the store for ``flowspec logs``, and shown live. The shell
    processor streams its command's output here; an in-process processor may write its own
    lines, since what it prints goes to flowspec's own stdout, shared by every step.
    """

    def write(self, stream: str, data: bytes) -> None: ...


class _Discard:
    """The sink of a context built outside an executor (tests, direct calls): keeps nothing."""

    __slots__ = ()

    def write(self, stream: str, data: bytes) -> None:
        """Nothing to keep."""


DISCARD: LogSink = _Discard()


@dataclass(frozen=True)
class StepContext:
    """Everything a processor may read. Secrets are in ``env`` only, never in ``params``."""

    run_id: str
    workflow: str
    step: str
    attempt: int
    params: Mapping[str, Any]
    env: Mapping[str, str]
    upstream: Mapping[str, Upstream]
    workdir: Path
    database_url: str | None = None
    item: Any = None
    workflow_status: str | None = None
    control: AttemptControl = field(default_factory=AttemptControl, repr=False, compare=False)
    log: LogSink = field(default=DISCARD, repr=False, compare=False)
    #: the outputs the step declares, name -> type: a processor need not produce what nobody
    #: asked for (the shell processor keeps stdout only when ``stdout`` is declared)
    output_types: Mapping[str, str] = field(default_factory=dict)
    #: where the step writes its ``file`` outputs, one file per output name (None when it
    #: declares none); a command finds it in ``$FLOWSPEC_OUTPUT_DIR``
    output_dir: Path | None = None

    @property
    def document(self) -> Any:
        """The document the run is about: the ``document`` param by convention."""
        return self.params.get("document")

    def outputs_of(self, step: str) -> Mapping[str, Any]:
        """Outputs and data of one ancestor merged, empty when it did not run."""
        up = self.upstream.get(step)
        return {} if up is None else {**up.data, **up.outputs}


@dataclass(frozen=True)
class StepResult:
    """A processor's return value.

    ``outputs`` are the declared, typed values (usable in ``when``, Argo output parameters);
    ``data`` is JSON metadata handed to every descendant through the store.
    """

    outputs: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Processor(Protocol):
    """The interface. ``outputs`` maps output names to one of ``engine.values.TYPES``."""

    config_schema: ClassVar[Mapping[str, Any]]
    outputs: ClassVar[Mapping[str, str]]
    # Optional: ``uses_database = True`` says the processor keeps state in the run's database
    # (``context.database_url``); compiled for Argo, its spec then needs ``argo.store``.
    # Optional: a class method ``report_section(result: StepResult) -> Mapping | None`` adds
    # the processor's own table to the run report (``flowspec report``, ``flowspec ui``) of a
    # step that succeeded: ``{"title": str, "columns": [str], "rows": [[value]],
    # "totals": [(label, value)]}``, plain data that the report renders as escaped text (so a
    # value may hold anything). It reads the stored result only: the run has ended.

    def __init__(self, config: Mapping[str, Any]) -> None: ...

    def process(
        self, context: StepContext
    ) -> StepResult | Mapping[str, Any] | Awaitable[StepResult | Mapping[str, Any]]: ...


class ProcessorNotFound(LookupError):
    """Raised with the known names so callers can suggest the closest one."""

    def __init__(self, ref: str, reason: str, known: tuple[str, ...]) -> None:
        super().__init__(reason)
        self.ref = ref
        self.reason = reason
        self.known = known


def import_object(ref: str) -> Any:
    """``package.module:Attr.path`` -> the object; ImportError/AttributeError as Python raises."""
    module_name, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@cache
def registered() -> dict[str, Any]:
    """Name -> entry point for every installed processor; loaded lazily, once per process."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


@cache
def resolve(ref: str) -> type[Processor]:
    """Find a processor class by registered name or ``package.module:Class`` path."""
    known = tuple(sorted(registered()))
    if ":" in ref:
        try:
            obj: Any = import_object(ref)
        except (ImportError, AttributeError) as exc:
            raise ProcessorNotFound(ref, f"cannot import '{ref}': {exc}", known) from None
    else:
        ep = registered().get(ref)
        if ep is None:
            raise ProcessorNotFound(ref, f"no processor is registered as '{ref}'", known)
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the validator down
            raise ProcessorNotFound(ref, f"processor '{ref}' failed to load: {exc}", known) from None
    if not inspect.isclass(obj) or not callable(getattr(obj, "process", None)):
        raise ProcessorNotFound(ref, f"'{ref}' is not a processor class (no process method)", known)
    return cast("type[Processor]", obj)


def config_schema(cls: type[Processor]) -> Mapping[str, Any]:
    return getattr(cls, "config_schema", None) or {"type": "object"}


def declared_outputs(cls: type[Processor]) -> Mapping[str, str]:
    return getattr(cls, "outputs", None) or {}


def open_ended_outputs(cls: type[Processor]) -> bool:
    """Processors such as ``shell`` produce outputs named by the spec, not by the class."""
    return bool(getattr(cls, "open_outputs", False))
