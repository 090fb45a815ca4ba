"""The claim-line ledger: what was claimed before, and what became of it (brief §1.5, R05-R07).

Duplicate-check records every line of the claim it checks as ``PENDING`` under the run id;
chargeback resolution later settles each line as ``PAID`` (with the quantity actually paid)
or ``REJECTED``. Because rows are keyed by (run, DM, line), a retried or resumed step
rewrites its own rows instead of adding new ones, and every lookup ignores the asking run's
own rows, so checking the same claim twice in one run gives the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from processors.chargeback.claim import Claim, LineDecision
from processors.chargeback.reference.models import ClaimLineHistory


def _part(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip().upper()


def hard_key(
    wholesaler_id: str, invoice_no: str, invoice_line: str, ndc11: str, customer_key: str
) -> str:
    """DC id | invoice number | invoice line | NDC11 | canonical customer (brief §1.5 item 1)."""
    return "|".join(
        _part(p) for p in (wholesaler_id, invoice_no, invoice_line, ndc11, customer_key)
    )


def soft_key(
    wholesaler_id: str,
    invoice_no: str,
    ndc11: str,
    customer_key: str,
    invoice_date: date | None,
    quantity: Decimal,
) -> str:
    """DC id | invoice | NDC11 | customer | invoice date | abs(quantity): catches a renumbered
    or missing invoice line number (brief §1.5 item 2)."""
    return "|".join(
        _part(p)
        for p in (wholesaler_id, invoice_no, ndc11, customer_key, invoice_date, abs(quantity))
    )


@dataclass(frozen=True)
class LineRecord:
    """What duplicate-check knows about one line when it records it."""

    line_no: str
    hard_key: str
    soft_key: str
    invoice_no: str
    invoice_line: str
    invoice_date: date | None
    ndc11: str
    customer_key: str
    contract_id: str
    quantity: Decimal
    amount: Decimal
    net_quantity: Decimal | None
    original_id: int | None = None


def record_lines(
    session: Session,
    *,
    run_id: str,
    wholesaler_id: str,
    dm_no: str,
    dm_date: date | None,
    dm_purpose: str,
    lines: Iterable[LineRecord],
) -> None:
    """Upsert this run's lines as PENDING; idempotent per (run, DM, line)."""
    now = datetime.now(UTC)
    existing = {
        row.line_no: row
        for row in session.scalars(
            select(ClaimLineHistory).where(
                ClaimLineHistory.run_id == run_id, ClaimLineHistory.dm_no == dm_no
            )
        )
    }
    for line in lines:
        values = {
            "hard_key": line.hard_key,
            "soft_key": line.soft_key,
            "wholesaler_id": wholesaler_id,
            "dm_date": dm_date,
            "dm_purpose": dm_purpose,
            "invoice_no": line.invoice_no,
            "invoice_line": line.invoice_line,
            "invoice_date": line.invoice_date,
            "ndc11": line.ndc11,
            "customer_key": line.customer_key,
            "contract_id": line.contract_id,
            "quantity": line.quantity,
            "amount": line.amount,
            "net_quantity": line.net_quantity,
            "original_id": line.original_id,
        }
        row = existing.get(line.line_no)
        if row is None:
            session.add(
                ClaimLineHistory(
                    run_id=run_id,
                    dm_no=dm_no,
                    line_no=line.line_no,
                    status="PENDING",
                    recorded_at=now,
                    **values,
                )
            )
        elif row.status == "PENDING":  # a settled line is history: a retry must not reopen it
            for name, value in values.items():
                setattr(row, name, value)
    session.flush()


def prior_lines(session: Session, hard_keys: Sequence[str], run_id: str) -> list[ClaimLineHistory]:
    """Lines of *other* runs under any of the hard keys, oldest first."""
    if not hard_keys:
        return []
    return list(
        session.scalars(
            select(ClaimLineHistory)
            .where(ClaimLineHistory.hard_key.in_(hard_keys), ClaimLineHistory.run_id != run_id)
            .order_by(ClaimLineHistory.recorded_at, ClaimLineHistory.id)
        )
    )


def soft_matches(session: Session, soft_keys: Sequence[str], run_id: str) -> list[ClaimLineHistory]:
    """Lines of other runs that look like the same sale under another line number."""
    if not soft_keys:
        return []
    return list(
        session.scalars(
            select(ClaimLineHistory).where(
                ClaimLineHistory.soft_key.in_(soft_keys),
                ClaimLineHistory.run_id != run_id,
                ClaimLineHistory.status != "REJECTED",
            )
        )
    )


def debit_memo_seen(
    session: Session, wholesaler_id: str, dm_no: str, run_id: str
) -> list[ClaimLineHistory]:
    """Lines another run recorded for the same wholesaler and DM number (rule R05)."""
    return list(
        session.scalars(
            select(ClaimLineHistory).where(
                ClaimLineHistory.wholesaler_id == wholesaler_id,
                ClaimLineHistory.dm_no == dm_no,
                ClaimLineHistory.run_id != run_id,
            )
        )
    )


def net_paid_quantity(rows: Iterable[ClaimLineHistory]) -> Decimal:
    """Sum of what was actually paid (credits are negative), so deltas never pay twice."""
    return sum(
        (r.paid_quantity for r in rows if r.status == "PAID" and r.paid_quantity is not None),
        Decimal(0),
    )


_STATUS_BY_DECISION: Mapping[str, str] = {
    "accept": "PAID",
    "adjust": "PAID",
    "reject": "REJECTED",
    "pend": "PENDING",
}


def settle_claim(
    session: Session, run_id: str, claim: Claim, decisions: Iterable[LineDecision]
) -> int:
    """Record the final outcome of each decided line; returns how many rows changed.

    Accepted and adjusted lines become PAID for their net quantity (the delta of a
    resubmission, the full claim otherwise). That holds for a line allowed $0 (contract price
    >= WAC) too: the sale was adjudicated, so claiming it again is a duplicate.
    """
    dm_no = claim.debit_memo or ""
    rows = {
        row.line_no: row
        for row in session.scalars(
            select(ClaimLineHistory).where(
                ClaimLineHistory.run_id == run_id, ClaimLineHistory.dm_no == dm_no
            )
        )
    }
    now = datetime.now(UTC)
    changed = 0
    for decision in decisions:
        row = rows.get(str(decision.line))
        if row is None:
            continue
        status = _STATUS_BY_DECISION[decision.status]
        paid = None
        if status == "PAID":
            paid = row.net_quantity if row.net_quantity is not None else row.quantity
        new = (status, paid, decision.accepted_amount if status != "PENDING" else None)
        if (row.status, row.paid_quantity, row.allowed_amount) != new:
            row.status, row.paid_quantity, row.allowed_amount = new
            row.resolved_at = now if status != "PENDING" else None
            changed += 1
    session.flush()
    return changed
