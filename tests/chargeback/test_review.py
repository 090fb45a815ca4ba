"""The review queue on a real SQLite file: what is queued, once per run, without secrets."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.processors import StepContext, StepResult, Upstream
from processors.chargeback.claim import Claim, ClaimLine, Finding, Identifier, Party
from processors.chargeback.db import get_engine
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


def _run(tmp_path: Path, upstream: dict[str, Upstream], **config: Any) -> StepResult:
    return RouteToReview(config).process(_context(tmp_path, upstream))


def _failed_eligibility() -> dict[str, Upstream]:
    review = Finding(1, "R18", "review", "25", "possible LEIE match").to_json()
    return {
        "extract-identifiers": Upstream("Succeeded", {}, {"claim": CLAIM.to_json()}),
        "federal-db-validation": Upstream("Succeeded", {}, {"findings": [review]}),
        "contract-eligibility": Upstream(
            "Failed", {}, {"error": f"contract table unreadable (key {TOKEN})"}
        ),
    }


def test_a_failed_validation_queues_the_claim_with_the_reason(tmp_path: Path) -> None:
    result = _run(tmp_path, _failed_eligibility(), reason="validation failed")
    (item,) = _items(tmp_path)
    assert result.outputs["review_id"] == item.id
    assert item.reason == (
        "validation failed; contract-eligibility Failed: contract table unreadable "
        "(key [redacted:OPENAI_API_KEY]); line 1 R18: possible LEIE match"
    )
    assert result.outputs["reason"] == item.reason
    assert (item.debit_memo, item.wholesaler, item.status) == ("DM0315240012", "RA7301194", "OPEN")
    assert Claim.from_json(json.loads(item.claim or "null")) == CLAIM
    assert json.loads(item.failed_steps)["contract-eligibility"]["phase"] == "Failed"
    assert json.loads(item.findings)[0]["step"] == "federal-db-validation"
    assert TOKEN not in item.reason + item.failed_steps


def test_a_retried_or_resumed_run_queues_once(tmp_path: Path) -> None:
    first = _run(tmp_path, _failed_eligibility())
    second = _run(tmp_path, _failed_eligibility())
    assert second.outputs["review_id"] == first.outputs["review_id"]
    assert second.data["review"]["queued_now"] is False
    assert len(_items(tmp_path)) == 1
    other_run = RouteToReview({}).process(_context(tmp_path, _failed_eligibility(), "run-2"))
    assert other_run.outputs["review_id"] != first.outputs["review_id"]


def test_a_claim_that_could_not_be_read_is_queued_by_its_document(tmp_path: Path) -> None:
    upstream = {"extract-identifiers": Upstream("Error", {}, {})}
    result = _run(tmp_path, upstream)
    (item,) = _items(tmp_path)
    assert item.claim is None and item.debit_memo is None
    assert result.outputs["reason"] == (
        "extract-identifiers Error; the claim could not be read "
        "(document 'claims/dm0315240012.edi')"
    )


def test_malformed_findings_do_not_stop_the_review(tmp_path: Path) -> None:
    upstream = {
        **_failed_eligibility(),
        "duplicate-check": Upstream("Succeeded", {}, {"findings": "?"}),
    }
    result = _run(tmp_path, upstream)
    assert (
        "step 'duplicate-check' published findings that are not a list" in result.outputs["reason"]
    )
