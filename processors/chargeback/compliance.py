"""The compliance trail: an append-only, hash-chained audit log of what every step decided.

Auditors (21 CFR 11.10(e) as the benchmark, the 10-year rebate record retention as the legal
hook) need to know who decided what, when, on which inputs and which reference snapshots, and
to trust that nobody changed it afterwards. Each record is chained to the one before it,
``record_hash = sha256(prev_hash + canonical_json(record))``, so changing, deleting, inserting or
reordering any row breaks every hash after it; ``verify_chain`` finds the first broken record.
A chain cannot, on its own, detect its last rows being cut off: the ``head_hash`` output is the
anchor. The run store keeps it with the run (the step's recorded outputs), and ``verify``
checks every head anchored there by default, so deleting the newest records is found without
any argument; a head kept outside the database is passed as ``--head`` (what the run store
cannot prove when the same hand rewrote both).

The trail runs as a ``finally`` step, so it sees every step that ran. Running it again for the
same run (a resumed run) appends only what is new: each record has an ``entry_key``, the hash of
its content without time and position, and an entry already in the trail is not written again.
A step whose result changed (it ran again after a resume) gets a new record: corrections are
appended, never written over. After appending, the step verifies the chain up to its run from
the newest checkpoint an earlier run left (``verify_run``), so its cost follows the claim, not
the age of the trail; ``verify`` (the command) always checks from the first record.

A step's record names its whole result by ``output_sha256``, the digest of the result as the
engine's store holds it (``engine.canonical``): an auditor can recompute it from the store, and
the trail does not encode a large claim's data again to get it.

Secrets never enter the trail: env values are never recorded (only their names), and any
string in a record containing the value of a secret-looking env variable, or a password in a
URL, is redacted before hashing (the engine has already masked the run's secrets in what it
stored).
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    Text,
    create_engine,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from engine.canonical import dumps
from engine.processors import StepContext, StepFailed, StepResult, TransientError
from engine.secrets import Redactor
from processors.chargeback.claim import ClaimLine
from processors.chargeback.claim_store import claim_from_upstream
from processors.chargeback.db import get_engine
from processors.chargeback.reference import snapshots
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
_LEGACY = json.JSONEncoder(
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


# --------------------------------------------------------------------------- redaction


def changes_nothing(redact: Redactor, value: Any) -> bool:
    """Whether masking ``value`` would change nothing in it, nor in any part of it.

    A claim's decisions are thousands of records, ten strings each: walking them in Python
    costs far more than encoding them. Masking changes nothing when ``value`` is plain JSON
    (what masking would turn tuples and other mappings into) with text keys only (masking
    turns other keys into text before the keys are sorted) and its JSON text mentions no
    secret and no URL password.
    """
    try:
        text = dumps(value)  # refuses what is not plain JSON (Decimal, date, ...)
    except (TypeError, ValueError):
        return False
    return not redact.mentions(text) and _text_keys_only(value)


def _text_keys_only(value: Any) -> bool:
    """Every mapping inside ``value`` (plain JSON containers only) has text keys alone."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    return False
                if isinstance(inner, _CONTAINERS):
                    pending.append(inner)
        elif isinstance(item, list | tuple):
            pending.extend(inner for inner in item if isinstance(inner, _CONTAINERS))
    return True


_CONTAINERS = (dict, list, tuple)


# --------------------------------------------------------------------------- appending


@dataclass(frozen=True)
class Entry:
    """A record to append, before it gets its position, time and hashes."""

    run_id: str
    step: str
    content: Mapping[str, Any]

    @cached_property
    def key(self) -> str:
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


def _append_once(
    conn: Connection, entries: Sequence[Entry], now: datetime, written: Decoded
) -> int:
    """Chain the new entries in memory and insert them in one statement: a claim's trail is
    one record per line, thousands of them."""
    run_ids = {e.run_id for e in entries}
    present = set(
        conn.scalars(select(AuditRecord.entry_key).where(AuditRecord.run_id.in_(run_ids)))
    )
    seq, prev = _head(conn)
    ts = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows: list[dict[str, Any]] = []
    for entry in entries:
        if entry.key in present:
            continue
        present.add(entry.key)
        seq += 1
        record = {
            **entry.content,
            "seq": seq,
            "ts_utc": ts,
            "run_id": entry.run_id,
            "step": entry.step,
            "prev_hash": prev,
        }
        payload = canonical_json(record)
        digest = sha256_text(prev + payload)  # chain_hash(prev, record), encoding it once
        stored = Stored(seq, entry.run_id, entry.step, payload, prev, digest)
        rows.append({"entry_key": entry.key, **stored._asdict()})
        written[seq] = (stored, record)
        prev = digest
    if rows:
        conn.execute(insert(AuditRecord), rows)
    return len(rows)


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
    for row in conn.execute(query.with_only_columns(*columns).execution_options(yield_per=500)):
        yield Stored(*row)


