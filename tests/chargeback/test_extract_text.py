"""The offline free-text extractor, build_claim's interpretation, and PDF text."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from processors.chargeback.claim import Claim
from processors.chargeback.text_extract import (
    TextExtractionError,
    build_claim,
    extract_text,
    iter_schema_errors,
    parse_money,
    parse_text_date,
    pdf_text,
)

SAMPLES = Path(__file__).resolve().parents[2] / "specs/samples"
FREE_TEXT = (SAMPLES / "cb_intake_freetext_claim.txt").read_text()


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (Helvetica, one line per row)."""
    escaped = [ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for ln in lines]
    body = " T* ".join(f"({ln}) Tj" for ln in escaped)
    stream = f"BT /F1 9 Tf 11 TL 36 760 Td {body} ET".encode() if lines else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def claim_from(text: str) -> Claim:
    return build_claim(
        extract_text(text), format="text", extractor="offline", document_sha256="0" * 64
    )


def test_sample_header_and_parties() -> None:
    claim = claim_from(FREE_TEXT)
    assert (claim.debit_memo, claim.claim_date) == ("DM0410240201", dt.date(2024, 4, 10))
    assert claim.total_claimed == Decimal("640.75") and claim.currency == "USD"
    assert claim.purpose == "00" and claim.issues == ()
    assert (
        claim.distributor is not None and claim.distributor.name == "Acme Drug Distributors DC 012"
    )
    assert [i.value for i in claim.distributor.identifiers] == ["RA7301194"]
    assert claim.distributor.address is not None
    assert claim.distributor.address.lines == ("100 Logistics Pkwy",)
    assert claim.manufacturer is not None
    assert claim.manufacturer.identifiers[0].kind == "gln"
    assert len(claim.customers) == 2


def test_sample_table_and_prose_lines() -> None:
    claim = claim_from(FREE_TEXT)
    rows = [
        (
            line.line_id,
            line.contract_id,
            line.ndc11,
            line.quantity,
            line.unit,
            line.wac,
            line.contract_price,
            line.claimed_amount,
            line.invoice_number,
            line.invoice_line,
            line.invoice_date,
        )
        for line in claim.lines
    ]
    contract = "NWP-GPO-00117"
    assert rows == [
        ("1", contract, "12345678901", Decimal(10), "EA", Decimal(125), Decimal("82.5"), Decimal(425),
         "INV88123401", "1", dt.date(2024, 3, 4)),
        ("2", contract, "12345067810", Decimal(4), "EA", Decimal(310), Decimal("255.75"), Decimal(217),
         "INV88123401", "2", dt.date(2024, 3, 4)),
        ("3", contract, "12345678901", Decimal(6), "EA", Decimal(125), Decimal(80), Decimal(270),
         "INV88123577", "1", dt.date(2024, 3, 6)),
        ("4", contract, None, Decimal(-5), "EA", Decimal(310), Decimal("255.75"), Decimal("-271.25"),
         "INV88119954", "1", dt.date(2024, 2, 21)),
    ]  # fmt: skip
    hospital, clinic = claim.lines[0].customer, claim.lines[3].customer
    assert hospital is not None and clinic is not None
    assert [(i.kind, i.valid) for i in hospital.identifiers] == [
        ("dea", True),
        ("hin", True),
        ("gln", True),
    ]
    assert [(i.kind, i.valid) for i in clinic.identifiers] == [
        ("dea", True),
        ("hin", True),
        ("npi", False),
    ]
    assert claim.lines[3].is_credit
    assert [(i.field, i.code) for i in claim.lines[3].issues] == [("ndc", "14")]
    assert claim.lines[3].ndc_candidates == ("01234567890", "12345067890", "12345678900")
    assert all(line.contract_loop is None for line in claim.lines)


def test_raw_extraction_matches_the_llm_schema() -> None:
    assert list(iter_schema_errors(extract_text(FREE_TEXT))) == []


def test_claim_survives_the_store() -> None:
    claim = claim_from(FREE_TEXT)
    assert Claim.from_json(claim.to_json()) == claim


