"""Writing the 849 answer: the brief's example byte for byte, exceptions-only, counts and errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from processors.chargeback.claim import LineDecision
from processors.chargeback.edi import Delimiters, Segment, parse_844, tokenize, write_849

REPO = Path(__file__).resolve().parents[2]
#: The domain brief's example pair: the claim ships as a sample, its answer is a test fixture.
CLAIM = parse_844((REPO / "specs/samples/844_example.edi").read_bytes())
EXPECTED = (REPO / "tests/fixtures/domain/849_example.edi").read_text()

# what the brief says the manufacturer decided (§2.5)
DECISIONS = [
    LineDecision(1, "accept", Decimal("425.00")),
    LineDecision(2, "accept", Decimal("217.00")),
    LineDecision(3, "adjust", Decimal("255.00"), ("06",), contract_price=Decimal("82.5000")),
    LineDecision(4, "reject", Decimal("0.00"), ("28",)),
]
WHEN = dt.datetime(2024, 3, 22, 9, 0)


def segments(text: str) -> list[Segment]:
    return list(tokenize(text)[1])


def check_envelope(text: str) -> None:
    """SE01 counts ST..SE, GE01/IEA01 count one set, control numbers pair up."""
    segs = segments(text)
    ids = [s.id for s in segs]
    st, se = ids.index("ST"), ids.index("SE")
    assert int(segs[se].el(1)) == se - st + 1
    assert segs[se].el(2) == segs[st].el(2)
    assert (segs[-2].el(1), segs[-2].el(2)) == ("1", segs[1].el(6))
    assert (segs[-1].el(1), segs[-1].el(2)) == ("1", segs[0].el(13))


def test_reproduces_the_brief_example() -> None:
    written = write_849(CLAIM, DECISIONS, control_number=9034, date=WHEN)
    assert written == EXPECTED


def test_example_modulo_date_and_control_numbers() -> None:
    written = write_849(CLAIM, DECISIONS, control_number=77, date=dt.date(2024, 4, 1))
    check_envelope(written)
    envelope = {"ISA", "GS", "GE", "IEA", "BRC"}
    mine = [(s.id, s.elements) for s in segments(written) if s.id not in envelope]
    theirs = [(s.id, s.elements) for s in segments(EXPECTED) if s.id not in envelope]
    assert mine == theirs
    brc = next(s for s in segments(written) if s.id == "BRC")
    assert brc.elements == ("00", "20240401", "AM", "DM0315240012")
    isa = segments(written)[0]
    assert (isa.el(6), isa.el(8), isa.el(9), isa.el(10), isa.el(13)) == (
        "NORTHWINDPH",
        "ACMEDRUG012",
        "240401",
        "0000",
        "000000077",
    )


def test_exceptions_only_keeps_whole_memo_totals() -> None:
    written = write_849(CLAIM, DECISIONS, control_number=1, date=WHEN, exceptions_only=True)
    check_envelope(written)
    segs = segments(written)
    assert [s.el(1) for s in segs if s.id == "PAD"] == ["3", "4"]
    ctt = next(s for s in segs if s.id == "CTT")
    assert ctt.elements == ("2", "11")
    summary = [s.elements for s in segs[segs.index(ctt) + 1 :] if s.id == "AMT"]
    assert summary == [("S", "1183.25"), ("A", "897.00")]


def test_pend_and_several_reasons() -> None:
    decisions = [
        *DECISIONS[:2],
        LineDecision(3, "pend", Decimal("0.00"), ("25",)),
        LineDecision(4, "reject", Decimal("0.00"), ("26", "09"), follow_up="C"),
    ]
    segs = segments(write_849(CLAIM, decisions, control_number=5, date=WHEN))
    aaa = [s.elements for s in segs if s.id == "AAA"]
    assert aaa == [("Y",), ("Y",), ("N", "", "25", "Y"), ("N", "", "26", "C"), ("N", "", "09", "C")]


def test_follow_up_says_what_the_wholesaler_may_do_next() -> None:
    """Issue 13: AAA04 was N (resubmission not allowed) on every rejection. Now a rejection the
    sender can correct says C, one nothing can cure N (a duplicate, an excluded party, past
    the exercise period), a reused debit memo number D; an adjustment stays N (settled at the
    right amount) and a pended line Y, as in the brief's 849."""
    decisions = [
        LineDecision(1, "reject", Decimal("0.00"), ("01", "26")),
        LineDecision(2, "reject", Decimal("0.00"), ("11", "28", "29")),
        LineDecision(3, "adjust", Decimal("255.00"), ("06",)),
        LineDecision(4, "pend", Decimal("0.00"), ("07", "25")),
    ]
    segs = segments(write_849(CLAIM, decisions, control_number=5, date=WHEN))
    aaa = [(s.elements[2], s.elements[3]) for s in segs if s.id == "AAA"]
    assert aaa == [
        ("01", "C"),
        ("26", "C"),
        ("11", "D"),
        ("28", "N"),
        ("29", "N"),
        ("06", "N"),
        ("07", "Y"),
        ("25", "Y"),
    ]


