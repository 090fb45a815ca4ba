"""The store's tables, defined once with SQLAlchemy Core for every dialect.

Two tables are written: ``flowspec_runs`` (one row per run: its spec, params, phase and
lease) and ``flowspec_events``, the append-only log of everything that happened to a run;
a third, ``flowspec_processes``, lists the process groups its attempts started, and a fourth,
``flowspec_logs``, the lines its attempts wrote.
The log is the truth: an attempt is its ``started`` event plus its ``finished``/``retrying``
event (phase, outputs, data, error and its type), a node decided without running is one
``decided`` event. Each executor commit is a single multi-row INSERT into the log, the
cheapest durable write there is; the views ``flowspec_attempts`` and ``flowspec_nodes``
(created by the migration, see ``VIEWS``) present the same facts as tables for SQL users,
and ``load_run`` folds the log the same way in Python.

Times are float seconds since the epoch and JSON is text we encode ourselves: both read back
identically on SQLite and PostgreSQL and cost no type processing on the hot path.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

runs = Table(
    "flowspec_runs",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("workflow", String(253), nullable=False),
    Column("spec_file", Text, nullable=False),
    Column("spec_text", Text, nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("workdir", Text, nullable=False),
    Column("max_parallel", Integer, nullable=False),
    Column("phase", String(16), nullable=False),
    Column("message", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    # The lease: who may write this run's events, and until when (see engine/store/lease.py).
    Column("lease_owner", String(200), nullable=True),
    Column("lease_expires", Float, nullable=True),
    # flowspec cancel: "stop" (finally steps still run) or "terminate"; read by the lease holder
    Column("stop_requested", String(16), nullable=True),
    # where the run keeps the files its steps write (engine/executor/files.py)
    Column("files_dir", Text, nullable=True),
)
Index("ix_flowspec_runs_created", runs.c.created_at)

#: Numbered per run in commit order by the lease holder (only it writes a run's events), or,
#: for a run that nobody leases (Argo drives it), by each pod after the highest number.
#: Clustered on (run_id, seq) in SQLite (WITHOUT ROWID): one b-tree, appended at its end.
events = Table(
    "flowspec_events",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    # created, resumed, started, retrying, finished, decided, ended, interrupted
    Column("kind", String(16), nullable=False),
    Column("node", String(400), nullable=True),
    Column("attempt", Integer, nullable=True),
    Column("phase", String(16), nullable=True),
    Column("message", Text, nullable=True),
    Column("outputs", Text, nullable=True),
    Column("data", Text, nullable=True),
    Column("error_type", String(200), nullable=True),
    sqlite_with_rowid=False,
)

#: The process groups attempts started (``engine.process_group``), so that a run resumed after
#: flowspec was killed can stop what the dead process left running. Not events: a fact about
#: processes on one machine, read only by resume.
processes = Table(
    "flowspec_processes",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("node", String(400), primary_key=True),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("pgid", Integer, primary_key=True, autoincrement=False),
    Column("boot_id", String(64), nullable=True),
    Column("leader_start", BigInteger, nullable=True),  # clock ticks after boot
    Column("at", Float, nullable=False),
)

#: The lines attempts wrote (``engine.executor.logs``), one row each, numbered per attempt by
#: the one process that runs it. Not events: many, large, capped and cut, read only by
#: ``flowspec logs``. The key's index also answers "the last line of each attempt", which is
#: how ``flowspec logs -f`` finds what is new.
logs = Table(
    "flowspec_logs",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("node", String(400), primary_key=True),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("stream", String(8), nullable=False),  # stdout, stderr, flowspec
    Column("at", Float, nullable=False),
    Column("text", Text, nullable=False),
)

_END = "kind IN ('finished', 'retrying')"

#: Read-only views over the log, in SQL every supported database speaks.
VIEWS: dict[str, str] = {
    "flowspec_attempts": f"""
        SELECT run_id, node, attempt,
               COALESCE(MAX(CASE WHEN {_END} THEN phase END), 'Running') AS phase,
               MAX(CASE WHEN kind = 'started' THEN at END) AS started_at,
               MAX(CASE WHEN {_END} THEN at END) AS finished_at,
               MAX(CASE WHEN {_END} THEN outputs END) AS outputs,
               MAX(CASE WHEN {_END} THEN data END) AS data,
               MAX(CASE WHEN {_END} THEN message END) AS error,
               MAX(CASE WHEN {_END} THEN error_type END) AS error_type,
               MAX(CASE WHEN kind = 'finished' THEN 1 ELSE 0 END) AS final
        FROM flowspec_events
        WHERE kind IN ('started', 'retrying', 'finished')
        GROUP BY run_id, node, attempt""",
    "flowspec_nodes": """
        SELECT run_id, node, phase, attempt AS attempts, at AS finished_at,
               message, outputs
        FROM flowspec_events
        WHERE kind IN ('finished', 'decided')""",
}
