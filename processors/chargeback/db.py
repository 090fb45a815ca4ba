"""One engine per database URL for the chargeback processors, with the chargeback tables in it.

Processors run many times in one process (the local executor) and several at once (threads,
parallel steps). Creating an engine per call would leak connection pools; upgrading the schema
per call would cost a query each. So the engine is cached per URL, and the chargeback schema's
Alembic history (``processors.chargeback.schema``) is brought to its head once per engine.
SQLite files get WAL journaling and a busy timeout so parallel steps wait instead of failing
with "database is locked".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    Insert,
    String,
    Update,
    bindparam,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.selectable import TableValuedAlias

from engine.processors import StepFailed, TransientError
from engine.store.errors import StoreError
from processors.chargeback.schema import HISTORY

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


def listed(dialect: str, values: Sequence[str]) -> tuple[TableValuedAlias, dict[str, Any]] | None:
    """``values`` as a one-column table (column ``value``) passed as one parameter, with the
    parameters to run a statement using it; None on a database that cannot take a list so.

    A claim asks about thousands of keys. Spelled as ``IN (...)`` or ``VALUES`` lists, each
    key is a bound parameter, the statement is compiled again for every list length, and the
    lists must be cut to the driver's limits. SQLite reads the list as a JSON array
    (``json_each``) and PostgreSQL as a text array (``unnest``): one statement, compiled once
    and cached, that finds every key through the column's index. The list is a parameter given
    at execution, never a value bound into the statement: the compiled-statement cache keeps
    the statement that first compiled, and with it a value bound there, for the process's life.
    """
    if dialect == "sqlite":
        table = func.json_each(bindparam("listed", type_=String())).table_valued("value")
        return table, {"listed": orjson.dumps(list(values)).decode()}
    if dialect == "postgresql":
        array = bindparam("listed", type_=ARRAY(String()))
        table = func.unnest(array).table_valued("value").render_derived()
        return table, {"listed": list(values)}
    return None


def execute_many(
    connection: Connection,
    statement: Insert | Update,
    keys: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """``statement`` once per row of ``rows``, each the values of ``keys`` in that order, as
    one driver executemany in the connection's transaction.

    ``connection.execute(statement, rows)`` builds and converts every row's parameters in
    Python, one value at a time: for a claim's 10,000 ledger or trail rows that cost more than
    the database's own work (the ORM's bulk UPDATE, which also checks each row against the
    mapper, more again). Here the statement is compiled once for ``keys``; a driver that takes
    positional parameters in that very order, none of them converted, is handed the tuples as
    they are; otherwise the parameters are gathered a column at a time, and only the columns
    whose type converts values (dates, times, decimals) pass through that type's own bind
    processor, so the driver receives exactly what SQLAlchemy would send it.
    """
    if not rows:
        return
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    names = list((compiled.positiontup if compiled.positional else keys) or ())
    converters = [
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    if compiled.positional and names == list(keys) and not any(converters):
        connection.exec_driver_sql(compiled.string, list(rows))
        return
    place = {key: n for n, key in enumerate(keys)}
    columns = []
    for name, convert in zip(names, converters, strict=True):
        values = list(map(itemgetter(place[name]), rows))
        columns.append(values if convert is None else _converted(convert, values))
    params: list[Any] = list(zip(*columns, strict=True))
    if not compiled.positional:
        params = [dict(zip(names, values, strict=True)) for values in params]
    connection.exec_driver_sql(compiled.string, params)


def _converted(convert: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """``convert`` of each of ``values``, called once per distinct object: a column of a
    claim's rows often holds one object throughout (the time recorded, the date answered),
    and a bind processor (a date or time written as text) costs far more than the lookup.
    Objects, not values, are matched: equal values may convert differently (``1.0`` and
    ``1.00``), the same object never does, and each stays alive in ``values`` meanwhile."""
    ids = list(map(id, values))
    distinct = dict(zip(ids, values, strict=True))
    if len(distinct) == len(values):
        return list(map(convert, values))
    done = {key: convert(value) for key, value in distinct.items()}
    return list(map(done.__getitem__, ids))


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL, and the run store's durability (``engine.store.sql``): synchronous=NORMAL loses
    nothing when a process is killed, only the last transactions on power loss.

    The chargeback tables share their file, and so its write-ahead log, with the run's state:
    a power loss rolls the ledger back together with the step results recorded after it, and
    resume runs those steps again. Syncing the log on every chargeback commit (FULL) bought
    nothing the run's own state kept, at a disk flush per commit.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine(url: str) -> Engine:
    """The cached engine for ``url``, with the chargeback schema created or upgraded."""
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
            event.listen(engine, "begin", _begin_immediate_on_request)
        _upgrade(engine, parsed.get_backend_name())
        _engines[url] = engine
        return engine


def _begin_immediate_on_request(conn: Connection) -> None:
    """Take SQLite's write lock up front for a connection that asks (``sqlite_immediate``):
    the schema history upgrades under it, so processes opening a new store take turns."""
    if conn.get_execution_options().get("sqlite_immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade(engine: Engine, backend: str) -> None:
    """Bring the chargeback tables to the head of their Alembic history (``schema.HISTORY``).

    The history's upgrade takes a lock; on PostgreSQL a process that still loses a race for a
    new table (another created it first) sees a database error, and checks again.
    """
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            HISTORY.ensure(engine)
            return
        except StoreError as exc:
            if isinstance(exc.__context__, DBAPIError) and attempt + 1 < _CREATE_ATTEMPTS:
                continue
            engine.dispose()
            # the message never echoes the URL (engine.store.errors strips passwords)
            if isinstance(exc.__context__, DBAPIError):
                raise TransientError(str(exc)) from None
            raise StepFailed(str(exc)) from None


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session committed on success and rolled back on any exception."""
    factory = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
