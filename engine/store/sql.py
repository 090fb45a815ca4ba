"""The durable store: SQLite (default) or PostgreSQL through SQLAlchemy 2 Core.

Two paths share one table definition (tables.py):

- reads, migrations and setup go through an SQLAlchemy Engine;
- the executor's writes go through one raw DBAPI connection with statements compiled once
  from the Core definitions: each commit is a single multi-row INSERT into the event log
  (no executemany, no ORM), because SQLAlchemy's per-execute overhead is several times
  SQLite's own cost for such a statement and would dominate a no-op step.

Writes happen only under the run's lease (see ``_transaction``): a process that lost it
raises LeaseLost and writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.sql.expression import ClauseElement

from engine.canonical import dumps, result_digest
from engine.process_group import GroupId
from engine.store import schema
from engine.store.errors import LeaseLost, RunBusy, StoreError, UnknownRun, fail
from engine.store.lease import DEFAULT_LEASE_SECONDS, describe_owner, holder_is_dead, new_owner
from engine.store.records import (
    RUN_ACTIVE,
    AttemptRecord,
    EventRecord,
    LogCut,
    LogLine,
    NodeRecord,
    Op,
    RunRecord,
    RunState,
)
from engine.store.tables import events, logs, processes, runs

#: Column order of an event row as ``write`` builds it.
EVENT_COLUMNS = ("run_id", "seq", "at", "kind", "node", "attempt", "phase", "message",
                 "outputs", "data", "error_type")
_WIDTH = len(EVENT_COLUMNS)
_GROUP_COLUMNS = ("run_id", "node", "attempt", "pgid", "boot_id", "leader_start", "at")
#: Rows per INSERT: far below every database's bound-parameter limit.
_ROWS_PER_INSERT = 64
#: run ids per DELETE: well inside every database's limit on bound parameters
_DELETE_BATCH = 500

#: Every event column None: a multi-row INSERT needs the same keys in every row.
_BLANK_EVENT: dict[str, Any] = dict.fromkeys(events.columns.keys())
#: How often a pod numbers its events again after other pods took the numbers first.
_POD_WRITE_TRIES = 50

#: How long SQLite waits for another writer's lock before reporting "locked".
BUSY_TIMEOUT_SECONDS = 10.0


def _dumps(value: Any) -> str | None:
    """Canonical text, as the executor stores results, so digests agree (``engine.canonical``)."""
    return None if value is None else dumps(value)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class _Prepared:
    """A Core statement compiled once for the dialect, executed with values in ``fields`` order.

    For positional drivers (sqlite3) the values tuple is passed through untouched when the
    compiled order matches ``fields``, which the statements below are written to ensure.
    """

    __slots__ = ("fields", "order", "sql")

    def __init__(self, stmt: ClauseElement, engine: Engine, fields: Sequence[str]) -> None:
        compiled = stmt.compile(dialect=engine.dialect)
        self.sql = compiled.string
        self.fields = tuple(fields)
        self.order: list[int] | None = None
        if engine.dialect.positional:
            order = [self.fields.index(name)
                     for name in getattr(compiled, "positiontup", None) or ()]
            self.order = None if order == list(range(len(self.fields))) else order

    def args(self, values: tuple[Any, ...], named: bool) -> Any:
        if named:
            return dict(zip(self.fields, values, strict=True))
        order = self.order
        return values if order is None else tuple([values[i] for i in order])


def safe_url(url: str) -> str:
    """The URL as it may be shown: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid store URL>"


