"""The claim-line ledger (reference.history) on SQLite and PostgreSQL: a claim's look-back by
key sends tens of thousands of keys in one statement (a JSON array on SQLite, a text array on
PostgreSQL, chunked IN lists elsewhere), and every way must find exactly the rows an IN list
would, whatever the keys hold; recording and settling rewrite rows by id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from processors.chargeback.claim import Claim, ClaimLine, LineDecision
from processors.chargeback.db import KEYS_PER_QUERY, get_engine, session_scope
from processors.chargeback.reference import history
from processors.chargeback.reference.models import ClaimLineHistory

LEDGER = ClaimLineHistory.__table__.c
#: keys with what JSON, array literals or SQL quoting could get wrong
ODD_KEYS = (
    'DC1|INV"1|1|N|C',
    "DC1|INV\\2|1|N|C",
    "DC1|INV,3|1|N|C",
    "DC1|{INV4}|1|N|C",
    "DC1|INV'5|1|N|C",
    "DC1|ÉCOLE 6|1|N|C",
    "DC1|INV 7 |1|N|C",
    "DC1|NULL|1|N|C",
)
#: more keys than one IN list takes, so the portable way needs several statements
KEYS = (*ODD_KEYS, *(f"DC1|INV{n:05d}|1|12345678901|C" for n in range(KEYS_PER_QUERY + 50)))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
    else:
        yield request.getfixturevalue("pg_url")


#: the date of the 849 the settled lines are answered by
ANSWERED = date(2024, 3, 22)


def _line(n: int, hard_key: str, soft_key: str = "", quantity: str = "10") -> history.LineRecord:
    return history.LineRecord(
        line_no=str(n),
        hard_key=hard_key,
        soft_key=soft_key or f"soft-{hard_key}",
        invoice_no=f"INV{n}",
        invoice_line="1",
        invoice_date=date(2024, 3, 4),
        ndc11="12345678901",
        customer_key="C",
        contract_id="K1",
        quantity=Decimal(quantity),
        amount=Decimal("425.00"),
        net_quantity=None,
    )


def _record(url: str, run_id: str, lines: list[history.LineRecord], dm_no: str = "DM1") -> None:
    with session_scope(url) as session:
        history.record_lines(
            session,
            run_id=run_id,
            wholesaler_id="DC1",
            dm_no=dm_no,
            dm_date=date(2024, 3, 15),
            dm_purpose="00",
            lines=lines,
        )


def _claim(dm_no: str, *numbers: int) -> Claim:
    lines = tuple(ClaimLine(line=n, line_id=str(n), quantity=Decimal(10)) for n in numbers)
    return Claim("x12-844", "x12-844", "0" * 64, dm_no, None, lines)


def test_prior_lines_finds_every_key_once_per_row_oldest_first(url: str) -> None:
    _record(url, "run-1", [_line(n, k) for n, k in enumerate(KEYS, start=1)])
    _record(url, "run-2", [_line(1, KEYS[0])], dm_no="DM2")
    _record(url, "asking", [_line(n, k) for n, k in enumerate(KEYS, start=1)], dm_no="DM3")
    asked = [*KEYS, *KEYS[:3], "DC1|NEVER|1|N|C"]  # repeated and unknown keys too

    with session_scope(url) as session:
        found = history.prior_lines(session, iter(asked), "asking")

    assert set(found) == set(KEYS)
    assert [(r.run_id, r.dm_no) for r in found[KEYS[0]]] == [("run-1", "DM1"), ("run-2", "DM2")]
    assert all(len(rows) == 1 for key, rows in found.items() if key != KEYS[0])
    odd = found['DC1|INV"1|1|N|C'][0]
    assert (odd.line_no, odd.status, odd.paid_quantity) == ("1", "PENDING", None)


def test_soft_matches_leave_out_rejected_lines_and_the_asking_run(url: str) -> None:
    _record(url, "run-1", [_line(1, "H1", "S1"), _line(2, "H2", "S2"), _line(3, "H3", "S1")])
    with session_scope(url) as session:
        history.settle_claim(
            session,
            "run-1",
            _claim("DM1", 1, 2, 3),
            [
                LineDecision(1, "accept", Decimal("425.00")),
                LineDecision(2, "accept", Decimal("425.00")),
                LineDecision(3, "reject", Decimal("0.00"), ("28",)),
            ],
            responded_on=ANSWERED,
        )
    _record(url, "asking", [_line(1, "H9", "S1")], dm_no="DM9")

    with session_scope(url) as session:
        found = history.soft_matches(session, ["S1", "S2", "S3"], "asking")

    assert {k: [(r.line_no, r.status) for r in rows] for k, rows in found.items()} == {
        "S1": [("1", "PAID")],
        "S2": [("2", "PAID")],
    }
    assert str(history.net_paid_quantity(found["S1"])) == "10"  # not 10.000 on PostgreSQL


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
def test_keys_sent_as_one_array_or_as_in_lists_find_the_same_rows(
    tmp_path: Path, dialect: str
) -> None:
    """SQLite's JSON array and the chunked IN lists any other database gets, both on SQLite."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    _record(url, "run-1", [_line(n, k) for n, k in enumerate(KEYS[::2], start=1)])

    column = LEDGER.hard_key
    queries = history.key_queries(dialect, select(column), column, list(KEYS))
    with session_scope(url) as session:
        found = [key for q, params in queries for key in session.scalars(q, params)]

    assert len(queries) == (1 if dialect == "sqlite" else -(-len(KEYS) // KEYS_PER_QUERY))
    assert sorted(found) == sorted(KEYS[::2])


def test_a_retry_rewrites_its_pending_lines_but_not_settled_ones(url: str) -> None:
    _record(url, "run-1", [_line(1, "H1"), _line(2, "H2")])
    with session_scope(url) as session:
        changed = history.settle_claim(
            session,
            "run-1",
            _claim("DM1", 1, 2),
            [LineDecision(1, "pend", Decimal(0))],
            responded_on=ANSWERED,
        )
        assert changed == 1  # still PENDING, now decided: its debit memo was answered
        changed = history.settle_claim(
            session,
            "run-1",
            _claim("DM1", 1, 2),
            [LineDecision(1, "pend", Decimal(0))],
            responded_on=ANSWERED,
        )
        assert changed == 0  # decided the same way already
        changed = history.settle_claim(
            session,
            "run-1",
            _claim("DM1", 1),
            [LineDecision(1, "accept", Decimal("425.00"))],
            responded_on=ANSWERED,
        )
        assert changed == 1

    _record(url, "run-1", [_line(1, "H1", quantity="3"), _line(2, "H2b", quantity="4")])

    with session_scope(url) as session:
        rows = session.execute(
            select(LEDGER.line_no, LEDGER.hard_key, LEDGER.quantity, LEDGER.status)
            .where(LEDGER.run_id == "run-1")
            .order_by(LEDGER.line_no)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("1", "H1", Decimal(10), "PAID"),
        ("2", "H2b", Decimal(4), "PENDING"),
    ]


def test_rows_are_stored_as_the_orm_stores_them(url: str) -> None:
    """The ledger's bulk writes hand the driver values converted by each column's own type
    (text decimals and dates on SQLite): a row recorded and settled must read back, raw, as
    the same row written by the ORM."""
    line = _line(1, "H1", quantity="12.500")._replace(net_quantity=Decimal("2.5"))
    _record(url, "bulk", [line])
    with session_scope(url) as session:
        decision = LineDecision(1, "adjust", Decimal("85.00"), ("28",))
        history.settle_claim(session, "bulk", _claim("DM1", 1), [decision], responded_on=ANSWERED)
        stamp = datetime(2024, 3, 16, 8, 30, 5, 123456, tzinfo=UTC)
        session.add(
            ClaimLineHistory(
                run_id="orm",
                wholesaler_id="DC1",
                dm_no="DM1",
                dm_date=date(2024, 3, 15),
                dm_purpose="00",
                status="PAID",
                paid_quantity=Decimal("2.5"),
                allowed_amount=Decimal("85.00"),
                recorded_at=stamp,
                resolved_at=stamp,
                responded_on=ANSWERED,
                **line._asdict(),
            )
        )

    with get_engine(url).connect() as conn:
        bulk, orm = (
            conn.execute(
                text("SELECT * FROM cb_claim_line_history WHERE run_id = :run"), {"run": run}
            )
            .one()
            ._asdict()
            for run in ("bulk", "orm")
        )
    stamps = ("id", "run_id", "recorded_at", "resolved_at")
    assert {k: v for k, v in bulk.items() if k not in stamps} == {
        k: v for k, v in orm.items() if k not in stamps
    }
    assert bulk["quantity"] in ("12.500", Decimal("12.500"))  # SQLite text, PostgreSQL numeric
    for column in ("recorded_at", "resolved_at"):
        assert type(bulk[column]) is type(orm[column])
        if isinstance(orm[column], str):  # SQLite's text: the same layout, digit for digit
            assert re.sub(r"\d", "9", bulk[column]) == re.sub(r"\d", "9", orm[column])
        else:
            assert bulk[column].utcoffset() == orm[column].utcoffset()
