"""The lines attempts wrote, for ``flowspec logs``.

Revision ID: 0003_logs
Revises: 0002_processes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_logs"
down_revision = "0002_processes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flowspec_logs",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("node", sa.String(400), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("stream", sa.String(8), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("flowspec_logs")
