"""duplicate-check: R05 duplicate debit memos, R06 duplicate lines, R07 resubmission deltas,
credits, soft-key review, duplicate customers, and an idempotent ledger (brief §1.5, §9.5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.processors import StepFailed, StepResult
from processors.chargeback.claim import Claim, LineDecision, decode_findings
from processors.chargeback.db import session_scope
from processors.chargeback.duplicates import DuplicateCheck
from processors.chargeback.reference import history, testing
from processors.chargeback.reference.models import ClaimLineHistory
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)

HOSPITAL = {"dea": "BS4182301", "hin": "A1B2C3D00"}
#: the 849 date of the lines the tests settle, a week after the claims' debit memo date
ANSWERED = date(2024, 3, 22)
CLINIC = {"dea": "FR5529017", "hin": "R7K2M9P00"}


def history_row(**kw: Any) -> dict[str, Any]:
    row = {
        "wholesaler_id": "DC1",
        "dm_no": "DM-OLD",
        "line_no": "1",
        "invoice_no": "INV1",
        "invoice_line": "1",
        "invoice_date": "2024-03-04",
        "ndc11": "12345678901",
        "customer_key": "0000000001",
        "quantity": "10",
        "amount": "425.00",
        "status": "PAID",
        "paid_quantity": "10",
        "allowed_amount": "425.00",
    }
    row.update(kw)
    return row


def store(tmp_path: Path, *rows: dict[str, Any]) -> str:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    ref = ReferenceSet()
    ref.add("sap_customers", kunnr="1", name1="ST ELSEWHERE GENERAL HOSPITAL", **HOSPITAL)
    ref.add("sap_customers", kunnr="2", name1="RIVERBEND COMMUNITY CLINIC", **CLINIC)
    ref.add("wholesaler_dc", dc_key="DC1", dea="RA7301194")
    for row in rows:
        ref.add("claim_history", **row)
    ref.load(tmp_path / "ref", url)
    return url


def run(
    the_claim: Claim, url: str, tmp_path: Path, run_id: str = "run-1", **config: Any
) -> StepResult:
    return DuplicateCheck(config).process(step_context(the_claim, url, tmp_path, run_id))


def findings(result: StepResult) -> list[tuple[int, str, str | None, Decimal | None]]:
    return [
        (f.line, f.outcome, f.code, f.amount)
        for f in decode_findings(result.data["findings"])
    ]


def ledger(url: str) -> list[ClaimLineHistory]:
    with session_scope(url) as s:
        return list(
            s.scalars(
                select(ClaimLineHistory)
                .where(ClaimLineHistory.run_id != "reference")
                .order_by(ClaimLineHistory.id)
            )
        )


def settle(url: str, the_claim: Claim, run_id: str, *decisions: LineDecision) -> int:
    """Resolution's settling of ``decisions``, answered by an 849 a week after the claim."""
    with session_scope(url) as s:
        return history.settle_claim(s, run_id, the_claim, decisions, responded_on=ANSWERED)


def test_line_paid_for_the_same_quantity_is_rejected_28(tmp_path: Path) -> None:
    url = store(tmp_path, history_row())
    result = run(claim(claim_line(1, party(**HOSPITAL))), url, tmp_path)
    assert findings(result) == [(1, "reject", "28", Decimal("0.00"))]
    assert dict(result.outputs) == {
        "is_duplicate": True,
        "duplicate_lines": 1,
        "duplicate_customers": 0,
    }


def test_resubmission_with_a_higher_quantity_pays_only_the_delta(tmp_path: Path) -> None:
    """Brief §9.5: paid 10, claimed again as 12: pay 2."""
    url = store(tmp_path, history_row())
    result = run(claim(claim_line(1, party(**HOSPITAL), quantity="12")), url, tmp_path)
    assert findings(result) == [(1, "adjust", "28", Decimal("85.00"))]  # 2 x (125.00 - 82.50)
    assert result.data["net_quantity"] == {"1": "2"}
    assert result.outputs["is_duplicate"] is False
    settle(
        url,
        claim(claim_line(1, party(**HOSPITAL), quantity="12")),
        "run-1",
        LineDecision(1, "adjust", Decimal("85.00"), ("28",)),
    )
    (row,) = ledger(url)
    assert (row.status, row.paid_quantity, row.allowed_amount) == (
        "PAID",
        Decimal(2),
        Decimal("85.00"),
    )
    # a third claim of 12 is now fully paid (10 + 2): a duplicate
    again = run(
        claim(claim_line(1, party(**HOSPITAL), quantity="12"), debit_memo="DM0003"),
        url,
        tmp_path,
        "run-2",
    )
    assert findings(again) == [(1, "reject", "28", Decimal("0.00"))]


