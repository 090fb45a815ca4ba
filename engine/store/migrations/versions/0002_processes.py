"""The process groups attempts started, for resume to stop what a killed flowspec left running.

Revision ID: 0002_processes
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_processes"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flowspec_processes",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("node", sa.String(400), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("pgid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("boot_id", sa.String(64), nullable=True),
        sa.Column("leader_start", sa.BigInteger, nullable=True),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("flowspec_processes")