def _rows(conn: Connection, after: int, last: int | None) -> Iterator[Stored]:
    query = select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq)
    if last is not None:
        query = query.where(AuditRecord.seq <= last)
    return _stored(conn, query)


#: records by position, with the row each was decoded from (or encoded into)
Decoded = dict[int, tuple[Stored, dict[str, Any]]]


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
        canonical_json(record) != row.payload and _LEGACY.encode(record) != row.payload
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
        events.c.kind == "finished", events.c.phase == "Succeeded",
        events.c.outputs.like('%"head_hash"%'))
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
    for row in _rows(conn, count, last):
        reason, record = _check_row(row, count + 1, prev, known.get(row.seq))
        if reason is not None:
            return Verification(count, prev, Break(row.seq, row.run_id, row.step, reason), start[0])
        if decoded is not None and row.run_id == run_id:
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
    so the report does not decode them again.

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


# --------------------------------------------------------------------------- the processor

_SNAPSHOT_KEYS = ("reference_snapshots", "snapshots")


def _file_sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


class ComplianceTrail:
    """``finally`` step: appends the run's audit records and writes a readable report."""

    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "output_dir": {
                "type": "string",
                "description": "Folder for the report; default: the step's working directory.",
            },
            "actor": {
                "type": "string",
                "description": "Service or user identity recorded as the actor; "
                "default: $FLOWSPEC_ACTOR, else the OS user.",
            },
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "records": "integer",
        "report_path": "string",
        "head_hash": "string",
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)  # what it was built from (the seed's add_step)
        self.output_dir: str | None = config.get("output_dir")
        self.actor: str | None = config.get("actor")

    def process(self, context: StepContext) -> StepResult:
        if not context.database_url:
            raise StepFailed(
                "compliance-trail needs the store: no database URL in the step context"
            )
        redact = Redactor.for_env(context.env, _url_passwords(context.database_url))
        engine = get_engine(context.database_url)
        try:
            entries = build_entries(
                context, self._actor(context), snapshots.current(engine), redact
            )
            decoded: Decoded = {}
            written = append_entries(engine, entries, decoded=decoded)
            verification = verify_run(engine, context.run_id, decoded)
            rows = _run_rows(engine, context.run_id)
        except SQLAlchemyError as exc:
            raise TransientError(
                f"audit trail store error: {redact.scrub(_first_line(exc))}"
            ) from None
        out_dir = Path(self.output_dir) if self.output_dir else context.workdir
        if not out_dir.is_absolute():
            out_dir = context.workdir / out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        report = out_dir / f"compliance-{_safe_name(context.run_id)}.md"
        report.write_text(
            render_report(context, rows, written, verification, redact, decoded), "utf-8"
        )
        head = rows[-1].record_hash if rows else GENESIS_HASH
        return StepResult(
            outputs={"records": len(rows), "report_path": str(report), "head_hash": head},
            data={
                "appended": written,
                "chain_ok": verification.ok,
                "report": f"audit trail: {len(rows)} records, chain "
                f"{'intact' if verification.ok else 'BROKEN'}, head {head[:16]}\n"
                f"audit report: {report}",
            },
        )

    def _actor(self, context: StepContext) -> str:
        return self.actor or context.env.get("FLOWSPEC_ACTOR") or getpass.getuser()


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _url_passwords(url: str) -> list[str]:
    try:
        password = make_url(url).password
    except ArgumentError:  # an unparsable URL fails later with a clear store error
        return []
    return [password] if password else []


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:120] or "run"


def _run_rows(engine: Engine, run_id: str) -> list[Stored]:
    with engine.connect() as conn:
        query = select(AuditRecord).where(AuditRecord.run_id == run_id).order_by(AuditRecord.seq)
        return list(_stored(conn, query))


