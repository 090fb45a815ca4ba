"""Alembic environment of the chargeback tables: always runs on a connection handed over by
``processors.chargeback.schema.HISTORY`` (through ``processors.chargeback.db``)."""

from __future__ import annotations

from alembic import context

from processors.chargeback.schema import METADATA

_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("chargeback migrations run through processors.chargeback.db.get_engine()")

context.configure(
    connection=_connection,
    target_metadata=METADATA,
    version_table=context.config.get_main_option("version_table") or "cb_alembic_version",
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
