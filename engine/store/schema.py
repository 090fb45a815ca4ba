"""Schema versions: create or upgrade the store with Alembic, refuse one from a newer flowspec.

Opening a store that is already at ``HEAD`` costs one small query and never imports Alembic,
so ``flowspec show`` stays quick. Upgrades run under a lock (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: an advisory lock), so two processes opening a new store at once do not race.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from engine.store.errors import StoreError, fail

#: Every revision this flowspec knows, oldest first; the last is the one it writes.
REVISIONS = ("0001_initial", "0002_processes", "0003_logs", "0004_stop_requests",
             "0005_files_dir")
HEAD = REVISIONS[-1]
MIGRATIONS = Path(__file__).with_name("migrations")
_VERSION_TABLE = "flowspec_alembic_version"
_PG_LOCK_KEY = 0x666C6F77  # "flow": any constant shared by every flowspec process


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(_VERSION_TABLE):
            return None
        row = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).first()
        return None if row is None else str(row[0])


def ensure(engine: Engine) -> None:
    """Bring the store to HEAD, or raise StoreError saying why it cannot be used."""
    revision = current_revision(engine)
    if revision == HEAD:
        return
    if revision is not None and revision not in REVISIONS:
        raise StoreError(
            f"the store was written by a newer flowspec (schema revision {revision}; this "
            f"flowspec knows up to {HEAD}); upgrade flowspec, or use another store with --db")
    _upgrade(engine)


def alembic_config(connection: object | None = None) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_table", _VERSION_TABLE)
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(engine: Engine) -> None:
    from alembic import command

    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                command.upgrade(alembic_config(conn), "head")  # type: ignore[arg-type]
    except SQLAlchemyError as exc:
        fail(exc, "cannot create or upgrade the store's tables")
