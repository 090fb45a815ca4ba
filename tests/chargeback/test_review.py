"""The review queue on a real SQLite file: what is queued, once per run, without secrets,
and that the step then fails, since a queued claim is not a decided one."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.processors import StepContext, StepFailed, Upstream
from processors.chargeback.claim import (
    Claim,
    ClaimLine,
    Finding,
    Identifier,
    LineDecision,
    Party,
)
from processors.chargeback.db import get_engine, session_scope
from processors.chargeback.reference import history
from processors.chargeback.reference.models import ClaimLineHistory
from processors.chargeback.reference.testing import intake
from processors.chargeback.review import ReviewItem, RouteToReview

TOKEN = "sk-live-abcdef0123456789"
DISTRIBUTOR = Party("DS", "ACME DRUG DC 012", (Identifier("dea", "RA7301194", True),))
CLAIM = Claim(
    "x12-844",
    "x12-844",
    "0" * 64,
    "DM0315240012",
    None,
    (ClaimLine(line=1, line_id="1", quantity=Decimal(1)),),
    distributor=DISTRIBUTOR,
)


def _context(tmp_path: Path, upstream: dict[str, Upstream], run_id: str = "run-1") -> StepContext:
    return StepContext(
        run_id=run_id,
        workflow="chargeback",
        step="manual-review",
        attempt=1,
        params={"document": "claims/dm0315240012.edi"},
        env={"OPENAI_API_KEY": TOKEN},
        upstream=upstream,
        workdir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
    )


def _items(tmp_path: Path) -> list[ReviewItem]:
    with Session(get_engine(f"sqlite:///{tmp_path / 'store.db'}")) as session:
        return list(session.scalars(select(ReviewItem).order_by(ReviewItem.id)))


def _run(
    tmp_path: Path, upstream: dict[str, Upstream], run_id: str = "run-1", **config: Any
) -> str:
    """The step's failure message: it always fails once the claim is queued."""
    with pytest.raises(StepFailed, match="^not decided: the claim is queued") as failed:
        RouteToReview(config).process(_context(tmp_path, upstream, run_id))
    return str(failed.value)


def _failed_eligibility(tmp_path: Path) -> dict[str, Upstream]:
    review = Finding(1, "R18", "review", "25", "possible LEIE match").to_json()
    return {
        "extract-identifiers": intake(CLAIM, f"sqlite:///{tmp_path / 'store.db'}"),
        "federal-db-validation": Upstream("Succeeded", {}, {"findings": [review]}),
        "contract-eligibility": Upstream(
            "Failed", {}, {"error": f"contract table unreadable (key {TOKEN})"}
        ),
    }


def test_a_failed_validation_queues_the_claim_with_the_reason(tmp_path: Path) -> None:
    message = _run(tmp_path, _failed_eligibility(tmp_path), reason="validation failed")
    (item,) = _items(tmp_path)
    assert item.reason == (
        "validation failed; contract-eligibility Failed: contract table unreadable "
        "(key ***); line 1 R18: possible LEIE match"
    )
    assert (
        message
        == f"not decided: the claim is queued for manual review as item {item.id}: {item.reason}"
    )
    assert (item.debit_memo, item.wholesaler, item.status) == ("DM0315240012", "RA7301194", "OPEN")
    assert Claim.from_json(json.loads(item.claim or "null")) == CLAIM
    assert json.loads(item.failed_steps)["contract-eligibility"]["phase"] == "Failed"
    assert json.loads(item.findings)[0]["step"] == "federal-db-validation"
    assert TOKEN not in item.reason + item.failed_steps


def test_a_retried_or_resumed_run_queues_once(tmp_path: Path) -> None:
    first = _run(tmp_path, _failed_eligibility(tmp_path))
    second = _run(tmp_path, _failed_eligibility(tmp_path))
    assert second == first
    assert len(_items(tmp_path)) == 1
    _run(tmp_path, _failed_eligibility(tmp_path), "run-2")
    assert [item.run_id for item in _items(tmp_path)] == ["run-1", "run-2"]


def test_a_claim_that_could_not_be_read_is_queued_by_its_document(tmp_path: Path) -> None:
    upstream = {"extract-identifiers": Upstream("Error", {}, {})}
    _run(tmp_path, upstream)
    (item,) = _items(tmp_path)
    assert item.claim is None and item.debit_memo is None
    assert item.reason == (
        "extract-identifiers Error; the claim could not be read "
        "(document 'claims/dm0315240012.edi')"
    )


def test_malformed_findings_do_not_stop_the_review(tmp_path: Path) -> None:
    upstream = {
        **_failed_eligibility(tmp_path),
        "duplicate-check": Upstream("Succeeded", {}, {"findings": "?"}),
    }
    message = _run(tmp_path, upstream)
    assert "step 'duplicate-check' published findings that are not a list" in message


def _record(url: str, run_id: str, line_no: str) -> None:
    """What duplicate-check records of one line of the claim, under ``run_id``."""
    line = history.LineRecord(
        line_no=line_no,
        hard_key=f"hard{line_no}",
        soft_key=f"soft{line_no}",
        invoice_no="INV1",
        invoice_line=line_no,
        invoice_date=None,
        ndc11="12345678901",
        customer_key="0000100001",
        contract_id="NWP-GPO-00117",
        quantity=Decimal(1),
        amount=Decimal("1.00"),
        net_quantity=Decimal(1),
    )
    with session_scope(url) as session:
        history.record_lines(
            session,
            run_id=run_id,
            wholesaler_id="RA7301194",
            dm_no="DM0315240012",
            dm_date=None,
            dm_purpose="00",
            lines=[line],
        )


def test_the_claim_lines_of_the_undecided_run_are_released(tmp_path: Path) -> None:
    """The run did not decide the claim, so it is not received: the lines duplicate-check
    recorded for it go, and a resend is neither a duplicate debit memo nor a pending line.
    Another run's lines, and lines a resolution settled, stay."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _record(url, "run-1", "1")
    _record(url, "run-0", "1")
    with session_scope(url) as session:  # recorded by runs still deciding: not received yet
        assert history.debit_memo_seen(session, "RA7301194", "DM0315240012", "run-2") is None
        pended = [LineDecision(1, "pend", Decimal("0.00"))]
        history.settle_claim(session, "run-0", CLAIM, pended, responded_on=date(2024, 3, 22))
    _record(url, "run-1", "2")
    with session_scope(url) as session:
        seen = history.debit_memo_seen(session, "RA7301194", "DM0315240012", "run-2")
        assert seen is not None and seen.run_id == "run-0"  # decided, if only pended
    _run(tmp_path, _failed_eligibility(tmp_path))
    with Session(get_engine(url)) as session:
        left = session.execute(select(ClaimLineHistory.run_id, ClaimLineHistory.line_no))
        assert sorted(left) == [("run-0", "1")]
