"""Schema versions: create or upgrade tables with Alembic, refuse a database from a newer flowspec.

Opening a database that is already at its history's head costs one small query and never
imports Alembic, so ``flowspec show`` stays quick. Upgrades run under a lock (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: an advisory lock), so two processes opening a new database at once do
not race. The run store has its history here (``STORE``); a package that keeps tables of its
own in the same database (the chargeback processors) describes its own :class:`History`, with
its own version table, so neither creates nor upgrades the other's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from engine.store.errors import StoreError, fail


@dataclass(frozen=True)
class History:
    """One Alembic history: where its scripts are, the table that records the revision a
    database is at, and every revision this flowspec knows, oldest first (the last is the
    one it writes)."""

    migrations: Path
    version_table: str
    revisions: tuple[str, ...]
    #: PostgreSQL advisory lock taken while upgrading (any constant shared by every process)
    lock_key: int
    #: what the tables are, in the singular, for messages: "the store", "the chargeback schema"
    subject: str

    @property
    def head(self) -> str:
        return self.revisions[-1]

    def current_revision(self, engine: Engine) -> str | None:
        with engine.connect() as conn:
            if not inspect(conn).has_table(self.version_table):
                return None
            row = conn.execute(text(f"SELECT version_num FROM {self.version_table}")).first()
            return None if row is None else str(row[0])

    def ensure(self, engine: Engine) -> None:
        """Bring the tables to the head, or raise StoreError saying why they cannot be used.

        On SQLite the engine must issue ``BEGIN IMMEDIATE`` for a connection whose execution
        options set ``sqlite_immediate`` (the run store's engines do; see
        ``engine.store.sql``), so creators take turns.
        """
        revision = self.current_revision(engine)
        if revision == self.head:
            return
        if revision is not None and revision not in self.revisions:
            raise StoreError(
                f"{self.subject} was written by a newer flowspec (schema revision {revision}; "
                f"this flowspec knows up to {self.head}); upgrade flowspec, or use another "
                "database with --db")
        self._upgrade(engine)

    def config(self, connection: object | None = None) -> object:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(self.migrations))
        cfg.set_main_option("version_table", self.version_table)
        cfg.attributes["connection"] = connection
        return cfg

    def _upgrade(self, engine: Engine) -> None:
        from alembic import command

        try:
            with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    conn = conn.execution_options(sqlite_immediate=True)
                with conn.begin():
                    if engine.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self.lock_key})
                    command.upgrade(self.config(conn), "head")  # type: ignore[arg-type]
        except SQLAlchemyError as exc:
            fail(exc, f"cannot create or upgrade {self.subject}")


#: The run store's history.
STORE = History(
    migrations=Path(__file__).with_name("migrations"),
    version_table="flowspec_alembic_version",
    revisions=("0001_initial", "0002_processes", "0003_logs", "0004_stop_requests",
               "0005_files_dir"),
    lock_key=0x666C6F77,  # "flow"
    subject="the store",
)
REVISIONS = STORE.revisions
HEAD = STORE.head
MIGRATIONS = STORE.migrations


def current_revision(engine: Engine) -> str | None:
    return STORE.current_revision(engine)


def ensure(engine: Engine) -> None:
    """Bring the run store to HEAD, or raise StoreError saying why it cannot be used."""
    STORE.ensure(engine)


def alembic_config(connection: object | None = None) -> object:
    return STORE.config(connection)
