"""The claim-line ledger: what was claimed before, and what became of it (brief §1.5, R05-R07).

Duplicate-check records every line of the claim it checks as ``PENDING`` under the run id;
chargeback resolution later settles each line as ``PAID`` (with the quantity actually paid),
``REJECTED`` or ``PENDING`` (held for review), and stamps ``resolved_at``: the claim was
decided. A run that ends without deciding its claim (the review route takes it) releases its
unsettled rows, so a claim counts as received only once some run decided it, and sending it
again is checked afresh. Because rows are keyed by (run, DM, line), a retried or resumed step
rewrites its own rows instead of adding new ones, and every lookup ignores the asking run's
own rows, so checking the same claim twice in one run gives the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    CursorResult,
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session

from processors.chargeback.claim import Claim, LineDecision
from processors.chargeback.db import execute_many, in_chunks, listed
from processors.chargeback.reference.models import ClaimLineHistory

#: the ledger's table, for Core statements that skip the ORM's per-row work
_LEDGER: Table = ClaimLineHistory.metadata.tables[ClaimLineHistory.__tablename__]


def _part(value: object) -> str:
    if type(value) is str:  # nearly every part: a claim's lines build tens of thousands of keys
        return value.strip().upper()
    if value is None:
        return ""
    return _other_part(value)


@lru_cache(maxsize=4096, typed=True)
def _other_part(value: object) -> str:
    """A part that is not text: a claim's lines repeat a few dates and quantities, each
    written once. By type and value: equal values of one type are written alike."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip().upper()


