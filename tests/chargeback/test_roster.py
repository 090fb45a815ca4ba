"""gpo-roster-validation: R17 membership of the contract's GPO at the invoice date (§5, §9.6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.processors import StepResult
from processors.chargeback.claim import Finding, Party, decode_findings
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)
from processors.chargeback.roster import GpoRosterValidation


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("roster")
    url = f"sqlite:///{base / 'state.db'}"
    ref = ReferenceSet()
    ref.add("contracts", contract_id="C-A", gpo_id="GPO-A")
    ref.add("contracts", contract_id="C-IDN", contract_type="IDN", mode="BOTH")
    ref.add("gpo_roster", gpo_id="GPO-A", gpo_member_id="A1", hin="A1B2C3D00", tier="2")
    ref.add("gpo_roster", gpo_id="GPO-B", gpo_member_id="B1", hin="K4T8W2Q00")  # other GPO only
    ref.add(
        "gpo_roster",
        gpo_id="GPO-A",
        gpo_member_id="A2",
        hin="M3N5B7V00",
        membership_end_date="2024-03-15",
    )
    ref.add(
        "gpo_roster",
        gpo_id="GPO-C",
        gpo_member_id="C2",
        hin="M3N5B7V00",
        membership_start_date="2024-03-15",
    )
    ref.add(
        "gpo_roster",
        gpo_id="GPO-A",
        gpo_member_id="A3",
        hin="P7Q8R9S00",
        membership_start_date="2024-04-01",
    )
    ref.add(
        "gpo_roster",
        gpo_id="GPO-A",
        gpo_member_id="A4",
        facility_name="HILLTOP CLINIC",
        zip="45402",
        gln="0360002914526",
    )
    ref.add("sap_customers", kunnr="7", name1="MASTER LINKED", hin="Z9Y8X7W00", npi="1234567893")
    ref.add("gpo_roster", gpo_id="GPO-A", gpo_member_id="A6", npi="1234567893")
    ref.load(base / "ref", url)
    return url


def verdict(
    url: str, tmp_path: Path, customer: Party, **line: Any
) -> tuple[Finding, dict[str, Any]]:
    result: StepResult = GpoRosterValidation({}).process(
        step_context(
            claim(claim_line(1, customer, contract_id=line.pop("contract_id", "C-A"), **line)),
            url,
            tmp_path,
        )
    )
    (finding,) = decode_findings(result.data["findings"])
    return finding, result.data["roster"]["1"]


def test_member_of_the_contract_gpo_passes(url: str, tmp_path: Path) -> None:
    finding, status = verdict(url, tmp_path, party(hin="A1B2C3D00"))
    assert (finding.rule, finding.outcome, finding.code) == ("R17", "pass", None)
    assert status == {
        "status": "member",
        "gpo_id": "GPO-A",
        "gpo_member_id": "A1",
        "tier": "2",
        "class_of_trade": "HOSP_ACUTE",
        "matched_by": "HIN A1B2C3D00",
    }


def test_hin_base_matches_another_department_of_the_member(url: str, tmp_path: Path) -> None:
    finding, status = verdict(url, tmp_path, party(hin="A1B2C3D01"))
    assert finding.outcome == "pass" and status["matched_by"] == "HIN base A1B2C3D"


def test_member_of_another_gpo_is_a_distinct_26(url: str, tmp_path: Path) -> None:
    """Brief §9.6: a HIN valid on GPO-B's roster claimed on GPO-A's contract."""
    finding, status = verdict(url, tmp_path, party(hin="K4T8W2Q00"))
    assert (finding.outcome, finding.code) == ("reject", "26")
    assert status["status"] == "other_gpo" and status["gpo_id"] == "GPO-B"
    assert "member of GPO-B on 2024-03-04, not of GPO-A" in finding.message


@pytest.mark.parametrize(
    ("day", "outcome"), [("2024-03-14", "pass"), ("2024-03-15", "reject"), ("2024-03-31", "reject")]
)
def test_roster_end_mid_month_fails_on_and_after_the_end_date(
    url: str, tmp_path: Path, day: str, outcome: str
) -> None:
    finding, status = verdict(url, tmp_path, party(hin="M3N5B7V00"), invoice_date=day)
    assert finding.outcome == outcome
    if outcome == "reject":
        assert finding.code == "26" and status["status"] == "membership_ended"
        assert (
            "membership in GPO-A ended 2024-03-15" in finding.message
            and "a member of GPO-C" in finding.message
        )


def test_not_yet_a_member(url: str, tmp_path: Path) -> None:
    finding, status = verdict(url, tmp_path, party(hin="P7Q8R9S00"))
    assert (finding.code, status["status"]) == ("26", "not_yet_member")


def test_unknown_customer_is_26_and_a_name_zip_match_is_review(url: str, tmp_path: Path) -> None:
    finding, status = verdict(url, tmp_path, party(hin="Q1Q1Q1Q00"))
    assert (finding.outcome, finding.code, status["status"]) == ("reject", "26", "not_found")
    finding, status = verdict(
        url, tmp_path, party("Hilltop Clinic", hin="Q1Q1Q1Q00", postal_code="45402-1111")
    )
    assert (finding.outcome, finding.code, status["status"]) == ("review", "25", "name_match")


def test_identifiers_known_to_the_customer_master_count(url: str, tmp_path: Path) -> None:
    """The claim sends a HIN the roster lacks; the master links it to an NPI the roster has."""
    finding, status = verdict(url, tmp_path, party(hin="Z9Y8X7W00"))
    assert finding.outcome == "pass" and status["matched_by"] == "NPI 1234567893"


def test_contracts_that_are_not_roster_driven_pass_and_unknown_contracts_are_left_alone(
    url: str, tmp_path: Path
) -> None:
    finding, status = verdict(url, tmp_path, party(hin="Q1Q1Q1Q00"), contract_id="C-IDN")
    assert finding.outcome == "pass" and status == {"status": "not_roster_driven"}
    result = GpoRosterValidation({}).process(
        step_context(
            claim(claim_line(1, party(hin="A1B2C3D00"), contract_id="NOPE")), url, tmp_path
        )
    )
    assert result.data["findings"] == [] and dict(result.outputs)["passed_lines"] == 0
