"""The executor: Argo's decisions, run as soon as they can be taken, recorded before acted on.

One asyncio loop owns all state. A step is decided the moment its last parent is fulfilled
(``Scheduler`` counts them down), not generation by generation. Steps that run go to a ready
queue drained up to ``max_parallel``; their attempts run inline, as coroutines or in threads
(see attempt.py). Every state change becomes an op; ops are committed in one transaction
just before the executor acts on them (calls a processor, or waits), so a crash can only lose
decisions nobody acted on, and resume takes them again from the same recorded inputs.

Resume rebuilds the nodes from the store, replays ``done()`` for every fulfilled step, stops
the process groups the dead process's attempts left running (``engine.process_group``), turns
an attempt that was running when the process died into an Error attempt (retried if the
step's retry policy covers Error) and continues.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import os
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from engine.canonical import result_digest
from engine.executor import attempt as attempts
from engine.executor import files
from engine.executor.assess import assess_phase, with_finally
from engine.executor.decide import (
    FAIL,
    OMIT,
    RUN,
    SKIP,
    Decision,
    decide,
    decide_dependencies,
    decide_when,
    parsed_condition,
)
from engine.executor.env import step_env
from engine.executor.logs import LogBook
from engine.executor.outputs import OutputProblem, check, encode
from engine.executor.phases import (
    ERROR,
    FAILED,
    FAILED_OR_ERROR,
    FULFILLED,
    OMITTED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
)
from engine.executor.result import RunResult, StepReport
from engine.executor.retry import AttemptEnd, RetryVerdict, backoff_wait, next_retry
from engine.executor.scheduler import Scheduler
from engine.expr.depends import TaskState
from engine.expr.errors import ExprEvalError, ExprSyntaxError
from engine.graph import step_parents
from engine.model import Spec, Step
from engine.process_group import GroupId, stop_leftovers
from engine.processors import (
    AttemptControl,
    ProcessorNotFound,
    StepContext,
    Upstream,
    declared_outputs,
    resolve,
)
from engine.secrets import MissingSecret, Redactor, known_values, spec_secrets
from engine.store import Store
from engine.store.errors import LeaseLost, StoreError
from engine.store.records import NodeRecord, Op, RunState
from engine.values import to_text

#: Inline (instant) processors run back to back without giving the loop a turn; every so
#: many we yield so that timers, signals and the lease keep being served.
_INLINE_BURST = 128
#: how often a durable run looks for a ``flowspec cancel`` request while attempts run
STOP_POLL_SECONDS = 1.0
_ACTION = {SKIP: SKIPPED, OMIT: OMITTED, FAIL: ERROR}
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_SUCCESS = RetryVerdict(False)
_INTERRUPTED = "Interrupted"


class Observer(Protocol):
    """Progress callbacks (the CLI's live view); called on the loop, so keep them quick."""

    def run_started(self, run_id: str, workflow: str, total: int, resumed: bool) -> None: ...

    def step_event(self, kind: str, name: str, phase: str, attempt: int,
                   message: str | None) -> None: ...

    def step_output(self, name: str, attempt: int, stream: str, line: str) -> None:
        """A line an attempt wrote, masked; called on the attempt's own thread."""


class Node:
    """A step, a for_each group, or one instance of a group, as the executor tracks it.

    A plain slotted class: one is made per step, and a dataclass's default factories would
    allocate two dicts and a list per step that most no-op steps never use.
    """

    __slots__ = ("attempt_no", "attempt_started", "data", "digest", "ends", "finished_at",
                 "index", "interrupted", "item", "message", "name", "outputs", "parent",
                 "phase", "started_at", "step", "unended")

    def __init__(self, name: str, step: Step, parent: str | None = None, item: Any = None,
                 index: int = 0) -> None:
        self.name = name
        self.step = step
        self.parent = parent
        self.item = item
        self.index = index
        self.phase = PENDING
        self.ends: tuple[AttemptEnd, ...] = ()  # finished attempts, read by the retry rules
        self.attempt_no = 0
        self.attempt_started = 0.0
        #: resume: flowspec stopped during the last attempt, which must run again
        self.interrupted = False
        self.unended = False  # ... and it was killed before it could record the attempt's end
        self.outputs: Mapping[str, Any] = _NOTHING  # shared until the node closes
        self.data: Mapping[str, Any] = _NOTHING
        self.digest: str | None = None  # of the stored result, when this process stored it
        self.message: str | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None


class _Dag:
    """One of the run's two graphs: the main steps, or the ``finally`` steps."""

    def __init__(self, steps: Sequence[Step], is_finally: bool) -> None:
        self.steps = tuple(steps)
        self.by_name = {s.name: s for s in self.steps}
        self.parents = {s.name: [p for p in step_parents(s) if p in self.by_name]
                        for s in self.steps}
        self.scheduler = Scheduler([s.name for s in self.steps], self.parents)
        self.is_finally = is_finally

    def ancestors(self, name: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.parents.get(name, ()))
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(self.parents[parent])
        return seen


class _StepsView(Mapping[str, Any]):
    """Fulfilled steps as a condition sees them, without copying anything per decision."""

    __slots__ = ("_nodes",)

    def __init__(self, nodes: Mapping[str, Node]) -> None:
        self._nodes = nodes

    def __getitem__(self, name: str) -> Any:
        from engine.expr.evaluate import StepValues

        node = self._nodes.get(name)
        if node is None or node.parent is not None or node.phase not in FULFILLED:
            raise KeyError(name)
        return StepValues(node.phase, node.outputs)

    def __iter__(self) -> Iterator[str]:
        return (n for n, node in self._nodes.items()
                if node.parent is None and node.phase in FULFILLED)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Upstream(Mapping[str, Upstream]):
    """A step's ancestors' results, computed on first use: a chain of 10,000 steps must not
    build 10,000 ancestor sets nobody reads."""

    __slots__ = ("_dag", "_ex", "_names", "_step")

    def __init__(self, ex: Execution, dag: _Dag, step: str) -> None:
        self._ex, self._dag, self._step = ex, dag, step
        self._names: list[str] | None = None

    def _ancestors(self) -> list[str]:
        if self._names is None:
            mine = self._dag.ancestors(self._step)
            names = [s.name for s in self._dag.steps if s.name in mine]
            if self._dag.is_finally:  # finally runs after everything: it sees every step
                names = [s.name for s in self._ex.spec.steps] + names
            self._names = [n for n in names if n in self._ex.nodes
                           and self._ex.nodes[n].phase in FULFILLED]
        return self._names

    def __getitem__(self, name: str) -> Upstream:
        if name not in self._ancestors():
            raise KeyError(name)
        node = self._ex.nodes[name]
        return Upstream(node.phase, MappingProxyType(node.outputs), MappingProxyType(node.data),
                        known_digest=node.digest)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ancestors())

    def __len__(self) -> int:
        return len(self._ancestors())