def build_entries(
    context: StepContext, actor: str, in_force: Mapping[str, str], redact: Redactor
) -> list[Entry]:
    """One record per finished step, one per claim line decision, one for the workflow.

    Time and position are added on append; what is here is what decides whether a record is
    new (see ``Entry.key``), so nothing here may change between two runs of this step.
    """
    params_sha = sha256_text(canonical_json(redact.scrub_value(dict(context.params))))
    claim_lines = _claim_lines(context)
    common = {"workflow": context.workflow, "actor": actor, "input_sha256": params_sha}
    entries: list[Entry] = []
    for name, up in context.upstream.items():
        used = dict(in_force)
        for key in _SNAPSHOT_KEYS:
            value = up.data.get(key)
            if isinstance(value, Mapping):
                used.update({str(k): str(v) for k, v in value.items()})
        content = {
            **common,
            "kind": "step",
            "phase": up.phase,
            "step_version": _step_version(up.data),
            "outputs": redact.scrub_value(dict(up.outputs)),
            # the result as the store keeps it (secrets already masked by the engine), so an
            # auditor can check it against the store; digesting it here again would encode
            # megabytes of claim a second time
            "output_sha256": up.digest,
            "reference_snapshots": used,
        }
        entries.append(Entry(context.run_id, name, content))
        entries += _line_entries(context.run_id, name, up.data, common, claim_lines, redact)
    document = context.document
    doc_sha = None
    if isinstance(document, str) and document:
        path = Path(document)
        doc_sha = _file_sha256(path if path.is_absolute() else context.workdir / path)
    entries.append(
        Entry(
            context.run_id,
            context.step,
            {
                **common,
                "kind": "workflow",
                "status": context.workflow_status,
                "document_sha256": doc_sha,
                "steps": {name: up.phase for name, up in context.upstream.items()},
                "env_names": sorted(context.env),
                "reference_snapshots": dict(in_force),
            },
        )
    )
    return entries


def _step_version(data: Mapping[str, Any]) -> str | None:
    """The model or processor version a step reports: for the extraction, how the claim was
    read (``x12-844``, ``offline``, ``llm:<model>``), which auditors ask for (brief §7)."""
    for key in ("step_version", "model_version", "model", "version"):
        value = data.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
    return None


def _claim_lines(context: StepContext) -> dict[int, ClaimLine]:
    """The claim's lines by number, so a line record names the sale it decided."""
    try:
        _, claim = claim_from_upstream(context)
    except StepFailed:
        return {}
    return {line.line: line for line in claim.lines}


def _line_subject(line: ClaimLine | None) -> dict[str, Any]:
    if line is None:
        return {}
    return {
        "line_id": line.line_id,
        "invoice": line.invoice_number,
        "invoice_line": line.invoice_line,
        "ndc11": line.ndc11,
        "submitted": line.claimed_amount,
    }


def _line_entries(
    run_id: str,
    step: str,
    data: Mapping[str, Any],
    common: Mapping[str, Any],
    claim_lines: Mapping[int, ClaimLine],
    redact: Redactor,
) -> list[Entry]:
    """One record per decision in ``data``. Decisions, thousands of them, are redacted one by
    one only when redaction would change something in them at all."""
    decisions = data.get("decisions")
    if not isinstance(decisions, list):
        return []
    clean = changes_nothing(redact, decisions)
    found = data.get("subject")
    subject: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    entries = []
    for decision in decisions:
        if not isinstance(decision, Mapping):
            continue
        line = decision.get("line_id", decision.get("line"))
        entries.append(
            Entry(
                run_id,
                step,
                {
                    **common,
                    "kind": "line",
                    "subject": redact.scrub_value(
                        {
                            **subject,
                            "line": line,
                            **_line_subject(
                                claim_lines.get(line) if isinstance(line, int) else None
                            ),
                        }
                    ),
                    "decision": dict(decision) if clean else redact.scrub_value(dict(decision)),
                },
            )
        )
    return entries


