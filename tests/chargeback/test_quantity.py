"""Edge case 12, unit of measure (brief §9.12): eaches claimed for a package NDC go to review
(25), judged by QTY03, the contract cap and the customer's usual quantity; never paid as claimed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from processors.chargeback.claim import Finding, decode_findings
from processors.chargeback.db import session_scope
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.quantity import (
    Norm,
    norm_of,
    unit_of_measure,
    usual_quantities,
    within_cap_in_packages,
)
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.datasets import LOADED_HISTORY_RUN
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)

BOTTLE = "12345033330"  # a bottle of 25 tablets
VIAL = "12345067810"  # a single vial
HOSPITAL = party(hin="A1B2C3D00")
FIVE = Decimal(5)


def product(ndc11: str = BOTTLE, package: str = "25") -> m.Product:
    return m.Product(
        ndc11=ndc11,
        labeler="NORTHWIND",
        description="TEST",
        package_size=Decimal(package),
        uom="EA",
        active_from=date(2019, 1, 1),
    )


def verdict(
    quantity: str,
    unit: str | None = "UN",
    *,
    package: str = "25",
    cap: str | None = None,
    norm: Norm | None = None,
) -> Finding | None:
    line = replace(claim_line(1, HOSPITAL, ndc11=BOTTLE, quantity=quantity), unit=unit)
    return unit_of_measure(
        line, product(package=package), Decimal(cap) if cap else None, norm, FIVE
    )


@pytest.mark.parametrize(
    ("quantity", "unit", "package", "flagged"),
    [
        ("10", "UN", "25", False),  # packages: fine
        ("10", None, "25", False),  # no QTY03: packages by default
        ("10", "PK", "25", False),
        ("250", "EA", "25", True),  # eaches of a 25-count bottle
        ("1", "EA", "1", False),  # an each of a single vial is one package
        ("10", "CA", "25", True),  # cases: how many packages is unknown
        ("10", "CA", "1", True),
        ("-250", "EA", "25", False),  # a credit reverses an earlier line
    ],
)
def test_qty03_against_the_package(
    quantity: str, unit: str | None, package: str, flagged: bool
) -> None:
    assert (verdict(quantity, unit, package=package) is not None) is flagged


def test_the_cap_read_in_packages() -> None:
    pack, cap = Decimal(25), Decimal(100)
    assert within_cap_in_packages(Decimal(250), pack, cap)  # 10 packages
    assert within_cap_in_packages(Decimal(2500), pack, cap)  # exactly 100 packages
    assert not within_cap_in_packages(Decimal(2525), pack, cap)  # 101 packages: over anyway
    assert not within_cap_in_packages(Decimal(130), pack, cap)  # not a multiple of 25
    assert not within_cap_in_packages(Decimal(100), pack, cap)  # at the cap: not over it
    assert not within_cap_in_packages(Decimal(250), Decimal(1), cap)  # single units
    finding = verdict("250", cap="100")
    assert finding is not None and (finding.outcome, finding.code) == ("review", "25")
    assert "over the contract cap of 100 per line, but 10 packages would be within it" in (
        finding.message
    )


def test_far_above_the_customers_usual_quantity() -> None:
    usual = Norm(Decimal(10), 4)
    assert verdict("49", norm=usual) is None  # 4.9x
    finding = verdict("50", norm=usual)  # exactly 5x
    assert finding is not None
    assert finding.message == (
        "possible unit-of-measure mismatch on NDC 12345033330 (package of 25 EA): quantity 50 is "
        "5x this customer's usual 10 for the NDC (median of 4 paid lines); counted as eaches it "
        "would be 2 packages. Not paid as claimed: confirm the quantity or resubmit it in "
        "packages (QTY03 UN)"
    )


def test_a_norm_needs_enough_paid_lines() -> None:
    assert norm_of([Decimal(8), Decimal(12)], 3) is None
    assert norm_of([Decimal(8), Decimal(12), Decimal(10), Decimal(-10)], 3) == Norm(Decimal(10), 3)
    assert norm_of([Decimal(8), Decimal(12), Decimal(10), Decimal(30)], 3) == Norm(Decimal(11), 4)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("quantity")
    url = f"sqlite:///{base / 'state.db'}"
    ref = ReferenceSet()
    ref.add("products", ndc11=BOTTLE, package_size="25")
    ref.add("products", ndc11=VIAL)
    for ndc in (BOTTLE, VIAL):
        ref.add("wac", ndc11=ndc, wac="20.00")
    ref.add("contracts", contract_id="C-1", gpo_id="G1")
    ref.add(
        "contract_lines", contract_id="C-1", ndc11=BOTTLE, contract_price="10.00", qty_cap="100"
    )
    ref.add("contract_lines", contract_id="C-1", ndc11=VIAL, contract_price="10.00", qty_cap="100")
    ref.add("sap_customers", kunnr="1", name1="ST ELSEWHERE", hin="A1B2C3D00", brsch="HOSP_ACUTE")
    ref.add("gpo_roster", gpo_id="G1", gpo_member_id="M1", hin="A1B2C3D00")
    one, two = "0000000001", "0000000002"  # the master pads KUNNRs (SAP ALPHA)
    history = [
        (one, BOTTLE, "8", "PAID"),
        (one, BOTTLE, "12", "PAID"),
        (one, BOTTLE, "10", "PAID"),
        (one, BOTTLE, "400", "REJECTED"),
        ("HIN:A1B2C3D00", BOTTLE, "10", "PAID"),
        (two, BOTTLE, "900", "PAID"),
        (one, VIAL, "10", "PAID"),
    ]
    for i, (customer, ndc, qty, status) in enumerate(history, start=1):
        ref.add(
            "claim_history",
            dm_no=f"DMH{i}",
            line_no="1",
            invoice_no=f"INVH{i}",
            ndc11=ndc,
            customer_key=customer,
            quantity=qty,
            amount="0.00",
            status=status,
            paid_quantity=qty if status == "PAID" else None,
        )
    ref.load(base / "ref", url)
    return url


def test_the_usual_quantity_comes_from_earlier_paid_lines_under_any_key_of_the_customer(
    url: str,
) -> None:
    """KUNNR 1 and its HIN are the same customer; customer 2's and rejected lines do not count."""
    the_claim = claim(
        claim_line(1, HOSPITAL, ndc11=BOTTLE),
        claim_line(2, HOSPITAL, ndc11=VIAL),
        claim_line(3, party(hin="Z9Z9Z9Z00"), ndc11=BOTTLE),
    )
    with session_scope(url) as session:
        norms = usual_quantities(lookup.Memo(session), the_claim, "run-1", {})
    assert norms == {1: Norm(Decimal(10), 4)}  # the vial has one paid line: no norm yet
    with session_scope(url) as session:
        loose = usual_quantities(
            lookup.Memo(session), the_claim, "run-1", {"quantity_norm_min_lines": 1}
        )
    assert loose == {1: Norm(Decimal(10), 4), 2: Norm(Decimal(10), 1)}
    with session_scope(url) as session:  # a run's own lines are not its history
        assert usual_quantities(lookup.Memo(session), the_claim, LOADED_HISTORY_RUN, {}) == {}


