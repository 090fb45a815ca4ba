"""The rule steps decide what many lines share once; every line must still be decided alone.

contract-eligibility, gpo-roster-validation and federal-db-validation reach each verdict once
per customer, contract, product, invoice date (and submitted price or ship-to state, where
they matter) and give it to every line with the same terms. A verdict keyed on too little
would hand a line another line's verdict without any error. So a claim holding every
combination of a few customers, contracts, products, days and submitted prices, each of
which changes some verdict, is checked whole, and each line must get what it gets alone.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from engine.processors import StepResult
from processors.chargeback.claim import ClaimLine, decode_findings
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.reference.generate import dea_with_check
from processors.chargeback.reference.rulestep import RuleStep
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)
from processors.chargeback.roster import GpoRosterValidation

PLAIN, C2 = "12345678901", "12345000102"
DEA = {"a": dea_with_check("AA", "111111"), "b": dea_with_check("AB", "222222")}
#: a member of G1 with a tier, licensed for schedule 2, an explicit member of the 340B contract
TIERED = party("TIERED HOSPITAL", hin="A1B2C3D00", dea=DEA["a"])
#: a member of G1 without a tier (the submitted price picks the tier price), in another state,
#: licensed for schedules 3-5 only
UNTIERED = party("UNTIERED CLINIC", state="KY", postal_code="40202", hin="B2C3D4E00", dea=DEA["b"])
#: on no roster and in no list: its DEA is unknown
STRANGER = party("NOBODY KNOWN", dea=dea_with_check("AC", "333333"))
CUSTOMERS = (TIERED, UNTIERED, STRANGER)
CONTRACTS = ("C-GPO", "C-340B")
NDCS = (PLAIN, C2)
DAYS = ("2023-06-15", "2024-03-04")
PRICES = ("80.00", "82.50")  # C-GPO's tier 1 and tier 2 prices of PLAIN
STEPS: list[type[RuleStep]] = [ContractEligibility, GpoRosterValidation, FederalDbValidation]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("shared-terms")
    url = f"sqlite:///{base / 'state.db'}"
    ref = ReferenceSet()
    ref.add("products", ndc11=PLAIN).add("products", ndc11=C2, dea_schedule="2")
    ref.add("wac", ndc11=PLAIN, wac="118.00", effective_to="2023-12-31")
    ref.add("wac", ndc11=PLAIN, wac="125.00", effective_from="2024-01-01")
    ref.add("wac", ndc11=C2, wac="50.00")
    term = {"start_date": "2023-01-01", "end_date": "2025-12-31"}
    ref.add("contracts", contract_id="C-GPO", gpo_id="G1", allowed_cot="HOSP_ACUTE|CLINIC", **term)
    ref.add("contracts", contract_id="C-340B", contract_type="340B", **term)
    for contract_id, ndc, tier, price in (
        ("C-GPO", PLAIN, "1", "80.00"),
        ("C-GPO", PLAIN, "2", "82.50"),
        ("C-GPO", C2, None, "30.00"),
        ("C-340B", PLAIN, None, "70.00"),
        ("C-340B", C2, "1", "25.00"),
        ("C-340B", C2, "2", "27.00"),
    ):
        ref.add(
            "contract_lines",
            contract_id=contract_id,
            ndc11=ndc,
            tier=tier,
            contract_price=price,
            qty_cap="50",
            **term,
        )
    ref.add("gpo_roster", gpo_id="G1", gpo_member_id="M-A", hin="A1B2C3D00", tier="2")
    ref.add(
        "gpo_roster", gpo_id="G1", gpo_member_id="M-B", hin="B2C3D4E00", class_of_trade="CLINIC"
    )
    ref.add(
        "sap_customers", kunnr="1", name1="TIERED HOSPITAL", hin="A1B2C3D00", brsch="HOSP_ACUTE"
    )
    ref.add("sap_customers", kunnr="2", name1="UNTIERED CLINIC", hin="B2C3D4E00", brsch="CLINIC")
    ref.add(
        "contract_eligibility", contract_id="C-340B", kunnr="1", tier="1", start_date="2023-01-01"
    )
    ref.add("dea", dea_no=DEA["a"], expiration_date="2026-06-30")
    ref.add("dea", dea_no=DEA["b"], schedules="3 3N 4 5", expiration_date="2026-06-30")
    ref.add(
        "wholesaler_dc", dc_key="DC1", dea="RA7301194", licensed_states="OH", dsa_start="2024-01-01"
    )
    for i in range(3):  # TIERED usually claims 2 of PLAIN: 10 or more is held for review (§9.12)
        ref.add(
            "claim_history",
            dm_no=f"DMH{i}",
            line_no="1",
            invoice_no=f"INVH{i}",
            ndc11=PLAIN,
            customer_key="0000000001",
            quantity="2",
            amount="0.00",
            status="PAID",
            paid_quantity="2",
        )
    ref.load(base / "ref", url)
    return url


def _claim_lines() -> list[ClaimLine]:
    """Every combination; quantities differ line by line, one of them over the cap."""
    grid = itertools.product(CUSTOMERS, CONTRACTS, NDCS, DAYS, PRICES)
    return [
        claim_line(
            n,
            customer,
            contract_id=contract_id,
            ndc11=ndc,
            invoice_date=day,
            contract_price=price,
            quantity=str(60 if n == 7 else n),
        )
        for n, (customer, contract_id, ndc, day, price) in enumerate(grid, start=1)
    ]


def _by_line(result: StepResult) -> dict[int, dict[str, Any]]:
    """Each line's findings (without the line number) and its entries of per-line data."""
    decided: dict[int, dict[str, Any]] = {}
    for finding in decode_findings(result.data["findings"]):
        entry = decided.setdefault(finding.line, {"findings": []})
        entry["findings"].append({k: v for k, v in finding.to_json().items() if k != "line"})
    for name in ("prices", "roster"):
        for line, facts in result.data.get(name, {}).items():
            decided.setdefault(int(line), {"findings": []})[name] = facts
    return decided


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.__name__)
def test_each_line_is_decided_as_it_would_be_alone(
    step: type[RuleStep], url: str, tmp_path: Path
) -> None:
    lines = _claim_lines()
    config = {"as_of": "2024-06-01"} if step is ContractEligibility else {}
    together = _by_line(step(config).process(step_context(claim(*lines), url, tmp_path)))
    outcomes: set[str] = set()
    for line in lines:
        alone = step(config).process(
            step_context(claim(dataclasses.replace(line, line=1, line_id="1")), url, tmp_path)
        )
        expected = _by_line(alone)[1]
        assert together[line.line] == expected, f"line {line.line}"
        outcomes.update(f["outcome"] for f in expected["findings"])
    assert outcomes >= {"pass", "reject"}, "the claim no longer exercises the step"
