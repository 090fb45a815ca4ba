"""contract-eligibility: R08-R14 and R16 on the invoice date (brief §8, §9.1, §9.7, §9.11)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.processors import StepResult, Upstream
from processors.chargeback.claim import Claim, decode_findings
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)

NDC = "12345678901"
RISING = "12345045610"  # WAC 64.00, then 69.50 from 2024-03-01
HEPARIN = "12345078920"  # WAC 14.90, contract price 15.25
BOTTLE = "12345033330"  # a bottle of 100 tablets
HOSPITAL = party(hin="A1B2C3D00")
PHARMACY = party("CORNER DRUG", dea="AC1234563")
CLINIC = party("RIVERBEND CLINIC", hin="R7K2M9P00")  # on G1's roster without a tier


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("eligibility")
    url = f"sqlite:///{base / 'state.db'}"
    ref = ReferenceSet()
    for ndc in (NDC, RISING, HEPARIN, "12345011110", "12345022220"):
        ref.add("products", ndc11=ndc)
    ref.add("products", ndc11="12345099990", active_to="2023-12-31")
    ref.add("wac", ndc11=NDC, wac="118.00", effective_from="2023-01-01", effective_to="2023-12-31")
    ref.add("wac", ndc11=NDC, wac="125.00", effective_from="2024-01-01")
    ref.add(
        "wac", ndc11=RISING, wac="64.00", effective_from="2023-01-01", effective_to="2024-02-29"
    )
    ref.add("wac", ndc11=RISING, wac="69.50", effective_from="2024-03-01")
    ref.add("wac", ndc11=HEPARIN, wac="14.90", effective_from="2024-01-01")
    ref.add("products", ndc11=BOTTLE, package_size="100")
    ref.add("wac", ndc11=BOTTLE, wac="20.00")
    ref.add("contract_lines", contract_id="C-1", ndc11=BOTTLE, contract_price="10.00")
    contracts: dict[str, dict[str, str]] = {
        "C-1": {"gpo_id": "G1", "allowed_cot": "HOSP_ACUTE|CLINIC"},
        "C-OLD": {"gpo_id": "G1", "start_date": "2023-03-01", "end_date": "2024-02-29"},
        "C-FUT": {"gpo_id": "G1", "start_date": "2024-06-01"},
        "C-VOID": {"gpo_id": "G1", "status": "VOID"},
        "C-TERM": {"gpo_id": "G1", "status": "TERMINATED", "end_date": "2024-02-15"},
        "C-DIR": {"contract_type": "DIRECT", "mode": "DIRECT"},
        "C-IDN": {"contract_type": "IDN", "mode": "BOTH"},
    }
    for cid, values in contracts.items():
        ref.add("contracts", contract_id=cid, **values)
        ref.add(
            "contract_lines",
            contract_id=cid,
            ndc11=NDC,
            contract_price="82.50",
            start_date="2023-01-01",
        )
    ref.add("contract_lines", contract_id="C-1", ndc11=RISING, contract_price="48.00")
    ref.add("contract_lines", contract_id="C-1", ndc11=HEPARIN, contract_price="15.25")
    ref.add(
        "contract_lines",
        contract_id="C-1",
        ndc11="12345011110",
        tier="1",
        contract_price="10.00",
        qty_cap="50",
    )
    ref.add(
        "contract_lines",
        contract_id="C-1",
        ndc11="12345011110",
        tier="2",
        contract_price="11.00",
        qty_cap="50",
    )
    ref.add(
        "contract_lines",
        contract_id="C-1",
        ndc11="12345099990",
        contract_price="1.00",
        end_date="2024-02-29",
    )
    ref.add(
        "contract_lines",
        contract_id="C-1",
        ndc11="12345022220",
        contract_price="1.00",
        end_date="2024-02-29",
    )
    ref.add("wac", ndc11="12345022220", wac="5.00")
    ref.add("wac", ndc11="12345011110", wac="20.00")
    ref.add("sap_customers", kunnr="1", name1="ST ELSEWHERE", hin="A1B2C3D00", brsch="HOSP_ACUTE")
    ref.add("sap_customers", kunnr="2", name1="CORNER DRUG", dea="AC1234563", brsch="RETAIL_PHARM")
    ref.add("gpo_roster", gpo_id="G1", gpo_member_id="M1", hin="A1B2C3D00", tier="2")
    ref.add(
        "gpo_roster",
        gpo_id="G1",
        gpo_member_id="M2",
        dea="AC1234563",
        class_of_trade="RETAIL_PHARM",
    )
    ref.add("sap_customers", kunnr="3", name1="RIVERBEND CLINIC", hin="R7K2M9P00", brsch="CLINIC")
    ref.add("gpo_roster", gpo_id="G1", gpo_member_id="M3", hin="R7K2M9P00", class_of_trade="CLINIC")
    ref.add("contract_eligibility", contract_id="C-IDN", kunnr="1")
    ref.load(base / "ref", url)
    return url


def check(the_claim: Claim, url: str, tmp_path: Path, **config: Any) -> StepResult:
    return ContractEligibility(config).process(step_context(the_claim, url, tmp_path))


def verdicts(result: StepResult) -> list[tuple[str, str, str | None, Decimal | None]]:
    return [
        (f.rule, f.outcome, f.code, f.amount)
        for f in decode_findings(result.data["findings"])
    ]


def one(url: str, tmp_path: Path, **line: Any) -> tuple[str, str, str | None, Decimal | None]:
    customer = line.pop("customer", HOSPITAL)
    (verdict,) = verdicts(check(claim(claim_line(1, customer, **line)), url, tmp_path))
    return verdict


def test_a_clean_line_passes_and_reports_prices_on_file(url: str, tmp_path: Path) -> None:
    result = check(claim(claim_line(1, HOSPITAL)), url, tmp_path)
    assert verdicts(result) == [("R08-R16", "pass", None, None)]
    assert result.data["prices"]["1"] == {
        "contract_price": "82.50",
        "wac": "125.00",
        "tier_basis": "all tiers",
        "allowed_amount": "425.00",
    }
    assert dict(result.outputs) == {
        "passed_lines": 1,
        "adjusted_lines": 0,
        "review_lines": 0,
        "rejected_lines": 0,
    }
    assert set(result.data["reference_snapshots"]) >= {"contracts", "contract_lines", "wac"}


def test_contract_expired_at_invoice_date_though_active_at_dm_date(
    url: str, tmp_path: Path
) -> None:
    """Brief §9.1: the invoice date decides, never the DM date."""
    assert one(url, tmp_path, contract_id="C-OLD", invoice_date="2024-03-04")[:3] == (
        "R09",
        "reject",
        "02",
    )
    assert one(url, tmp_path, contract_id="C-OLD", invoice_date="2024-02-29")[:3] == (
        "R08-R16",
        "pass",
        None,
    )
    assert one(url, tmp_path, contract_id="C-FUT", invoice_date="2024-03-04")[:3] == (
        "R09",
        "reject",
        "19",
    )


@pytest.mark.parametrize(
    ("contract_id", "code"),
    [("NOPE-1", "01"), ("C-DIR", "01"), ("C-VOID", "23"), ("C-TERM", "23"), (None, "15")],
)
def test_contract_must_exist_be_indirect_and_alive(
    url: str, tmp_path: Path, contract_id: str | None, code: str
) -> None:
    assert one(url, tmp_path, contract_id=contract_id)[1:3] == ("reject", code)


def test_product_checks(url: str, tmp_path: Path) -> None:
    assert one(url, tmp_path, ndc11="99999999999")[:3] == ("R03", "reject", "14")
    assert one(url, tmp_path, ndc11=None)[:3] == ("R03", "reject", "14")
    assert one(url, tmp_path, contract_id="C-OLD", ndc11=RISING, invoice_date="2024-02-01")[:3] == (
        "R10",
        "reject",
        "03",
    )
    assert one(url, tmp_path, ndc11="12345099990", invoice_date="2024-01-15")[:3] == (
        "R03",
        "reject",
        "14",
    )


def test_price_line_not_effective_at_invoice_date_is_03(url: str, tmp_path: Path) -> None:
    priced = {"ndc11": "12345022220", "wac": "5.00", "contract_price": "1.00"}
    assert one(url, tmp_path, invoice_date="2024-02-29", **priced)[1] == "pass"
    assert one(url, tmp_path, invoice_date="2024-03-04", **priced)[:3] == ("R10", "reject", "03")


def test_wrong_contract_price_is_adjusted_to_the_price_on_file(url: str, tmp_path: Path) -> None:
    """The example's line 3: 80.00 submitted, 82.50 on file -> 6 x 42.50 = 255.00 (06)."""
    assert one(url, tmp_path, quantity="6", contract_price="80.00") == (
        "R11",
        "adjust",
        "06",
        Decimal("255.00"),
    )


