"""Reading X12 844 claims: the brief's example, the intake samples and every kind of bad file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.chargeback.claim import Claim, Party
from processors.chargeback.edi import (
    ClaimFormatError,
    Delimiters,
    parse_844,
    parse_844_interchange,
    tokenize,
    write_844,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "specs/samples"
EXAMPLE = (SAMPLES / "844_example.edi").read_text()


def sample(name: str) -> Claim:
    return parse_844((SAMPLES / name).read_bytes())


def test_example_header_and_parties() -> None:
    claim = parse_844(EXAMPLE)
    assert claim.format == "x12-844" and claim.extractor == "x12-844"
    assert claim.document_sha256 == hashlib.sha256(EXAMPLE.encode()).hexdigest()
    assert (claim.debit_memo, claim.debit_memo_qualifier) == ("DM0315240012", "AM")
    assert (claim.purpose, claim.transaction_type) == ("00", "DR")
    assert claim.claim_date == dt.date(2024, 3, 15)
    assert claim.currency == "USD" and claim.total_claimed == Decimal("1183.25")
    assert claim.distributor is not None and claim.distributor.role == "DS"
    assert [(i.kind, i.value, i.valid) for i in claim.distributor.identifiers] == [
        ("dea", "RA7301194", True)
    ]
    assert claim.distributor.address is not None
    assert claim.distributor.address.city == "COLUMBUS"
    assert claim.manufacturer is not None
    assert claim.manufacturer.identifiers[0].value == "0614141000012"
    env = claim.envelope
    assert env is not None
    assert (env.sender_id, env.receiver_id, env.interchange_control) == (
        "ACMEDRUG012",
        "NORTHWINDPH",
        "000000721",
    )
    assert (env.group_control, env.transaction_control, env.usage) == ("721", "0001", "T")
    assert claim.issues == ()


def test_example_lines() -> None:
    claim = parse_844(EXAMPLE)
    assert [line.line for line in claim.lines] == [1, 2, 3, 4]
    third = claim.lines[2]
    assert third.line_id == "3" and third.contract_loop == 3
    assert (third.contract_id, third.contract_status) == ("NWP-GPO-00117", "VA")
    assert (third.ndc11, third.ndc_submitted, third.ndc_qualifier) == (
        "12345678901",
        "12345678901",
        "N4",
    )
    assert (third.quantity, third.unit) == (Decimal(6), "UN")
    assert (third.wac, third.contract_price, third.claimed_amount) == (
        Decimal("125.00"),
        Decimal("80.00"),
        Decimal("270.00"),
    )
    assert (third.invoice_number, third.invoice_line) == ("INV88123577", "1")
    assert third.invoice_date == dt.date(2024, 3, 6)
    assert third.expected_amount == Decimal("270.00") and not third.is_credit
    customer = third.customer
    assert customer is not None and customer.name == "RIVERBEND COMMUNITY CLINIC"
    assert [(i.kind, i.qualifier) for i in customer.identifiers] == [("dea", "11"), ("hin", "21")]
    assert customer.address is not None and customer.address.postal_code == "45402"
    # the hospital is sent three times (one N1 per id); all three are one customer
    assert [i.kind for i in claim.lines[0].customer.identifiers] == ["dea", "hin", "gln"]  # type: ignore[union-attr]
    assert len(claim.customers) == 2
    assert all(line.issues == () for line in claim.lines)


def _readable_samples() -> list[Claim]:
    claims = []
    for path in sorted(SAMPLES.glob("*.edi")):
        try:
            claims.append(parse_844(path.read_bytes()))
        except ClaimFormatError:
            continue  # a sample of a file that is refused
    return claims


@pytest.mark.parametrize("claim", _readable_samples(), ids=lambda c: c.debit_memo)
def test_claim_survives_the_store_exactly(claim: Claim) -> None:
    """Later steps in the process that stored the claim use the parsed claim itself
    (``claim_store``); what a pod or a resumed run decodes from the stored text must be the
    same value."""
    assert Claim.from_json(json.loads(json.dumps(claim.to_json()))) == claim


def test_each_customer_is_one_record_per_claim() -> None:
    claim = parse_844(EXAMPLE)
    by_value = {line.customer: line.customer for line in claim.lines}
    assert len(by_value) < len(claim.lines)
    assert all(line.customer is by_value[line.customer] for line in claim.lines)


def test_delimiters_come_from_the_isa_and_crlf_is_ignored() -> None:
    delims, segments = tokenize(EXAMPLE)
    assert delims == Delimiters("*", ">", "~")
    assert len(list(segments)) == 72
    alt = sample("cb_intake_alt_delimiters.edi")
    assert b"|" in (SAMPLES / "cb_intake_alt_delimiters.edi").read_bytes()
    assert b"\r\n" in (SAMPLES / "cb_intake_alt_delimiters.edi").read_bytes()
    example = parse_844(EXAMPLE)
    assert (
        dataclasses.replace(alt, document_sha256=example.document_sha256, envelope=example.envelope)
        == example
    )


def test_write_844_reproduces_the_example() -> None:
    assert write_844(parse_844(EXAMPLE)) == EXAMPLE


def test_a_customer_sent_the_same_identifier_twice_round_trips() -> None:
    """Checked identifiers are shared objects, so the writer must place the address by
    position, not by identity (once, after the first N1)."""
    template = parse_844(EXAMPLE)

    def doubled(party: Party | None) -> Party | None:
        if party is None or not party.identifiers:
            return party
        return dataclasses.replace(party, identifiers=(party.identifiers[0], *party.identifiers))

    claim = dataclasses.replace(
        template,
        lines=tuple(dataclasses.replace(ln, customer=doubled(ln.customer)) for ln in template.lines),
    )
    text = write_844(claim)
    again = parse_844(text)
    assert dataclasses.replace(again, document_sha256=claim.document_sha256) == claim
    assert text.count("N3*") == write_844(template).count("N3*")


_amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(9999), places=2)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_amount, _amount, st.integers(min_value=-50, max_value=500)),
        min_size=1,
        max_size=6,
    ),
    delims=st.sampled_from([Delimiters(), Delimiters("|", ":", "\n"), Delimiters("^", "\\", "'")]),
)
def test_write_then_parse_round_trips(
    rows: list[tuple[Decimal, Decimal, int]], delims: Delimiters
) -> None:
    template = parse_844(EXAMPLE)
    lines = tuple(
        dataclasses.replace(
            template.lines[i % 4],
            line=i + 1,
            line_id=str(i + 1),
            contract_loop=i + 1,
            wac=wac,
            contract_price=cp,
            quantity=Decimal(qty),
            claimed_amount=((wac - cp) * qty).quantize(Decimal("0.01")),
        )
        for i, (wac, cp, qty) in enumerate(rows)
    )
    claim = dataclasses.replace(
        template,
        lines=lines,
        total_claimed=sum((line.claimed_amount or Decimal(0) for line in lines), Decimal(0)),
    )
    again = parse_844(write_844(claim, delimiters=delims))
    assert dataclasses.replace(again, document_sha256=claim.document_sha256) == claim


# --- intake samples -------------------------------------------------------------------------------


def test_sample_bad_check_digits_are_recorded_not_raised() -> None:
    claim = sample("cb_intake_bad_check_digits.edi")

    def verdicts(party: Party | None) -> list[tuple[str, bool]]:
        assert party is not None
        return [(i.kind, i.valid) for i in party.identifiers]

    assert verdicts(claim.lines[0].customer) == [("dea", False), ("hin", True)]
    assert verdicts(claim.lines[1].customer) == [("dea", False), ("npi", False), ("gln", False)]
    assert verdicts(claim.lines[2].customer) == [("340b", False), ("npi", True), ("340b", True)]
    assert verdicts(claim.lines[3].customer) == [("hin", False)]
    first = claim.lines[0].customer.identifiers[0]  # type: ignore[union-attr]
    assert first.problem == "DEA check digit is 2, expected 1"


def test_sample_ndc_layouts() -> None:
    claim = sample("cb_intake_ndc_layouts.edi")
    assert [line.ndc11 for line in claim.lines] == [
        "12345678901",  # N4, 11 digits
        "01234567890",  # N1 = 4-4-2
        "12345067890",  # N2 = 5-3-2
        "12345678900",  # N3 = 5-4-1
        "01234567890",  # ND hyphenated 4-4-2
        None,  # ND, 10 digits, no layout: ambiguous
        None,  # 9 digits: leading zeros lost
        None,  # N4 says 11 digits but 10 were sent
    ]
    ambiguous = claim.lines[5]
    assert ambiguous.ndc_candidates == ("01234567890", "12345067890", "12345678900")
    assert [(i.field, i.code) for i in ambiguous.issues] == [("ndc", "14")]
    assert "leading zeros" in (claim.lines[6].ndc_problem or "")


def test_sample_credit_rebill() -> None:
    credit, rebill = sample("cb_intake_credit_rebill.edi").lines
    assert (
        credit.is_credit and credit.quantity == -10 and credit.claimed_amount == Decimal("-425.00")
    )
    assert not rebill.is_credit
    assert (credit.invoice_number, credit.invoice_line) == (
        rebill.invoice_number,
        rebill.invoice_line,
    )


def test_sample_resubmission() -> None:
    claim = sample("cb_intake_resubmission.edi")
    assert claim.is_resubmission and claim.purpose == "05"
    assert claim.original_debit_memo == "DM0315240012"
    assert claim.issues == ()


def test_sample_missing_fields_become_line_issues() -> None:
    claim = sample("cb_intake_missing_fields.edi")
    issues = [[(i.field, i.code) for i in line.issues] for line in claim.lines]
    assert issues == [
        [("contract_price", "15")],
        [("invoice_date", "27")],
        [("claimed_amount", "15"), ("invoice_number", "15")],
        [("customer", "15")],
    ]
    assert [(i.field, i.code) for i in claim.issues] == [("total_claimed", None)]
    assert "913.25" in claim.issues[0].message


def test_sample_bad_envelope() -> None:
    with pytest.raises(ClaimFormatError) as caught:
        sample("cb_intake_bad_envelope.edi")
    assert str(caught.value) == (
        "segment 70 (SE): segment count 67 does not match 68 segments (ST at segment 3 to SE)"
    )
    assert (caught.value.position, caught.value.segment_id) == (70, "SE")


def test_replacement_without_original_reference_is_noted() -> None:
    claim = parse_844(EXAMPLE.replace("BAA*00*", "BAA*CO*"))
    assert [(i.field, i.code) for i in claim.issues] == [("original_debit_memo", None)]


# --- bad files -------------------------------------------------------------------------------------


def _with_body(segments: list[str]) -> str:
    """The example's envelope around other ST..SE content, counts kept right."""
    lines = EXAMPLE.split("~\n")
    head, tail = lines[:2], lines[-3:-1]
    body = ["ST*844*0001", *segments, f"SE*{len(segments) + 2}*0001"]
    return "~\n".join([*head, *body, *tail]) + "~\n"