def test_resubmission_and_missing_fields() -> None:
    text = """Chargeback claim CB-2024-77, dated 2024-05-01
Replaces debit memo DM0410240201
Distributor: Acme DC 12 (DEA RA7301194)
Contract no. NWP-GPO-00117
Ship to: Lakeside Surgery Center, HIN 123
Line 1: NDC 12345-6789-01 qty ten WAC 125.00 contract price $82.50 amount $4x invoice INV5 dated 02/30/2024
Line 2: NDC 12345-6789-01 quantity 2
Total: $1,000.00
"""
    claim = claim_from(text)
    assert (claim.debit_memo, claim.original_debit_memo, claim.purpose) == (
        "CB-2024-77",
        "DM0410240201",
        "05",
    )
    assert claim.claim_date == dt.date(2024, 5, 1)
    assert [(i.field, i.code) for i in claim.issues] == [("total_claimed", None)]
    first, second = claim.lines
    assert sorted((i.field, i.code) for i in first.issues) == [
        ("claimed_amount", "15"),
        ("invoice_date", "27"),
        ("quantity", "15"),
    ]
    assert {i.field for i in second.issues} == {
        "wac",
        "contract_price",
        "claimed_amount",
        "invoice_number",
        "invoice_date",
    }
    customer = first.customer
    assert customer is not None and customer.name == "Lakeside Surgery Center"
    assert not customer.identifiers[0].valid


def test_claim_without_header_reports_each_gap() -> None:
    claim = claim_from(
        "NDC 12345678901 qty 1 WAC 2.00 CP 1.00 amount 1.00 invoice A1 date 2024-01-02"
    )
    assert [(i.field, i.code) for i in claim.issues] == [
        ("debit_memo", "15"),
        ("claim_date", "15"),
        ("distributor", "15"),
    ]
    assert [(i.field, i.code) for i in claim.lines[0].issues] == [
        ("contract_id", "15"),
        ("customer", "15"),
    ]


def test_tab_and_space_separated_tables() -> None:
    for sep in ("\t", "   "):
        header = sep.join(["NDC", "Qty", "WAC", "CP", "Amount", "Invoice", "Date"])
        row = sep.join(["12345-6789-01", "3", "10.00", "8.00", "6.00", "INV1", "01/02/2024"])
        claim = claim_from(f"DM no: DM1\n{header}\n{row}\n")
        line = claim.lines[0]
        assert (line.quantity, line.contract_price, line.invoice_date) == (
            Decimal(3),
            Decimal(8),
            dt.date(2024, 1, 2),
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Dear manufacturer,\nplease pay us.\n", "no claim lines found"),
        ("", "no claim lines found"),
        (
            "NDC | Qty | WAC\n12345678901 | 1\n",
            r"line 2: table row has 2 cells but the header \(line 1\) has 3",
        ),
    ],
)
def test_unreadable_text(text: str, message: str) -> None:
    with pytest.raises(TextExtractionError, match=message):
        extract_text(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,183.25", Decimal("1183.25")),
        ("-425.00", Decimal("-425.00")),
        ("$-425.00", Decimal("-425.00")),
        ("(271.25)", Decimal("-271.25")),
        (" 82.5 ", Decimal("82.5")),
        (".5", Decimal("0.5")),
    ],
)
def test_parse_money(text: str, value: Decimal) -> None:
    assert parse_money(text) == value


@pytest.mark.parametrize("text", ["", "$", "12,34.00", "1.2.3", "ten", "$4x"])
def test_parse_money_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        parse_money(text)


def test_parse_text_date() -> None:
    expected = dt.date(2024, 3, 4)
    for text in ("2024-03-04", "03/04/2024", "3/4/2024", "20240304", "03-04-2024"):
        assert parse_text_date(text) == expected
    with pytest.raises(ValueError, match="not a date"):
        parse_text_date("2024-02-30")


def test_pdf_text_layer_is_read() -> None:
    pytest.importorskip("pypdf")
    data = (SAMPLES / "cb_intake_freetext_claim.pdf").read_bytes()
    claim = build_claim(
        extract_text(pdf_text(data)), format="pdf", extractor="offline", document_sha256="0" * 64
    )
    text_claim = claim_from(FREE_TEXT)
    assert dataclasses.replace(claim, format="text") == text_claim


def test_sample_pdf_is_the_sample_text() -> None:
    assert (SAMPLES / "cb_intake_freetext_claim.pdf").read_bytes() == make_pdf(
        FREE_TEXT.splitlines()
    )


def test_pdf_without_text_or_damaged() -> None:
    pytest.importorskip("pypdf")
    with pytest.raises(TextExtractionError, match="no text layer"):
        pdf_text(make_pdf([]))
    with pytest.raises(TextExtractionError, match="the PDF cannot be read"):
        pdf_text(b"%PDF-1.4\n" + b"\x00garbage" * 10)