def test_wac_change_mid_period_uses_the_wac_at_invoice_date(url: str, tmp_path: Path) -> None:
    """Brief §9.7: WAC rose 2024-03-01; an invoice of 2024-02-28 sent with the new WAC."""
    verdict = one(
        url, tmp_path, ndc11=RISING, wac="69.50", contract_price="48.00", invoice_date="2024-02-28"
    )
    assert verdict == ("R12", "adjust", "07", Decimal("160.00"))  # 10 x (64.00 - 48.00)
    assert (
        one(
            url,
            tmp_path,
            ndc11=RISING,
            wac="69.50",
            contract_price="48.00",
            invoice_date="2024-03-01",
        )[1]
        == "pass"
    )


def test_contract_price_at_or_above_wac_pays_nothing(url: str, tmp_path: Path) -> None:
    """Brief §9.11: never pay a negative chargeback back to the wholesaler."""
    assert one(url, tmp_path, ndc11=HEPARIN, wac="14.90", contract_price="15.25") == (
        "R14",
        "adjust",
        "17",
        Decimal("0.00"),
    )


def test_claimed_amount_must_match_the_arithmetic(url: str, tmp_path: Path) -> None:
    assert one(url, tmp_path, amount="430.00") == ("R13", "adjust", "06", Decimal("425.00"))
    assert one(url, tmp_path, amount="425.01")[1] == "pass"  # within one cent


