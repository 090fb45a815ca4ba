"""Alembic environment: always runs on a connection handed over by engine.store.schema."""

from __future__ import annotations

from alembic import context

from engine.store.tables import metadata

_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("flowspec migrations run through engine.store.schema.ensure()")

context.configure(
    connection=_connection,
    target_metadata=metadata,
    version_table=context.config.get_main_option("version_table") or "alembic_version",
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
