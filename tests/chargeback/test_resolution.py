"""Resolution: findings folded into decisions, exact money, the 849 of the brief's example."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.processors import StepContext, StepFailed, StepResult, Upstream
from engine.processors import resolve as resolve_processor
from processors.chargeback.claim import ClaimLine, Finding, Outcome
from processors.chargeback.db import session_scope
from processors.chargeback.edi import parse_844
from processors.chargeback.reference import testing
from processors.chargeback.reference.history import LineRecord, record_lines
from processors.chargeback.reference.models import ClaimLineHistory
from processors.chargeback.reference.testing import intake
from processors.chargeback.resolution import ChargebackResolution, Evidence, decide_line, resolve

REPO = Path(__file__).resolve().parents[2]
#: The domain brief's example pair: the claim ships as a sample, its answer is a test fixture.
EXAMPLE_844 = REPO / "specs" / "samples" / "844_example.edi"
EXAMPLE_849 = REPO / "tests" / "fixtures" / "domain" / "849_example.edi"


def _segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def _finding(
    line: int, rule: str, outcome: Outcome, code: str | None, amount: str | None = None
) -> Any:
    return Finding(
        line, rule, outcome, code, f"{rule} says {outcome}", Decimal(amount) if amount else None
    ).to_json()


def _context(
    tmp_path: Path, upstream: dict[str, Upstream], database_url: str | None = None
) -> StepContext:
    claim = parse_844((EXAMPLE_844).read_text("utf-8"))
    url = database_url or f"sqlite:///{tmp_path / 'store.db'}"
    return StepContext(
        run_id="run-1",
        workflow="chargeback",
        step="chargeback-resolution",
        attempt=1,
        params={"document": str(EXAMPLE_844)},
        env={},
        upstream={
            "extract-identifiers": Upstream(
                "Succeeded", {"customer_count": 2}, dict(intake(claim, url).data)
            ),
            **upstream,
        },
        workdir=tmp_path,
        database_url=url,
    )


def _verdicts(rule: str, *given: Any) -> list[Any]:
    """``given`` findings plus a pass on every other line of the example: like the real rule
    steps, each judges every line, and resolution pays none it did not judge."""
    judged = {finding["line"] for finding in given}
    return [*given, *(_finding(n, rule, "pass", None) for n in (1, 2, 3, 4) if n not in judged)]


def _example_upstream() -> dict[str, Upstream]:
    """What the rule steps find for the example given its reference data (brief §2.4/2.5):
    line 3 claims contract price 80.00 where 82.50 is on file, line 4 re-claims a paid line."""
    return {
        "duplicate-check": Upstream(
            "Succeeded",
            {"is_duplicate": False},
            {"findings": _verdicts("R06", _finding(4, "R06", "reject", "28", "0.00"))},
        ),
        "contract-eligibility": Upstream(
            "Succeeded",
            {},
            {
                "findings": _verdicts("R08-R16", _finding(3, "R11", "adjust", "06", "255.00")),
                "prices": {
                    str(n): {"contract_price": cp, "wac": wac, "allowed_amount": "0"}
                    for n, cp, wac in [
                        (1, "82.50", "125.00"),
                        (2, "255.75", "310.00"),
                        (3, "82.50", "125.00"),
                        (4, "255.75", "310.00"),
                    ]
                },
            },
        ),
        "gpo-roster-validation": Upstream("Succeeded", {}, {"findings": _verdicts("R17")}),
        "federal-db-validation": Upstream("Succeeded", {}, {"findings": _verdicts("R18-R19")}),
    }


CONFIG = {"control_number": 9034, "response_time": "2024-03-22T09:00", "output_dir": "out"}


def test_example_claim_gets_the_example_849(tmp_path: Path) -> None:
    result = ChargebackResolution(CONFIG).process(_context(tmp_path, _example_upstream()))
    assert dict(result.outputs) == {
        "accepted": 2,
        "adjusted": 1,
        "rejected": 1,
        "pending": 0,
        "total_paid": "897.00",
        "response_path": str(tmp_path / "out" / "849-DM0315240012.edi"),
        "skipped_checks": [],
    }
    written = Path(str(result.outputs["response_path"])).read_text("utf-8")
    expected = (EXAMPLE_849).read_text("utf-8")
    assert _segments(written) == _segments(expected)
    decisions = {d["line"]: d for d in result.data["decisions"]}
    assert decisions[3]["contract_price"] == "82.50"
    assert decisions[3]["reason_codes"] == ["06"]
    assert decisions[4]["status"] == "reject" and decisions[4]["accepted_amount"] == "0.00"
    assert result.data["summary"]["submitted"] == "1183.25"
    assert result.data["subject"] == {"wholesaler": "RA7301194", "dm_no": "DM0315240012"}


def test_checks_not_made_pay_nothing_and_the_summary_names_them(tmp_path: Path) -> None:
    """A check that did not run passed nothing: the lines it should have judged are pended, not
    paid on the checks that did run; a rejection by a check that ran still stands."""
    upstream = _example_upstream()
    del upstream["federal-db-validation"]
    upstream["gpo-roster-validation"] = Upstream("Skipped", {}, {})
    result = ChargebackResolution(CONFIG).process(_context(tmp_path, upstream))
    assert result.outputs["skipped_checks"] == ["gpo-roster-validation", "federal-db-validation"]
    assert (result.outputs["accepted"], result.outputs["adjusted"]) == (0, 0)
    assert (result.outputs["pending"], result.outputs["rejected"]) == (3, 1)
    assert result.outputs["total_paid"] == "0.00"
    decisions = {d["line"]: (d["status"], d["reason_codes"]) for d in result.data["decisions"]}
    assert decisions == {
        1: ("pend", ["25"]),
        2: ("pend", ["25"]),
        3: ("pend", ["25"]),
        4: ("reject", ["28"]),
    }
    text = Path(result.data["summary"]["summary_path"]).read_text("utf-8")
    missing = "gpo-roster-validation (Skipped), federal-db-validation (not in this workflow)"
    assert "| 3 | 12345678901 | 6 | 270.00 | 0.00 | Pending review | 25 |" in text
    assert f"every check judged it; missing: {missing} |" in text
    assert "- gpo-roster-validation: Skipped" in text
    assert "- federal-db-validation: not in this workflow" in text
    assert "allowed: **0.00**" in text
    assert f"checks not made, so no line is paid on them: {missing}" in result.data["report"]


def test_decisions_settle_the_claim_line_ledger_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = parse_844((EXAMPLE_844).read_text("utf-8"))
    with session_scope(url) as session:  # what duplicate-check leaves behind
        record_lines(
            session,
            run_id="run-1",
            wholesaler_id="RA7301194",
            dm_no="DM0315240012",
            dm_date=claim.claim_date,
            dm_purpose="00",
            lines=[
                LineRecord(
                    str(line.line),
                    f"k{line.line}",
                    f"s{line.line}",
                    "INV",
                    "1",
                    None,
                    "NDC",
                    "CUST",
                    "C",
                    line.quantity or Decimal(0),
                    line.claimed_amount or Decimal(0),
                    None,
                )
                for line in claim.lines
            ],
        )
    result = ChargebackResolution(CONFIG).process(_context(tmp_path, _example_upstream(), url))
    assert result.data["summary"]["ledger_rows_settled"] == 4
    with session_scope(url) as session:
        rows = session.scalars(select(ClaimLineHistory).order_by(ClaimLineHistory.line_no)).all()
        settled = [(r.status, r.paid_quantity, r.allowed_amount, r.responded_on) for r in rows]
    answered = date(
        2024, 3, 22
    )  # the 849's date (CONFIG response_time): resubmissions count from it
    assert settled == [
        ("PAID", Decimal(10), Decimal("425.00"), answered),
        ("PAID", Decimal(4), Decimal("217.00"), answered),
        ("PAID", Decimal(6), Decimal("255.00"), answered),
        ("REJECTED", None, Decimal("0.00"), answered),
    ]
    again = ChargebackResolution(CONFIG).process(_context(tmp_path, _example_upstream(), url))
    assert again.data["summary"]["ledger_rows_settled"] == 0


def test_malformed_prices_fail_clearly(tmp_path: Path) -> None:
    bad = {"contract-eligibility": Upstream("Succeeded", {}, {"prices": {"3": {"wac": "12,50"}}})}
    with pytest.raises(StepFailed, match="step 'contract-eligibility' published unreadable prices"):
        ChargebackResolution(CONFIG).process(_context(tmp_path, bad))


def test_malformed_findings_and_a_missing_claim_fail_clearly(tmp_path: Path) -> None:
    bad = {"duplicate-check": Upstream("Succeeded", {}, {"findings": [{"line": "x"}]})}
    with pytest.raises(StepFailed, match="finding 0 of step 'duplicate-check' is malformed"):
        ChargebackResolution(CONFIG).process(_context(tmp_path, bad))
    context = _context(tmp_path, {})
    orphan = StepContext(**{**context.__dict__, "upstream": {}})
    with pytest.raises(StepFailed, match="no claim found"):
        ChargebackResolution(CONFIG).process(orphan)
    with pytest.raises(StepFailed, match="YYYY-MM-DD"):
        ChargebackResolution({"response_time": "22/03/2024"})


# --- one line at a time ---------------------------------------------------------------------


def _line(
    wac: str = "125.00", cp: str = "82.50", qty: str = "10", claimed: str = "425.00"
) -> ClaimLine:
    return ClaimLine(
        line=1,
        line_id="1",
        wac=Decimal(wac),
        contract_price=Decimal(cp),
        quantity=Decimal(qty),
        claimed_amount=Decimal(claimed),
    )


def _f(
    outcome: Outcome, code: str | None, amount: str | None = None, rule: str = "R11", line: int = 1
) -> Finding:
    return Finding.from_json(_finding(line, rule, outcome, code, amount))


def test_clean_line_is_accepted_as_claimed() -> None:
    d = decide_line(_line(), []).decision
    assert (d.status, d.accepted_amount, d.reason_codes) == ("accept", Decimal("425.00"), ())


def test_reject_beats_review_beats_adjust_and_codes_follow_rule_order() -> None:
    findings = [
        _f("adjust", "06", "300.00"),
        _f("reject", "26", rule="R17"),
        _f("reject", "01", rule="R08"),
    ]
    d = decide_line(_line(), findings).decision
    assert (d.status, d.accepted_amount, d.reason_codes) == (
        "reject",
        Decimal("0.00"),
        ("01", "26"),
    )
    d = decide_line(
        _line(), [_f("adjust", "06", "300.00"), _f("review", None, rule="R18")]
    ).decision
    assert (d.status, d.accepted_amount, d.reason_codes) == ("pend", Decimal("0.00"), ("25",))


def test_debit_memo_level_finding_applies_to_every_line() -> None:
    d = decide_line(_line(), [_f("reject", "11", rule="R05", line=0)]).decision
    assert (d.status, d.reason_codes) == ("reject", ("11",))


def test_several_adjustments_pay_the_lowest() -> None:
    findings = [_f("adjust", "06", "300.00", "R11"), _f("adjust", "07", "350.00", "R12")]
    d = decide_line(_line(), findings).decision
    assert (d.status, d.accepted_amount, d.reason_codes) == (
        "adjust",
        Decimal("300.00"),
        ("06", "07"),
    )


def test_prices_on_file_travel_with_the_decision() -> None:
    # WAC on file 120.00 instead of 125.00: (120.00 - 82.50) x 10 = 375.00
    on_file = {"contract_price": Decimal("82.50"), "wac": Decimal("120.00")}
    d = decide_line(_line(), [_f("adjust", "07", "375.00", "R12")], on_file).decision
    assert (d.wac, d.contract_price, d.accepted_amount) == (
        Decimal("120.00"),
        Decimal("82.50"),
        Decimal("375.00"),
    )
    d = decide_line(_line(), []).decision
    assert (d.wac, d.contract_price) == (None, None)  # nothing on file: the 849 echoes the claim


def test_wrong_claimed_amount_is_adjusted_to_the_half_up_arithmetic() -> None:
    # (7.0050 - 5.0000) x 5 = 10.025 -> 10.03 half-up (banker's rounding would give 10.02)
    d = decide_line(_line("7.0050", "5.0000", "5", "11.00"), []).decision
    assert (d.status, d.accepted_amount, d.reason_codes) == ("adjust", Decimal("10.03"), ("06",))
    # one cent off is within tolerance: accepted as claimed
    d = decide_line(_line("7.0050", "5.0000", "5", "10.02"), []).decision
    assert (d.status, d.accepted_amount) == ("accept", Decimal("10.02"))


def test_an_adjustment_paying_more_than_claimed_is_held_for_review() -> None:
    """Issue 13: a decimal slip (42.50 claimed for 425.00 of spread) would have been adjusted
    up to 10x the claim and paid; a correction in the wholesaler's favour waits for a person.
    The same slip the other way (4250.00 claimed) is corrected down and paid as before."""
    slip = decide_line(_line(claimed="42.50"), [])
    assert (slip.decision.status, slip.decision.accepted_amount) == ("pend", Decimal("0.00"))
    assert slip.decision.reason_codes == ("06", "25")
    assert slip.reasons[-1] == (
        "resolution: pending, the adjustment would pay 425.00, more than the 42.50 claimed; "
        "an upward adjustment is paid only after review"
    )
    # a WAC claimed below the one on file: the rule step's allowed amount is above the claim
    low_wac = decide_line(_line("120.00", claimed="375.00"), [_f("adjust", "07", "425.00", "R12")])
    assert (low_wac.decision.status, low_wac.decision.reason_codes) == ("pend", ("07", "25"))
    down = decide_line(_line(claimed="4250.00"), []).decision
    assert (down.status, down.accepted_amount, down.reason_codes) == (
        "adjust",
        Decimal("425.00"),
        ("06",),
    )


def test_contract_price_not_below_wac_pays_nothing() -> None:
    d = decide_line(_line("80.00", "82.50", "10", "0.00"), []).decision
    assert (d.status, d.accepted_amount, d.reason_codes) == ("adjust", Decimal("0.00"), ("17",))
    d = decide_line(_line(), [_f("adjust", "06", "-25.00")]).decision  # never a negative payment
    assert (d.accepted_amount, d.reason_codes) == (Decimal("0.00"), ("06", "17"))


def test_credit_line_keeps_its_negative_amount() -> None:
    d = decide_line(_line(qty="-10", claimed="-425.00"), []).decision
    assert (d.status, d.accepted_amount) == ("accept", Decimal("-425.00"))


def test_a_rebill_is_paid_only_together_with_the_credit_it_follows() -> None:
    """A rebill paid in full because a credit in the same claim reverses the earlier payment
    (duplicate-check's ``contingent_on``) is pended when that credit is not paid: paying it
    alone would pay the sale twice."""
    claim = testing.claim(
        testing.claim_line(1, testing.party(), quantity="-10"),
        testing.claim_line(2, testing.party(), quantity="12"),
    )
    judged = [_f("pass", None, line=1), _f("pass", None, line=2)]
    paid = Evidence(tuple(("duplicate-check", f) for f in judged), ("duplicate-check",))
    paid = replace(paid, contingent={2: (1,)})
    assert [r.decision.status for r in resolve(claim, paid)] == ["accept", "accept"]

    rejected = replace(
        paid,
        findings=(*paid.findings, ("contract-eligibility", _f("reject", "02", rule="R09"))),
    )
    credit, rebill = resolve(claim, rejected)
    assert credit.decision.status == "reject"
    assert (rebill.decision.status, rebill.decision.reason_codes) == ("pend", ("25",))
    assert rebill.decision.accepted_amount == Decimal("0.00")
    assert rebill.reasons[-1] == (
        "resolution: pending, paid only together with line 1 (reject), which is not paid"
    )


def test_line_without_prices_is_rejected_as_missing_data() -> None:
    line = ClaimLine(line=1, line_id="1", quantity=Decimal(1), claimed_amount=Decimal("1.00"))
    d = decide_line(line, []).decision
    assert (d.status, d.reason_codes) == ("reject", ("15",))


def test_the_real_rule_steps_on_the_shipped_reference_data_give_the_example_849(
    tmp_path: Path,
) -> None:
    """End to end through every chargeback processor, in the spec's order, on one store."""
    chain = [
        ("extract-identifiers", "chargeback.extract-identifiers", {}),
        ("duplicate-check", "chargeback.duplicate-check", {}),
        ("contract-eligibility", "chargeback.contract-eligibility", {}),
        ("gpo-roster-validation", "chargeback.gpo-roster-validation", {}),
        ("federal-db-validation", "chargeback.federal-db-validation", {}),
        ("sap-customer-creation", "chargeback.sap-customer-creation", {}),
        ("chargeback-resolution", "chargeback.chargeback-resolution", CONFIG),
    ]
    upstream: dict[str, Upstream] = {}
    for name, processor, config in chain:
        context = StepContext(
            run_id="run-1",
            workflow="chargeback",
            step=name,
            attempt=1,
            params={"document": str(EXAMPLE_844)},
            env={},
            upstream=dict(upstream),
            workdir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'store.db'}",
        )
        result = resolve_processor(processor)(config).process(context)
        assert isinstance(result, StepResult)
        upstream[name] = Upstream("Succeeded", result.outputs, result.data)
    outputs = upstream["chargeback-resolution"].outputs
    assert outputs["total_paid"] == "897.00"
    written = Path(str(outputs["response_path"])).read_text("utf-8")
    assert _segments(written) == _segments((EXAMPLE_849).read_text("utf-8"))


def test_report_table_lines_up_its_columns(tmp_path: Path) -> None:
    result = ChargebackResolution(CONFIG).process(_context(tmp_path, _example_upstream()))
    rows = result.data["report"].splitlines()[:5]
    header, line3 = rows[0], rows[3]
    assert header.split() == ["line", "NDC", "qty", "submitted", "allowed", "decision", "codes"]
    assert line3.split() == ["3", "12345678901", "6", "270.00", "255.00", "Adjusted", "06"]
    for title, cell in zip(header.split(), line3.split(), strict=True):
        assert header.index(title) == line3.index(cell, header.index(title))
    assert all(row == row.rstrip() for row in rows)