def decide(url: str, tmp_path: Path, **line: str) -> list[tuple[str, str, str | None]]:
    the_line = claim_line(
        1,
        HOSPITAL,
        contract_id="C-1",
        ndc11=line.pop("ndc11", BOTTLE),
        wac="20.00",
        contract_price="10.00",
        **line,
    )
    result = ContractEligibility({}).process(step_context(claim(the_line), url, tmp_path))
    return [(f.rule, f.outcome, f.code) for f in decode_findings(result.data["findings"])]


def test_contract_eligibility_holds_a_suspect_quantity_and_keeps_the_cap_for_real_breaches(
    url: str, tmp_path: Path
) -> None:
    assert decide(url, tmp_path, quantity="10") == [("R08-R16", "pass", None)]
    # 250 tablets = 10 bottles: over the cap of 100 only if read as bottles, and 25x the norm
    assert decide(url, tmp_path, quantity="250")[0] == ("R10-uom", "review", "25")
    # 60 bottles: within the cap but 6x what this customer buys
    assert decide(url, tmp_path, quantity="60")[0] == ("R10-uom", "review", "25")
    # 130 is no whole number of bottles: a cap breach whatever the unit
    assert decide(url, tmp_path, quantity="130") == [("R10", "reject", "04")]
    # single vials: over the cap is over the cap
    assert decide(url, tmp_path, ndc11=VIAL, quantity="101") == [("R10", "reject", "04")]
