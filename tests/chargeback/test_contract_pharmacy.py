"""340B contract pharmacies (issue 13): a pharmacy registered in OPAIS to dispense for a covered
entity, named in a claim by its own identifiers and the entity's 340B ID, buys for the entity.

It used to be rejected 26 (its DEA found the pharmacy's own customer record, which is no
member of the 340B contract), and the entity's own line in the same claim was held 25 (its
340B ID sent under another name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.processors import StepResult, Upstream
from processors.chargeback.claim import Claim, decode_findings
from processors.chargeback.db import session_scope
from processors.chargeback.duplicates import DuplicateCheck
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.reference import lookup
from processors.chargeback.reference.models import SapCustomerIdentifier
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    context,
    intake,
    party,
    step_context,
)
from processors.chargeback.sap import SapCustomerCreation

ENTITY = {"id340b": "BL03074A", "hin": "YPASZGU00", "dea": "BB8473162"}
PHARMACY = {"hin": "S8N4R2P00", "dea": "AS7311044"}  # its own, as a customer in its own right
RELATIONSHIP_HIN = "B3S8N4R00"  # the HIN of the entity-plus-pharmacy arrangement
CENTER = party("BRIGHTWATER HEALTH CENTER EAST", **ENTITY)
FOR_CENTER = party(
    "SUNRISE COMMUNITY PHARMACY", hin=RELATIONSHIP_HIN, dea=PHARMACY["dea"], id340b="BL03074A"
)
FOR_OTHER = party("SUNRISE COMMUNITY PHARMACY", dea=PHARMACY["dea"], id340b="CH52838")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("contract_pharmacy")
    url = f"sqlite:///{base / 'state.db'}"
    ref = ReferenceSet()
    ref.add("products", ndc11="12345678901")
    ref.add("wac", ndc11="12345678901", wac="125.00")
    ref.add("contracts", contract_id="C-340B", contract_type="340B")
    ref.add("contracts", contract_id="C-GPO", gpo_id="G1")
    for contract in ("C-340B", "C-GPO"):
        ref.add("contract_lines", contract_id=contract, ndc11="12345678901", contract_price="82.50")
    ref.add(
        "sap_customers", kunnr="9", name1="BRIGHTWATER HEALTH CENTER EAST", brsch="CLINIC", **ENTITY
    )
    ref.add(
        "sap_customers",
        kunnr="13",
        name1="SUNRISE COMMUNITY PHARMACY",
        brsch="RETAIL_PHARM",
        **PHARMACY,
    )
    ref.add("contract_eligibility", contract_id="C-340B", kunnr="9")
    ref.add("opais", id340b="BL03074A", entity_type="BL", name="BRIGHTWATER HEALTH CENTER EAST")
    ref.add("opais", id340b="CH52838", entity_type="CH", name="MAPLE GROVE HEALTH CENTER")
    ref.add(
        "opais_contract_pharmacies",
        id340b="BL03074A",
        pharmacy_id="CP10731",
        name="SUNRISE COMMUNITY PHARMACY",
        hin=RELATIONSHIP_HIN,
        dea=PHARMACY["dea"],
        begin_date="2024-01-01",
    )
    ref.load(base / "ref", url)
    return url


def test_a_registered_pharmacy_is_matched_as_the_entity_it_buys_for(url: str) -> None:
    with session_scope(url) as session:
        match = lookup.resolve_customer(session, FOR_CENTER)
        stranger = lookup.resolve_customer(session, FOR_OTHER)
    assert (match.kunnr, match.conflict) == ("0000000009", False)
    assert match.pharmacy is not None
    assert (match.pharmacy.covered_entity, match.pharmacy.name) == (
        "BL03074A",
        "SUNRISE COMMUNITY PHARMACY",
    )
    assert match.identifiers == ("340B:BL03074A",)
    assert match.named_identifiers == (f"HIN:{RELATIONSHIP_HIN}", f"DEA:{PHARMACY['dea']}")
    # not registered with that entity: the pharmacy is its own customer, as before
    assert (stranger.pharmacy, stranger.kunnr) == (None, "0000000013")


def _findings(result: StepResult) -> list[tuple[int, str, str, str | None]]:
    return [
        (f.line, f.rule, f.outcome, f.code) for f in decode_findings(result.data["findings"])
    ]


def _run(step: Any, the_claim: Claim, url: str, tmp_path: Path) -> StepResult:
    result = step({}).process(step_context(the_claim, url, tmp_path))
    assert isinstance(result, StepResult)
    return result


def test_the_entity_and_its_pharmacy_are_not_one_id_under_two_names(
    url: str, tmp_path: Path
) -> None:
    both = claim(
        claim_line(1, CENTER, contract_id="C-340B"),
        claim_line(2, FOR_CENTER, contract_id="C-340B", invoice_number="INV2"),
    )
    result = _run(DuplicateCheck, both, url, tmp_path)
    assert [f for f in _findings(result) if f[2] != "pass"] == []
    assert result.outputs["duplicate_customers"] == 0


@pytest.mark.parametrize(
    ("contract", "day", "expected"),
    [
        ("C-340B", "2024-03-04", []),
        ("C-340B", "2023-12-20", [("340B", "reject", "26")]),  # before its registration
        ("C-GPO", "2024-03-04", [("340B", "review", "25")]),  # a 340B purchase off 340B
    ],
)
def test_the_pharmacy_must_be_registered_that_day_on_a_340b_contract(
    url: str, tmp_path: Path, contract: str, day: str, expected: list[tuple[str, str, str]]
) -> None:
    line = claim_line(1, FOR_CENTER, contract_id=contract, invoice_date=day)
    result = _run(FederalDbValidation, claim(line), url, tmp_path)
    assert [f[1:] for f in _findings(result) if f[1] == "340B"] == expected
    assert result.data["contract_pharmacies"] == {
        "1": {
            "covered_entity": "BL03074A",
            "covered_entity_name": "BRIGHTWATER HEALTH CENTER EAST",
            "pharmacy": "SUNRISE COMMUNITY PHARMACY",
            "pharmacy_id": "CP10731",
        }
    }


def test_sap_books_the_pharmacy_s_lines_to_the_entity(url: str, tmp_path: Path) -> None:
    """The entity buys: its customer record is used, and the pharmacy's identifiers are
    neither a conflict with it nor added to it."""
    the_claim = claim(claim_line(1, FOR_CENTER, contract_id="C-340B"))
    federal = _run(FederalDbValidation, the_claim, url, tmp_path)
    upstream = {
        "extract-identifiers": intake(the_claim, url),
        "federal-db-validation": Upstream("Succeeded", {}, dict(federal.data)),
    }
    ctx = context(tmp_path, upstream, url, step="sap-customer-creation")
    result = SapCustomerCreation({"gateway": "store"}).process(ctx)
    (booked,) = result.data["customers"]
    assert (booked["action"], booked["number"]) == ("unchanged", "0000000009")
    assert booked["identifiers"] == ["340B BL03074A"]
    with session_scope(url) as session:
        held = session.scalars(
            select(SapCustomerIdentifier.id_number).where(
                SapCustomerIdentifier.kunnr == "0000000009"
            )
        ).all()
    assert RELATIONSHIP_HIN not in held and PHARMACY["dea"] not in held
