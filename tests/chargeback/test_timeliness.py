"""R15 timeliness (brief §1.4, §8 R15): late claims 29, invoices after the DM or processing date 18."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from engine.processors import StepFailed
from processors.chargeback.claim import decode_findings
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)
from processors.chargeback.timeliness import line_timeliness, processing_date, timeliness_findings

DM = date(2024, 3, 15)
TODAY = date(2024, 3, 20)
HOSPITAL = party(hin="A1B2C3D00")


def verdict(
    invoice: str | None, dm: date | None = DM, today: date = TODAY, window: int = 180
) -> tuple[str, str, str | None] | None:
    line = claim_line(1, HOSPITAL, invoice_date=invoice)
    finding = line_timeliness(line, dm, today, window)
    return None if finding is None else (finding.rule, finding.outcome, finding.code)


@pytest.mark.parametrize(
    ("invoice", "expected"),
    [
        ("2023-09-17", None),  # exactly 180 days before the DM date: on time
        ("2023-09-16", ("R15", "reject", "29")),  # 181 days
        ("2024-03-15", None),  # invoice on the DM date
        ("2024-03-16", ("R15", "reject", "18")),  # a day after the DM date
        (None, None),  # no date: intake rejects it (15/27), nothing to add here
    ],
)
def test_claim_window_and_dm_date_boundaries(invoice: str | None, expected: object) -> None:
    assert verdict(invoice) == expected


def test_the_window_is_configurable() -> None:
    assert verdict("2024-01-14", window=60) == ("R15", "reject", "29")  # 61 days
    assert verdict("2024-01-15", window=60) is None  # 60 days
    assert verdict("2024-03-15", window=0) is None


def test_invoice_after_the_processing_date_is_18_even_without_a_dm_date() -> None:
    assert verdict("2024-03-21", dm=None) == ("R15", "reject", "18")
    assert verdict("2024-03-20", dm=None) is None  # on the processing date itself
    assert verdict("2020-01-01", dm=None) is None  # no DM date: the window cannot be measured
    late = line_timeliness(claim_line(1, HOSPITAL, invoice_date="2024-03-21"), None, TODAY, 180)
    assert late is not None and "processing date 2024-03-20" in late.message


def test_messages_say_how_late() -> None:
    finding = line_timeliness(claim_line(1, HOSPITAL, invoice_date="2023-09-16"), DM, TODAY, 180)
    assert finding is not None
    assert finding.message == (
        "claimed 181 days after the invoice date 2023-09-16 (debit memo 2024-03-15); "
        "the claim window is 180 days"
    )


def test_processing_date_comes_from_config_or_today() -> None:
    assert processing_date({"as_of": "2024-03-20"}) == TODAY
    assert processing_date({}) >= date(2024, 3, 20)
    with pytest.raises(StepFailed, match="as_of 'next tuesday' is not a date"):
        processing_date({"as_of": "next tuesday"})


def test_every_line_of_a_claim_is_judged_with_the_claim_dm_date() -> None:
    the_claim = claim(
        claim_line(1, HOSPITAL, invoice_date="2024-03-04"),
        claim_line(2, HOSPITAL, invoice_date="2023-01-02"),
        claim_line(3, HOSPITAL, invoice_date="2024-04-01"),
    )
    found = timeliness_findings(the_claim, {"as_of": "2024-06-01"}, {})
    assert [(f.line, f.code) for f in found] == [(2, "29"), (3, "18")]
    undated = replace(the_claim, claim_date=None)
    assert timeliness_findings(undated, {"as_of": "2024-06-01"}, {}) == []


def test_contract_eligibility_reports_r15_next_to_its_contract_rules(tmp_path: Path) -> None:
    """The rule runs in contract-eligibility, configured through that step's config."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    ref = ReferenceSet()
    ref.add("products", ndc11="12345678901")
    ref.add("wac", ndc11="12345678901", wac="125.00")
    ref.add("contracts", contract_id="C-1", gpo_id="G1", start_date="2023-01-01")
    ref.add(
        "contract_lines",
        contract_id="C-1",
        ndc11="12345678901",
        contract_price="82.50",
        start_date="2023-01-01",
    )
    ref.add("sap_customers", kunnr="1", name1="ST ELSEWHERE", hin="A1B2C3D00", brsch="HOSP_ACUTE")
    ref.add("gpo_roster", gpo_id="G1", gpo_member_id="M1", hin="A1B2C3D00")
    ref.load(tmp_path / "ref", url)
    the_claim = claim(
        claim_line(1, HOSPITAL, contract_id="C-1", invoice_date="2024-03-04"),
        claim_line(2, HOSPITAL, contract_id="C-1", invoice_date="2023-08-01"),
    )
    step = ContractEligibility({"as_of": "2024-03-20"})
    result = step.process(step_context(the_claim, url, tmp_path))
    found = list(decode_findings(result.data["findings"]))
    assert [(f.line, f.rule, f.outcome, f.code) for f in found] == [
        (2, "R15", "reject", "29"),
        (1, "R08-R16", "pass", None),
        (2, "R08-R16", "pass", None),
    ]
    assert result.outputs["rejected_lines"] == 1
    relaxed = ContractEligibility({"as_of": "2024-03-20", "claim_window_days": 365})
    assert relaxed.process(step_context(the_claim, url, tmp_path)).outputs["rejected_lines"] == 0


def test_a_contract_s_own_claim_window_decides_its_lines(tmp_path: Path) -> None:
    """Issue 13: the window is a term of the contract (brief §1.4), so a contract that sets
    one (contracts reference data, claim_window_days) is held to it, whatever the step's
    configured window; a contract without one gets the configured window."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    ref = ReferenceSet()
    ref.add("products", ndc11="12345678901")
    ref.add("wac", ndc11="12345678901", wac="125.00")
    for contract, window in (("C-90", "90"), ("C-ANY", "")):
        ref.add(
            "contracts",
            contract_id=contract,
            gpo_id="G1",
            start_date="2023-01-01",
            claim_window_days=window,
        )
        ref.add(
            "contract_lines",
            contract_id=contract,
            ndc11="12345678901",
            contract_price="82.50",
            start_date="2023-01-01",
        )
    ref.add("sap_customers", kunnr="1", name1="ST ELSEWHERE", hin="A1B2C3D00", brsch="HOSP_ACUTE")
    ref.add("gpo_roster", gpo_id="G1", gpo_member_id="M1", hin="A1B2C3D00")
    ref.load(tmp_path / "ref", url)
    the_claim = claim(  # debit memo 2024-03-15: 90 and 91 days after the invoices
        claim_line(1, HOSPITAL, contract_id="C-90", invoice_date="2023-12-16"),
        claim_line(2, HOSPITAL, contract_id="C-90", invoice_date="2023-12-15"),
        claim_line(3, HOSPITAL, contract_id="C-ANY", invoice_date="2023-12-15"),
    )
    result = ContractEligibility({"as_of": "2024-03-20"}).process(
        step_context(the_claim, url, tmp_path)
    )
    late = [f for f in decode_findings(result.data["findings"]) if f.rule == "R15"]
    assert [(f.line, f.code) for f in late] == [(2, "29")]
    assert late[0].message == (
        "claimed 91 days after the invoice date 2023-12-15 (debit memo 2024-03-15); "
        "the claim window of contract C-90 is 90 days"
    )