@lru_cache(maxsize=4096)
def _distinct_parts(values: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """``values`` normalised, each once, in order, and whether any of them holds ``|``.

    Memoised: a claim passes the same wholesaler ids and the same few customer key tuples
    for thousands of lines, so each tuple is normalised once rather than once per line and
    (wholesaler, customer) pair.
    """
    parts = tuple(dict.fromkeys(_part(v) for v in values))
    return parts, any("|" in p for p in parts)


def hard_keys(
    wholesaler_ids: tuple[str, ...],
    invoice_no: str,
    invoice_line: str,
    ndc11: str,
    customer_keys: tuple[str, ...],
) -> tuple[str, ...]:
    """:func:`hard_key` for every (wholesaler, customer) pair, each once, wholesaler-major
    (so the first is the key of the first wholesaler and customer).

    A line is looked up under every key an earlier run may have filed it under; the parts
    the keys share are normalised once instead of once per pair.
    """
    middle = f"{_part(invoice_no)}|{_part(invoice_line)}|{_part(ndc11)}"
    return _pairs(wholesaler_ids, middle, customer_keys, "")


def _pairs(
    wholesaler_ids: tuple[str, ...], middle: str, customer_keys: tuple[str, ...], tail: str
) -> tuple[str, ...]:
    """``wholesaler|middle|customer`` + ``tail`` for every pair, each once, wholesaler-major.

    Pairing the distinct parts keeps the order the raw pairs first appear in. Distinct parts
    with no ``|`` in them make distinct keys (the text before the first ``|`` is the
    wholesaler, the rest after ``middle`` the customer); only parts holding ``|``, which
    could spell one key two ways, need the keys deduplicated as text.
    """
    wholesalers, w_bar = _distinct_parts(wholesaler_ids)
    customers, c_bar = _distinct_parts(customer_keys)
    keys = [f"{w}|{middle}|{c}{tail}" for w in wholesalers for c in customers]
    return tuple(dict.fromkeys(keys)) if w_bar or c_bar else tuple(keys)


def hard_key(
    wholesaler_id: str, invoice_no: str, invoice_line: str, ndc11: str, customer_key: str
) -> str:
    """DC id | invoice number | invoice line | NDC11 | canonical customer (brief §1.5 item 1)."""
    (key,) = hard_keys((wholesaler_id,), invoice_no, invoice_line, ndc11, (customer_key,))
    return key


def soft_keys(
    wholesaler_ids: tuple[str, ...],
    invoice_no: str,
    ndc11: str,
    customer_keys: tuple[str, ...],
    invoice_date: date | None,
    quantity: Decimal,
) -> tuple[str, ...]:
    """:func:`soft_key` for every (wholesaler, customer) pair, each once, wholesaler-major."""
    middle = f"{_part(invoice_no)}|{_part(ndc11)}"
    tail = f"|{_part(invoice_date)}|{_part(abs(quantity))}"
    return _pairs(wholesaler_ids, middle, customer_keys, tail)


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
    (key,) = soft_keys((wholesaler_id,), invoice_no, ndc11, (customer_key,), invoice_date, quantity)
    return key


class LineRecord(NamedTuple):
    """What duplicate-check knows about one line when it records it; the fields are the
    ledger's columns of the same names. A named tuple: a claim records thousands of lines,
    and a frozen dataclass costs a ``setattr`` per field of each."""

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
    """Upsert this run's lines as PENDING; idempotent per (run, DM, line).

    A claim has thousands of lines, so rows go in as one Core executemany INSERT of plain
    tuples (the ORM's bulk insert still sorts every row through the unit of work) and, on a
    retry, one executemany UPDATE by primary key.
    """
    ledger = _LEDGER.c
    existing = {
        line_no: (row_id, resolved_at)
        for row_id, line_no, resolved_at in session.execute(
            select(ledger.id, ledger.line_no, ledger.resolved_at).where(
                ledger.run_id == run_id, ledger.dm_no == dm_no
            )
        )
    }
    claim_wide = {"wholesaler_id": wholesaler_id, "dm_date": dm_date, "dm_purpose": dm_purpose}
    new_row = {
        "run_id": run_id,
        "dm_no": dm_no,
        "status": "PENDING",
        "recorded_at": datetime.now(UTC),
        **claim_wide,
    }
    # a new row is the claim's values, then the line's, as one tuple: no dict per claim line
    common = tuple(new_row.values())
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for line in lines:
        found = existing.get(line.line_no)
        if found is None:
            inserts.append((*common, *line))
        elif found[1] is None:  # a settled line is history: a retry must not reopen it
            # the row's own line number is left out: it was found by it
            updates.append((found[0], *claim_wide.values(), *line[1:]))
    connection = session.connection()
    execute_many(connection, insert(_LEDGER), (*new_row, *LineRecord._fields), inserts)
    execute_many(connection, _BY_ID, (_ROW_ID, *claim_wide, *LineRecord._fields[1:]), updates)


#: the bind parameter naming the row in :data:`_BY_ID` (a column's name would clash with SET)
_ROW_ID = "row_id"
#: ledger rows changed by primary key, setting the columns each row's values name
_BY_ID = update(_LEDGER).where(_LEDGER.c.id == bindparam(_ROW_ID))


class EarlierLine(NamedTuple):
    """A ledger row as the duplicate rules read it: only the columns they use, as plain values
    (a claim looks back at thousands of rows; a mapped entity per row costs far more)."""

    id: int
    run_id: str
    dm_no: str
    line_no: str
    hard_key: str
    soft_key: str
    status: str
    paid_quantity: Decimal | None
    recorded_at: datetime
    responded_on: date | None


_EARLIER_COLUMNS = tuple(_LEDGER.c[name] for name in EarlierLine._fields)


def key_queries(
    dialect: str, query: Select[Any], column: Column[str], keys: list[str]
) -> list[tuple[Select[Any], dict[str, Any]]]:
    """``query`` narrowed to the rows whose ``column`` is one of ``keys``, as the statements to
    run, each with the parameters to run it with.

    Where the database takes the whole list as one parameter (``db.listed``), the list is
    joined to the table: each key is looked up in the column's index. Asked instead as
    ``column IN (SELECT ...)``, SQLite first builds a temporary index of the list, which cost
    several times the lookups for a claim's tens of thousands of keys. Other databases get the
    portable chunked ``IN`` lists. The keys are distinct, and a row holds one, so the join
    returns each row once.
    """
    table = listed(dialect, keys)
    if table is None:
        return [(query.where(column.in_(chunk)), {}) for chunk in in_chunks(keys)]
    values, params = table
    return [(query.select_from(values.join(column.table, column == values.c.value)), params)]


def _by_key(
    session: Session, column: Column[str], keys: Iterable[str], *where: ColumnElement[bool]
) -> dict[str, list[EarlierLine]]:
    """Rows whose ``column`` is one of ``keys``, grouped by that key, oldest first."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    found: dict[str, list[EarlierLine]] = {}
    key_of = attrgetter(column.key)
    query = select(*_EARLIER_COLUMNS).where(*where)
    for statement, params in key_queries(session.get_bind().dialect.name, query, column, wanted):
        for values in session.execute(statement, params).all():
            row = EarlierLine._make(values)
            found.setdefault(key_of(row), []).append(row)
    for rows in found.values():
        rows.sort(key=recorded_order)
    return found


def recorded_order(row: EarlierLine) -> tuple[datetime, int]:
    """Oldest first: the order earlier claims of a sale were recorded in."""
    return (row.recorded_at, row.id)


def prior_lines(
    session: Session, hard_keys: Iterable[str], run_id: str
) -> dict[str, list[EarlierLine]]:
    """Lines of *other* runs under each of the hard keys, oldest first.

    Asked once for a whole claim (thousands of lines, a few keys each), not once per line.
    """
    return _by_key(session, _LEDGER.c.hard_key, hard_keys, _LEDGER.c.run_id != run_id)


def soft_matches(
    session: Session, soft_keys: Iterable[str], run_id: str
) -> dict[str, list[EarlierLine]]:
    """Lines of other runs that look like the same sale under another line number, by soft
    key, oldest first (asked once per claim, like :func:`prior_lines`)."""
    return _by_key(
        session,
        _LEDGER.c.soft_key,
        soft_keys,
        _LEDGER.c.run_id != run_id,
        _LEDGER.c.status != "REJECTED",
    )


def debit_memo_seen(
    session: Session, wholesaler_id: str, dm_no: str, run_id: str
) -> ClaimLineHistory | None:
    """The first line another run decided for the same wholesaler and DM number (rule R05);
    one row says the DM was received, so the (possibly thousands of) others are not loaded.
    A run still deciding, or one that died before releasing its lines, has not answered the
    DM: sending it again is no duplicate (its lines meet that run's as still pending)."""
    return session.scalars(
        select(ClaimLineHistory)
        .where(
            ClaimLineHistory.wholesaler_id == wholesaler_id,
            ClaimLineHistory.dm_no == dm_no,
            ClaimLineHistory.run_id != run_id,
            ClaimLineHistory.resolved_at.is_not(None),
        )
        .order_by(ClaimLineHistory.recorded_at, ClaimLineHistory.id)
        .limit(1)
    ).first()


def net_paid_quantity(rows: Iterable[EarlierLine]) -> Decimal:
    """Sum of what was actually paid (credits are negative), so deltas never pay twice.

    Without the trailing zeros a NUMERIC(14,3) column gives back on PostgreSQL (``4.000``
    where SQLite gives ``4``): the messages and deltas built from it read alike on both.
    """
    total = sum(
        (r.paid_quantity for r in rows if r.status == "PAID" and r.paid_quantity is not None),
        Decimal(0),
    )
    return total.quantize(Decimal(1)) if total == total.to_integral_value() else total.normalize()


_STATUS_BY_DECISION: Mapping[str, str] = {
    "accept": "PAID",
    "adjust": "PAID",
    "reject": "REJECTED",
    "pend": "PENDING",
}


def settle_claim(
    session: Session,
    run_id: str,
    claim: Claim,
    decisions: Iterable[LineDecision],
    *,
    responded_on: date,
) -> int:
    """Record the final outcome of each decided line, answered by the 849 of ``responded_on``;
    returns how many rows changed.

    Accepted and adjusted lines become PAID for their net quantity (the delta of a
    resubmission, the full claim otherwise). That holds for a line allowed $0 (contract price
    >= WAC) too: the sale was adjudicated, so claiming it again is a duplicate. A pended line
    stays PENDING, but is stamped decided like the others: its debit memo was answered.

    A claim settles thousands of lines at once, nearly all of them not settled before: those
    are changed by one Core executemany UPDATE by id that takes the paid quantity from the row
    itself, so none of their quantities is read into Python. Only rows an earlier attempt
    already settled are read whole, to change just those whose outcome differs.
    """
    dm_no = claim.debit_memo or ""
    ledger = _LEDGER.c
    this_claim = (ledger.run_id == run_id, ledger.dm_no == dm_no)
    rows = {
        line_no: (row_id, settled)
        for row_id, line_no, settled in session.execute(
            select(ledger.id, ledger.line_no, ledger.resolved_at.is_not(None)).where(*this_claim)
        )
    }
    earlier = {
        row.id: row
        for row in session.execute(
            select(
                ledger.id,
                ledger.quantity,
                ledger.net_quantity,
                ledger.status,
                ledger.paid_quantity,
                ledger.allowed_amount,
            ).where(*this_claim, ledger.resolved_at.is_not(None))
        )
    } if any(settled for _, settled in rows.values()) else {}
    now = datetime.now(UTC)
    fresh: dict[int, tuple[Any, ...]] = {}
    changed: dict[int, tuple[Any, ...]] = {}
    for decision in decisions:
        found = rows.get(str(decision.line))
        if found is None:
            continue
        row_id, settled = found
        status = _STATUS_BY_DECISION[decision.status]
        allowed = decision.accepted_amount if status != "PENDING" else None
        if not settled:
            fresh[row_id] = (row_id, status == "PAID", status, allowed, now, responded_on)
            continue
        row = earlier[row_id]
        paid = None
        if status == "PAID":
            paid = row.net_quantity if row.net_quantity is not None else row.quantity
        if (row.status, row.paid_quantity, row.allowed_amount) != (status, paid, allowed):
            changed[row_id] = (row_id, paid, status, allowed, now, responded_on)
    connection = session.connection()
    execute_many(connection, _SETTLE, (_ROW_ID, _PAID, *_OUTCOME), list(fresh.values()))
    execute_many(connection, _BY_ID, (_ROW_ID, "paid_quantity", *_OUTCOME), list(changed.values()))
    return len(fresh) + len(changed)


#: what settling sets on a row besides its paid quantity
_OUTCOME = ("status", "allowed_amount", "resolved_at", "responded_on")


#: names the rows settled PAID in :data:`_SETTLE`
_PAID = "paid"
#: a row settled for the first time, by id: a PAID row is paid its net quantity, the delta of a
#: resubmission (``net_quantity``) or else the quantity claimed
_SETTLE = (
    update(_LEDGER)
    .where(_LEDGER.c.id == bindparam(_ROW_ID))
    .values(
        paid_quantity=case(
            (
                bindparam(_PAID, type_=Boolean()),
                func.coalesce(_LEDGER.c.net_quantity, _LEDGER.c.quantity),
            ),
            else_=null(),
        )
    )
)


def release_undecided(session: Session, run_id: str) -> int:
    """Delete the lines ``run_id`` recorded that no resolution settled; how many.

    Called when the run ends without deciding its claim: nothing was answered or paid, so
    the claim must not count as received (R05) nor its lines as pending (R06) when the
    wholesaler sends it again.
    """
    ledger = _LEDGER.c
    statement = delete(_LEDGER).where(ledger.run_id == run_id, ledger.resolved_at.is_(None))
    result = cast("CursorResult[Any]", session.execute(statement))
    return result.rowcount


def paid_quantities(
    session: Session, run_id: str, ndcs: Iterable[str], customer_keys: Iterable[str]
) -> list[tuple[int, str, str, Decimal]]:
    """(ledger row id, customer key, NDC, quantity) of every PAID line of ``ndcs`` filed under
    one of ``customer_keys`` by a run other than ``run_id``: a customer's usual quantities."""
    ndc_list = sorted(set(ndcs))
    ledger = ClaimLineHistory
    found: list[tuple[int, str, str, Decimal]] = []
    for chunk in in_chunks(sorted(set(customer_keys))):
        rows = session.execute(
            select(ledger.id, ledger.customer_key, ledger.ndc11, ledger.quantity).where(
                ledger.status == "PAID",
                ledger.run_id != run_id,
                ledger.ndc11.in_(ndc_list),
                ledger.customer_key.in_(chunk),
            )
        )
        found += [(row_id, key, ndc, qty) for row_id, key, ndc, qty in rows]
    return found
