"""The first schema: runs, nodes, attempts and the append-only event log.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flowspec_runs",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("workflow", sa.String(253), nullable=False),
        sa.Column("spec_file", sa.Text, nullable=False),
        sa.Column("spec_text", sa.Text, nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("workdir", sa.Text, nullable=False),
        sa.Column("max_parallel", sa.Integer, nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires", sa.Float, nullable=True),
    )
    op.create_index("ix_flowspec_runs_created", "flowspec_runs", ["created_at"])
    # Keyed tables are clustered on their key in SQLite (one b-tree each, fewer pages a commit).
    op.create_table(
        "flowspec_nodes",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(400), primary_key=True),
        sa.Column("step", sa.String(253), nullable=False),
        sa.Column("parent", sa.String(253), nullable=True),
        sa.Column("item", sa.Text, nullable=True),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "flowspec_attempts",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("node", sa.String(400), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("outputs", sa.Text, nullable=True),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("error_type", sa.String(200), nullable=True),
        sa.Column("final", sa.Boolean, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "flowspec_events",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("node", sa.String(400), nullable=True),
        sa.Column("attempt", sa.Integer, nullable=True),
        sa.Column("phase", sa.String(16), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("flowspec_events")
    op.drop_table("flowspec_attempts")
    op.drop_table("flowspec_nodes")
    op.drop_index("ix_flowspec_runs_created", "flowspec_runs")
    op.drop_table("flowspec_runs")
