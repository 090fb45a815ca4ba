"""The store's tables, defined once with SQLAlchemy Core for every dialect.

Times are float seconds since the epoch and JSON is kept as text we encode ourselves: both
read back identically on SQLite and PostgreSQL, and the hot path never pays for a type
processor. Alembic migrations (``migrations/versions``) create exactly these tables; a test
compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Keyed tables are clustered on their key in SQLite (sqlite_with_rowid=False: WITHOUT ROWID),
# one b-tree per table instead of two, so each commit writes fewer pages.

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
    # The lease: who may write this run's state, and until when (see engine/store/lease.py).
    Column("lease_owner", String(200), nullable=True),
    Column("lease_expires", Float, nullable=True),
)
Index("ix_flowspec_runs_created", runs.c.created_at)

#: Nodes that finished without an attempt of their own: Skipped, Omitted or Error decisions,
#: and for_each groups. A node that ran ends with the attempt marked ``final``.
nodes = Table(
    "flowspec_nodes",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("name", String(400), primary_key=True),
    Column("step", String(253), nullable=False),
    Column("parent", String(253), nullable=True),
    Column("item", Text, nullable=True),
    Column("phase", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=False),
    Column("message", Text, nullable=True),
    sqlite_with_rowid=False,
)

#: One row per attempt of a node, written when it starts and completed when it ends.
attempts = Table(
    "flowspec_attempts",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("node", String(400), primary_key=True),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("phase", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("outputs", Text, nullable=True),
    Column("data", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("error_type", String(200), nullable=True),
    # True on the attempt that decided the node's phase (no retry followed it).
    Column("final", Boolean, nullable=False, default=False),
    sqlite_with_rowid=False,
)

#: Append-only log of everything that happened to a run, numbered in commit order. Only the
#: lease holder writes a run's events, so it numbers them itself.
events = Table(
    "flowspec_events",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("node", String(400), nullable=True),
    Column("attempt", Integer, nullable=True),
    Column("phase", String(16), nullable=True),
    Column("message", Text, nullable=True),
    sqlite_with_rowid=False,
)