class Execution:
    """Runs (or resumes) one run of a spec against a store; ``await execute()`` once."""

    def __init__(self, spec: Spec, params: Mapping[str, Any], store: Store, run_id: str, *,
                 max_parallel: int | None = None, secrets: Mapping[str, str] | None = None,
                 workdir: Path | None = None, observer: Observer | None = None,
                 created_at: float | None = None, restored: RunState | None = None,
                 files_dir: Path | None = None) -> None:
        self.spec = spec
        self.params = MappingProxyType(dict(params))
        self.store = store
        self.run_id = run_id
        limit = max_parallel or os.cpu_count() or 1
        self.limit = max(1, min(limit, spec.parallelism or limit))
        self.secrets: Mapping[str, str] = os.environ if secrets is None else secrets
        self.workdir = workdir or Path.cwd()
        #: the run's folder for the files its steps write (``engine.executor.files``)
        self.files_dir = files_dir or self.workdir / files.DEFAULT_FOLDER / run_id
        self.observer = observer
        self.created_at = created_at or time.time()
        self.deadline = self.created_at + spec.timeout if spec.timeout else None
        self.database_url = store.url
        self.redactor = Redactor(known_values(spec_secrets(spec), self.secrets))
        self.main = _Dag(spec.steps, False)
        self.fin = _Dag(spec.finally_steps, True)
        self.dag = self.main
        self.nodes: dict[str, Node] = {}
        self.groups: dict[str, list[Node]] = {}
        self.states: dict[str, TaskState] = {}
        self.view = _StepsView(self.nodes)
        self.workflow_status: str | None = None
        self.ready: deque[Node] = deque()
        self.running: dict[asyncio.Task[attempts.Outcome], Node] = {}
        self.backoff: list[tuple[float, int, Node]] = []
        self.ops: list[Op] = []
        #: the DAG was halted (its deadline passed, or flowspec cancel): why; nothing new starts
        self.halted: str | None = None
        #: flowspec cancel --terminate: the finally steps do not run either
        self.terminated = False
        self._poll_at = 0.0
        self.stopping = False
        #: resume: process groups of attempts the stopped flowspec left, by node
        self._leftovers: list[tuple[str, GroupId]] = []
        #: resume: what became of an interrupted attempt's processes, for its message
        self._notes: dict[str, str] = {}
        self._declared: dict[str, Mapping[str, str]] = {}
        self._seq = 0
        self._durable = store.durable
        lease = store.lease_seconds
        self._renew_every = lease / 3
        self._renew_at = time.monotonic() + self._renew_every
        #: the attempts' logs: kept by a durable store, shown by the observer
        self.logs = LogBook(store if self._durable else None, run_id, self.redactor,
                            observer.step_output if observer is not None else None)
        #: the StepContext fields every attempt of this run shares
        self._context_base = {"run_id": run_id, "workflow": spec.name, "params": self.params,
                              "workdir": self.workdir, "database_url": self.database_url}
        self.resumed = restored is not None
        if restored is not None:
            self._restore(restored)

    # --- the run ----------------------------------------------------------------------------
    async def execute(self) -> RunResult:
        if self.observer is not None:
            self.observer.run_started(self.run_id, self.spec.name, len(self.spec.all_steps),
                                      self.resumed)
        message: str | None = None
        try:
            if self._leftovers:
                await self._stop_leftovers()
            await self._obey_stop_request()
            main = await self._run_dag(self.main)
            if self.halted:
                main = FAILED
                message = self.halted
            elif main != SUCCEEDED:
                message = self._first_problem(self.main)
            phase = main
            if self.spec.finally_steps and not self.terminated:
                self.workflow_status = main
                self.dag = self.fin
                final = await self._run_dag(self.fin)
                phase = with_finally(main, final)
                if phase != main:
                    message = self._first_problem(self.fin)
            self._flush()
            self.logs.close()  # every line is in the store before the run's end is
            self.store.run_ended(self.run_id, phase, message, time.time())
        except asyncio.CancelledError:
            await self._stop("interrupted: the run was stopped (Ctrl-C or a signal) while "
                             "this attempt was running")
            raise
        except LeaseLost:
            await self._abandon()
            raise
        except StoreError as exc:
            await self._abandon()
            try:
                self.ops.clear()
                self.store.run_ended(self.run_id, _INTERRUPTED, str(exc), time.time())
            except StoreError:
                pass  # the store is what failed; the run stays resumable as it is
            raise
        finally:
            self.logs.close()
        return self.result(phase, message)

    async def _run_dag(self, dag: _Dag) -> str:
        self.dag = dag
        self._drain()
        while True:
            burst = self._start_ready()
            self._flush()
            if burst:
                await asyncio.sleep(0)  # a turn for signals and timers in a long inline run
            elif self.running or self.backoff:
                await self._wait()
            elif not self.ready or self.stopping:
                break
        phases = {s.name: self.nodes[s.name].phase for s in dag.steps if s.name in self.nodes}
        return assess_phase(dag.steps, dag.parents, phases)

    def _start_ready(self) -> bool:
        """Start what may start; True when a long run of inline attempts should yield."""
        burst = 0
        while True:
            self._drain()
            if self.stopping or not self.ready or len(self.running) >= self.limit:
                return False
            node = self.ready.popleft()
            if self.halted and not self.dag.is_finally:
                self._close(node, FAILED, None, None, f"not started: {self.halted}",
                            time.time(), record=True)
                continue
            if self._begin(node):
                burst += 1
                if burst >= _INLINE_BURST:
                    return True

    async def _wait(self) -> None:
        """Until an attempt ends, a backoff is due, the deadline passes or the lease needs care."""
        now = time.time()
        wake = [self._renew_every]
        if self.backoff:
            wake.append(self.backoff[0][0] - now)
        if self.deadline is not None and not self.halted and not self.dag.is_finally:
            wake.append(self.deadline - now)
        if self._durable and not self.halted:
            wake.append(STOP_POLL_SECONDS)
        timeout = max(0.0, min(wake))
        if self.running:
            done, _ = await asyncio.wait(self.running, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(timeout)
            done = set()
        for task in done:
            node = self.running.pop(task)
            self._end(node, task.result())
        now = time.time()
        while self.backoff and self.backoff[0][0] <= now:
            self.ready.append(heapq.heappop(self.backoff)[2])
        if self.deadline is not None and now >= self.deadline and not self.halted \
                and not self.dag.is_finally:
            await self._halt(f"the workflow timeout of {self.spec.timeout:g}s was exceeded",
                             "WorkflowTimeout")
        await self._obey_stop_request()
        self._renew()

    # --- decisions --------------------------------------------------------------------------
    def _drain(self) -> None:
        """Decide every step the scheduler released, iteratively (a chain of 10,000 skipped
        steps must not recurse 10,000 deep)."""
        sched = self.dag.scheduler
        while not self.stopping:
            names = sched.get_ready()
            if not names:
                return
            for name in names:
                self._release(name)

    def _release(self, name: str) -> None:
        node = self.nodes.get(name)
        if node is not None and node.phase in FULFILLED:
            return  # resume: finished before the crash
        if self.halted and not self.dag.is_finally:
            if node is not None and (node.ends or node.interrupted):
                self._end_halted(node)  # resumed after a stop: its attempts are over
            return  # after the deadline or a stop no new node is created (as on Argo)
        step = self.dag.by_name[name]
        if step.for_each is not None:
            self._expand(step)
            return
        if node is not None and (node.ends or node.interrupted):
            self._continue(node)  # resume: it was already decided and ran
            return
        decision = decide(step, self.states, lambda: self._values(None))
        node = node or self._node(step)
        if decision.action == RUN:
            self.ready.append(node)
        else:
            self._decided(node, decision)

    def _decided(self, node: Node, decision: Decision) -> None:
        now = time.time()
        phase = _ACTION[decision.action]
        self._close(node, phase, None, None, decision.message, now, record=True)

    def _values(self, item: Any) -> Any:
        from engine.expr.evaluate import Values

        return Values(params=self.params, steps=self.view, workflow_status=self.workflow_status,
                      item=item, workflow_name=self.spec.name)

    def _node(self, step: Step) -> Node:
        node = Node(step.name, step)
        self.nodes[step.name] = node
        return node

    # --- for_each -----------------------------------------------------------------------------
    def _expand(self, step: Step) -> None:
        """A for_each step: a group node and one instance per item, each with its own `when`."""
        group = self.nodes.get(step.name) or self._node(step)
        decision = decide_dependencies(step, self.states)
        if decision.action != RUN:
            self._decided(group, decision)
            return
        try:
            from engine.expr.evaluate import resolve_reference

            items = resolve_reference(parsed_condition(step.for_each or ""), self._values(None))
        except (ExprSyntaxError, ExprEvalError) as exc:
            self._decided(group, Decision(FAIL, f"cannot evaluate for_each: {exc}"))
            return
        if not isinstance(items, list):
            self._decided(group, Decision(FAIL, f"for_each {step.for_each} must be a list, got "
                                                f"{to_text(items)[:80]!r}"))
            return
        if not items:
            self._decided(group, Decision(SKIP, "Skipped, empty params"))
            return
        group.phase = RUNNING
        known = {n.index: n for n in self.groups.get(step.name, ())}
        instances = []
        for index, item in enumerate(items):
            inst = known.get(index)
            if inst is None:
                inst = Node(instance_name(step.name, index, item), step, parent=step.name,
                            item=item, index=index)
                self.nodes[inst.name] = inst
            inst.item = item
            instances.append(inst)
        self.groups[step.name] = instances
        for inst in instances:
            if inst.phase in FULFILLED:
                continue
            if inst.ends or inst.interrupted:
                self._continue(inst)
                continue
            decision = decide_when(step, partial(self._values, inst.item))
            if decision.action == RUN:
                self.ready.append(inst)
            else:
                self._decided(inst, decision)
        self._maybe_close_group(step.name)

    def _maybe_close_group(self, name: str) -> None:
        instances = self.groups.get(name, [])
        group = self.nodes[name]
        if group.phase in FULFILLED or any(i.phase not in FULFILLED for i in instances):
            return
        phase = SUCCEEDED
        for inst in instances:
            if inst.phase in FAILED_OR_ERROR:
                phase = inst.phase  # Argo: the last failed instance, in item order, decides
        declared = self._declared_outputs(group.step)
        outputs = {out: [i.outputs.get(out) for i in instances if i.phase == SUCCEEDED]
                   for out in declared}
        starts = [i.started_at for i in instances if i.started_at is not None]
        group.started_at = min(starts) if starts else None
        failed = [i for i in instances if i.phase in FAILED_OR_ERROR]
        message = f"{len(failed)} of {len(instances)} instances failed" if failed else None
        self._close(group, phase, outputs, None, message, time.time(), record=True)

    # --- attempts -----------------------------------------------------------------------------
    def _begin(self, node: Node) -> bool:
        """Start the next attempt; True if it ran inline (already ended)."""
        step = node.step
        node.attempt_no += 1
        number = node.attempt_no
        now = time.time()
        node.attempt_started = now
        if node.started_at is None:
            node.started_at = now
        node.phase = RUNNING
        if self._durable:
            self.ops.append(("start", node.name, number, now))
        if self.observer is not None:
            self.observer.step_event("started", node.name, RUNNING, number, None)
        try:
            cls = resolve(step.processor)
        except ProcessorNotFound as exc:
            self._flush()
            self._end(node, attempts.errored(exc.reason, "ProcessorNotFound"))
            return True
        try:
            env = step_env(step, self.secrets, lambda: self._values(node.item))
        except (MissingSecret, ExprEvalError, ExprSyntaxError) as exc:
            self._flush()
            self._end(node, attempts.errored(f"cannot build the step's env: {exc}",
                                             type(exc).__name__))
            return True
        inline = attempts.is_inline(cls)
        on_group = None if inline or not self._durable else partial(
            self._started_group, asyncio.get_running_loop(), node.name, number)
        declared = self._declared_outputs(step)
        folder = self._files_of(node, declared)
        if folder is not None:
            files.fresh(folder)
        context = attempts.new_context(self._context_base, {
            "step": step.name, "attempt": number, "env": env, "item": node.item,
            "upstream": _Upstream(self, self.dag, step.name),
            "workflow_status": self.workflow_status, "control": AttemptControl(on_group),
            "log": self.logs.attempt(node.name, number),
            "output_types": declared, "output_dir": folder})
        try:
            processor = cls(dict(step.config))
        except Exception as exc:  # noqa: BLE001 - a processor may reject its config any way
            self._flush()
            self._end(node, attempts.config_error(step.processor, exc))
            return True
        if inline:
            self._flush()
            outcome = attempts.call_inline(processor, context)
            if isinstance(outcome, attempts.Outcome):
                self._end(node, outcome)
                return True
            pending = outcome
            task = asyncio.ensure_future(attempts.call(_Ready(pending), context, step.timeout,
                                                       False))
        else:
            task = asyncio.ensure_future(attempts.call(
                processor, context, step.timeout, blocking=not attempts.is_async(cls)))
        self.running[task] = node
        return False

    def _end(self, node: Node, outcome: attempts.Outcome) -> None:
        """Record an attempt's end; retry it, or close the node."""
        self.logs.ended(node.name, node.attempt_no)
        now = time.time()
        step = node.step
        phase, error, error_type = outcome.phase, outcome.error, outcome.error_type
        outputs: dict[str, Any] | None = None
        data: dict[str, Any] | None = None
        out_json = data_json = None
        if phase == SUCCEEDED:
            try:
                declared = self._declared_outputs(step)
                outputs, data = check(outcome.result, declared, self._files_of(node, declared))
                out_json, data_json = encode(outputs, data)
                if self.redactor:
                    out_json, data_json, outputs, data = self._scrub(out_json, data_json,
                                                                     outputs, data)
            except OutputProblem as exc:
                phase, error, error_type = FAILED, str(exc), "OutputError"
                outputs = data = None
        verdict = _SUCCESS
        if phase != SUCCEEDED:  # success is always final: no retry bookkeeping
            if self.redactor:
                error = self.redactor.scrub(error)
            node.ends += (AttemptEnd(phase, node.attempt_started, now, outcome.transient),)
            verdict = next_retry(step.retry, node.ends, now,
                                 None if self.dag.is_finally else self.deadline)
            if not verdict.retry and verdict.reason:
                error = f"{error} ({verdict.reason})" if error else verdict.reason
        final = not verdict.retry
        if self._durable:
            self.ops.append(("end", node.name, node.attempt_no, phase, now, out_json, data_json,
                             error, error_type, final))
        if self.observer is not None:
            self.observer.step_event("finished" if final else "retrying", node.name, phase,
                                     node.attempt_no, error)
        if final:
            if out_json is not None:
                node.digest = result_digest(out_json, data_json)
            self._close(node, phase, outputs, data, error, now)
        else:
            node.phase = PENDING
            self._later(node, verdict.delay)

    def _continue(self, node: Node) -> None:
        """Resume a node that had attempts: run an interrupted one again, or wait out its
        backoff.

        An attempt cut short because flowspec itself stopped (Ctrl-C, SIGTERM, kill -9, power
        loss) says nothing about the step, so it is not charged to the retry limit and the
        step runs again, and the run ends as an uninterrupted run would; a step whose side
        effects must not happen twice opts out with ``on_interrupt: fail`` and ends in Error.
        """
        if node.interrupted:
            node.interrupted = False
            if node.unended:
                node.unended = False
                self._interrupted(node, "interrupted: the flowspec process stopped while this "
                                  f"attempt was running{self._notes.pop(node.name, '')}")
            if node.step.on_interrupt == "fail":
                self._close(node, ERROR, None, None, "interrupted, and not run again "
                            "(on_interrupt: fail): its attempt may have done part of its work",
                            time.time(), record=True)
            else:
                self.ready.append(node)
            return
        last = node.ends[-1]
        due = last.finished_at + backoff_wait(node.step.retry, len(node.ends))
        self._later(node, due - time.time())

    def _end_halted(self, node: Node) -> None:
        """A resumed node with attempts, in a run halted before it could run again."""
        if node.unended:
            node.unended = False
            self._interrupted(node, "interrupted: the flowspec process stopped while this "
                              f"attempt was running{self._notes.pop(node.name, '')}")
        self._close(node, FAILED, None, None, f"not run again: {self.halted}", time.time(),
                    record=True)

    def _later(self, node: Node, delay: float) -> None:
        if delay <= 0:
            self.ready.append(node)
        else:
            self._seq += 1
            heapq.heappush(self.backoff, (time.time() + delay, self._seq, node))

    def _close(self, node: Node, phase: str, outputs: dict[str, Any] | None,
               data: dict[str, Any] | None, message: str | None, now: float, *,
               record: bool = False) -> None:
        """A node reached its final phase; tell its group or the scheduler."""
        node.phase = phase
        node.outputs = outputs if outputs is not None else _NOTHING
        node.data = data if data is not None else _NOTHING
        node.message = message
        node.finished_at = now
        if record and self._durable:
            self.ops.append(("node", NodeRecord(
                name=node.name, step=node.step.name, phase=phase, attempts=node.attempt_no,
                finished_at=now, started_at=node.started_at, message=message,
                parent=node.parent)))
        if record and self.observer is not None:
            self.observer.step_event("decided", node.name, phase, node.attempt_no, message)
        if node.parent is not None:
            self._maybe_close_group(node.parent)
            return
        step = node.step
        children = ([i.phase for i in self.groups.get(node.name, ())]
                    if step.for_each is not None else None)
        self.states[node.name] = TaskState(phase, step.continue_on.failed,
                                           step.continue_on.error, children)
        self.dag.scheduler.done(node.name)

    def _files_of(self, node: Node, declared: Mapping[str, str]) -> Path | None:
        """The node's output folder when its step declares a file output."""
        if not files.file_outputs(declared):
            return None
        return files.node_folder(self.files_dir, node.step.name,
                                 node.index if node.parent else None)

    def _declared_outputs(self, step: Step) -> Mapping[str, str]:
        declared = self._declared.get(step.name)
        if declared is None:
            try:
                base = dict(declared_outputs(resolve(step.processor)))
            except ProcessorNotFound:
                base = {}
            # read-only: every attempt's context hands it to a processor
            declared = self._declared[step.name] = MappingProxyType({**base, **step.outputs})
        return declared

    def _scrub(self, out_json: str, data_json: str | None, outputs: dict[str, Any],
               data: dict[str, Any]) -> tuple[str, str | None, dict[str, Any], dict[str, Any]]:
        """The result with every secret masked, as text and as the values descendants see."""
        masked = self.redactor.scrub_encoded(out_json)
        if masked is not None:
            out_json, outputs = masked
        masked = self.redactor.scrub_encoded(data_json) if data_json is not None else None
        if masked is not None:
            data_json, data = masked
        return out_json, data_json, outputs, data

    # --- durability -----------------------------------------------------------------------
    def _flush(self) -> None:
        if self.ops:
            ops, self.ops = self.ops, []
            self.store.write(self.run_id, ops)
        self._renew()

    def _renew(self) -> None:
        if self._durable and time.monotonic() >= self._renew_at:
            self.store.renew(self.run_id)
            self._renew_at = time.monotonic() + self._renew_every

    async def _halt(self, message: str, error_type: str) -> None:
        """The workflow timeout passed, or ``flowspec cancel`` asked (Argo's ``stop``): running
        attempts fail (their processes stopped), nothing new starts, the finally steps run."""
        self.halted = message
        for node in await self._cancel_running():
            self._end(node, attempts.Outcome(FAILED, error=message, error_type=error_type))
        while self.backoff:
            node = heapq.heappop(self.backoff)[2]
            self._close(node, node.ends[-1].phase, None, None, message, time.time(),
                        record=True)

    async def _obey_stop_request(self) -> None:
        """``flowspec cancel`` from another process: the request waits in the store, read at
        most every STOP_POLL_SECONDS while attempts run."""
        if not self._durable or self.halted or time.monotonic() < self._poll_at:
            return
        self._poll_at = time.monotonic() + STOP_POLL_SECONDS
        mode = self.store.stop_requested(self.run_id)
        if mode is None:
            return
        self.terminated = mode == "terminate"
        await self._halt("stopped by flowspec cancel" + (" --terminate" if self.terminated
                                                         else ""), "Stopped")

    async def _stop(self, message: str) -> None:
        """Ctrl-C: cancel running attempts, record them as interrupted Error attempts."""
        self.stopping = True
        for node in await self._cancel_running():
            self._interrupted(node, message)
        try:
            self._flush()
            self.logs.close()
            self.store.run_ended(self.run_id, _INTERRUPTED, "stopped before it finished; "
                                 f"continue with: flowspec resume {self.run_id}", time.time())
        except StoreError:
            pass  # nothing more can be recorded; resume will treat the attempts as interrupted

    def _interrupted(self, node: Node, message: str) -> None:
        """Record an attempt flowspec's own stop cut short: an Error attempt that is not final
        and not one of the attempts the retry rules count (see ``_continue``)."""
        if self.redactor:
            message = self.redactor.scrub(message) or message
        if self._durable:
            self.ops.append(("end", node.name, node.attempt_no, ERROR, time.time(), None, None,
                             message, _INTERRUPTED, False))
        if self.observer is not None:
            self.observer.step_event("retrying", node.name, ERROR, node.attempt_no, message)
        node.phase = PENDING

    async def _abandon(self) -> None:
        """The store failed or the lease was lost: stop without writing anything more."""
        self.stopping = True
        await self._cancel_running()
        self.ops.clear()

    async def _cancel_running(self) -> list[Node]:
        """Cancel the running attempts and wait until each has stopped what it started
        (``attempts.call``), so nothing of them runs on beside what comes next."""
        running, self.running = self.running, {}
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
        return list(running.values())

    def _started_group(self, loop: asyncio.AbstractEventLoop, node: str, attempt: int,
                       group: GroupId) -> None:
        """From a processor's thread: an attempt started a process group. Recorded at once,
        so that a resume after flowspec itself was killed can stop what is left of it."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the run is over
            loop.call_soon_threadsafe(self._record_group, node, attempt, group)

    def _record_group(self, node: str, attempt: int, group: GroupId) -> None:
        self.ops.append(("group", node, attempt, time.time(), group))
        if self.stopping:
            return  # _stop flushes it once the attempts are stopped; _abandon drops it
        # A failure here meets the run's next commit too, where the run handles it.
        with contextlib.suppress(StoreError):
            self._flush()

    async def _stop_leftovers(self) -> None:
        """Resume: stop the process groups that attempts of the stopped flowspec left running,
        before any attempt starts (on a thread: stopping one takes up to KILL_GRACE)."""
        groups = [group for _, group in self._leftovers]
        stopped = await asyncio.to_thread(stop_leftovers, groups)
        for name, group in self._leftovers:
            if group.pgid in stopped:
                self._notes[name] = (f"; its process group {group.pgid}, still running, was "
                                     "stopped")
        self._leftovers = []

    # --- resume -----------------------------------------------------------------------------
    def _restore(self, state: RunState) -> None:
        """Rebuild nodes from the store and replay ``done()`` for every fulfilled step."""
        by_name = {s.name: s for s in self.spec.all_steps}
        for name in sorted(set(state.nodes) | set(state.attempts)):
            record = state.nodes.get(name)
            step_name = record.step if record else name.partition("(")[0]
            step = by_name.get(step_name)
            if step is None:
                raise StoreError(f"run {self.run_id} has a node {name!r} that its spec does "
                                 "not define; the stored spec was changed")
            node = Node(name, step, parent=step_name if step_name != name else None)
            if node.parent is not None:
                node.index = instance_index(name)  # its item comes back when the group expands
            tries = state.live_attempts(name)
            for t in tries:
                cut_short = t.finished_at is None or (t.error_type == _INTERRUPTED
                                                      and not t.final)
                if t.finished_at is None or t.error_type == _INTERRUPTED:
                    self._leftovers += [(name, g) for g in state.groups.get((name, t.attempt), ())]
                if not cut_short:  # (its retry verdict was made and recorded when it ended)
                    assert t.finished_at is not None
                    node.ends += (AttemptEnd(t.phase, t.started_at, t.finished_at),)
            if tries and record is None:
                last = tries[-1]
                node.unended = last.finished_at is None
                node.interrupted = node.unended or (last.error_type == _INTERRUPTED
                                                    and not last.final)
            numbered = state.attempts.get(name)
            if numbered:  # a retried node's attempts go on numbering after its history's
                node.attempt_no = numbered[-1].attempt
            if tries:
                node.started_at = tries[0].started_at
                node.attempt_started = tries[-1].started_at
            if record is not None:
                node.phase = record.phase
                node.message = record.message
                node.finished_at = record.finished_at
                node.started_at = record.started_at or node.started_at
                final = tries[-1] if tries and tries[-1].final else None
                if final is not None:
                    node.outputs = dict(final.outputs or {})
                    node.data = dict(final.data or {})
                    node.digest = final.digest
            self.nodes[name] = node
        for inst in sorted((n for n in self.nodes.values() if n.parent), key=lambda n: n.index):
            self.groups.setdefault(inst.parent or "", []).append(inst)
        for dag in (self.main, self.fin):
            for step in dag.steps:
                done = self.nodes.get(step.name)
                if done is None or done.phase not in FULFILLED:
                    continue
                if step.for_each is not None and done.phase == SUCCEEDED:
                    insts = self.groups.get(step.name, [])
                    done.outputs = {out: [i.outputs.get(out) for i in insts
                                          if i.phase == SUCCEEDED]
                                    for out in self._declared_outputs(step)}
                children = ([i.phase for i in self.groups.get(step.name, ())]
                            if step.for_each is not None else None)
                self.states[step.name] = TaskState(done.phase, step.continue_on.failed,
                                                   step.continue_on.error, children)
                dag.scheduler.done(step.name)

    # --- results ----------------------------------------------------------------------------
    def _first_problem(self, dag: _Dag) -> str | None:
        for step in dag.steps:
            node = self.nodes.get(step.name)
            if node is not None and node.phase in FAILED_OR_ERROR and node.message:
                return f"{step.name}: {node.message}"
        return None

    def result(self, phase: str, message: str | None) -> RunResult:
        order: list[str] = []
        for step in self.spec.all_steps:
            order.append(step.name)
            order.extend(inst.name for inst in self.groups.get(step.name, ()))
        return RunResult(
            run_id=self.run_id, workflow=self.spec.name, phase=phase,
            steps=_Reports(order, self.nodes),
            params=self.params, message=message, started_at=self.created_at,
            finished_at=time.time(), store=self.store.display_url)


class _Reports(Mapping[str, StepReport]):
    """A run's StepReports, made when read: most callers look at a few steps of a big run."""

    __slots__ = ("_known", "_made", "_nodes", "_order")

    def __init__(self, order: list[str], nodes: Mapping[str, Node]) -> None:
        self._order = order
        self._known = set(order)
        self._nodes = nodes
        self._made: dict[str, StepReport] = {}

    def __getitem__(self, name: str) -> StepReport:
        report = self._made.get(name)
        if report is None:
            if name not in self._known:
                raise KeyError(name)
            node = self._nodes.get(name)
            report = StepReport(name, PENDING) if node is None else StepReport(
                node.name, node.phase, node.attempt_no, node.outputs, node.data,
                node.message if node.phase in FAILED_OR_ERROR else None,
                node.started_at, node.finished_at, node.parent)
            self._made[name] = report
        return report

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)


class _Ready:
    """Adapts an awaitable an inline processor returned to attempts.call's interface."""

    __slots__ = ("_awaitable",)

    def __init__(self, awaitable: Any) -> None:
        self._awaitable = awaitable

    def process(self, context: StepContext) -> Any:
        return self._awaitable


def instance_name(step: str, index: int, item: Any) -> str:
    """Argo's ``name(index:item)``, parentheses removed from the item as Argo does."""
    desc = to_text(item).replace("(", "").replace(")", "")
    if len(desc) > 60:
        desc = desc[:57] + "..."
    return f"{step}({index}:{desc})"


def instance_index(name: str) -> int:
    inner = name.partition("(")[2]
    digits = inner.partition(":")[0]
    return int(digits) if digits.isdigit() else 0