def _example_body() -> list[str]:
    lines = EXAMPLE.split("~\n")
    return lines[3:-4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the document is empty"),
        ("  \n", "the document is empty"),
        ("UNA:+.? 'UNB+UNOC", "starts with 'UNA', not ISA: it is not an X12 interchange"),
        (EXAMPLE[:80], r"segment 1 \(ISA\): the ISA segment is 106 characters"),
        (EXAMPLE.replace("*ACMEDRUG012    *", "*ACMEDRUG012*", 1), r"ISA06 must be exactly 15"),
        (EXAMPLE[:-5], r"segment 72 \(IEA\): the file ends inside this segment"),
        (EXAMPLE.rsplit("GE*", 1)[0], r"segment 70 \(SE\): the interchange ends here without GE"),
        (EXAMPLE.split("CTT*", 1)[0], r"segment 67 \(DTM\): the interchange ends here without SE"),
        (EXAMPLE.replace("SE*68*0001", "SE*68*0002"), r"segment 70 \(SE\): control number '0002'"),
        (
            EXAMPLE.replace("GE*1*721", "GE*2*721"),
            r"segment 71 \(GE\): GE01 says 2 but there are 1",
        ),
        (
            EXAMPLE.replace("GE*1*721", "GE*1*722"),
            r"GE\): control number '722' does not match GS06",
        ),
        (EXAMPLE.replace("IEA*1*", "IEA*3*"), r"segment 72 \(IEA\): IEA01 says 3 .* 1 functional"),
        (EXAMPLE.replace("IEA*1*000000721", "IEA*1*000000999"), r"does not match ISA13"),
        (EXAMPLE + "GS*CF~\n", r"segment 73 \(GS\): segment after IEA"),
        (EXAMPLE.replace("GS*CF*", "GS*PO*"), r"segment 2 \(GS\): GS01 'PO' is not CF"),
        (EXAMPLE.replace("*X*004010~", "*X*005010~"), r"GS08 version '005010' is not supported"),
        (EXAMPLE.replace("ST*844*", "ST*849*"), r"segment 3 \(ST\): ST01 is '849'"),
        (EXAMPLE.replace("CUR*SE*USD~\n", "CUR*SE*USD~~\n"), r"segment 6 \(\): empty segment"),
        (EXAMPLE.replace("CTT*4*25", "CTT*4*26"), r"segment 68 \(CTT\): CTT02 hash total 26"),
        (EXAMPLE.replace("CTT*4*25", "CTT*3*25"), r"CTT01 says 3 but there are 4 CON loops"),
        (
            EXAMPLE.replace("*RA7301194~", "*RA7301194*XX~").replace(
                "N1*DS*ACME DRUG DISTRIBUTORS DC 012*11", "N1*DS*ACME*YY"
            ),
            r"segment 6 \(N1\): N103 identification qualifier 'YY' is unknown",
        ),
    ],
)
def test_bad_files_name_the_segment(text: str, message: str) -> None:
    with pytest.raises(ClaimFormatError, match=message):
        parse_844(text)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda b: ["CUR*SE*USD", *b], r"segment 4 \(CUR\): an 844 must start with BAA"),
        (lambda b: [b[0], "ZZZ*1", *b[1:]], r"segment 5 \(ZZZ\): ZZZ is not a segment of the 844"),
        (lambda b: [b[0], "BAA*00", *b[1:]], r"BAA may appear only once"),
        (
            lambda b: [x.replace("BAA*00*", "BAA*01*") for x in b],
            r"BAA01 qualifier '01' is unknown",
        ),
        (lambda b: [x.replace("LIN**N4*", "LIN**XX*") for x in b], r"LIN02 product qualifier 'XX'"),
        (
            lambda b: [x.replace("UIT*UN*80.00*CT", "UIT*UN*80.00*RS") for x in b],
            r"UIT03 qualifier 'RS'",
        ),
        (lambda b: [x.replace("QTY*39*6*", "QTY*38*6*") for x in b], r"QTY01 qualifier '38'"),
        (
            lambda b: [x.replace("AMT*CC*270.00", "AMT*CC*27O.00") for x in b],
            r"segment 50 \(AMT\): AMT02 \(claimed amount\) '27O.00' is not a number",
        ),
        (
            lambda b: [x.replace("UIT*UN*80.00*CT", "UIT*UN*80.00*WH") for x in b],
            r"segment 48 \(UIT\): second UIT\*WH in line PAD\*3; the first is segment 47",
        ),
        (
            lambda b: [x.replace("REF*FJ*2", "REF*ZZ*2") for x in b],
            r"REF01 qualifier 'ZZ' is unknown",
        ),
        (
            lambda b: [x.replace("DTM*003*20240306", "DTM*999*20240306") for x in b],
            r"DTM01 qualifier '999'",
        ),
        (lambda b: [x.replace("CON*CT*", "CON*XX*") for x in b], r"CON01 qualifier 'XX'"),
        (
            lambda b: [x.replace("N1*MF*", "N1*BY*") for x in b],
            r"N101 qualifier 'BY' is unknown here",
        ),
        (
            lambda b: [*b[:15], "N1*ST*LATE*11*BS4182301", *b[15:]],
            r"segment 19 \(N1\): N1 after PAD: customer N1 loops must come before",
        ),
        (
            lambda b: [*b[:16], "N3*1 MAIN ST", *b[16:]],
            r"segment 20 \(N3\): N3 is not expected in a PAD line loop",
        ),
        (lambda b: b[:-2], r"no CTT segment before SE"),
        (
            lambda b: [x for x in b if x.startswith(("BAA", "CUR", "N1*DS", "N1*MF", "CTT"))],
            r"CTT must follow the CON loops",
        ),
        (lambda b: [*b, "CTT*4*25"], r"second CTT"),
        (lambda b: [*b, "PAD*9"], r"PAD is not expected in the summary after CTT"),
        (lambda b: [x.replace("CUR*SE*USD", "CUR*SE*US") for x in b], r"CUR02 currency 'US'"),
    ],
)
def test_bad_transactions_name_the_segment(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClaimFormatError, match=message):
        parse_844(_with_body(edit(_example_body())))