def test_a_lower_quantity_than_paid_is_a_duplicate_r07(tmp_path: Path) -> None:
    url = store(tmp_path, history_row())
    result = run(claim(claim_line(1, party(**HOSPITAL), quantity="8")), url, tmp_path)
    (finding,) = decode_findings(result.data["findings"])
    assert (finding.rule, finding.outcome, finding.code) == ("R07", "reject", "28")


def test_a_reversal_is_a_credit_not_a_duplicate_and_allows_the_rebill(tmp_path: Path) -> None:
    url = store(tmp_path, history_row())
    credit = claim(claim_line(1, party(**HOSPITAL), quantity="-10"))
    result = run(credit, url, tmp_path)
    assert findings(result) == [(1, "pass", None, None)]
    assert result.outputs["is_duplicate"] is False
    settle(url, credit, "run-1", LineDecision(1, "accept", Decimal("-425.00")))
    rebill = run(
        claim(claim_line(1, party(**HOSPITAL)), debit_memo="DM0002"), url, tmp_path, "run-2"
    )
    assert findings(rebill) == [(1, "pass", None, None)]
    assert "rebill after credit" in decode_findings(rebill.data["findings"])[0].message


def test_a_credit_and_its_rebill_in_one_debit_memo_pay_the_whole_rebill(tmp_path: Path) -> None:
    """Issue 13: paid 10, then one claim credits the 10 and rebills 12. The credit reverses
    the payment first, so the rebill is not a resubmission paying the delta of 2 but a fresh
    sale of 12 (-425 + 510), paid only together with the credit; the ledger then holds 12."""
    url = store(tmp_path, history_row())
    both = claim(
        claim_line(1, party(**HOSPITAL), quantity="-10"),
        claim_line(2, party(**HOSPITAL), quantity="12"),
    )
    result = run(both, url, tmp_path)
    assert findings(result) == [(1, "pass", None, None), (2, "pass", None, None)]
    rebill = decode_findings(result.data["findings"])[1].message
    assert (
        rebill
        == "rebill after credit (DM DM-OLD line 1 less the credit on line 1 of this debit memo)"
    )
    assert result.data["contingent_on"] == {"2": [1]}
    assert result.data["net_quantity"] == {}
    settle(
        url,
        both,
        "run-1",
        LineDecision(1, "accept", Decimal("-425.00")),
        LineDecision(2, "accept", Decimal("510.00")),
    )
    with session_scope(url) as s:
        paid = s.scalars(select(ClaimLineHistory.paid_quantity)).all()
    assert sum(paid, Decimal(0)) == Decimal(12)


def test_a_partial_credit_leaves_the_rest_paid_and_the_rebill_pays_the_delta(
    tmp_path: Path,
) -> None:
    """Paid 10, credited 4 and rebilled 12 in one claim: 6 stay paid, so 6 more are due."""
    url = store(tmp_path, history_row())
    both = claim(
        claim_line(1, party(**HOSPITAL), quantity="-4"),
        claim_line(2, party(**HOSPITAL), quantity="12"),
    )
    result = run(both, url, tmp_path)
    assert findings(result) == [(1, "pass", None, None), (2, "adjust", "28", Decimal("255.00"))]
    assert result.data["net_quantity"] == {"2": "6"}
    assert result.data["contingent_on"] == {"2": [1]}


def rejected(response_date: str = "2024-03-01") -> dict[str, Any]:
    """The history row of a line an 849 of ``response_date`` rejected."""
    return history_row(
        status="REJECTED", paid_quantity="", allowed_amount="0.00", response_date=response_date
    )


def test_a_previously_rejected_line_is_a_resubmission_linked_to_it(tmp_path: Path) -> None:
    url = store(tmp_path, rejected())
    result = run(claim(claim_line(1, party(**HOSPITAL))), url, tmp_path)
    assert findings(result) == [(1, "pass", None, None)]
    assert decode_findings(result.data["findings"])[0].message == (
        "resubmission of a rejected line (DM DM-OLD line 1), 14 days after its 849"
    )
    (row,) = ledger(url)
    assert row.original_id is not None


