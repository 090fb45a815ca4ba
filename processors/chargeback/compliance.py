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
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
from sqlalchemy import (
    Engine,
    create_engine,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from engine.processors import StepContext, StepFailed, StepResult, TransientError
from engine.secrets import Redactor
from processors.chargeback.claim import ClaimLine
from processors.chargeback.claim_store import claim_from_upstream
from processors.chargeback.db import get_engine
from processors.chargeback.outfiles import output_file
from processors.chargeback.reference import snapshots
from processors.chargeback.trail.report import render_report
from processors.chargeback.trail.store import (
    GENESIS_HASH,
    AuditRecord,
    Decoded,
    Entry,
    append_entries,
    canonical_json,
    first_line,
    run_rows,
    sha256_text,
    url_passwords,
)
from processors.chargeback.trail.verify import verify_chain, verify_run

# --------------------------------------------------------------------------- redaction


def changes_nothing(redact: Redactor, value: Any) -> bool:
    """Whether masking ``value`` would change nothing in it, nor in any part of it.

    A claim's decisions are thousands of records, ten strings each: walking them in Python
    costs far more than encoding them. Masking changes nothing when ``value`` is plain JSON
    (what masking would turn tuples and other mappings into) with text keys only (masking
    turns other keys into text before the keys are sorted) and its JSON text mentions no
    secret and no URL password. The encoder checks the first two as it writes the text: it
    refuses what is not JSON data and, without the option the canonical text is written with
    (``engine.canonical``), any key that is not text. The members' order does not matter to
    the check: a secret or URL password is found inside one string, key or number.
    """
    try:
        text = orjson.dumps(value, option=_PLAIN_JSON)
    except (TypeError, ValueError):
        return False
    return not redact.mentions(text.decode("utf-8"))


#: refuse dataclasses and dates (not JSON data); Decimals and other objects are refused anyway
_PLAIN_JSON = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


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

    #: its reference data, ledger and trail live in the run's database
    uses_database: ClassVar[bool] = True
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "output_dir": {
                "type": "string",
                "description": "Folder for the report when the step is called outside the "
                "engine (which keeps it as the step's file output 'report'); default: the "
                "working directory.",
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
        "report": "file",
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
        redact = Redactor.for_env(context.env, url_passwords(context.database_url))
        engine = get_engine(context.database_url)
        try:
            entries = build_entries(
                context, self._actor(context), snapshots.current(engine), redact
            )
            decoded: Decoded = {}
            written = append_entries(engine, entries, decoded=decoded)
            verification = verify_run(engine, context.run_id, decoded)
            # an intact verification kept every record of the run after where it started
            checked = verification.trusted if verification.ok else None
            rows = run_rows(engine, context.run_id, decoded, checked)
        except SQLAlchemyError as exc:
            raise TransientError(
                f"audit trail store error: {redact.scrub(first_line(exc))}"
            ) from None
        report = output_file(context, "report", self.output_dir,
                             f"compliance-{_safe_name(context.run_id)}.md")
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


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:120] or "run"


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


def _name_sale(about: dict[str, Any], line: ClaimLine) -> None:
    """Add to ``about`` what the record names of the sale a decision is about, as plain JSON:
    the amount as the exact text the trail's encoder writes a Decimal as (``_jsonable``), so
    that the subjects can be checked for secrets in one pass (``changes_nothing``)."""
    submitted = line.claimed_amount
    about["line_id"] = line.line_id
    about["invoice"] = line.invoice_number
    about["invoice_line"] = line.invoice_line
    about["ndc11"] = line.ndc11
    about["submitted"] = None if submitted is None else format(submitted, "f")


def _line_entries(
    run_id: str,
    step: str,
    data: Mapping[str, Any],
    common: Mapping[str, Any],
    claim_lines: Mapping[int, ClaimLine],
    redact: Redactor,
) -> list[Entry]:
    """One record per decision in ``data``. Decisions and their subjects, thousands of each,
    are checked for anything to mask once, all together, and redacted one by one only when
    redaction would change something in them at all."""
    decisions = data.get("decisions")
    if not isinstance(decisions, list):
        return []
    found = data.get("subject")
    subject: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    records = []
    for decision in decisions:
        # dicts nearly always: tested as such before the slower check of the Mapping ABC
        if not isinstance(decision, dict | Mapping):
            continue
        line = decision.get("line_id", decision.get("line"))
        about = {**subject, "line": line}
        sale = claim_lines.get(line) if isinstance(line, int) else None
        if sale is not None:
            _name_sale(about, sale)
        records.append((decision, about))
    subjects = [about for _, about in records]
    clean_decisions = changes_nothing(redact, decisions)
    clean_subjects = changes_nothing(redact, subjects)
    return [
        Entry(
            run_id,
            step,
            {
                **common,
                "kind": "line",
                "subject": about if clean_subjects else redact.scrub_value(about),
                # a clean list holds plain dicts only (``changes_nothing``), used as they
                # are: a copy of each would be one more dict per claim line held to the end
                "decision": decision if clean_decisions else redact.scrub_value(dict(decision)),
            },
        )
        for decision, about in records
    ]


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
    redact = Redactor(url_passwords(args.db))
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
            f"error: cannot read the audit trail: {redact.scrub(first_line(exc))}", file=sys.stderr
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
