"""The first schema: runs and the append-only event log, with attempt and node views.

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

# The views as this revision defines them (later revisions must not edit this text).
_END = "kind IN ('finished', 'retrying')"
VIEWS = {
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
    op.create_table(
        "flowspec_events",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("node", sa.String(400), nullable=True),
        sa.Column("attempt", sa.Integer, nullable=True),
        sa.Column("phase", sa.String(16), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("outputs", sa.Text, nullable=True),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("error_type", sa.String(200), nullable=True),
        sqlite_with_rowid=False,  # clustered on (run_id, seq): one b-tree, appended at its end
    )
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
    op.drop_table("flowspec_events")
    op.drop_index("ix_flowspec_runs_created", "flowspec_runs")
    op.drop_table("flowspec_runs")
