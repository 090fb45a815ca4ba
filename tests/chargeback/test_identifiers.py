"""Check-digit and format tests against the brief's own test values (§3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.chargeback.identifiers import (
    CheckOptions,
    check_340b,
    check_dea,
    check_gln,
    check_hin,
    check_identifier,
    check_npi,
    dea_check_digit,
    gs1_check_digit,
    luhn_valid,
    ndc11_candidates,
    ndc11_to_ndc10_candidates,
    normalize_ndc,
)


@pytest.mark.parametrize("npi", ["1234567893", "2987654326", "1456321870"])
def test_npi_valid(npi: str) -> None:
    result = check_npi(npi)
    assert result.valid and result.problem is None and result.kind == "npi"


@pytest.mark.parametrize(
    ("npi", "problem"),
    [
        ("1234567890", "NPI check digit is 0, expected 3"),
        ("1453621870", "NPI check digit is 0, expected 6"),
        ("3234567891", "NPI must start with 1 or 2; got 3"),
        ("123456789", "NPI must be 10 digits"),
        ("12345678A3", "NPI must be 10 digits"),
    ],
)
def test_npi_invalid(npi: str, problem: str) -> None:
    result = check_npi(npi)
    assert not result.valid
    assert result.problem is not None and result.problem.startswith(problem)


def test_npi_worked_example_payload_gives_check_digit_3() -> None:
    # CMS worked example: payload 123456789 -> the only valid tenth digit is 3
    assert [d for d in "0123456789" if check_npi("123456789" + d).valid] == ["3"]


@pytest.mark.parametrize("dea", ["AP5836727", "BJ1234563", "MS4872013", "F91234563", " bj1234563 "])
def test_dea_valid(dea: str) -> None:
    result = check_dea(dea)
    assert result.valid, result.problem
    assert result.value == dea.strip().upper()


@pytest.mark.parametrize(
    ("dea", "problem"),
    [
        ("BJ1234564", "DEA check digit is 4, expected 3"),
        ("AP5863727", "DEA check digit is 7, expected 4"),
        ("ZX1234563", "DEA registrant type 'Z' is not one of A, B, F, G, M, P, R, X"),
        ("B11234563", "must be a letter, a letter or 9, then 7 digits"),
        ("BJ123456", "DEA number must be 9 characters; got 8"),
        ("F91234563-", "DEA suffix after '-' must be letters/digits"),
    ],
)
def test_dea_invalid(dea: str, problem: str) -> None:
    result = check_dea(dea)
    assert not result.valid and result.problem is not None and problem in result.problem


def test_dea_suffix_and_name_and_types() -> None:
    assert check_dea("F91234563-001AB").valid
    assert check_dea("F91234563-001AB").value == "F91234563-001AB"
    assert check_dea("BJ1234563", last_name="Jones").valid
    smith = check_dea("BJ1234563", last_name="Smith")
    assert (
        not smith.valid and smith.problem == "DEA second letter J does not match the name 'Smith'"
    )
    # the name as a claim sends it: business names, punctuation and case
    assert check_dea("BS4182301", last_name="St. Elsewhere General Hospital").valid
    assert not check_dea("BS4182301", last_name="RIVERBEND COMMUNITY CLINIC").valid
    assert check_dea("F91234563", last_name="Smith").valid  # business registrant: no name letter
    assert not check_dea("XJ1234563", registrant_types=frozenset("ABFGMPR")).valid


@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_dea_exactly_one_check_digit_passes(digits: str) -> None:
    passing = [d for d in "0123456789" if check_dea(f"BJ{digits}{d}").valid]
    assert passing == [str(dea_check_digit(digits))]


def test_gln() -> None:
    assert check_gln("0614141000012").valid
    assert gs1_check_digit("061414100001") == 2
    bad = check_gln("0614141000013")
    assert bad.problem == "GLN check digit is 3, expected 2"
    assert check_gln("614141000012").problem == "GLN must be 13 digits; got '614141000012'"


def test_hin_is_format_only() -> None:
    assert check_hin("a1b2c3d00").valid
    assert check_hin("A1B2C3D00").value == "A1B2C3D00"
    short = check_hin("A1B2C3D")
    assert not short.valid and short.problem is not None and "9 letters/digits" in short.problem
    assert not check_hin("A1B2-3D00").valid


@pytest.mark.parametrize("id340b", ["BL030740", "BL03074A", "DSH390111", "RWIII0123", "CAH140001"])
def test_340b_valid(id340b: str) -> None:
    assert check_340b(id340b).valid


@pytest.mark.parametrize(
    ("id340b", "problem"),
    [
        ("XY030740", "does not start with a known entity-type prefix"),
        ("BL", "after the prefix BL expected 4-10 letters/digits"),
        ("BLA30740", "after the prefix BL expected"),
        ("DSH1", "after the prefix DSH expected"),
    ],
)
def test_340b_invalid(id340b: str, problem: str) -> None:
    result = check_340b(id340b)
    assert not result.valid and result.problem is not None and problem in result.problem


def test_check_identifier_dispatch_keeps_qualifier_and_options() -> None:
    result = check_identifier("dea", "BS4182301", qualifier="11")
    assert result.valid and result.qualifier == "11"
    options = CheckOptions(id340b_prefixes=("ZZZ",))
    assert check_identifier("340b", "ZZZ12345", options=options).valid
    assert not check_identifier("340b", "BL030740", options=options).valid
    custom = check_identifier("custom", " CUST-77 ", qualifier="92")
    assert custom.valid and custom.value == "CUST-77"


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


@pytest.mark.parametrize(
    ("value", "layout", "ndc11", "found"),
    [
        ("1234-5678-90", None, "01234567890", "4-4-2"),
        ("12345-678-90", None, "12345067890", "5-3-2"),
        ("12345-6789-0", None, "12345678900", "5-4-1"),
        ("12345-6789-01", None, "12345678901", "5-4-2"),
        ("12345678901", None, "12345678901", "5-4-2"),
        ("1234567890", "4-4-2", "01234567890", "4-4-2"),
        ("1234567890", "5-3-2", "12345067890", "5-3-2"),
        ("1234567890", "5-4-1", "12345678900", "5-4-1"),
        (" 00123-4567-89 ", None, "00123456789", "5-4-2"),
    ],
)
def test_ndc_normalises(value: str, layout: str | None, ndc11: str, found: str) -> None:
    result = normalize_ndc(value, layout=layout)
    assert (result.ndc11, result.layout, result.problem) == (ndc11, found, None)


def test_unhyphenated_ten_digits_is_ambiguous() -> None:
    result = normalize_ndc("1234567890")
    assert result.ndc11 is None
    assert result.candidates == ("01234567890", "12345067890", "12345678900")
    assert result.problem is not None and "ambiguous" in result.problem


def test_lost_leading_zeros_are_reported_with_candidates() -> None:
    # 00123-4567-89 stored as a number becomes 123456789 (brief §9.2)
    result = normalize_ndc("123456789")
    assert result.ndc11 is None
    assert "leading zeros were probably lost" in (result.problem or "")
    assert "00123456789" in result.candidates
    assert ndc11_candidates("123456789") == result.candidates
    assert ndc11_candidates("12345-6789-01") == ("12345678901",)


@pytest.mark.parametrize(
    ("value", "layout", "problem"),
    [
        ("", None, "is empty"),
        ("12345-67A9-01", None, "only digits and hyphens"),
        ("123-4567-89", None, "segments 3-4-2 match none"),
        ("12345-678-90", "4-4-2", "is written 5-3-2 but the layout given is 4-4-2"),
        ("12345678901", "4-4-2", "has 11 digits but the layout given is 4-4-2"),
        ("1234567890", "5-4-2", "has 10 digits but the layout given is 5-4-2"),
        ("123456789012", None, "12 digits"),
        ("1234567", None, "has 7 digits"),
    ],
)
def test_ndc_problems(value: str, layout: str | None, problem: str) -> None:
    result = normalize_ndc(value, layout=layout)
    assert result.ndc11 is None and problem in (result.problem or "")


def test_ndc_bad_layout_hint_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown NDC layout hint"):
        normalize_ndc("1234567890", layout="3-3-4")


def test_ndc11_to_ndc10_candidates() -> None:
    assert ndc11_to_ndc10_candidates("01234567890") == ("1234-5678-90",)
    assert ndc11_to_ndc10_candidates("01234067800") == (
        "1234-0678-00",
        "01234-678-00",
        "01234-0678-0",
    )
    assert ndc11_to_ndc10_candidates("12345678901") == ("12345-6789-1",)
    assert ndc11_to_ndc10_candidates("12345678991") == ()
    assert ndc11_to_ndc10_candidates("00000000000") == (
        "0000-0000-00",
        "00000-000-00",
        "00000-0000-0",
    )
    with pytest.raises(ValueError):
        ndc11_to_ndc10_candidates("1234")


@given(
    st.text(alphabet="0123456789", min_size=10, max_size=10),
    st.sampled_from(["4-4-2", "5-3-2", "5-4-1"]),
)
def test_ndc_label_round_trip(digits: str, layout: str) -> None:
    result = normalize_ndc(digits, layout=layout)
    if not digits[: int(layout[0])].strip("0"):  # an all-zero labeler: no NDC at all
        assert result.ndc11 is None and "labeler code 00000" in (result.problem or "")
        return
    ndc11 = result.ndc11
    assert ndc11 is not None and len(ndc11) == 11
    a, b = int(layout[0]), int(layout[2])
    label = f"{digits[:a]}-{digits[a : a + b]}-{digits[a + b :]}"
    assert label in ndc11_to_ndc10_candidates(ndc11)


@pytest.mark.parametrize("value", ["00000-0000-00", "00000000000", "0000-0000-00", "000000000"])
def test_an_all_zero_labeler_is_no_ndc(value: str) -> None:
    """Issue 13: 00000-0000-00 normalised to a valid NDC. FDA assigns no labeler code 00000."""
    result = normalize_ndc(value)
    assert result.ndc11 is None and result.candidates == ()
    assert result.problem == (
        f"NDC {value!r}: labeler code 00000 is not assigned by FDA; no product has this NDC"
    )
    # a reading with a zero labeler is no candidate of an ambiguous code either
    assert "00000123456" not in normalize_ndc("0000123456").candidates


@pytest.mark.parametrize("value", ["FQHC63800042", "HV123456", "RWIIR04051"])
def test_newer_340b_entity_prefixes_are_known(value: str) -> None:
    """Issue 13: tribal FQHCs (FQHC638), HIV grantees (HV) and Ryan White Part II rebate
    entities (RWIIR) are OPAIS entity types too."""
    assert check_340b(value).valid, check_340b(value).problem