class SqlStore:
    """Runs and their event logs in a database; one instance per process and URL."""

    durable = True

    def __init__(self, url: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                 create: bool = True) -> None:
        """``create=False``: a missing SQLite file is an error instead of a new empty store."""
        self.url = url
        self.display_url = safe_url(url)
        self.lease_seconds = lease_seconds
        self.owner = new_owner()
        self.engine = _create_engine(url, create)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._named = not self.engine.dialect.positional
        try:
            schema.ensure(self.engine)
        except StoreError:
            self.engine.dispose()
            raise
        except SQLAlchemyError as exc:
            self.engine.dispose()
            fail(exc, f"cannot open the store {self.display_url}")
        self._raw: Any = None
        self._cur: Any = None
        self._stmts: dict[str, _Prepared] = {}
        self._inserts: dict[int, _Prepared] = {}
        #: the last event number written per run (we hold its lease, so nobody else writes)
        self._seq: dict[str, int] = {}
        #: the lease expiry we last wrote per run, and how close to it we check the row again
        self._expires: dict[str, float] = {}
        self._margin = lease_seconds / 4

    # --- the write path ---------------------------------------------------------------------
    def _prepare(self) -> None:
        by_owner = (runs.c.run_id == bindparam("run_id"), runs.c.lease_owner == bindparam("owner"))
        stmts: dict[str, tuple[ClauseElement, Sequence[str]]] = {
            # FOR SHARE on PostgreSQL: a concurrent claim waits until this transaction ends.
            "lease": (select(runs.c.lease_owner).where(runs.c.run_id == bindparam("run_id"))
                      .with_for_update(read=True), ("run_id",)),
            "renew": (update(runs).where(*by_owner).values(lease_expires=bindparam("expires")),
                      ("expires", "run_id", "owner")),
            "run_end": (update(runs).where(*by_owner).values(
                phase=bindparam("phase"), message=bindparam("message"),
                finished_at=bindparam("finished_at"), lease_owner=null(), lease_expires=null()),
                ("phase", "message", "finished_at", "run_id", "owner")),
        }
        stmts["group"] = (insert(processes).values(
            {name: bindparam(name) for name in _GROUP_COLUMNS}), _GROUP_COLUMNS)
        self._stmts = {name: _Prepared(stmt, self.engine, fields)
                       for name, (stmt, fields) in stmts.items()}
        try:
            self._raw = self.engine.raw_connection()
            self._cur = self._raw.driver_connection.cursor()
        except SQLAlchemyError as exc:
            fail(exc, f"cannot open the store {self.display_url}")

    def _insert_events(self, rows: int) -> _Prepared:
        """``INSERT INTO flowspec_events VALUES (...), (...)`` for ``rows`` rows, compiled once."""
        stmt = self._inserts.get(rows)
        if stmt is None:
            names = [[f"{c}_{i}" for c in EVENT_COLUMNS] for i in range(rows)]
            values: list[dict[str, Any]] = [
                {c: bindparam(n) for c, n in zip(EVENT_COLUMNS, row, strict=True)}
                for row in names]
            stmt = _Prepared(insert(events).values(values), self.engine,
                             [n for row in names for n in row])
            self._inserts[rows] = stmt
        return stmt

    def write(self, run_id: str, ops: Sequence[Op]) -> None:
        """Commit state changes as events: one INSERT, one transaction, under the lease.

        The executor hands over everything it decided since its last commit, just before it
        acts on those decisions (starts a processor, waits): so a crash loses only decisions
        no one acted on, which resume takes again from the same recorded inputs.
        """
        if self._cur is None:
            self._prepare()
        seq = self._seq.get(run_id, 0)
        values: list[Any] = []
        groups: list[tuple[Any, ...]] = []
        for op in ops:
            if op[0] == "group":
                _, node, attempt, at, group = op
                groups.append((run_id, node, attempt, group.pgid, group.boot_id,
                               group.leader_start, at))
                continue
            seq += 1
            if op[0] == "start":
                _, node, attempt, at = op
                values += (run_id, seq, at, "started", node, attempt, "Running", None, None,
                           None, None)
            elif op[0] == "end":
                _, node, attempt, phase, at, outputs, data, error, error_type, final = op
                values += (run_id, seq, at, "finished" if final else "retrying", node, attempt,
                           phase, error, outputs, data, error_type)
            else:
                r: NodeRecord = op[1]
                values += (run_id, seq, r.finished_at, "decided", r.name, r.attempts or None,
                           r.phase, r.message, None, None, None)
        with self._transaction(run_id, "the run's progress") as cur:
            for start in range(0, len(values) // _WIDTH, _ROWS_PER_INSERT):
                chunk = values[start * _WIDTH:(start + _ROWS_PER_INSERT) * _WIDTH]
                stmt = self._insert_events(len(chunk) // _WIDTH)
                cur.execute(stmt.sql, stmt.args(tuple(chunk), self._named))
            group_stmt = self._stmts["group"]
            for row in groups:
                cur.execute(group_stmt.sql, group_stmt.args(row, self._named))
        self._seq[run_id] = seq

    @contextmanager
    def _transaction(self, run_id: str, doing: str) -> Iterator[Any]:
        """One write transaction on the raw connection, made only while we hold the lease.

        SQLite: the transaction takes the write lock first (BEGIN IMMEDIATE). Another process
        can take the lease only after its expiry, with a write of its own, so while we hold
        the write lock and our clock is well before the expiry we last wrote (same file, so
        same machine and clock), nobody else can hold it: the check costs no query. Near or
        past the expiry, and always on PostgreSQL (other hosts, other clocks), the lease row
        is read (FOR SHARE: a concurrent claim waits for our commit).
        """
        cur = self._cur
        try:
            if self.is_sqlite:
                cur.execute("BEGIN IMMEDIATE")
            if not self.is_sqlite or time.time() >= self._expires.get(run_id, 0.0) - self._margin:
                lease = self._stmts["lease"]
                cur.execute(lease.sql, lease.args((run_id,), self._named))
                row = cur.fetchone()
                if row is None or row[0] != self.owner:
                    raise LeaseLost(
                        f"run {run_id} was taken over by another process (this one was stopped "
                        f"for longer than its {self.lease_seconds:g}s lease); this process "
                        "stops writing")
            yield cur
            if self.is_sqlite:
                cur.execute("COMMIT")
            else:
                self._raw.driver_connection.commit()
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, self.engine.dialect.loaded_dbapi.Error):
                fail(exc, f"cannot record {doing} in {self.display_url}")
            raise

    def _rollback(self) -> None:
        # A failing rollback means the connection is broken; the error that got us here wins.
        with contextlib.suppress(self.engine.dialect.loaded_dbapi.Error):
            if self.is_sqlite:
                if self._raw.driver_connection.in_transaction:
                    self._cur.execute("ROLLBACK")
            else:
                self._raw.driver_connection.rollback()

    def renew(self, run_id: str) -> None:
        """Push the lease's expiry forward; LeaseLost if another process has taken it."""
        if self._cur is None:
            self._prepare()
        stmt = self._stmts["renew"]
        expires = time.time() + self.lease_seconds
        with self._transaction(run_id, "the lease renewal") as cur:
            cur.execute(stmt.sql, stmt.args((expires, run_id, self.owner), self._named))
        self._expires[run_id] = expires

    def run_ended(self, run_id: str, phase: str, message: str | None, at: float) -> None:
        """Record the run's phase and give up the lease (also for Interrupted: resumable)."""
        if self._cur is None:
            self._prepare()
        st = self._stmts
        seq = self._seq.get(run_id, 0) + 1
        one = self._insert_events(1)
        with self._transaction(run_id, f"the end of run {run_id}") as cur:
            cur.execute(one.sql, one.args(
                (run_id, seq, at, "interrupted" if phase == "Interrupted" else "ended", None,
                 None, phase, message, None, None, None), self._named))
            cur.execute(st["run_end"].sql, st["run_end"].args(
                (phase, message, None if phase == "Interrupted" else at, run_id, self.owner),
                self._named))
        self._seq[run_id] = seq

    # --- runs and leases --------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        """Insert a new run already leased to this process."""
        now = time.time()
        row = {**_run_row(run), "lease_owner": self.owner,
               "lease_expires": now + self.lease_seconds}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(runs).values(row))
                conn.execute(insert(events).values(
                    run_id=run.run_id, seq=1, **_created_event(run, now)))
        except SQLAlchemyError as exc:
            fail(exc, f"cannot create the run in {self.display_url}")
        self._seq[run.run_id] = 1
        self._expires[run.run_id] = now + self.lease_seconds

    def record_attempt(self, run: RunRecord, attempt: AttemptRecord) -> None:
        """Append one ended attempt of a run that nobody leases: what an Argo pod records.

        Argo drives such a run, so no process holds its lease and many pods append at once:
        each appends after the run's highest event number in one transaction, and numbers
        again when another pod took those numbers first (SQLite takes the write lock up front
        instead, or two pods that both read first would deadlock). The first pod writes the
        run's row and ``created`` event from ``run``. A run under a lease is refused: its
        holder numbers the run's events itself and would clash with ours.
        ``attempt.finished_at`` None means it ended now.
        """
        ended = time.time() if attempt.finished_at is None else attempt.finished_at
        attempt_events: list[dict[str, Any]] = [
            {"kind": "started", "node": attempt.node, "attempt": attempt.attempt,
             "phase": "Running", "at": attempt.started_at},
            {"kind": "finished" if attempt.final else "retrying", "node": attempt.node,
             "attempt": attempt.attempt, "phase": attempt.phase, "at": ended,
             "message": attempt.error, "error_type": attempt.error_type,
             "outputs": _dumps(attempt.outputs), "data": _dumps(attempt.data)},
        ]
        doing = f"cannot record attempt {attempt.attempt} of {attempt.node} in {self.display_url}"
        begin = self.engine.execution_options(sqlite_immediate=True).begin
        try:
            for _ in range(_POD_WRITE_TRIES):
                try:
                    with begin() as conn:
                        rows = list(attempt_events)
                        found = conn.execute(select(runs.c.lease_owner)
                                             .where(runs.c.run_id == run.run_id)).first()
                        if found is None:
                            conn.execute(insert(runs).values(_run_row(run)))
                            rows.insert(0, _created_event(run, run.created_at))
                        elif found.lease_owner is not None:
                            raise RunBusy(
                                f"run {run.run_id} is run by {describe_owner(found.lease_owner)}, "
                                "which alone writes its events; a pod records only runs that "
                                "Argo drives")
                        seq = conn.execute(select(func.coalesce(func.max(events.c.seq), 0))
                                           .where(events.c.run_id == run.run_id)).scalar_one()
                        conn.execute(insert(events), [
                            {**_BLANK_EVENT, **row, "run_id": run.run_id, "seq": seq + i}
                            for i, row in enumerate(rows, start=1)])
                    return
                except IntegrityError:
                    continue  # another pod took the numbers (or created the run): again
        except SQLAlchemyError as exc:
            fail(exc, doing)
        raise StoreError(f"{doing}: other pods of run {run.run_id} took the event numbers "
                         f"first {_POD_WRITE_TRIES} times in a row; retry the step")

    def claim(self, run_id: str) -> None:
        """Take the lease of an existing run (resume); RunBusy if a live process holds it."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                row = conn.execute(select(runs.c.phase, runs.c.lease_owner, runs.c.lease_expires)
                                   .where(runs.c.run_id == run_id)).first()
                if row is None:
                    raise UnknownRun(f"no run {run_id} in {self.display_url}")
                phase, owner, expires = row
                stale = owner if owner and holder_is_dead(owner) else None
                free = or_(runs.c.lease_owner.is_(None), runs.c.lease_expires < now)
                if stale is not None:
                    free = or_(free, runs.c.lease_owner == stale)
                taken = conn.execute(
                    update(runs).where(and_(runs.c.run_id == run_id, free)).values(
                        lease_owner=self.owner, lease_expires=now + self.lease_seconds,
                        phase="Running", finished_at=None)).rowcount
                if taken != 1:
                    left = (expires or now) - now
                    raise RunBusy(
                        f"run {run_id} is being run by {describe_owner(owner or '?')} (its lease "
                        f"ends in {max(left, 0):.0f}s); wait for it to finish, or stop it first")
                seq = conn.execute(select(func.coalesce(func.max(events.c.seq), 0))
                                   .where(events.c.run_id == run_id)).scalar_one() + 1
                conn.execute(insert(events).values(
                    run_id=run_id, seq=seq, at=now, kind="resumed", phase="Running",
                    message=f"was {phase}" + (f"; took over from dead {describe_owner(stale)}"
                                              if stale else "")))
        except SQLAlchemyError as exc:
            fail(exc, f"cannot claim run {run_id} in {self.display_url}")
        self._seq[run_id] = seq
        self._expires[run_id] = now + self.lease_seconds

    # --- reads ------------------------------------------------------------------------------
    def resolve_run_id(self, text: str) -> str:
        """An exact run id, or the one run whose id starts with ``text``."""
        try:
            with self.engine.connect() as conn:
                if conn.execute(select(runs.c.run_id).where(runs.c.run_id == text)).first():
                    return text
                found = conn.execute(select(runs.c.run_id).where(
                    runs.c.run_id.like(_prefix(text), escape="\\")).limit(3)).scalars().all()
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read {self.display_url}")
        if len(found) == 1:
            return str(found[0])
        if not found:
            raise UnknownRun(f"no run '{text}' in {self.display_url}; "
                             "list the runs with: flowspec runs")
        raise UnknownRun(f"'{text}' matches several runs ({', '.join(found[:2])}, ...); "
                         "give more of the run id")

    def load_run(self, run_id: str) -> RunState:
        """The run with its nodes and attempts, folded from its event log."""
        try:
            with self.engine.connect() as conn:
                state = RunState(self._run(conn, run_id))
                log = conn.execute(
                    select(events.c.at, events.c.kind, events.c.node, events.c.attempt,
                           events.c.phase, events.c.message, events.c.outputs, events.c.data,
                           events.c.error_type)
                    .where(events.c.run_id == run_id, events.c.node.is_not(None))
                    .order_by(events.c.seq))
                for event in log:
                    _fold(state, *event)
                for node, attempt, pgid, boot_id, leader_start in conn.execute(
                        select(processes.c.node, processes.c.attempt, processes.c.pgid,
                               processes.c.boot_id, processes.c.leader_start)
                        .where(processes.c.run_id == run_id)):
                    state.groups.setdefault((node, attempt), []).append(
                        GroupId(pgid, boot_id, leader_start))
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read run {run_id} from {self.display_url}")
        except json.JSONDecodeError:
            raise StoreError(f"run {run_id} in {self.display_url} holds damaged JSON") from None
        return state

    def run_record(self, run_id: str) -> RunRecord:
        """The run's own row, without its events: what a follower polls for the run's end."""
        try:
            with self.engine.connect() as conn:
                return self._run(conn, run_id)
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read run {run_id} from {self.display_url}")

    def _run(self, conn: Any, run_id: str) -> RunRecord:
        row = conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
        if row is None:
            raise UnknownRun(f"no run '{run_id}' in {self.display_url}; "
                             "list the runs with: flowspec runs")
        return _run_record(row)

    def list_runs(self, limit: int = 20, *, workflow: str | None = None,
                  phases: Sequence[str] = (), since: float | None = None,
                  ) -> list[tuple[RunRecord, dict[str, int]]]:
        """The newest runs (of ``workflow``, in one of the stored ``phases``, created at or
        after ``since``), each with a count of its finished nodes by phase (instances aside)."""
        query = select(runs).order_by(runs.c.created_at.desc()).limit(limit)
        if workflow is not None:
            query = query.where(runs.c.workflow == workflow)
        if phases:
            query = query.where(runs.c.phase.in_(list(phases)))
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
                ids = [r["run_id"] for r in rows]
                counts: dict[str, dict[str, int]] = {i: {} for i in ids}
                if ids:
                    # A node's latest final event (a retried node has several); instances
                    # of a for_each step are named step(i:item) and not counted as steps.
                    latest = (select(events.c.run_id, func.max(events.c.seq).label("seq"))
                              .where(events.c.run_id.in_(ids),
                                     events.c.kind.in_(("finished", "decided")),
                                     ~events.c.node.contains("("))
                              .group_by(events.c.run_id, events.c.node).subquery())
                    final = (select(events.c.run_id, events.c.phase, func.count())
                             .join(latest, and_(events.c.run_id == latest.c.run_id,
                                                events.c.seq == latest.c.seq))
                             .group_by(events.c.run_id, events.c.phase))
                    for run_id, phase, n in conn.execute(final):
                        counts[run_id][phase] = n
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read {self.display_url}")
        return [(_run_record(r), counts[r["run_id"]]) for r in rows]

    def _phase_for_update(self, conn: Any, run_id: str) -> str:
        """The run's stored phase, its row locked for the rest of the transaction."""
        phase = conn.execute(select(runs.c.phase).where(runs.c.run_id == run_id)
                             .with_for_update()).scalar()
        if phase is None:
            raise UnknownRun(f"no run {run_id} in {self.display_url}")
        return str(phase)

    def request_stop(self, run_id: str, mode: str) -> str:
        """``flowspec cancel``: ask the process running ``run_id`` to stop it (``mode``:
        "stop" or "terminate"); the run's phase when asked. Only an unfinished run takes it."""
        try:
            with self.engine.begin() as conn:
                phase = self._phase_for_update(conn, run_id)
                if phase in RUN_ACTIVE:
                    conn.execute(update(runs).where(runs.c.run_id == run_id)
                                 .values(stop_requested=mode))
        except SQLAlchemyError as exc:
            fail(exc, f"cannot ask run {run_id} in {self.display_url} to stop")
        return phase

    def stop_requested(self, run_id: str) -> str | None:
        """The stop ``flowspec cancel`` asked for this run, if any (read by its runner)."""
        try:
            with self.engine.connect() as conn:
                mode = conn.execute(select(runs.c.stop_requested)
                                    .where(runs.c.run_id == run_id)).scalar()
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read run {run_id} from {self.display_url}")
        return None if mode is None else str(mode)

    def reset_nodes(self, run_id: str, nodes: Sequence[str], message: str) -> None:
        """``flowspec retry``: a finished run's ``nodes`` run afresh. One transaction appends a
        ``reset`` event per node (their attempts stay in the log, as history) and makes the
        run resumable again; ``resume`` then runs them."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                phase = self._phase_for_update(conn, run_id)
                if phase in RUN_ACTIVE:
                    raise RunBusy(f"run {run_id} has not finished ({phase}); continue it with: "
                                  f"flowspec resume {run_id}")
                seq = conn.execute(select(func.coalesce(func.max(events.c.seq), 0))
                                   .where(events.c.run_id == run_id)).scalar_one()
                conn.execute(insert(events), [
                    {"run_id": run_id, "seq": seq + i, "at": now, "kind": "reset", "node": node,
                     "message": message} for i, node in enumerate(nodes, start=1)])
                conn.execute(update(runs).where(runs.c.run_id == run_id).values(
                    phase="Interrupted", finished_at=None, message=message,
                    stop_requested=None))
        except SQLAlchemyError as exc:
            fail(exc, f"cannot reset run {run_id} in {self.display_url}")

    def delete_runs(self, finished_before: float, *, dry_run: bool = False) -> list[str]:
        """Forget runs that finished before ``finished_before``: their records, events, process
        groups and logs, in one transaction. A run still going or interrupted (resumable) is
        never removed."""
        query = select(runs.c.run_id).where(runs.c.finished_at.is_not(None),
                                            runs.c.finished_at < finished_before,
                                            runs.c.phase.not_in(RUN_ACTIVE))
        try:
            with self.engine.begin() as conn:
                ids = [str(i) for i in conn.execute(query).scalars()]
                for start in range(0, len(ids) if not dry_run else 0, _DELETE_BATCH):
                    batch = ids[start:start + _DELETE_BATCH]
                    for table in (events, processes, logs, runs):
                        conn.execute(table.delete().where(table.c.run_id.in_(batch)))
        except SQLAlchemyError as exc:
            fail(exc, f"cannot prune runs in {self.display_url}")
        return ids

    # --- logs -------------------------------------------------------------------------------
    def write_logs(self, run_id: str, lines: Sequence[LogLine], cuts: Sequence[LogCut]) -> None:
        """Drop the lines a size cap cut and append new ones (the cut's own line among them),
        in one transaction. Called by a run's log thread (``engine.executor.logs``), on a
        connection of its own: the executor's is not shared between threads."""
        begin = self.engine.execution_options(sqlite_immediate=True).begin
        try:
            with begin() as conn:
                for node, attempt, first, last in cuts:
                    conn.execute(logs.delete().where(
                        logs.c.run_id == run_id, logs.c.node == node,
                        logs.c.attempt == attempt, logs.c.seq.between(first, last)))
                conn.execute(insert(logs), [
                    {"run_id": run_id, "node": line.node, "attempt": line.attempt,
                     "seq": line.seq, "stream": line.stream, "at": line.at, "text": line.text}
                    for line in lines])
        except SQLAlchemyError as exc:
            fail(exc, f"cannot record step logs in {self.display_url}")

    def read_logs(self, run_id: str, *, node: str | None = None, step: str | None = None,
                  attempt: int | None = None, after: int = 0) -> list[LogLine]:
        """The run's lines in (node, attempt, seq) order: of one ``node``, or of a ``step`` and
        its for_each instances; of one ``attempt``; numbered after ``after``."""
        query = (select(logs.c.node, logs.c.attempt, logs.c.seq, logs.c.stream, logs.c.at,
                        logs.c.text)
                 .where(*_log_filter(run_id, node, step, attempt), logs.c.seq > after)
                 .order_by(logs.c.node, logs.c.attempt, logs.c.seq))
        try:
            with self.engine.connect() as conn:
                return [LogLine(*row) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read the logs of run {run_id} from {self.display_url}")

    def log_marks(self, run_id: str, *, node: str | None = None, step: str | None = None,
                  attempt: int | None = None) -> dict[tuple[str, int], int]:
        """The number of each attempt's last line, selected as ``read_logs`` does: a follower
        reads only the attempts whose number grew (answered from the key's index)."""
        query = (select(logs.c.node, logs.c.attempt, func.max(logs.c.seq))
                 .where(*_log_filter(run_id, node, step, attempt))
                 .group_by(logs.c.node, logs.c.attempt))
        try:
            with self.engine.connect() as conn:
                return {(node, attempt): last for node, attempt, last in conn.execute(query)}
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read the logs of run {run_id} from {self.display_url}")

    def log_tails(self, run_id: str, last: int
                  ) -> dict[tuple[str, int], tuple[list[LogLine], int]]:
        """(node, attempt) -> its ``last`` lines in order, and how many it has in all: what a
        report shows of a run whose attempts may have written millions of lines. The lines
        are ranked from the key's index alone, and only the kept ones are read."""
        key = (logs.c.node, logs.c.attempt)
        ranked = (select(*key, logs.c.seq,
                         func.row_number().over(partition_by=key, order_by=logs.c.seq.desc())
                         .label("from_end"),
                         func.count().over(partition_by=key).label("total"))
                  .where(logs.c.run_id == run_id).subquery())
        query = (select(logs.c.node, logs.c.attempt, logs.c.seq, logs.c.stream, logs.c.at,
                        logs.c.text, ranked.c.total)
                 .join(ranked, (logs.c.node == ranked.c.node)
                       & (logs.c.attempt == ranked.c.attempt) & (logs.c.seq == ranked.c.seq))
                 .where(logs.c.run_id == run_id, ranked.c.from_end <= last)
                 .order_by(logs.c.node, logs.c.attempt, logs.c.seq))
        tails: dict[tuple[str, int], tuple[list[LogLine], int]] = {}
        try:
            with self.engine.connect() as conn:
                for *fields, total in conn.execute(query):
                    line = LogLine(*fields)
                    tails.setdefault((line.node, line.attempt), ([], total))[0].append(line)
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read the logs of run {run_id} from {self.display_url}")
        return tails

    def events(self, run_id: str) -> list[EventRecord]:
        try:
            with self.engine.connect() as conn:
                return [EventRecord(*row) for row in conn.execute(
                    select(events.c.seq, events.c.at, events.c.kind, events.c.node,
                           events.c.attempt, events.c.phase, events.c.message)
                    .where(events.c.run_id == run_id).order_by(events.c.seq))]
        except SQLAlchemyError as exc:
            fail(exc, f"cannot read {self.display_url}")

    def close(self) -> None:
        if self._raw is not None:
            # Closing a broken connection must not hide the error that broke it.
            with contextlib.suppress(self.engine.dialect.loaded_dbapi.Error, SQLAlchemyError):
                self._raw.close()
            self._raw = self._cur = None
        self.engine.dispose()


def _run_row(run: RunRecord) -> dict[str, Any]:
    """A new run's row, as yet unleased."""
    return {
        "run_id": run.run_id, "workflow": run.workflow, "spec_file": run.spec_file,
        "spec_text": run.spec_text, "spec_hash": run.spec_hash,
        "params": _dumps(run.params), "workdir": run.workdir,
        "max_parallel": run.max_parallel, "phase": "Running", "message": None,
        "created_at": run.created_at, "finished_at": None,
        "lease_owner": None, "lease_expires": None, "files_dir": run.files_dir,
    }


def _created_event(run: RunRecord, at: float) -> dict[str, Any]:
    """A run's first event, to be numbered by the caller."""
    return {"at": at, "kind": "created", "phase": "Running",
            "message": f"workflow {run.workflow} from {run.spec_file}"}


def _fold(state: RunState, at: float, kind: str, node: str, attempt: int | None,
          phase: str | None, message: str | None, outputs: str | None, data: str | None,
          error_type: str | None) -> None:
    """Apply one event to the run's nodes and attempts (the views do the same in SQL)."""
    if kind == "reset":  # flowspec retry: the node runs afresh, its attempts become history
        state.nodes.pop(node, None)
        tried = state.attempts.get(node)
        if tried:
            state.retired[node] = tried[-1].attempt
        return
    step = node.partition("(")[0]  # instances are named step(i:item), as on Argo
    parent = step if step != node else None
    tries = state.attempts.setdefault(node, []) if kind != "decided" else None
    if kind == "started" and tries is not None:
        tries.append(AttemptRecord(node, attempt or 0, "Running", at))
    elif kind in ("finished", "retrying") and tries:
        begun = tries[-1]
        tries[-1] = AttemptRecord(node, begun.attempt, phase or "", begun.started_at, at,
                                  _loads(outputs), _loads(data), message, error_type,
                                  kind == "finished",
                                  None if outputs is None else result_digest(outputs, data))
        if kind == "finished":
            state.nodes[node] = NodeRecord(node, step, phase or "", begun.attempt, at,
                                           tries[0].started_at, message, parent)
    elif kind == "decided":
        tried = state.attempts.get(node)
        state.nodes[node] = NodeRecord(node, step, phase or "", attempt or 0, at,
                                       tried[0].started_at if tried else None, message, parent)


def _prefix(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) for what starts with ``text``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _log_filter(run_id: str, node: str | None, step: str | None,
                attempt: int | None) -> list[Any]:
    """Conditions selecting a run's lines; a step's instances are named ``step(i:item)``."""
    found: list[Any] = [logs.c.run_id == run_id]
    if node is not None:
        found.append(logs.c.node == node)
    if step is not None:
        found.append(or_(logs.c.node == step,
                         logs.c.node.like(_prefix(f"{step}("), escape="\\")))
    if attempt is not None:
        found.append(logs.c.attempt == attempt)
    return found


def _run_record(row: Any) -> RunRecord:
    return RunRecord(
        run_id=row["run_id"], workflow=row["workflow"], spec_file=row["spec_file"],
        spec_text=row["spec_text"], spec_hash=row["spec_hash"], params=_loads(row["params"]),
        workdir=row["workdir"], max_parallel=row["max_parallel"], phase=row["phase"],
        created_at=row["created_at"], message=row["message"], finished_at=row["finished_at"],
        lease_owner=row["lease_owner"], lease_expires=row["lease_expires"],
        files_dir=row["files_dir"])


def _create_engine(url: str, create: bool) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"invalid store URL {url!r}; use sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST/DB") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, create)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, pool_pre_ping=False)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use {safe_url(url)}: {exc}") from None
    raise StoreError(f"unsupported store URL {safe_url(url)}: flowspec stores runs in SQLite "
                     "(sqlite:///PATH) or PostgreSQL (postgresql+psycopg://...)")


