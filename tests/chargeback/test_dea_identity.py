"""Edge case 10 under R04: a DEA failing its check digit is decided by the DEA registrant data,
not rejected by intake (brief §3.2, §9.10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from processors.chargeback.claim import Identifier, Party, decode_findings
from processors.chargeback.dea_identity import database_decides, deferred_deas
from processors.chargeback.edi import parse_844
from processors.chargeback.extract import intake_findings
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.identifiers import check_dea, check_npi
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    step_context,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "samples" / "844_example.edi"
ODD = "BJ1234564"  # the brief's "bad check digit" example, here an active registration
LAPSED = "BJ1234574"  # registered, expired before the invoice
GHOST = "BJ1234584"  # fails the check digit and is nobody's


@pytest.mark.parametrize(
    ("value", "decides"),
    [
        ("BJ1234564", True),  # check digit only
        ("BJ1234564-001AB", True),  # institutional suffix: the base decides
        ("BJ1234563", False),  # valid: nothing to decide
        ("ZX1234564", False),  # registrant type Z: not a DEA number at all
        ("BJ123456", False),  # too short
    ],
)
def test_only_a_well_formed_number_with_a_wrong_check_digit_is_deferred(
    value: str, decides: bool
) -> None:
    assert database_decides(check_dea(value)) is decides


def _customer(*idents: Identifier) -> Party:
    return Party("ST", "ODD BUT REAL CLINIC", idents)


def test_intake_defers_only_when_the_dea_is_the_last_hope() -> None:
    bad_npi = check_npi("1234567890")
    alone = claim(claim_line(1, _customer(check_dea(ODD), bad_npi)))
    (finding,) = intake_findings(alone)
    assert (finding.rule, finding.outcome) == ("R04", "pass")
    assert finding.message.endswith("the DEA registrant data decides (federal-db-validation)")
    assert deferred_deas(alone.lines[0]) == (ODD,)
    typed = claim(claim_line(1, _customer(check_dea("ZX1234563"), bad_npi)))
    assert [(f.outcome, f.code) for f in intake_findings(typed)] == [("reject", "26")]
    helped = claim(claim_line(1, _customer(check_dea(ODD), check_npi("1234567893"))))
    assert deferred_deas(helped.lines[0]) == ()  # a valid NPI identifies the customer


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("dea_identity")
    url = f"sqlite:///{base / 'state.db'}"
    ref = ReferenceSet()
    ref.add("products", ndc11="12345678901")
    ref.add("dea", dea_no=ODD, expiration_date="2026-06-30")
    ref.add("dea", dea_no=LAPSED, expiration_date="2023-12-31")
    ref.load(base / "ref", url)
    return url


@pytest.mark.parametrize(
    ("dea", "expected"),
    [(ODD, ("pass", None)), (LAPSED, ("review", "25")), (GHOST, ("reject", "26"))],
)
def test_federal_db_validation_asks_the_registrant_data(
    url: str, tmp_path: Path, dea: str, expected: tuple[str, str | None]
) -> None:
    line = claim_line(1, _customer(check_dea(dea)))
    result = FederalDbValidation({}).process(step_context(claim(line), url, tmp_path))
    findings = list(decode_findings(result.data["findings"]))
    (r04,) = [f for f in findings if f.rule == "R04"]
    assert (r04.outcome, r04.code) == expected
    assert dea in r04.message


def test_lines_intake_did_not_defer_get_no_r04_verdict_here(url: str, tmp_path: Path) -> None:
    valid = claim_line(1, _customer(check_dea("BJ1234563")))
    result = FederalDbValidation({}).process(step_context(claim(valid), url, tmp_path))
    assert not [f for f in decode_findings(result.data["findings"]) if f.rule == "R04"]


# --------------------------------------------------------------------------- the name letter

OTHERS = "BJ1234563"  # valid digits; J is not the initial of the clinic the tests send it for


def test_the_name_a_claim_sends_is_checked_against_the_dea_letter() -> None:
    """Issue 13: the last-name check existed but nothing passed it a name. The 844's N1 name
    is now passed, so a DEA number whose letter is not the party's initial is not valid
    offline; with nothing else valid it is left to the registrant data, not rejected."""
    edi = (EXAMPLE.read_text("utf-8")).replace(
        "N1*ST*ST ELSEWHERE GENERAL HOSPITAL*11*BS4182301", "N1*ST*ODD BUT REAL CLINIC*11*BS4182301"
    )
    first = parse_844(edi).lines[0].customer
    assert first is not None
    dea = first.identifiers_of("dea")[0]
    assert not dea.valid
    assert dea.problem == "DEA second letter S does not match the name 'ODD BUT REAL CLINIC'"
    assert database_decides(dea)
    alone = claim(claim_line(1, _customer(dea)))
    assert deferred_deas(alone.lines[0]) == ("BS4182301",)
    (finding,) = intake_findings(alone)
    assert (finding.rule, finding.outcome) == ("R04", "pass")


@pytest.mark.parametrize(
    ("registrant", "expected"),
    [("ST ELSEWHERE GENERAL HOSPITAL", ("review", "25")), ("ODD BUT REAL CLINIC", ("pass", None))],
)
def test_an_active_dea_of_another_name_is_held(
    tmp_path: Path, registrant: str, expected: tuple[str, str | None]
) -> None:
    """The registration is active, but its letter says it is not the claimed party's: unless
    the registrant data names that very party (renamed since), a person confirms who bought."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    ref = ReferenceSet()
    ref.add("products", ndc11="12345678901")
    ref.add("dea", dea_no=OTHERS, expiration_date="2026-06-30", name=registrant)
    ref.load(tmp_path / "ref", url)
    line = claim_line(1, _customer(check_dea(OTHERS, last_name="ODD BUT REAL CLINIC")))
    result = FederalDbValidation({}).process(step_context(claim(line), url, tmp_path))
    (r04,) = [f for f in decode_findings(result.data["findings"]) if f.rule == "R04"]
    assert (r04.outcome, r04.code) == expected
    assert registrant in r04.message
