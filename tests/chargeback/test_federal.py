"""federal-db-validation: LEIE/SAM exclusions (reinstatements honoured), DEA at the invoice
date and schedule, NPI deactivation, 340B OPAIS rules (brief §4, §8 R18-R19, §9.3/4/9/10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.processors import StepResult
from processors.chargeback.claim import Finding, Party, decode_findings
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.reference.generate import dea_with_check, npi_with_check
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)

PLAIN, C2, C4 = "12345678901", "12345000102", "12345000104"
NPI = {
    name: npi_with_check(payload)
    for name, payload in {
        "blue": "151829374",
        "cedar": "163917284",
        "fox": "178063452",
        "meridian": "144455566",
        "ghost": "199988877",
    }.items()
}
DEA = {
    "maple": dea_with_check("AM", "392615"),
    "blue": dea_with_check("AB", "518293"),
    "doc": dea_with_check("FD", "112233"),
    "gone": dea_with_check("AG", "445566"),
    "odd": "BJ1234564",
    "synthetic": dea_with_check("AS", "778899"),
}
BLUE = party("BLUE RIVER PHARMACY", postal_code="43215", npi=NPI["blue"], dea=DEA["blue"])
MAPLE = party("MAPLE GROVE PHARMACY", dea=DEA["maple"])


def base_set(with_rein: bool = True) -> ReferenceSet:
    ref = ReferenceSet()
    ref.add("products", ndc11=PLAIN).add("products", ndc11=C2, dea_schedule="2").add(
        "products", ndc11=C4, dea_schedule="4"
    )
    ref.add("contracts", contract_id="C-GPO", gpo_id="G1")
    ref.add("contracts", contract_id="C-MS", gpo_id="G1", program="MED_SURG")
    ref.add("contracts", contract_id="C-340B", contract_type="340B")
    blue = {
        "BUSNAME": "BLUE RIVER PHARMACY",
        "NPI": NPI["blue"],
        "EXCLDATE": "20210110",
        "ZIP": "43215",
    }
    ref.add("leie", "UPDATED-2022.csv", **blue).file_options(
        "UPDATED-2022.csv", snapshot_date="2022-06-10"
    )
    if with_rein:
        ref.add("leie", "2305REIN.csv", **blue, REINDATE="20230501")
        ref.file_options("2305REIN.csv", snapshot_date="2023-06-12", kind="supplement")
    ref.add(
        "leie", "UPDATED-2024.csv", BUSNAME="GREEN MEADOW DRUG", ZIP="74103", EXCLDATE="20220815"
    )
    ref.file_options("UPDATED-2024.csv", snapshot_date="2024-03-11")
    ref.add(
        "sam",
        Name="FOX RUN SPECIALTY PHARMACY",
        NPI=NPI["fox"],
        **{"Active Date": "09/05/2023", "SAM Number": "S1"},
    )
    ref.add(
        "sam",
        Classification="Individual",
        First="ALDEN",
        Last="VOSS",
        **{
            "Zip Code": "45402",
            "Active Date": "01/01/2020",
            "Termination Date": "12/31/2021",
            "SAM Number": "S2",
        },
    )
    ref.add(
        "dea",
        dea_no=DEA["maple"],
        bac="A",
        effective_from="2021-03-01",
        expiration_date="2024-02-29",
    )
    ref.add(
        "dea",
        dea_no=DEA["maple"],
        bac="A",
        effective_from="2024-03-11",
        expiration_date="2027-02-28",
    )
    ref.add("dea", dea_no=DEA["blue"], bac="A", expiration_date="2026-06-30")
    ref.add("dea", dea_no=DEA["doc"], bac="C", schedules="3 3N 4 5", expiration_date="2026-06-30")
    ref.add("dea", dea_no=DEA["gone"], bac="A", expiration_date="2026-06-30", active="N")
    ref.add("dea", dea_no=DEA["odd"], bac="B", expiration_date="2026-06-30")
    for key in ("blue", "fox", "meridian"):
        ref.add("nppes", NPI=NPI[key])
    ref.add(
        "nppes",
        NPI=NPI["cedar"],
        **{
            "Entity Type Code": "",
            "NPI Deactivation Reason Code": "DT",
            "NPI Deactivation Date": "11/30/2023",
        },
    )
    ref.add(
        "opais",
        id340b="DSH360112",
        npi_numbers=NPI["meridian"],
        participating_start_date="2018-01-01",
    )
    ref.add("opais", id340b="BL030740", entity_type="BL", participating_start_date="2015-01-01")
    ref.add(
        "opais",
        id340b="BL03074B",
        parent_id340b="BL030740",
        entity_type="BL",
        participating_start_date="2019-10-01",
    )
    ref.add(
        "opais",
        id340b="CH12345",
        entity_type="CH",
        participating="N",
        termination_date="2023-12-31",
    )
    ref.add(
        "sap_customers",
        kunnr="1",
        name1="BLUE RIVER PHARMACY",
        pstlz="43215",
        npi=NPI["blue"],
        dea=DEA["blue"],
    )
    ref.add("sap_customers", kunnr="3", name1="CEDAR RIDGE FAMILY PRACTICE", npi=NPI["cedar"])
    ref.add(
        "sap_customers", kunnr="8", name1="GREEN MEADOW DRUG", pstlz="74103-2201", hin="G7G7G7G00"
    )
    return ref


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("federal")
    url = f"sqlite:///{base / 'state.db'}"
    base_set().load(base / "ref", url)
    return url


def screen(
    url: str, tmp_path: Path, customer: Party, config: dict[str, Any] | None = None, **line: Any
) -> list[Finding]:
    line.setdefault("contract_id", "C-GPO")
    result: StepResult = FederalDbValidation(config or {}).process(
        step_context(claim(claim_line(1, customer, **line)), url, tmp_path)
    )
    return list(decode_findings(result.data["findings"]))


def worst(findings: list[Finding]) -> tuple[str, str | None]:
    order = ["pass", "adjust", "review", "reject"]
    top = max(findings, key=lambda f: order.index(f.outcome))
    return top.outcome, top.code


@pytest.mark.parametrize(
    ("day", "expected"), [("2022-06-15", ("reject", "09")), ("2023-06-15", ("pass", None))]
)
def test_reinstated_leie_exclusion_decided_as_of_invoice_date(
    url: str, tmp_path: Path, day: str, expected: tuple[str, str | None]
) -> None:
    """Brief §9.3: excluded 2021-01-10, reinstated 2023-05-01, absent from the current file."""
    findings = screen(url, tmp_path, BLUE, invoice_date=day)
    assert worst(findings) == expected
    if expected[0] == "reject":
        assert any(f.rule == "R18" and "reinstated only 2023-05-01" in f.message for f in findings)


def test_dropped_out_without_rein_file_is_reviewed_in_the_gap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'norein.db'}"
    base_set(with_rein=False).load(tmp_path / "ref", url)
    assert worst(screen(url, tmp_path, BLUE, invoice_date="2022-06-01")) == ("reject", "09")
    assert worst(screen(url, tmp_path, BLUE, invoice_date="2023-06-15")) == ("review", "25")
    assert worst(screen(url, tmp_path, BLUE, invoice_date="2024-03-12")) == ("pass", None)


def test_exclusion_matched_by_name_and_zip_only_is_held_for_review(
    url: str, tmp_path: Path
) -> None:
    findings = screen(url, tmp_path, party("Green Meadow Drug", hin="G7G7G7G00"))
    assert worst(findings) == ("review", "25")
    assert "name and ZIP only" in next(f.message for f in findings if f.rule == "R18")


def test_sam_exclusion_by_npi_and_its_dates(url: str, tmp_path: Path) -> None:
    fox = party("FOX RUN SPECIALTY PHARMACY", npi=NPI["fox"])
    assert worst(screen(url, tmp_path, fox, invoice_date="2024-03-04")) == ("reject", "09")
    assert worst(screen(url, tmp_path, fox, invoice_date="2023-09-04")) == ("pass", None)
    voss = party("Voss, Alden", postal_code="45402", hin="V0V0V0V00")
    assert worst(screen(url, tmp_path, voss, invoice_date="2024-03-04")) == (
        "pass",
        None,
    )  # terminated 2021
    assert worst(screen(url, tmp_path, voss, invoice_date="2021-12-31")) == (
        "review",
        "25",
    )  # name + ZIP only


def test_expired_dea_denies_a_c2_product_but_only_warns_for_a_plain_one(
    url: str, tmp_path: Path
) -> None:
    """Brief §9.4: expired 2024-02-29, invoice 2024-03-04, renewed (same number) from 2024-03-11."""
    denied = screen(url, tmp_path, MAPLE, ndc11=C2)
    assert worst(denied) == ("reject", "26")
    assert "expired 2024-02-29 and was renewed only from 2024-03-11" in denied[0].message
    warned = screen(url, tmp_path, MAPLE, ndc11=PLAIN)
    assert worst(warned) == ("pass", None) and warned[0].message.startswith("warning: DEA")
    assert worst(
        screen(url, tmp_path, MAPLE, ndc11=PLAIN, config={"noncontrolled_dea_problem": "review"})
    ) == ("review", "25")
    assert worst(screen(url, tmp_path, MAPLE, ndc11=C2, invoice_date="2024-03-11")) == (
        "pass",
        None,
    )


def test_dea_schedule_activity_and_existence(url: str, tmp_path: Path) -> None:
    doc = party("DR VOSS", dea=DEA["doc"])
    assert worst(screen(url, tmp_path, doc, ndc11=C2)) == ("reject", "26")
    assert worst(screen(url, tmp_path, doc, ndc11=C4)) == ("pass", None)
    assert worst(screen(url, tmp_path, party("GONE", dea=DEA["gone"]), ndc11=C4)) == (
        "reject",
        "26",
    )
    assert worst(screen(url, tmp_path, party("NO DEA", hin="N0N0N0N00"), ndc11=C4)) == (
        "reject",
        "26",
    )


def test_the_dea_database_decides_not_the_check_digit(url: str, tmp_path: Path) -> None:
    """Brief §9.10: a number failing the formula but active passes; a synthetic one fails."""
    assert worst(screen(url, tmp_path, party("ODD BUT REAL", dea=DEA["odd"]), ndc11=C2)) == (
        "pass",
        None,
    )
    synthetic = screen(url, tmp_path, party("MADE UP", dea=DEA["synthetic"]), ndc11=C2)
    assert (
        worst(synthetic) == ("reject", "26")
        and "not in the DEA registrant data" in synthetic[0].message
    )


def test_npi_deactivation_and_unassigned_npis(url: str, tmp_path: Path) -> None:
    cedar = party("CEDAR RIDGE FAMILY PRACTICE", npi=NPI["cedar"])
    assert worst(screen(url, tmp_path, cedar, invoice_date="2023-11-29")) == ("pass", None)
    deactivated = screen(url, tmp_path, cedar, invoice_date="2024-03-04")
    assert (
        worst(deactivated) == ("reject", "26")
        and "deactivated 2023-11-30, reason DT" in deactivated[0].message
    )
    assert worst(screen(url, tmp_path, party("GHOST CLINIC", npi=NPI["ghost"]))) == ("reject", "26")
    known = screen(
        url,
        tmp_path,
        party("BLUE RIVER PHARMACY", dea=DEA["blue"], npi=NPI["ghost"]),
        invoice_date="2023-06-15",
    )
    assert worst(known) == ("pass", None) and any("not in NPPES" in f.message for f in known)


def test_active_dsh_on_a_gpo_pharmacy_contract_is_a_prohibition_flag(
    url: str, tmp_path: Path
) -> None:
    """Brief §9.9; found through the NPI even when the claim sends no 340B ID."""
    meridian = party("MERIDIAN VALLEY MEDICAL CENTER", npi=NPI["meridian"])
    findings = screen(url, tmp_path, meridian)
    assert (
        worst(findings) == ("review", "25") and "GPO prohibition: DSH360112" in findings[0].message
    )
    assert worst(screen(url, tmp_path, meridian, contract_id="C-MS")) == ("pass", None)


def test_340b_contract_child_sites_and_terminations(url: str, tmp_path: Path) -> None:
    assert worst(
        screen(url, tmp_path, party("BRIGHTWATER EAST", id340b="BL03074B"), contract_id="C-340B")
    ) == ("pass", None)
    unregistered = screen(
        url, tmp_path, party("BRIGHTWATER WEST", id340b="BL03074A"), contract_id="C-340B"
    )
    assert worst(unregistered) == ("reject", "26")
    assert any(
        f.outcome == "review" and "its parent BL030740 is" in f.message for f in unregistered
    )
    ended = party("OLD HEALTH CENTER", id340b="CH12345")
    assert worst(screen(url, tmp_path, ended, contract_id="C-340B", invoice_date="2023-06-15")) == (
        "pass",
        None,
    )
    assert worst(screen(url, tmp_path, ended, contract_id="C-340B", invoice_date="2024-03-04")) == (
        "reject",
        "26",
    )
    assert worst(
        screen(url, tmp_path, party("NOT 340B", hin="N0N0N0N00"), contract_id="C-340B")
    ) == ("reject", "26")