def _sqlite_engine(parsed: Any, create: bool) -> Engine:
    database = parsed.database
    if not database or database == ":memory:":
        raise StoreError("an in-memory SQLite store would lose the run when the process ends; "
                         "give a file: sqlite:///PATH")
    path = Path(database.removeprefix("file:").partition("?")[0]).expanduser()
    if not create and not path.exists():
        raise StoreError(f"no run store at {path}: runs are recorded there by flowspec run "
                         "(choose another store with --db or FLOWSPEC_DB)")
    if create and not path.exists():
        _create_sqlite_store(parsed, path)
    if not path.is_file() or path.stat().st_size == 0:
        # SQLite would take an empty file as a new database: a store that lost its contents
        # (truncated, or a stray file) must not silently become an empty history. New stores
        # appear whole (above), so an empty file is never one being created.
        what = "is empty" if path.is_file() else "is not a file"
        raise StoreError(f"{path} {what}, so it is not a flowspec run store; a store is never "
                         "empty. Move it away to start a new store there, or choose another "
                         "with --db or FLOWSPEC_DB")
    return _configured_sqlite_engine(parsed)


def _create_sqlite_store(parsed: Any, path: Path) -> None:
    """A new store file appears at ``path`` with its schema, in one step: it is built under a
    temporary name beside it and linked into place, so no process (pods starting together
    included) ever sees it empty; when another process links first, its store is used."""
    folder = path.resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the store folder {folder}: {exc.strerror}") from None
    staging = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new"
    engine = _configured_sqlite_engine(parsed.set(database=str(staging)))
    try:
        schema.ensure(engine)
        engine.dispose()
        with contextlib.suppress(FileExistsError):
            os.link(staging, path)
    except SQLAlchemyError as exc:
        fail(exc, f"cannot create the store {path}")
    except OSError as exc:
        raise StoreError(f"cannot create the store {path}: {exc.strerror}") from None
    finally:
        engine.dispose()
        for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
            leftover.unlink(missing_ok=True)


def _configured_sqlite_engine(parsed: Any) -> Engine:
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (pysqlite's implicit transactions break transactional DDL
        # and cannot take the write lock up front), then set durability that survives a
        # process crash: WAL with synchronous=NORMAL loses nothing on SIGKILL, only on power loss.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # A read-only file still opens for reading; writing to it reports the problem.
        with contextlib.suppress(sqlite3.OperationalError):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options()
                             .get("sqlite_immediate") else "BEGIN")

    return engine