def test_a_rejected_line_resubmitted_past_the_limit_is_rejected_29(tmp_path: Path) -> None:
    """Brief §1.4: a rejected line may be sent again until 90 days after the 849 (issue 13:
    157 days after it was accepted). The debit memo resubmitting it is dated 2024-03-15."""
    url = store(tmp_path, rejected("2023-10-10"))
    resent = claim(claim_line(1, party(**HOSPITAL)))
    result = run(resent, url, tmp_path)
    assert findings(result) == [(1, "reject", "29", Decimal("0.00"))]
    (finding,) = decode_findings(result.data["findings"])
    assert finding.rule == "R06-resubmission"
    assert finding.message == (
        "resubmitted 157 days after the 849 of 2023-10-10 that rejected it (DM DM-OLD line 1); "
        "the resubmission limit is 90 days"
    )
    longer = run(resent, url, tmp_path, resubmission_limit_days=180)  # the same run, again
    assert findings(longer) == [(1, "pass", None, None)]


def test_on_the_last_day_of_the_limit_a_resubmission_is_in_time(tmp_path: Path) -> None:
    url = store(tmp_path, rejected("2023-12-16"))  # 90 days before the debit memo
    result = run(claim(claim_line(1, party(**HOSPITAL))), url, tmp_path)
    assert findings(result) == [(1, "pass", None, None)]


def test_a_rejection_without_its_849_date_holds_the_resubmission(tmp_path: Path) -> None:
    """History loaded without response_date: the limit cannot be checked, so a person looks."""
    url = store(tmp_path, rejected(""))
    result = run(claim(claim_line(1, party(**HOSPITAL))), url, tmp_path)
    assert findings(result) == [(1, "review", "25", None)]
    assert "849 date is not on file" in decode_findings(result.data["findings"])[0].message


def test_same_line_pending_in_another_run_goes_to_review(tmp_path: Path) -> None:
    url = store(tmp_path)
    run(claim(claim_line(1, party(**HOSPITAL))), url, tmp_path, "run-1")
    other = run(
        claim(claim_line(1, party(**HOSPITAL)), debit_memo="DM0002"), url, tmp_path, "run-2"
    )
    assert findings(other) == [(1, "review", "25", None)]
    assert (
        "still pending" in decode_findings(other.data["findings"])[0].message
        and "run-1" in decode_findings(other.data["findings"])[0].message
    )


def test_renumbered_invoice_line_is_a_soft_key_match_for_review(tmp_path: Path) -> None:
    url = store(tmp_path, history_row(invoice_line="7"))
    result = run(claim(claim_line(1, party(**HOSPITAL), invoice_line="1")), url, tmp_path)
    assert findings(result) == [(1, "review", "25", None)]
    assert "another invoice line number" in decode_findings(result.data["findings"])[0].message


def test_debit_memo_resent_as_original_is_rejected_11_but_a_replacement_is_netted(
    tmp_path: Path,
) -> None:
    url = store(tmp_path, history_row(dm_no="DM0001"))
    resent = run(claim(claim_line(1, party(**CLINIC), invoice_number="INV9")), url, tmp_path)
    assert (0, "reject", "11", None) in findings(resent)
    assert resent.outputs["is_duplicate"] is True and resent.outputs["duplicate_lines"] == 1
    replacement = run(
        claim(claim_line(1, party(**HOSPITAL), quantity="12"), purpose="05"), url, tmp_path, "run-2"
    )
    assert findings(replacement) == [(0, "pass", None, None), (1, "adjust", "28", Decimal("85.00"))]
    assert replacement.outputs["is_duplicate"] is False


def test_the_same_invoice_line_twice_in_one_debit_memo(tmp_path: Path) -> None:
    url = store(tmp_path)
    result = run(
        claim(claim_line(1, party(**HOSPITAL)), claim_line(2, party(**HOSPITAL))), url, tmp_path
    )
    assert findings(result) == [(1, "pass", None, None), (2, "reject", "28", Decimal("0.00"))]
    assert "line 1 of this debit memo" in decode_findings(result.data["findings"])[1].message
    assert result.outputs["duplicate_lines"] == 1 and result.outputs["is_duplicate"] is False