def test_absent_values_are_blank_and_trailing_ones_left_out() -> None:
    """An empty or absent element keeps its place between others and is dropped at the end."""
    line = dataclasses.replace(CLAIM.lines[0], unit=None, ndc_qualifier=None)
    claim = dataclasses.replace(CLAIM, lines=(line, *CLAIM.lines[1:]))
    decisions = [LineDecision(1, "reject", Decimal("0.00")), *DECISIONS[1:]]
    written = write_849(claim, decisions, control_number=5, date=WHEN).split("~\n")
    first = written[written.index("PAD*1") : written.index("PAD*2")]
    assert first[:3] == ["PAD*1", "LIN**N4*12345678901", "AAA*N***C"]
    assert "QTY*39*10" in first and "UIT*UN*82.50*CT" in first
    assert "QTY*39*4*UN" in written


def test_lines_grouped_by_their_con_loop() -> None:
    merged = dataclasses.replace(
        CLAIM,
        lines=tuple(
            dataclasses.replace(line, contract_loop=1 if line.line < 3 else 2)
            for line in CLAIM.lines
        ),
    )
    written = write_849(merged, DECISIONS, control_number=5, date=WHEN)
    check_envelope(written)
    segs = segments(written)
    assert [s.id for s in segs].count("CON") == 2
    assert next(s for s in segs if s.id == "CTT").elements == ("2", "25")


def test_claim_without_envelope_needs_parties() -> None:
    bare = dataclasses.replace(CLAIM, envelope=None, format="text", extractor="offline")
    with pytest.raises(ValueError, match="no X12 envelope; pass sender and receiver"):
        write_849(bare, DECISIONS, control_number=5, date=WHEN)
    written = write_849(
        bare,
        DECISIONS,
        control_number=5,
        date=WHEN,
        sender=("ZZ", "NORTHWINDPH"),
        receiver=("01", "123456789"),
    )
    check_envelope(written)
    gs = segments(written)[1]
    assert (gs.el(2), gs.el(3)) == ("NORTHWINDPH", "123456789")
    assert segments(written)[0].el(15) == "P"


@pytest.mark.parametrize(
    ("decisions", "message"),
    [
        (DECISIONS[:3], r"missing \[4\], unknown none"),
        ([*DECISIONS, LineDecision(9, "accept", Decimal(0))], r"missing none, unknown \[9\]"),
        ([*DECISIONS, DECISIONS[0]], "two decisions for line 1"),
    ],
)
def test_decisions_must_match_lines(decisions: list[LineDecision], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_849(CLAIM, decisions, control_number=5, date=WHEN)


def test_delimiters_in_values_are_refused() -> None:
    claim = dataclasses.replace(CLAIM, debit_memo="DM*1")
    with pytest.raises(ValueError, match=r"BRC value 'DM\*1' contains an X12 delimiter"):
        write_849(claim, DECISIONS, control_number=5, date=WHEN)
    with pytest.raises(ValueError, match="control number 0 must be"):
        write_849(CLAIM, DECISIONS, control_number=0, date=WHEN)


@pytest.mark.parametrize("bad", ["A>1", "A~1", "A\n1", "A\r1", "A*1"])
def test_every_delimiter_and_line_break_in_a_line_value_is_refused(bad: str) -> None:
    lines = (dataclasses.replace(CLAIM.lines[0], invoice_number=bad), *CLAIM.lines[1:])
    with pytest.raises(ValueError, match=r"REF value .* contains an X12 delimiter"):
        write_849(dataclasses.replace(CLAIM, lines=lines), DECISIONS, control_number=5, date=WHEN)


def test_another_files_delimiters_are_plain_text() -> None:
    lines = (dataclasses.replace(CLAIM.lines[0], invoice_number="A*1>2"), *CLAIM.lines[1:])
    claim = dataclasses.replace(CLAIM, lines=lines)
    written = write_849(
        claim, DECISIONS, control_number=5, date=WHEN, delimiters=Delimiters("|", ":", "\n")
    )
    assert "REF|IV|A*1>2\n" in written


def test_zero_price_on_file_is_reported_not_replaced_by_the_submitted_one() -> None:
    decisions = [
        *DECISIONS[:3],
        LineDecision(4, "reject", Decimal("0.00"), ("17",), Decimal(0), Decimal(0)),
    ]
    segs = segments(write_849(CLAIM, decisions, control_number=5, date=WHEN))
    pad4 = next(i for i, s in enumerate(segs) if s.id == "PAD" and s.el(1) == "4")
    uit = [s.elements for s in segs[pad4:] if s.id == "UIT"][:4]
    assert uit == [
        ("UN", "0.00", "CT"),
        ("UN", "255.75", "SC"),
        ("UN", "310.00", "SW"),
        ("UN", "0.00", "WH"),
    ]