# --------------------------------------------------------------------------- the report


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(
    context: StepContext,
    rows: Sequence[Stored],
    appended: int,
    verification: Verification,
    redact: Redactor,
    decoded: Decoded | None = None,
) -> str:
    """A Markdown report an auditor can read without the database; built from the stored
    records (what was hashed), not from the context, so it shows exactly what the trail holds.

    A record the verification already decoded from the same payload (``decoded``) is not
    decoded again: a claim's run has a record per line.
    """
    known = decoded or {}
    records = [
        found[1] if (found := known.get(row.seq)) and found[0] == row else json.loads(row.payload)
        for row in rows
    ]
    head = rows[-1].record_hash if rows else GENESIS_HASH
    state = "intact" if verification.ok else f"BROKEN: {verification.broken}"
    trusted, total = verification.trusted, verification.records
    if verification.ok and trusted:
        now = f"; {trusted + 1}-{total} now" if total > trusted else ""
        state += f" (records 1-{trusted} as an earlier run verified them{now})"
    out = [
        f"# Compliance report: run `{_cell(context.run_id)}`",
        "",
        f"- Workflow: `{_cell(context.workflow)}`, status **{context.workflow_status or 'unknown'}**",
        f"- Records for this run: {len(rows)} ({appended} appended by this step)",
        f"- Head hash of this run: `{head}`",
        f"- Chain verification from the first record: {state}",
        "",
        (
            "Keep the head hash outside this database; `python -m processors.chargeback.compliance"
            f" verify --db URL --run {_cell(context.run_id)} --head {head}` proves that the trail"
            " is unchanged."
        ),
        "",
    ]
    workflow = [r for r in records if r.get("kind") == "workflow"]
    if workflow:
        last = workflow[-1]
        out += [
            f"- Actor: `{_cell(last.get('actor'))}`; recorded at {last.get('ts_utc')}",
            f"- Document sha256: `{last.get('document_sha256') or 'not a readable file'}`",
            f"- Environment variables present (names only): {', '.join(last.get('env_names', [])) or 'none'}",
            "",
        ]
    out += [
        "## Steps",
        "",
        "| seq | step | phase | version | outputs | output sha256 |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        if r.get("kind") == "step":
            out.append(
                f"| {r['seq']} | {_cell(r['step'])} | {r.get('phase')} | {_cell(r.get('step_version') or '')} "
                f"| {_cell(r.get('outputs', {}))} | `{str(r.get('output_sha256'))[:16]}…` |"
            )
    lines = [r for r in records if r.get("kind") == "line"]
    if lines:
        out += ["", "## Claim line decisions", "", "| seq | subject | decision |", "|---|---|---|"]
        for r in lines:
            out.append(f"| {r['seq']} | {_cell(r.get('subject'))} | {_cell(r.get('decision'))} |")
    cited: dict[str, str] = {}
    for r in records:
        cited.update(r.get("reference_snapshots") or {})
    out += ["", "## Reference data snapshots", ""]
    if cited:
        out += ["| source | snapshot |", "|---|---|"]
        out += [f"| {_cell(k)} | `{_cell(v)}` |" for k, v in sorted(cited.items())]
    else:
        out.append(
            "No reference snapshot was recorded (no snapshots table and no step reported one)."
        )
    out.append("")
    return redact.scrub("\n".join(out))


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``verify --db URL [--run RUN_ID] [--head HASH]``: 0 intact, 1 broken, 2 usage or I/O."""
    parser = argparse.ArgumentParser(
        prog="python -m processors.chargeback.compliance",
        description="Check the chargeback audit trail for tampering.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="verify the hash chain; names the first broken record")
    verify.add_argument("--db", required=True, help="SQLAlchemy URL of the store")
    verify.add_argument("--run", help="check the chain up to this run's last record")
    verify.add_argument("--head", help="a head hash handed out earlier; must still be in the chain")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    redact = Redactor(_url_passwords(args.db))
    try:
        url = make_url(args.db)
        engine = create_engine(url)
    except (ArgumentError, ImportError) as exc:
        print(f"error: cannot use --db: {redact.scrub(str(exc))}", file=sys.stderr)
        return 2
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        # connecting would create an empty file and then report "no audit trail"
        print(f"error: no database file {file}; check --db", file=sys.stderr)
        return 2
    try:
        if not _has_trail(engine):
            print(
                f"error: no audit trail (no records in {AuditRecord.__tablename__}) in this "
                "database; check --db",
                file=sys.stderr,
            )
            return 2
        result = verify_chain(engine, run_id=args.run, head=args.head)
    except SQLAlchemyError as exc:
        print(
            f"error: cannot read the audit trail: {redact.scrub(_first_line(exc))}", file=sys.stderr
        )
        return 2
    finally:
        engine.dispose()
    if result.broken is not None:
        print(f"BROKEN after {result.records} good records: {result.broken}")
        return 1
    print(f"OK: {result.records} records, head {result.head_hash}")
    return 0


def _has_trail(engine: Engine) -> bool:
    """Whether the database holds audit records: the table alone is made with every other
    chargeback table (a store that only ever loaded reference data has it, empty)."""
    if not inspect(engine).has_table(AuditRecord.__tablename__):
        return False
    with engine.connect() as conn:
        return conn.execute(select(AuditRecord.seq).limit(1)).first() is not None


if __name__ == "__main__":
    sys.exit(main())
