"""Verifying the compliance trail: the chain walked from the first record or a checkpoint, and
the heads the run store anchored (a cut-off tail). See ``processors.chargeback.compliance``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError

from processors.chargeback.trail.store import (
    GENESIS_HASH,
    LEGACY_ENCODER,
    AuditCheckpoint,
    AuditRecord,
    Decoded,
    Stored,
    canonical_json,
    rows_after,
    sha256_text,
)

# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Break:
    """The first record that does not fit the chain, and why."""

    seq: int
    run_id: str
    step: str
    reason: str

    def __str__(self) -> str:
        if self.seq == 0:
            return f"run {self.run_id}: {self.reason}"
        return f"record seq {self.seq} (run {self.run_id}, step {self.step}): {self.reason}"


@dataclass(frozen=True)
class Verification:
    """``records`` in the chain up to ``head_hash``; ``trusted``: how many of the first of them
    an earlier run had verified (a checkpoint) and were not checked again (0: all were)."""

    records: int
    head_hash: str
    broken: Break | None
    trusted: int = 0

    @property
    def ok(self) -> bool:
        return self.broken is None


def _check_row(
    row: Stored, expected_seq: int, prev: str, known: tuple[Stored, dict[str, Any]] | None
) -> tuple[str | None, dict[str, Any]]:
    """The reason ``row`` breaks the chain (or None), and its record as far as decoded.

    ``known``: the row as this process wrote or checked it, with its record. A row that is
    still exactly that needs only its place in the chain checked: its hash was computed from
    its payload, and its payload from its record, right here.
    """
    if row.seq != expected_seq:
        if row.seq == expected_seq + 1:
            return f"record {expected_seq} before it is missing (deleted)", {}
        return f"records {expected_seq}-{row.seq - 1} before it are missing (deleted)", {}
    if known is not None and known[0] == row:
        return _link(row, prev), known[1]
    try:
        record = json.loads(row.payload)
    except ValueError:
        return "payload is not valid JSON (changed)", {}
    if not isinstance(record, dict):
        return "payload is not a JSON object (changed)", {}
    if sha256_text(row.prev_hash + row.payload) != row.record_hash or (
        canonical_json(record) != row.payload and LEGACY_ENCODER.encode(record) != row.payload
    ):
        return "content does not match its hash (changed)", record
    for column in ("seq", "run_id", "step", "prev_hash"):
        if record.get(column) != getattr(row, column):
            return f"column {column} differs from the hashed record (changed)", record
    return _link(row, prev), record


def _link(row: Stored, prev: str) -> str | None:
    if row.prev_hash != prev:
        return (
            "does not link to the record before it (inserted, reordered or the one before changed)"
        )
    return None


def _last_of_run(conn: Connection, run_id: str) -> int | None:
    return conn.scalar(select(func.max(AuditRecord.seq)).where(AuditRecord.run_id == run_id))


def _no_records(run_id: str) -> Verification:
    return Verification(0, GENESIS_HASH, Break(0, run_id, "-", "no audit records for this run"))


def anchored_heads(conn: Connection, run_id: str | None = None) -> dict[str, str]:
    """head hash -> the run that recorded it, for every trail step result the run store holds
    in this database (the ``head_hash`` output of a Succeeded attempt); only ``run_id``'s when
    given. Empty when the run store lives elsewhere."""
    from engine.store.tables import events

    if not inspect(conn).has_table(events.name):
        return {}
    query = select(events.c.run_id, events.c.outputs).where(
        events.c.kind == "finished",
        events.c.phase == "Succeeded",
        events.c.outputs.like('%"head_hash"%'),
    )
    if run_id is not None:
        query = query.where(events.c.run_id == run_id)
    heads: dict[str, str] = {}
    for run, outputs in conn.execute(query):
        try:
            head = json.loads(outputs).get("head_hash")
        except (ValueError, AttributeError):
            continue
        if isinstance(head, str) and len(head) == len(GENESIS_HASH):
            heads[head] = f"the head of run {run}, anchored in the run store,"
    return heads


def _walk(
    conn: Connection,
    start: tuple[int, str],
    last: int | None,
    run_id: str | None,
    heads: Mapping[str, str],
    decoded: Decoded | None = None,
) -> Verification:
    """Check the records after ``start`` (a position and the hash there) up to ``last``, and
    that each of ``heads`` (hash -> what it is) is among them; ``decoded`` gives rows this
    process wrote (see ``_check_row``) and receives those of ``run_id`` found intact."""
    count, prev = start
    missing = dict(heads)
    missing.pop(prev, None)
    known = decoded or {}
    for row in rows_after(conn, count, last):
        found = known.get(row.seq)
        reason, record = _check_row(row, count + 1, prev, found)
        if reason is not None:
            return Verification(count, prev, Break(row.seq, row.run_id, row.step, reason), start[0])
        if (
            decoded is not None
            and row.run_id == run_id
            and (found is None or record is not found[1])
        ):
            # not a row this process wrote and found unchanged: that one is there, as written
            # (holding the copy just read as well would keep every payload of a claim twice)
            decoded[row.seq] = (row, record)
        count += 1
        prev = row.record_hash
        if missing:
            missing.pop(prev, None)
    for head, what in missing.items():
        return Verification(
            count,
            prev,
            Break(
                count + 1,
                run_id or "-",
                "-",
                f"{what} {head} is not in the chain (records cut off or replaced)",
            ),
        )
    return Verification(count, prev, None, start[0])


def verify_chain(
    engine: Engine, *, run_id: str | None = None, head: str | None = None
) -> Verification:
    """Check the chain from its first record.

    With ``run_id``, the chain is checked up to that run's last record (everything it depends
    on) and the run must have records. Every head the run store anchored (of ``run_id`` only,
    when given) must be in the chain, and so must ``head``, a hash handed out earlier: both
    catch a cut-off tail.
    """
    with engine.connect() as conn:
        last: int | None = None
        if run_id is not None:
            last = _last_of_run(conn, run_id)
            if last is None:
                return _no_records(run_id)
        heads = anchored_heads(conn, run_id)
        if head is not None:
            heads[head] = "head"
        return _walk(conn, (0, GENESIS_HASH), last, run_id, heads)


def verify_run(engine: Engine, run_id: str, decoded: Decoded | None = None) -> Verification:
    """What the trail step checks after appending: the chain up to the run's last record, from
    the newest checkpoint in it; an intact result is the next checkpoint. ``decoded`` holds
    the rows the step appended (``append_entries``) and receives the run's records it checked,
    so the report neither reads nor decodes them again (``run_rows``).

    Checking from the first record on every run would cost more with every claim ever
    decided (a claim adds a record per line). A checkpoint counts only while the record it
    names still carries the hash it had when verified; changes to records before it are what
    ``verify`` (the command, which ignores checkpoints) is for.
    """
    with engine.connect() as conn:
        last = _last_of_run(conn, run_id)
        if last is None:
            return _no_records(run_id)
        found = conn.execute(
            select(AuditCheckpoint.seq, AuditCheckpoint.record_hash)
            .join(
                AuditRecord,
                (AuditRecord.seq == AuditCheckpoint.seq)
                & (AuditRecord.record_hash == AuditCheckpoint.record_hash),
            )
            .where(AuditCheckpoint.seq <= last)
            .order_by(AuditCheckpoint.seq.desc())
            .limit(1)
        ).first()
        start = (found[0], found[1]) if found is not None else (0, GENESIS_HASH)
        verification = _walk(conn, start, last, run_id, {}, decoded)
    if verification.ok and verification.records > start[0]:
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(AuditCheckpoint).values(
                        seq=verification.records, record_hash=verification.head_hash
                    )
                )
        except IntegrityError:
            pass  # a parallel run verified up to the same record and said so first
    return verification