def test_recording_is_idempotent_per_run_and_line(tmp_path: Path) -> None:
    """A retried or resumed step neither double-records nor flags its own earlier attempt."""
    url = store(tmp_path)
    the_claim = claim(
        claim_line(1, party(**HOSPITAL)), claim_line(2, party(**CLINIC), invoice_number="INV2")
    )
    first = run(the_claim, url, tmp_path, "run-1")
    second = run(the_claim, url, tmp_path, "run-1")
    assert first.data["findings"] == second.data["findings"]
    rows = ledger(url)
    assert [(r.run_id, r.dm_no, r.line_no, r.status) for r in rows] == [
        ("run-1", "DM0001", "1", "PENDING"),
        ("run-1", "DM0001", "2", "PENDING"),
    ]
    assert rows[0].hard_key == "DC1|INV1|1|12345678901|0000000001"
    assert (
        settle(
            url,
            the_claim,
            "run-1",
            LineDecision(1, "accept", Decimal("425.00")),
            LineDecision(2, "reject", Decimal("0.00"), ("26",)),
        )
        == 2
    )
    run(the_claim, url, tmp_path, "run-1")  # a late retry must not reopen settled lines
    assert [r.status for r in ledger(url)] == ["PAID", "REJECTED"]


def test_dry_run_records_nothing(tmp_path: Path) -> None:
    url = store(tmp_path)
    run(claim(claim_line(1, party(**HOSPITAL))), url, tmp_path, record=False)
    assert ledger(url) == []


def test_customer_key_is_canonical_whatever_identifier_was_sent(tmp_path: Path) -> None:
    url = store(tmp_path, history_row())
    by_hin_only = run(claim(claim_line(1, party(hin=HOSPITAL["hin"]))), url, tmp_path)
    assert findings(by_hin_only) == [(1, "reject", "28", Decimal("0.00"))]


def test_customer_added_to_the_master_later_is_still_the_same_customer(tmp_path: Path) -> None:
    url = store(tmp_path)
    new = {"dea": "AB1234563"}
    first = claim(claim_line(1, party("NEW PHARMACY", **new)))
    run(first, url, tmp_path, "run-1")
    assert ledger(url)[0].customer_key == "DEA:AB1234563"
    settle(url, first, "run-1", LineDecision(1, "accept", Decimal("425.00")))
    ReferenceSet("2024-03-20").add("sap_customers", kunnr="3", name1="NEW PHARMACY", **new).load(
        tmp_path / "ref2", url
    )
    again = run(
        claim(claim_line(1, party("NEW PHARMACY", **new)), debit_memo="DM0009"),
        url,
        tmp_path,
        "run-2",
    )
    assert findings(again) == [(1, "reject", "28", Decimal("0.00"))]


def test_identifiers_of_different_customer_records_are_a_duplicate_customer(tmp_path: Path) -> None:
    """Brief §9.8: the DEA maps to the hospital, the HIN to the clinic: pend, do not pick."""
    url = store(tmp_path)
    mixed = party(dea=HOSPITAL["dea"], hin=CLINIC["hin"])
    result = run(claim(claim_line(1, mixed)), url, tmp_path)
    assert (1, "review", "25", None) in findings(result)
    assert result.outputs["duplicate_customers"] == 1
    message = next(f.message for f in decode_findings(result.data["findings"]) if f.rule == "R06-customer")
    assert "DEA:BS4182301 -> 0000000001" in message and "HIN:R7K2M9P00 -> 0000000002" in message


def test_one_identifier_sent_for_two_differently_named_customers(tmp_path: Path) -> None:
    url = store(tmp_path)
    result = run(
        claim(
            claim_line(1, party("NORTH CLINIC", dea="AB1234563")),
            claim_line(2, party("SOUTH CLINIC", dea="AB1234563"), invoice_number="INV2"),
        ),
        url,
        tmp_path,
    )
    assert result.outputs["duplicate_customers"] == 1
    assert [f for f in findings(result) if f[1] == "review"] == [
        (1, "review", "25", None),
        (2, "review", "25", None),
    ]


def test_line_without_invoice_number_cannot_be_keyed(tmp_path: Path) -> None:
    url = store(tmp_path)
    result = run(claim(claim_line(1, party(**HOSPITAL), invoice_number=None)), url, tmp_path)
    assert findings(result) == [(1, "reject", "15", None)]
    assert ledger(url) == []


def test_step_needs_a_claim_and_a_store(tmp_path: Path) -> None:
    url = store(tmp_path)
    bare = testing.context(tmp_path, {}, url, step="duplicate-check")
    with pytest.raises(StepFailed, match="no claim found in any upstream step"):
        DuplicateCheck({}).process(bare)
    with pytest.raises(StepFailed, match="needs the store"):
        stored = testing.intake(claim(claim_line(1, party(**HOSPITAL))), url)
        DuplicateCheck({}).process(testing.context(tmp_path, {"intake": stored}, ""))
