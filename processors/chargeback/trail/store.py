"""The compliance trail's store: the hash-chained audit table, and appending to it.

Each record is chained to the one before it, ``record_hash = sha256(prev_hash +
canonical_json(record))``; a record's ``entry_key`` (the hash of its content without time and
position) keeps a resumed run from writing it twice. See ``processors.chargeback.compliance``
for what the records are and why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    Text,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from engine.canonical import dumps
from engine.processors import TransientError
from processors.chargeback.db import execute_many
from processors.chargeback.schema import Base

GENESIS_HASH = "0" * 64
_APPEND_ATTEMPTS = 5


class AuditRecord(Base):
    """One row of the trail. ``payload`` is the canonical JSON that was hashed; the other
    columns repeat parts of it for querying and are checked against it on verification."""

    __tablename__ = "cb_audit"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    run_id: Mapped[str] = mapped_column(String(200), index=True)
    step: Mapped[str] = mapped_column(String(200))
    entry_key: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Base):
    """A record up to which the trail step found the chain intact (see ``verify_run``)."""

    __tablename__ = "cb_audit_checkpoint"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    record_hash: Mapped[str] = mapped_column(String(64))


# --------------------------------------------------------------------------- hashing


def _jsonable(value: Any) -> Any:
    """Money stays exact text, dates ISO: the same value must always hash the same way."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "to_json"):
        return value.to_json()
    raise TypeError(f"cannot put a {type(value).__name__} into an audit record")


#: how records were written until the engine's canonical encoder served here too: the same
#: text but for the exponent of some floats (``1e-07``, now ``1e-7``), so older trails verify
LEGACY_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8: one text per value, whoever serializes it. The
    engine's encoder (``engine.canonical``): a claim's trail encodes twenty thousand records."""
    return dumps(value, _jsonable)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """The link: ``sha256(prev_hash + canonical_json(record))``."""
    return sha256_text(prev_hash + canonical_json(record))


# --------------------------------------------------------------------------- appending


class Entry(NamedTuple):
    """A record to append, before it gets its position, time and hashes: a claim's trail
    makes one per line, so a tuple, and its key computed where it is used, once."""

    run_id: str
    step: str
    content: Mapping[str, Any]

    def key(self) -> str:
        """What decides whether the entry is new: the hash of its content without time and
        position (``entry_key``)."""
        return sha256_text(
            canonical_json({"run_id": self.run_id, "step": self.step, **self.content})
        )


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(AuditRecord.seq, AuditRecord.record_hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if row is None else (row[0], row[1])


def append_entries(
    engine: Engine,
    entries: Sequence[Entry],
    *,
    now: datetime | None = None,
    decoded: Decoded | None = None,
) -> int:
    """Append the entries not yet in the trail, atomically; returns how many were written.
    ``decoded`` receives the rows written with their records, so that neither verifying them
    (``verify_run``) nor the report decodes what this process has just encoded.

    Two writers racing for the same position both read the same head; the primary key on
    ``seq`` lets one win and the other retry on the new head, so the chain never forks.
    """
    for _ in range(_APPEND_ATTEMPTS):
        written: Decoded = {}
        try:
            with engine.begin() as conn:
                count = _append_once(conn, entries, now or datetime.now(UTC), written)
        except IntegrityError:
            continue
        if decoded is not None:
            decoded.update(written)
        return count
    raise TransientError(f"could not append to the audit trail after {_APPEND_ATTEMPTS} attempts")


#: rows per insert statement, all in the one transaction: a claim's whole trail as one
#: statement held a row and its parameters for every line at once
_INSERT_BATCH = 5000
_INSERT = insert(AuditRecord)
#: what each inserted row holds, in the table's order
_COLUMNS = ("seq", "run_id", "step", "entry_key", "payload", "prev_hash", "record_hash")


def _append_once(
    conn: Connection, entries: Sequence[Entry], now: datetime, written: Decoded
) -> int:
    """Chain the new entries in memory and insert them in a few large statements: a claim's
    trail is one record per line, thousands of them."""
    run_ids = {e.run_id for e in entries}
    present = set(
        conn.scalars(select(AuditRecord.entry_key).where(AuditRecord.run_id.in_(run_ids)))
    )
    seq, prev = _head(conn)
    ts = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows: list[tuple[Any, ...]] = []
    for entry in entries:
        key = entry.key()
        if key in present:
            continue
        present.add(key)
        seq += 1
        run_id, step = entry.run_id, entry.step
        record = {
            **entry.content,
            "seq": seq,
            "ts_utc": ts,
            "run_id": run_id,
            "step": step,
            "prev_hash": prev,
        }
        payload = canonical_json(record)
        digest = sha256_text(prev + payload)  # chain_hash(prev, record), encoding it once
        written[seq] = (Stored(seq, run_id, step, payload, prev, digest), record)
        rows.append((seq, run_id, step, key, payload, prev, digest))
        prev = digest
        if len(rows) == _INSERT_BATCH:
            execute_many(conn, _INSERT, _COLUMNS, rows)
            rows = []
    if rows:
        execute_many(conn, _INSERT, _COLUMNS, rows)
    return len(written)


# --------------------------------------------------------------------------- reading


class Stored(NamedTuple):
    """A record as the table holds it (read as plain columns: thousands per run)."""

    seq: int
    run_id: str
    step: str
    payload: str
    prev_hash: str
    record_hash: str


def _stored(conn: Connection, query: Select[Any]) -> Iterator[Stored]:
    columns = [getattr(AuditRecord, name) for name in Stored._fields]
    result = conn.execute(query.with_only_columns(*columns).execution_options(yield_per=500))
    for rows in result.partitions():  # a claim's run reads thousands: not fetched one by one
        yield from map(Stored._make, rows)


def rows_after(conn: Connection, after: int, last: int | None) -> Iterator[Stored]:
    query = select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq)
    if last is not None:
        query = query.where(AuditRecord.seq <= last)
    return _stored(conn, query)


#: records by position, with the row each was decoded from (or encoded into)
Decoded = dict[int, tuple[Stored, dict[str, Any]]]


def run_rows(
    engine: Engine, run_id: str, decoded: Decoded | None = None, checked_after: int | None = None
) -> list[Stored]:
    """The run's records in order. A row equal to one in ``decoded`` (written or checked by
    this process) is that one: a claim's run has a record per line, and keeping the copy just
    read besides would hold each payload twice.

    ``checked_after``: a position after which ``decoded`` holds every record of the run, as
    an intact ``verify_run`` leaves it (it walked from there to the run's last record). Only
    the records up to it are read then: none on a first run, and on a resumed run those it
    wrote before another run's checkpoint. Reading the whole run again would read back
    every record verification has just read.
    """
    known = decoded or {}
    rows: list[Stored] = []
    if checked_after != 0:
        query = select(AuditRecord).where(AuditRecord.run_id == run_id)
        if checked_after is not None:
            query = query.where(AuditRecord.seq <= checked_after)
        with engine.connect() as conn:
            rows = [
                found[0] if (found := known.get(row.seq)) and found[0] == row else row
                for row in _stored(conn, query.order_by(AuditRecord.seq))
            ]
    if checked_after is not None:
        rows += [
            stored
            for seq, (stored, _) in sorted(known.items())
            if seq > checked_after and stored.run_id == run_id
        ]
    return rows


def first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def url_passwords(url: str) -> list[str]:
    try:
        password = make_url(url).password
    except ArgumentError:  # an unparsable URL fails later with a clear store error
        return []
    return [password] if password else []
