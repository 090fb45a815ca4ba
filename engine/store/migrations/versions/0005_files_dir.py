"""A run's folder for the files its steps write, so resume and retry write to the same place.

Revision ID: 0005_files_dir
Revises: 0004_stop_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_files_dir"
down_revision = "0004_stop_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flowspec_runs") as batch:
        batch.add_column(sa.Column("files_dir", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flowspec_runs") as batch:
        batch.drop_column("files_dir")
