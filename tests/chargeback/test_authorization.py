"""R20 wholesaler authorization (brief §8 R20, §4.6 wholesaler_dc): unknown DC, DSA dates and
licensed ship-to states, each 901 code 08."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from processors.chargeback.authorization import dc_verdict
from processors.chargeback.claim import Claim, Identifier, Party, decode_findings
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.reference import models as m
from processors.chargeback.reference.generate import dea_with_check, gln_with_check
from processors.chargeback.reference.lookup import distributor_ids
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)

DC_DEA = dea_with_check("RH", "518027")
DC_GLN = gln_with_check("036000518027")
OTHER_DEA = dea_with_check("RC", "460538")
HILLCREST_DEA = dea_with_check("BH", "772051")
HOSPITAL = party(hin="A1B2C3D00")  # N4 state OH


def heartland(**values: object) -> m.WholesalerDc:
    row = {
        "dc_key": "HEARTLAND-DC09",
        "wholesaler": "HEARTLAND DRUG SUPPLY DC 09",
        "dsa_start": date(2021, 1, 1),
        "dsa_end": date(2024, 2, 29),
        "licensed_states": "OH|KY",
        **values,
    }
    return m.WholesalerDc(**row)


@pytest.mark.parametrize(
    ("day", "state", "expected"),
    [
        (date(2021, 1, 1), "OH", ("pass", None)),  # first day of the DSA
        (date(2020, 12, 31), "OH", ("reject", "08")),  # before it
        (date(2024, 2, 29), "KY", ("pass", None)),  # last day (inclusive)
        (date(2024, 3, 1), "OH", ("reject", "08")),  # after it
        (date(2023, 5, 1), "IN", ("reject", "08")),  # not licensed for Indiana
        (date(2023, 5, 1), None, ("pass", None)),  # state unknown: warning only
    ],
)
def test_dsa_dates_and_licensed_states(day: date, state: str | None, expected: object) -> None:
    outcome, code, _ = dc_verdict(heartland(), day, state)
    assert (outcome, code) == expected


def test_messages_name_the_dc_and_what_is_wrong() -> None:
    assert dc_verdict(heartland(), date(2024, 3, 4), "OH")[2] == (
        "DC HEARTLAND-DC09 (HEARTLAND DRUG SUPPLY DC 09) has no distribution services agreement "
        "on the invoice date 2024-03-04 (DSA from 2021-01-01 to 2024-02-29)"
    )
    assert dc_verdict(heartland(), date(2023, 5, 1), "IN")[2].endswith(
        "is not licensed to ship to IN (licensed: KY, OH)"
    )
    assert dc_verdict(heartland(dsa_end=None), date(2030, 1, 1), "OH")[0] == "pass"
    unrecorded = dc_verdict(heartland(licensed_states=""), date(2023, 5, 1), "TX")
    assert unrecorded[:2] == ("pass", None) and unrecorded[2].startswith("warning:")


def test_distributor_ids_are_its_dea_and_gln_bases() -> None:
    ds = Party(
        "DS",
        "DC",
        (
            Identifier("dea", f"{DC_DEA}-001", False),
            Identifier("gln", DC_GLN, True),
            Identifier("custom", "ACME12", True),
        ),
    )
    assert distributor_ids(ds) == (DC_DEA, DC_GLN)
    assert distributor_ids(None) == ()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("authorization")
    url = f"sqlite:///{base / 'state.db'}"
    ref = ReferenceSet()
    ref.add(
        "wholesaler_dc",
        dc_key="HEARTLAND-DC09",
        wholesaler="HEARTLAND DRUG SUPPLY DC 09",
        dea=DC_DEA,
        gln=DC_GLN,
        dsa_start="2021-01-01",
        dsa_end="2024-02-29",
        licensed_states="OH|KY",
    )
    ref.add("wholesaler_dc", dc_key="OTHER", dea=OTHER_DEA, licensed_states="OH")
    ref.add(
        "sap_customers", kunnr="7", name1="HILLCREST CARE CENTER", regio="IN", dea=HILLCREST_DEA
    )
    ref.load(base / "ref", url)
    return url


def r20(url: str, tmp_path: Path, the_claim: Claim) -> list[tuple[int, str, str | None]]:
    result = FederalDbValidation({}).process(step_context(the_claim, url, tmp_path))
    findings = list(decode_findings(result.data["findings"]))
    return [(f.line, f.outcome, f.code) for f in findings if f.rule == "R20"]


def test_each_line_is_judged_on_its_invoice_date_and_ship_to_state(
    url: str, tmp_path: Path
) -> None:
    """The N4 state wins; without one the customer master's region is the ship-to state."""
    no_address = replace(party("HILLCREST CARE CENTER", dea=HILLCREST_DEA), address=None)
    the_claim = claim(
        claim_line(1, HOSPITAL, invoice_date="2024-02-20"),
        claim_line(2, HOSPITAL, invoice_date="2024-03-04"),
        claim_line(3, no_address, invoice_date="2024-02-20"),
        claim_line(4, party(hin="A1B2C3D00", state="KY"), invoice_date="2024-02-20"),
        distributor_dea=DC_DEA,
    )
    assert r20(url, tmp_path, the_claim) == [
        (1, "pass", None),
        (2, "reject", "08"),
        (3, "reject", "08"),
        (4, "pass", None),
    ]


def test_an_unknown_dc_rejects_every_dated_line(url: str, tmp_path: Path) -> None:
    the_claim = claim(
        claim_line(1, HOSPITAL),
        claim_line(2, HOSPITAL, invoice_date=None),
        distributor_dea=dea_with_check("RZ", "111111"),
    )
    assert r20(url, tmp_path, the_claim) == [(1, "reject", "08")]


def test_identifiers_of_two_dcs_or_none_are_not_an_authorization(url: str, tmp_path: Path) -> None:
    base = claim(claim_line(1, HOSPITAL, invoice_date="2024-02-20"))
    assert base.distributor is not None
    two = replace(
        base.distributor,
        identifiers=(Identifier("gln", DC_GLN, True), Identifier("dea", OTHER_DEA, True)),
    )
    assert r20(url, tmp_path, replace(base, distributor=two)) == [(1, "reject", "08")]
    custom_only = replace(base.distributor, identifiers=(Identifier("custom", "ACME12", True),))
    assert r20(url, tmp_path, replace(base, distributor=custom_only)) == [(1, "reject", "08")]
    assert r20(url, tmp_path, replace(base, distributor=None)) == []  # R02 (15) covers it


def test_without_dc_data_r20_is_not_checked_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    ReferenceSet().add("products", ndc11="12345678901").load(tmp_path / "ref", url)
    result = FederalDbValidation({}).process(
        step_context(claim(claim_line(1, HOSPITAL)), url, tmp_path)
    )
    (finding,) = [f for f in decode_findings(result.data["findings"]) if f.rule == "R20"]
    assert (finding.line, finding.outcome) == (0, "pass")
    assert finding.message.startswith("warning: no wholesaler DC data is loaded")
