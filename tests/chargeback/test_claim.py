"""The claim model: JSON round trip, strict decoding, derived flags and the money rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.chargeback.claim import (
    Address,
    Claim,
    ClaimLine,
    Envelope,
    Finding,
    Identifier,
    Issue,
    LineDecision,
    Party,
    chargeback_amount,
)


def _customer() -> Party:
    return Party(
        role="ST",
        name="ST ELSEWHERE GENERAL HOSPITAL",
        identifiers=(
            Identifier("dea", "BS4182301", True, None, "11"),
            Identifier("gln", "1234567890123", False, "GLN check digit is 3, expected 8", "UL"),
        ),
        address=Address(("1 HOSPITAL DR",), "SPRINGFIELD", "OH", "45501", None),
    )


def _claim() -> Claim:
    line = ClaimLine(
        line=1,
        line_id="1",
        contract_id="NWP-GPO-00117",
        contract_status="VA",
        customer=_customer(),
        ndc11="12345678901",
        ndc_submitted="12345678901",
        ndc_qualifier="N4",
        quantity=Decimal(-10),
        unit="UN",
        wac=Decimal("125.00"),
        contract_price=Decimal("82.50"),
        claimed_amount=Decimal("-425.00"),
        invoice_number="INV88123401",
        invoice_line="1",
        invoice_date=dt.date(2024, 3, 4),
        issues=(Issue("ship_date", "27", "DTM*011 '20240231' is not a date"),),
    )
    return Claim(
        format="x12-844",
        extractor="x12-844",
        document_sha256="ab" * 32,
        debit_memo="DM0315240012",
        claim_date=dt.date(2024, 3, 15),
        lines=(line,),
        purpose="05",
        original_debit_memo="DM0301240007",
        distributor=Party("DS", "ACME", (Identifier("dea", "RA7301194", True, None, "11"),)),
        total_claimed=Decimal("-425.00"),
        envelope=Envelope(
            "ZZ",
            "ACMEDRUG012",
            "ZZ",
            "NORTHWINDPH",
            "000000721",
            "721",
            "0001",
            "ACMEDRUG012",
            "NORTHWINDPH",
            dt.date(2024, 3, 15),
            "1015",
            "T",
        ),
    )


def test_claim_round_trips_through_plain_json() -> None:
    claim = _claim()
    wire = json.loads(json.dumps(claim.to_json()))
    assert Claim.from_json(wire) == claim
    line = wire["lines"][0]
    assert line["wac"] == "125.00" and line["invoice_date"] == "2024-03-04"
    assert line["customer"]["identifiers"][1]["valid"] is False
    assert "is_credit" not in line  # derived, never stored


def test_json_keeps_field_order_nulls_and_exact_decimals() -> None:
    """The store and the compliance hash see this text, so its shape is pinned, not just its
    round trip."""
    line = _claim().to_json()["lines"][0]
    assert list(line) == [f.name for f in dataclasses.fields(ClaimLine)]
    assert (line["quantity"], line["claimed_amount"]) == ("-10", "-425.00")
    assert (line["ship_date"], line["ndc_candidates"], line["description"]) == (None, [], None)
    assert line["issues"] == [
        {"field": "ship_date", "code": "27", "message": "DTM*011 '20240231' is not a date"}
    ]
    assert line["customer"]["address"] == {
        "lines": ["1 HOSPITAL DR"],
        "city": "SPRINGFIELD",
        "state": "OH",
        "postal_code": "45501",
        "country": None,
    }


def test_equal_customers_are_written_alike_even_when_not_hashable() -> None:
    """Equal text-only records share their JSON within a claim; a record that cannot be hashed
    (a list where the annotation says tuple) is still written, just not shared."""
    first, second = _claim().lines[0], dataclasses.replace(_claim().lines[0], line=2)
    assert first.customer is not second.customer
    wire = dataclasses.replace(_claim(), lines=(first, second)).to_json()
    assert wire["lines"][0]["customer"] == wire["lines"][1]["customer"]
    listed = Party("ST", "X", [Identifier("custom", "A1", True)])  # type: ignore[arg-type]
    assert listed.to_json()["identifiers"] == [
        {"kind": "custom", "value": "A1", "valid": True, "problem": None, "qualifier": None}
    ]


def test_derived_flags() -> None:
    claim = _claim()
    assert claim.is_resubmission
    assert claim.lines[0].is_credit
    assert claim.lines[0].expected_amount == Decimal("-425.00")
    assert claim.customers == (_customer(),)
    assert claim.line(1) is claim.lines[0]
    with pytest.raises(KeyError, match="no line 2"):
        claim.line(2)


def test_findings_and_decisions_round_trip() -> None:
    finding = Finding(3, "R11", "adjust", "06", "contract price 80.00 != 82.50", Decimal("255.00"))
    assert Finding.from_json(json.loads(json.dumps(finding.to_json()))) == finding
    decision = LineDecision(3, "adjust", Decimal("255.00"), ("06",), Decimal("82.50"), None)
    assert LineDecision.from_json(decision.to_json()) == decision


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["lines"][0].update(quantity=10), r"lines\[0\]\.quantity: a decimal travels"),
        (lambda d: d["lines"][0].update(quantity="ten"), r"'ten' is not a decimal"),
        (lambda d: d.update(claim_date="03/15/2024"), r"claim\.claim_date: .* not an ISO date"),
        (lambda d: d.update(format="csv"), r"claim\.format: 'csv' is not one of"),
        (lambda d: d["lines"][0].update(line=True), r"lines\[0\]\.line: expected an integer"),
        (lambda d: d["lines"][0].update(colour="red"), r"unknown field\(s\) colour"),
        (lambda d: d.pop("lines"), r"claim: .*lines"),
        (lambda d: d.update(lines=None), r"claim\.lines: must not be null"),
        (lambda d: d.update(debit_memo=12), r"claim\.debit_memo: expected str, got int"),
    ],
)
def test_from_json_names_the_bad_path(mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = _claim().to_json()
    mutate(data)
    with pytest.raises(ValueError, match=message):
        Claim.from_json(data)


@given(
    wac=st.decimals(min_value=0, max_value=10_000, places=4),
    cp=st.decimals(min_value=0, max_value=10_000, places=4),
    qty=st.integers(min_value=-1000, max_value=1000),
)
def test_chargeback_amount_is_half_up_cents(wac: Decimal, cp: Decimal, qty: int) -> None:
    amount = chargeback_amount(wac, cp, Decimal(qty))
    exact = (wac - cp) * qty
    assert amount.as_tuple().exponent == -2
    assert abs(amount - exact) <= Decimal("0.005")
    # half-up: an exact half cent rounds away from zero
    if abs(exact - amount) == Decimal("0.005"):
        assert abs(amount) > abs(exact)


def test_chargeback_amount_example_lines() -> None:
    assert chargeback_amount(Decimal("125.00"), Decimal("82.50"), Decimal(10)) == Decimal("425.00")
    assert chargeback_amount(Decimal("1.005"), Decimal(0), Decimal(1)) == Decimal("1.01")


def test_quick_init_records_are_the_dataclasses_they_were() -> None:
    """Findings and decisions get a faster __init__ and stay frozen value types: keyword and
    positional arguments, defaults, equality, hashing, replace and the frozen check."""
    import dataclasses

    from processors.chargeback.claim import LineDecision, quick_init

    made = Finding(3, "R06", "reject", "28", "duplicate", Decimal("0.00"))
    assert made == Finding(line=3, rule="R06", outcome="reject", code="28", message="duplicate",
                           amount=Decimal("0.00"))
    assert hash(made) == hash(dataclasses.replace(made))
    assert Finding(1, "R06", "pass", None, "new").amount is None
    assert dataclasses.replace(made, line=4).line == 4 and made.line == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 5  # type: ignore[misc]
    assert LineDecision(1, "accept", Decimal("1.00")).reason_codes == ()
    with pytest.raises(TypeError, match="missing"):
        Finding(1, "R06")  # type: ignore[call-arg]

    @dataclasses.dataclass(frozen=True, slots=True)
    class Listed:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="quick_init cannot build Listed"):
        quick_init(Listed)
