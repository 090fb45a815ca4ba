"""One engine per database URL for the chargeback processors, with the reference tables in it.

Processors run many times in one process (the local executor) and several at once (threads,
parallel steps). Creating an engine per call would leak connection pools; creating tables per
call would race. So the engine is cached per URL and ``create_all`` runs once per engine.
SQLite files get WAL journaling and a busy timeout so parallel steps wait instead of failing
with "database is locked".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from engine.processors import StepFailed, TransientError
from processors.chargeback.reference.models import REFERENCE_METADATA

#: keys per ``IN (...)`` list: far below any driver's bound-parameter limit (SQLite: 32,766)
KEYS_PER_QUERY = 500
_SQLITE_BUSY_MS = 30_000
_CREATE_ATTEMPTS = 5
_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_T = TypeVar("_T")


def in_chunks(values: Iterable[_T], size: int = KEYS_PER_QUERY) -> Iterator[list[_T]]:
    """``values`` in lists short enough for one ``IN (...)`` each: the steps ask about a whole
    claim's keys at once, and a 10,000-line claim has thousands."""
    batch: list[_T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine(url: str) -> Engine:
    """The cached engine for ``url``, with every chargeback table created if missing."""
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StepFailed(
                "the database URL is not a SQLAlchemy URL; "
                "use e.g. sqlite:///path/state.db or postgresql+psycopg://host/db"
            ) from None
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": _SQLITE_BUSY_MS / 1000}
        engine = create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _tune_sqlite)
        _create_tables(engine, parsed.get_backend_name())
        _engines[url] = engine
        return engine


def _create_tables(engine: Engine, backend: str) -> None:
    """``create_all``, safe when several processes start on an empty store at once.

    Its check-then-create is not atomic. On SQLite the whole of it runs under ``BEGIN
    IMMEDIATE``, so creators take turns (the busy timeout makes the others wait); PostgreSQL
    creates in a transaction, so a loser gets a duplicate-table error and checks again.
    """
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            with engine.connect() as conn:
                if backend == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                REFERENCE_METADATA.create_all(conn)
                _bring_up_to_date(conn)
                conn.commit()
            return
        except StepFailed:
            engine.dispose()
            raise
        except DBAPIError as exc:
            if attempt + 1 < _CREATE_ATTEMPTS:
                continue
            engine.dispose()
            # the URL may carry a password: never echo it, name only the backend
            raise TransientError(
                f"cannot open the chargeback tables on the {backend} database: {exc.orig}"
            ) from None


def _bring_up_to_date(conn: Connection) -> None:
    """Bring tables an older flowspec created up to the models: ``create_all`` skips tables
    that exist, so a column added since (e.g. ``cb_dea_registration.inactive_from``) would
    fail every query of a store kept across an upgrade, and an index added since would be
    missing. Only nullable columns are added, which needs no data; anything else is a change
    no automatic step should guess, so it is said."""
    inspector = inspect(conn)
    preparer = conn.dialect.identifier_preparer
    for table in REFERENCE_METADATA.sorted_tables:
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(conn)
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise StepFailed(
                    f"the chargeback table {table.name} was created by an older flowspec and "
                    f"lacks the required column {column.name}; load the reference data into a "
                    "new database (flowspec-chargeback load-reference DIR --db URL)"
                )
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(
                f"ALTER TABLE {preparer.format_table(table)} "
                f"ADD COLUMN {preparer.format_column(column)} {kind}"
            )


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session committed on success and rolled back on any exception."""
    factory = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