def test_class_of_trade_not_allowed_is_26(url: str, tmp_path: Path) -> None:
    rule, outcome, code, _ = one(url, tmp_path, customer=PHARMACY)
    assert (rule, outcome, code) == ("R16", "reject", "26")


def test_explicit_members_of_a_non_roster_contract(url: str, tmp_path: Path) -> None:
    assert one(url, tmp_path, contract_id="C-IDN")[1] == "pass"
    assert one(url, tmp_path, contract_id="C-IDN", customer=PHARMACY)[:3] == ("R16", "reject", "26")


@pytest.mark.parametrize("claimed_price", ["10.00", "11.00", "12.00"])
def test_a_customer_without_a_tier_is_held_whatever_tier_price_is_claimed(
    url: str, tmp_path: Path, claimed_price: str
) -> None:
    """Issue 13: C-1 prices 12345011110 by tier only (1: 10.00, 2: 11.00) and the clinic has no
    tier on G1's roster. The claimed price must not pick the tier (the cheapest tier pays the
    wholesaler most): the line waits for a person to assign one."""
    result = check(
        claim(
            claim_line(1, CLINIC, ndc11="12345011110", wac="20.00", contract_price=claimed_price)
        ),
        url,
        tmp_path,
    )
    assert verdicts(result) == [("R11", "review", "25", None)]
    (finding,) = decode_findings(result.data["findings"])
    assert finding.message == (
        "the customer has no tier on contract C-1, which prices NDC 12345011110 by tier only "
        "on 2024-03-04 (tier 1 10.00, tier 2 11.00): the tier is a person's call, not the claim's"
    )


def test_tier_price_follows_the_roster_tier_and_quantity_cap(url: str, tmp_path: Path) -> None:
    result = check(
        claim(claim_line(1, HOSPITAL, ndc11="12345011110", wac="20.00", contract_price="10.00")),
        url,
        tmp_path,
    )
    assert verdicts(result) == [("R11", "adjust", "06", Decimal("90.00"))]  # tier 2: 11.00
    assert result.data["prices"]["1"]["tier_basis"] == "tier 2"
    assert one(
        url, tmp_path, ndc11="12345011110", wac="20.00", contract_price="11.00", quantity="51"
    )[1:3] == ("reject", "04")


def test_missing_invoice_date_is_15(url: str, tmp_path: Path) -> None:
    assert one(url, tmp_path, invoice_date=None)[:3] == ("R09", "reject", "15")


def test_price_adjustment_of_a_resubmission_pays_the_delta_at_the_price_on_file(
    url: str, tmp_path: Path
) -> None:
    """duplicate-check left 2 of 12 payable; 80.00 submitted, 82.50 on file: 2 x 42.50."""
    ctx = step_context(
        claim(claim_line(1, HOSPITAL, quantity="12", contract_price="80.00")), url, tmp_path
    )
    upstream = {
        **ctx.upstream,
        "duplicate-check": Upstream("Succeeded", {}, {"net_quantity": {"1": "2"}}),
    }
    result = ContractEligibility({}).process(replace(ctx, upstream=upstream))
    assert verdicts(result) == [("R11", "adjust", "06", Decimal("85.00"))]
    assert result.data["prices"]["1"]["payable_quantity"] == "2"


def test_quantity_in_eaches_for_a_package_ndc_goes_to_review(url: str, tmp_path: Path) -> None:
    """Brief §9.12: QTY 100 EA for one bottle of 100 would pay per tablet."""
    each = replace(
        claim_line(1, HOSPITAL, ndc11=BOTTLE, quantity="100", wac="20.00", contract_price="10.00"),
        unit="EA",
    )
    assert verdicts(check(claim(each), url, tmp_path))[0][:3] == ("R10-uom", "review", "25")
    per_package = replace(each, unit="UN", quantity=Decimal(1), claimed_amount=Decimal("10.00"))
    assert verdicts(check(claim(per_package), url, tmp_path)) == [("R08-R16", "pass", None, None)]
