"""A run's stop request: ``flowspec cancel`` asks, the process running the run obeys.

Revision ID: 0004_stop_requests
Revises: 0003_logs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_stop_requests"
down_revision = "0003_logs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flowspec_runs") as batch:
        batch.add_column(sa.Column("stop_requested", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flowspec_runs") as batch:
        batch.drop_column("stop_requested")