def test_two_transaction_sets_in_one_interchange() -> None:
    body = EXAMPLE.split("~\n")[2:-3]
    second = [
        s.replace("ST*844*0001", "ST*844*0002").replace("SE*68*0001", "SE*68*0002") for s in body
    ]
    lines = EXAMPLE.split("~\n")
    text = "~\n".join([*lines[:2], *body, *second, "GE*2*721", lines[-2]]) + "~\n"
    claims = parse_844_interchange(text)
    assert [c.envelope.transaction_control for c in claims] == ["0001", "0002"]  # type: ignore[union-attr]
    with pytest.raises(ClaimFormatError, match="holds 2 844 transaction sets"):
        parse_844(text)


def test_identifier_options_are_applied() -> None:
    from processors.chargeback.identifiers import CheckOptions

    claim = parse_844(EXAMPLE, options=CheckOptions(dea_registrant_types=frozenset("AB")))
    assert claim.distributor is not None and not claim.distributor.identifiers[0].valid
    assert claim.lines[0].customer.identifiers[0].valid  # type: ignore[union-attr]


def test_latin1_bytes_are_read() -> None:
    text = EXAMPLE.replace("ST ELSEWHERE GENERAL HOSPITAL*11", "ST ÉLSEWHERE GENERAL HOSPITAL*11")
    claim = parse_844(text.encode("latin-1"))
    assert claim.lines[0].customer.name == "ST ÉLSEWHERE GENERAL HOSPITAL"  # type: ignore[union-attr]
