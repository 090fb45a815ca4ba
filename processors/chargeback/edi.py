"""X12 004010 chargebacks: read the 844 claim, write the 849 answer (brief §2).

The reader is strict about structure and lenient about business content, on purpose:

* Envelope and syntax problems (delimiters, control numbers, SE/GE/IEA counts, CTT totals,
  malformed numbers, unknown qualifiers in the elements we interpret, a truncated file) mean
  we cannot trust what we read, so they raise :class:`ClaimFormatError` naming the segment
  position (1-based in the interchange, ISA = 1) and id. That is rule R01: resend the file.
* A missing field, an unparseable date or a bad NDC in one line is a fact about that line:
  it becomes an :class:`~processors.chargeback.claim.Issue` on the line (849 codes 15/27/14),
  and bad identifiers are recorded on the claim, so the rule steps reject just those lines.

Segments the 844 allows but nothing downstream uses (PER, PID except the description, MEA,
RCD, SSS, SII, N9, N2, CON-level REF/DTM) are accepted without interpretation.

Qualifiers the brief marks ILLUSTRATIVE, and our choices: BAA04 AM/DB/DL; header REF*F8 carries
the original debit memo number of a replacement (BAA01 05/CO); line REF*IV or REF*DI is the
invoice number, REF*FJ the invoice line; DTM*003 the invoice date, DTM*011 the ship date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from processors.chargeback.claim import (
    CENT,
    Address,
    Claim,
    ClaimLine,
    Envelope,
    Identifier,
    Issue,
    LineDecision,
    Party,
    summary_issues,
)
from processors.chargeback.identifiers import (
    DEFAULT_OPTIONS,
    KIND_BY_QUALIFIER,
    QUALIFIER_BY_KIND,
    CheckOptions,
    check_identifier,
    normalize_ndc,
)

ISA_LENGTH = 106
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_CCYYMMDD = re.compile(r"[0-9]{8}")
_CURRENCY = re.compile(r"[A-Z]{3}")

PURPOSES = {"00": "Original", "05": "Replace", "CO": "Corrected"}
TRANSACTION_TYPES = {"DR": "Debit Memo", "RA": "Request for Credit", "CK": "Claim Submission"}
DEBIT_MEMO_QUALIFIERS = {
    "AM": "Adjustment Memo",
    "DB": "Buyer's Debit Memo",
    "DL": "Seller's Debit Memo",
}
HEADER_ENTITIES = {
    "DS": "distributor",
    "DB": "distributor branch",
    "MF": "manufacturer",
    "SU": "supplier",
}
#: LIN product qualifiers (element 235) that carry an NDC, with the layout each implies.
NDC_QUALIFIERS: dict[str, str | None] = {
    "N4": "5-4-2",
    "N1": "4-4-2",
    "N2": "5-3-2",
    "N3": "5-4-1",
    "ND": None,
}
#: Other LIN product qualifiers a wholesaler may add; accepted and ignored.
OTHER_PRODUCT_QUALIFIERS = {
    "UP": "UPC",
    "UK": "GTIN-14",
    "VN": "vendor item",
    "BP": "buyer part",
    "VC": "vendor catalog",
}
LINE_REF_QUALIFIERS = {
    "IV": "invoice number",
    "DI": "distributor invoice number",
    "FJ": "line item control number",
}
LINE_DTM_QUALIFIERS = {
    "003": "invoice",
    "011": "shipped",
    "092": "contract effective",
    "093": "contract expiration",
}
HEADER_REF_QUALIFIERS = {"F8": "original debit memo number"}


class ClaimFormatError(ValueError):
    """The document is not a well-formed 844; ``position``/``segment_id`` locate the problem."""

    def __init__(self, reason: str, *, position: int | None = None, segment_id: str | None = None):
        self.reason = reason
        self.position = position
        self.segment_id = segment_id
        where = f"segment {position} ({segment_id}): " if position is not None else ""
        super().__init__(where + reason)


@dataclasses.dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"


@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    """One segment; ``el(1)`` is the first element after the id, "" when absent."""

    position: int
    id: str
    elements: tuple[str, ...]

    def el(self, n: int) -> str:
        return self.elements[n - 1].strip() if n <= len(self.elements) else ""

    def error(self, reason: str) -> ClaimFormatError:
        return ClaimFormatError(reason, position=self.position, segment_id=self.id)


# ---------------------------------------------------------------------------------------------
# Lexing


def _decode_text(data: str | bytes) -> tuple[str, str]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # X12 extended character set is a subset of Latin-1
    return text.lstrip("\ufeff \t\r\n"), digest


def _isa_error(reason: str) -> ClaimFormatError:
    return ClaimFormatError(reason, position=1, segment_id="ISA")


def _read_delimiters(text: str) -> Delimiters:
    if not text.strip():
        raise ClaimFormatError("the document is empty")
    if not text.startswith("ISA"):
        raise ClaimFormatError(
            f"the document starts with {text[:3]!r}, not ISA: it is not an X12 interchange"
        )
    if len(text) < ISA_LENGTH:
        raise _isa_error(
            f"the ISA segment is {ISA_LENGTH} characters but the document has only "
            f"{len(text)}: the file is truncated"
        )
    element = text[3]
    if element.isalnum() or element.isspace():
        raise _isa_error(f"element separator {element!r} must be a punctuation character")
    fields = text.split(element, 16)
    if len(fields) < 17 or len(fields[16]) < 2:
        raise _isa_error("the ISA segment has fewer than 16 elements")
    for n, (value, width) in enumerate(zip(fields[1:16], _ISA_WIDTHS, strict=False), start=1):
        if len(value) != width:
            raise _isa_error(
                f"ISA{n:02d} must be exactly {width} characters (pad with spaces); got {len(value)}"
            )
    component, segment = fields[16][0], fields[16][1]
    if segment.isalnum() or segment in (element, component, " "):
        raise _isa_error(
            f"segment terminator {segment!r} (the character after ISA16) is not a usable delimiter"
        )
    return Delimiters(element, component, segment)


def tokenize(text: str) -> tuple[Delimiters, list[Segment]]:
    """Split an interchange into segments with delimiters read from its own ISA (brief §2.6)."""
    delims = _read_delimiters(text)
    pieces = text.split(delims.segment)
    tail = pieces.pop()
    segments: list[Segment] = []
    for position, piece in enumerate(pieces, start=1):
        body = piece.strip("\r\n")
        blank = not body.strip()
        if blank and delims.segment in "\r\n":
            continue  # a blank line when the terminator is itself a line break
        if blank:
            raise ClaimFormatError(
                f"empty segment (two terminators {delims.segment!r} in a row)",
                position=position,
                segment_id="",
            )
        seg_id, *elements = body.split(delims.element)
        seg_id = seg_id.strip()
        if not _SEGMENT_ID.fullmatch(seg_id):
            raise ClaimFormatError(
                f"{seg_id[:10]!r} is not a segment id", position=position, segment_id=seg_id[:3]
            )
        segments.append(Segment(position, seg_id, tuple(elements)))
    if tail.strip():
        seg_id = tail.strip().split(delims.element)[0][:3]
        raise ClaimFormatError(
            f"the file ends inside this segment (no terminator {delims.segment!r}): it is truncated",
            position=len(pieces) + 1,
            segment_id=seg_id,
        )
    return delims, segments


# ---------------------------------------------------------------------------------------------
# Envelope (R01)


def parse_844_interchange(
    data: str | bytes, *, options: CheckOptions = DEFAULT_OPTIONS
) -> tuple[Claim, ...]:
    """Every 844 transaction set in an interchange, with the envelope checked (R01)."""
    text, digest = _decode_text(data)
    delims, segments = tokenize(text)
    isa = segments[0]
    if isa.el(12) != "00401":
        raise isa.error(f"ISA12 version {isa.el(12)!r} is not supported; expected 00401")
    claims: list[Claim] = []
    cursor = iter(segments[1:])
    groups: list[Segment] = []
    last = isa
    for seg in cursor:
        if seg.id == "IEA":
            extra = next(cursor, None)
            if extra is not None:
                raise extra.error("segment after IEA; an interchange ends at IEA")
            _check_count(seg, 1, len(groups), "functional groups (GS)")
            _check_control(seg, 2, isa, 13, "ISA13")
            return tuple(claims)
        if seg.id != "GS":
            raise seg.error(f"expected GS or IEA, found {seg.id}")
        groups.append(seg)
        group, last = _read_group(isa, seg, cursor, delims, digest, options)
        claims.extend(group)
    raise last.error("the interchange ends here without IEA: the file is truncated")


def parse_844(data: str | bytes, *, options: CheckOptions = DEFAULT_OPTIONS) -> Claim:
    """The one claim in a document; an interchange with several debit memos is refused."""
    claims = parse_844_interchange(data, options=options)
    if len(claims) != 1:
        raise ClaimFormatError(
            f"the interchange holds {len(claims)} 844 transaction sets; send one debit memo "
            "per file or split it before intake"
        )
    return claims[0]


def _check_count(seg: Segment, n: int, actual: int, what: str) -> None:
    value = seg.el(n)
    if not value.isdigit() or int(value) != actual:
        raise seg.error(f"{seg.id}{n:02d} says {value or 'nothing'} but there are {actual} {what}")


def _check_control(seg: Segment, n: int, opener: Segment, m: int, name: str) -> None:
    if seg.el(n) != opener.el(m):
        raise seg.error(
            f"control number {seg.el(n)!r} does not match {name} {opener.el(m)!r} "
            f"(segment {opener.position})"
        )


def _read_group(
    isa: Segment,
    gs: Segment,
    cursor: Iterator[Segment],
    delims: Delimiters,
    digest: str,
    options: CheckOptions,
) -> tuple[list[Claim], Segment]:
    if gs.el(1) != "CF":
        raise gs.error(f"GS01 {gs.el(1)!r} is not CF: this group does not hold 844/849 documents")
    if not gs.el(8).startswith("004010"):
        raise gs.error(f"GS08 version {gs.el(8)!r} is not supported; expected 004010")
    gs_date = _parse_date(gs.el(4))
    if gs_date is None:
        raise gs.error(f"GS04 {gs.el(4)!r} is not a CCYYMMDD date")
    claims: list[Claim] = []
    last = gs
    for st in cursor:
        last = st
        if st.id == "GE":
            _check_count(st, 1, len(claims), "transaction sets (ST)")
            _check_control(st, 2, gs, 6, "GS06")
            return claims, st
        if st.id != "ST":
            raise st.error(f"expected ST or GE, found {st.id}")
        if st.el(1) != "844":
            raise st.error(f"ST01 is {st.el(1)!r}; only 844 chargeback claims can be read")
        body: list[Segment] = []
        for seg in cursor:
            last = seg
            if seg.id == "SE":
                break
            if seg.id in ("ST", "GE", "GS", "IEA"):
                raise seg.error(
                    f"{seg.id} before the SE that closes the ST at segment {st.position}"
                )
            body.append(seg)
        else:
            raise last.error("the interchange ends here without SE: the file is truncated")
        se = last
        count = len(body) + 2
        if not se.el(1).isdigit() or int(se.el(1)) != count:
            raise se.error(
                f"segment count {se.el(1) or 'missing'} does not match {count} segments "
                f"(ST at segment {st.position} to SE)"
            )
        _check_control(se, 2, st, 2, "ST02")
        envelope = Envelope(
            sender_qualifier=isa.el(5),
            sender_id=isa.el(6),
            receiver_qualifier=isa.el(7),
            receiver_id=isa.el(8),
            interchange_control=isa.el(13),
            group_control=gs.el(6),
            transaction_control=st.el(2),
            application_sender=gs.el(2),
            application_receiver=gs.el(3),
            date=gs_date,
            time=gs.el(5),
            usage=isa.el(15),
            version=gs.el(8),
        )
        reader = _TransactionReader(st, body, se, delims, options)
        claims.append(reader.claim(envelope, digest))
    raise last.error("the interchange ends here without GE: the file is truncated")


# ---------------------------------------------------------------------------------------------
# The 844 transaction set


def _parse_date(value: str) -> dt.date | None:
    """CCYYMMDD, or None. Sliced rather than strptime'd (every line has dates): for eight
    ASCII digits %Y%m%d accepts exactly the 4/2/2 split, and nothing else."""
    if not _CCYYMMDD.fullmatch(value):
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _number(seg: Segment, n: int, what: str) -> Decimal | None:
    value = seg.el(n)
    if not value:
        return None
    if not _NUMBER.fullmatch(value):
        raise seg.error(f"{seg.id}{n:02d} ({what}) {value!r} is not a number")
    return Decimal(value)


def _qualifier(seg: Segment, n: int, known: dict[str, str] | dict[str, str | None]) -> str:
    value = seg.el(n)
    if value not in known:
        listed = ", ".join(known)
        raise seg.error(
            f"{seg.id}{n:02d} qualifier {value!r} is unknown here; expected one of {listed}"
        )
    return value


@dataclasses.dataclass(slots=True)
class _Header:
    purpose: str | None = None
    transaction_type: str | None = None
    claim_date: dt.date | None = None
    debit_memo_qualifier: str | None = None
    debit_memo: str | None = None
    original_debit_memo: str | None = None
    currency: str = "USD"


@dataclasses.dataclass(slots=True)
class _PartyDraft:
    role: str
    name: str | None
    identifiers: list[Identifier] = dataclasses.field(default_factory=list)
    address_lines: list[str] = dataclasses.field(default_factory=list)
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    @property
    def has_address(self) -> bool:
        return bool(self.address_lines) or self.city is not None

    def freeze(self) -> Party:
        address = None
        if self.has_address:
            address = Address(
                tuple(self.address_lines), self.city, self.state, self.postal_code, self.country
            )
        return Party(self.role, self.name, tuple(self.identifiers), address)


@dataclasses.dataclass(slots=True)
class _LineDraft:
    pad: Segment
    line: int
    contract_loop: int
    contract_id: str | None
    contract_status: str | None
    customer: Party | None
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    seen: dict[str, Segment] = dataclasses.field(default_factory=dict)
    issues: list[Issue] = dataclasses.field(default_factory=list)

    def once(self, seg: Segment, key: str) -> None:
        """Each priced/quantified/referenced fact may appear once per line; a repeat is ambiguous."""
        first = self.seen.get(key)
        if first is not None:
            raise seg.error(
                f"second {key} in line PAD*{self.line_id}; the first is segment {first.position}"
            )
        self.seen[key] = seg

    @property
    def line_id(self) -> str:
        return self.pad.el(1) or self.pad.el(2)


#: How the 844 names each required line field when it is absent.
_X12_FIELD_NAMES = {
    "contract_id": "CON02 contract number",
    "customer": "N1*ST end customer",
    "ndc_submitted": "LIN NDC",
    "quantity": "QTY*39 quantity",
    "wac": "UIT*WH WAC",
    "contract_price": "UIT*CT contract price",
    "claimed_amount": "AMT*CC claimed amount",
    "invoice_number": "REF*IV invoice number",
    "invoice_date": "DTM*003 invoice date",
}

_LOOP_NAMES = {
    "header": "the header",
    "header_n1": "a header N1 loop",
    "con": "a CON loop",
    "con_n1": "a customer N1 loop",
    "pad": "a PAD line loop",
    "summary": "the summary after CTT",
}


class _TransactionReader:
    """Walks ST..SE once, tracking which loop it is in (brief §2.1), and builds the Claim."""

    def __init__(
        self,
        st: Segment,
        body: list[Segment],
        se: Segment,
        delims: Delimiters,
        options: CheckOptions,
    ) -> None:
        self.st, self.body, self.se = st, body, se
        self.delims = delims
        self.options = options
        self.state = "header"
        self.header = _Header()
        self.issues: list[Issue] = []
        self.parties: dict[str, _PartyDraft] = {}
        self.party: _PartyDraft | None = None  # the N1 loop being read
        self.n1_sets_address = False
        self.contract: Segment | None = None
        self.contract_loops = 0
        self.customer: _PartyDraft | None = None
        self.customers: dict[Party, Party] = {}
        self.draft: _LineDraft | None = None
        self.lines: list[ClaimLine] = []
        self.ctt: Segment | None = None
        self.total: Decimal | None = None
        self.handlers: dict[str, Callable[[Segment], None]] = {
            "BAA": self._baa,
            "CUR": self._cur,
            "NTE": self._header_only,
            "REF": self._ref,
            "PER": self._per,
            "DTM": self._dtm,
            "N1": self._n1,
            "N2": self._n1_detail,
            "N3": self._n3,
            "N4": self._n4,
            "SII": self._customer_detail,
            "N9": self._customer_detail,
            "CON": self._con,
            "PAD": self._pad,
            "LIN": self._lin,
            "PID": self._pid,
            "MEA": self._line_only,
            "UIT": self._uit,
            "QTY": self._qty,
            "AMT": self._amt,
            "RCD": self._line_only,
            "SSS": self._line_only,
            "CTT": self._ctt,
        }

    # -- driver --------------------------------------------------------------------------------

    def claim(self, envelope: Envelope, digest: str) -> Claim:
        if not self.body or self.body[0].id != "BAA":
            seg = self.body[0] if self.body else self.se
            raise seg.error(f"an 844 must start with BAA after ST; found {seg.id}")
        for seg in self.body:
            handler = self.handlers.get(seg.id)
            if handler is None:
                raise seg.error(
                    f"{seg.id} is not a segment of the 844; expected one of {', '.join(self.handlers)}"
                )
            handler(seg)
        self._finish_line()
        if not self.lines:
            raise self.se.error(
                "the 844 claims no lines: at least one CON loop with a PAD is required"
            )
        if self.ctt is None:
            raise self.se.error("no CTT segment before SE; CTT carries the CON count and QTY hash")
        self._check_totals()
        distributor = self.parties.get("DB") or self.parties.get("DS")
        manufacturer = self.parties.get("MF") or self.parties.get("SU")
        claim = Claim(
            format="x12-844",
            extractor="x12-844",
            document_sha256=digest,
            debit_memo=self.header.debit_memo,
            claim_date=self.header.claim_date,
            lines=tuple(self.lines),
            purpose=self.header.purpose,
            transaction_type=self.header.transaction_type,
            debit_memo_qualifier=self.header.debit_memo_qualifier,
            original_debit_memo=self.header.original_debit_memo,
            currency=self.header.currency,
            distributor=distributor.freeze() if distributor else None,
            manufacturer=manufacturer.freeze() if manufacturer else None,
            total_claimed=self.total,
            envelope=envelope,
            issues=tuple(self.issues),
        )
        return dataclasses.replace(claim, issues=claim.issues + summary_issues(claim))

    def _misplaced(self, seg: Segment) -> ClaimFormatError:
        return seg.error(f"{seg.id} is not expected in {_LOOP_NAMES[self.state]}")

    def _expect(self, seg: Segment, *states: str) -> None:
        if self.state not in states:
            raise self._misplaced(seg)

    # -- header ----------------------------------------------------------------------------------

    def _baa(self, seg: Segment) -> None:
        if seg is not self.body[0]:
            raise seg.error("BAA may appear only once, right after ST")
        self.header.purpose = _qualifier(seg, 1, PURPOSES)
        if seg.el(2):
            self.header.transaction_type = _qualifier(seg, 2, TRANSACTION_TYPES)
        if seg.el(3):
            date = _parse_date(seg.el(3))
            if date is None:
                self.issues.append(
                    Issue(
                        "claim_date",
                        "27",
                        f"BAA03 debit memo date {seg.el(3)!r} is not a CCYYMMDD date",
                    )
                )
            self.header.claim_date = date
        else:
            self.issues.append(Issue("claim_date", "15", "BAA03 debit memo date is missing"))
        if seg.el(5):
            self.header.debit_memo_qualifier = _qualifier(seg, 4, DEBIT_MEMO_QUALIFIERS)
            self.header.debit_memo = seg.el(5)
        else:
            self.issues.append(Issue("debit_memo", "15", "BAA05 debit memo number is missing"))

    def _header_only(self, seg: Segment) -> None:
        self._expect(seg, "header")

    def _per(self, seg: Segment) -> None:
        self._expect(seg, "header", "header_n1", "con", "con_n1")

    def _cur(self, seg: Segment) -> None:
        self._expect(seg, "header", "pad")
        currency = seg.el(2)
        if not _CURRENCY.fullmatch(currency):
            raise seg.error(f"CUR02 currency {currency!r} is not an ISO 4217 code")
        if self.state == "header":
            self.header.currency = currency
        elif currency != self.header.currency:
            raise seg.error(
                f"line currency {currency} differs from the claim's {self.header.currency}"
            )

    def _ref(self, seg: Segment) -> None:
        if self.state == "header":
            _qualifier(seg, 1, HEADER_REF_QUALIFIERS)
            self.header.original_debit_memo = seg.el(2) or None
        elif self.state == "pad":
            self._line_ref(seg)
        else:
            self._expect(seg, "header_n1", "con", "con_n1")

    def _dtm(self, seg: Segment) -> None:
        if self.state == "pad":
            self._line_dtm(seg)
        else:
            self._expect(seg, "header", "con")

    # -- N1 loops ----------------------------------------------------------------------------------

    def _n1(self, seg: Segment) -> None:
        if self.state in ("header", "header_n1"):
            role = _qualifier(seg, 1, HEADER_ENTITIES)
            self.state = "header_n1"
            party = self.parties.setdefault(role, _PartyDraft(role, seg.el(2) or None))
        elif self.state in ("con", "con_n1"):
            _qualifier(seg, 1, {"ST": "ship-to (end customer)"})
            self.state = "con_n1"
            if self.customer is None:
                self.customer = _PartyDraft("ST", seg.el(2) or None)
            party = self.customer
        elif self.state == "pad":
            raise seg.error(
                "N1 after PAD: customer N1 loops must come before the CON loop's PAD lines"
            )
        else:
            raise self._misplaced(seg)
        self.party = party
        self.n1_sets_address = not party.has_address
        if seg.el(3) or seg.el(4):
            kind = KIND_BY_QUALIFIER.get(seg.el(3))
            if kind is None:
                raise seg.error(
                    f"N103 identification qualifier {seg.el(3)!r} is unknown; expected one of "
                    f"{', '.join(KIND_BY_QUALIFIER)}"
                )
            party.identifiers.append(
                check_identifier(
                    kind,
                    seg.el(4),
                    qualifier=seg.el(3),
                    options=self.options,
                    name=seg.el(2) or party.name,
                )
            )

    def _n1_detail(self, seg: Segment) -> None:
        self._expect(seg, "header_n1", "con_n1")

    def _customer_detail(self, seg: Segment) -> None:
        self._expect(seg, "con_n1")

    def _n3(self, seg: Segment) -> None:
        self._expect(seg, "header_n1", "con_n1")
        if self.party is not None and self.n1_sets_address:
            self.party.address_lines.extend(v for v in (seg.el(1), seg.el(2)) if v)

    def _n4(self, seg: Segment) -> None:
        self._expect(seg, "header_n1", "con_n1")
        if self.party is not None and self.n1_sets_address:
            party = self.party
            party.city, party.state = seg.el(1) or None, seg.el(2) or None
            party.postal_code, party.country = seg.el(3) or None, seg.el(4) or None

    # -- CON and PAD loops --------------------------------------------------------------------------

    def _con(self, seg: Segment) -> None:
        if self.state == "summary":
            raise self._misplaced(seg)
        self._finish_line()
        _qualifier(seg, 1, {"CT": "contract number"})
        self.contract = seg
        self.contract_loops += 1
        self.customer = None
        self.party = None
        self.state = "con"

    def _pad(self, seg: Segment) -> None:
        self._expect(seg, "con", "con_n1", "pad")
        self._finish_line()
        assert self.contract is not None
        self.draft = _LineDraft(
            pad=seg,
            line=len(self.lines) + 1,
            contract_loop=self.contract_loops,
            contract_id=self.contract.el(2) or None,
            contract_status=self.contract.el(3) or None,
            customer=self._one_of(self.customer.freeze()) if self.customer else None,
        )
        self.state = "pad"

    def _one_of(self, customer: Party) -> Party:
        """The first equal customer of this claim: a wholesaler repeats each customer's N1 loop
        in every contract loop, and one shared record per customer lets every later step
        match it once by identity (``lookup.Memo.match_of``) instead of once per line."""
        return self.customers.setdefault(customer, customer)

    def _line(self, seg: Segment) -> _LineDraft:
        if self.state != "pad" or self.draft is None:
            raise self._misplaced(seg)
        return self.draft

    def _line_only(self, seg: Segment) -> None:
        self._line(seg)

    def _lin(self, seg: Segment) -> None:
        draft = self._line(seg)
        draft.once(seg, "LIN")
        pairs = [(seg.el(n), seg.el(n + 1), n) for n in range(2, len(seg.elements) + 1, 2)]
        ndc: tuple[str, str] | None = None
        for qualifier, value, n in pairs:
            if not qualifier and not value:
                continue
            if qualifier in NDC_QUALIFIERS:
                ndc = ndc or (qualifier, value)
            elif qualifier not in OTHER_PRODUCT_QUALIFIERS:
                known = ", ".join([*NDC_QUALIFIERS, *OTHER_PRODUCT_QUALIFIERS])
                raise seg.error(
                    f"LIN{n:02d} product qualifier {qualifier!r} is unknown; expected one of {known}"
                )
        if ndc is None:
            return  # reported as a missing NDC when the line is finished
        qualifier, value = ndc
        result = normalize_ndc(value, layout=NDC_QUALIFIERS[qualifier])
        draft.fields.update(
            ndc_submitted=value,
            ndc_qualifier=qualifier,
            ndc11=result.ndc11,
            ndc_problem=result.problem,
            ndc_candidates=result.candidates,
        )
        if result.problem:
            draft.issues.append(Issue("ndc", "14", f"LIN*{qualifier}: {result.problem}"))

    def _pid(self, seg: Segment) -> None:
        draft = self._line(seg)
        if seg.el(5) and "description" not in draft.fields:
            draft.fields["description"] = seg.el(5)

    def _unit(self, seg: Segment, n: int) -> str | None:
        return seg.el(n).split(self.delims.component)[0] or None

    def _uit(self, seg: Segment) -> None:
        draft = self._line(seg)
        basis = _qualifier(seg, 3, {"WH": "wholesale (WAC)", "CT": "contract"})
        draft.once(seg, f"UIT*{basis}")
        draft.fields["wac" if basis == "WH" else "contract_price"] = _number(seg, 2, "unit price")

    def _qty(self, seg: Segment) -> None:
        draft = self._line(seg)
        _qualifier(seg, 1, {"39": "shipped quantity"})
        draft.once(seg, "QTY*39")
        draft.fields["quantity"] = _number(seg, 2, "quantity")
        draft.fields["unit"] = self._unit(seg, 3)

    def _amt(self, seg: Segment) -> None:
        _qualifier(seg, 1, {"CC": "chargeback claim amount"})
        if self.state == "summary":
            if self.total is not None:
                raise seg.error("second AMT*CC in the summary")
            self.total = _number(seg, 2, "total claimed amount")
            return
        draft = self._line(seg)
        draft.once(seg, "AMT*CC")
        draft.fields["claimed_amount"] = _number(seg, 2, "claimed amount")

    def _line_ref(self, seg: Segment) -> None:
        assert self.draft is not None
        qualifier = _qualifier(seg, 1, LINE_REF_QUALIFIERS)
        field = "invoice_line" if qualifier == "FJ" else "invoice_number"
        self.draft.once(seg, "REF*FJ" if field == "invoice_line" else "REF*IV/DI")
        self.draft.fields[field] = seg.el(2) or None

    def _line_dtm(self, seg: Segment) -> None:
        assert self.draft is not None
        qualifier = _qualifier(seg, 1, LINE_DTM_QUALIFIERS)
        field = {"003": "invoice_date", "011": "ship_date"}.get(qualifier)
        if field is None:
            return  # contract dates come from the contract master, not the claim
        self.draft.once(seg, f"DTM*{qualifier}")
        date = _parse_date(seg.el(2))
        if date is None and seg.el(2):
            self.draft.issues.append(
                Issue(field, "27", f"DTM*{qualifier} {seg.el(2)!r} is not a CCYYMMDD date")
            )
        self.draft.fields[field] = date

    def _finish_line(self) -> None:
        draft, self.draft = self.draft, None
        if draft is None:
            return
        values = {
            "line": draft.line,
            "line_id": draft.line_id,
            "contract_loop": draft.contract_loop,
            "contract_id": draft.contract_id,
            "contract_status": draft.contract_status,
            "customer": draft.customer,
            **draft.fields,
        }
        line = ClaimLine(**values)
        where = f"line PAD*{draft.line_id}" if draft.line_id else f"line {draft.line}"
        issues = list(draft.issues)
        flagged = {i.field for i in issues}
        issues.extend(
            Issue(field, "15", f"{where} has no {_X12_FIELD_NAMES[field]}")
            for field in line.missing_fields
            if field not in flagged
        )
        if line.customer is not None and not line.customer.identifiers:
            issues.append(
                Issue("customer", "15", f"{where}: the customer has no identifier (N103/N104)")
            )
        if not draft.line_id:
            issues.append(Issue("line_id", "15", f"{where}: PAD01/PAD02 line id is missing"))
        # built again rather than dataclasses.replace()d: that inspects the fields every time
        self.lines.append(ClaimLine(**values, issues=tuple(issues)))

    # -- summary -------------------------------------------------------------------------------------

    def _ctt(self, seg: Segment) -> None:
        if self.state not in ("con", "con_n1", "pad"):
            raise seg.error(
                "CTT must follow the CON loops" if self.state != "summary" else "second CTT"
            )
        self._finish_line()
        self.ctt = seg
        self.state = "summary"

    def _check_totals(self) -> None:
        ctt = self.ctt
        assert ctt is not None
        _check_count(ctt, 1, self.contract_loops, "CON loops")
        quantities = [line.quantity for line in self.lines if line.quantity is not None]
        hashed = _number(ctt, 2, "quantity hash total")
        if hashed is not None and hashed not in (sum(quantities), sum(abs(q) for q in quantities)):
            raise ctt.error(
                f"CTT02 hash total {hashed} does not match the sum of QTY02 {sum(quantities)}"
            )


# ---------------------------------------------------------------------------------------------
# Writing 844 and 849


def _money(value: Decimal) -> str:
    text = str(value)
    if text[-3:-2] == ".":  # plain notation with two decimals: already cents (most amounts)
        return text
    return str(value.quantize(CENT))


def _price(value: Decimal) -> str:
    """At least cents, more only when the price really has them (4-decimal prices on file)."""
    text = str(value)
    if text[-3:-2] == ".":  # exactly cents, the usual price: nothing to normalise
        return text
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(value.normalize(), "f")
    return str(value.quantize(CENT))


def _quantity(value: Decimal) -> str:
    text = str(value)
    if text.isdigit():  # a whole count, already as written (str of a Decimal has no lead zeros)
        return text
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


@functools.lru_cache(maxsize=256)
def _yyyymmdd(value: dt.date) -> str:
    """Cached: a claim's lines share a few dates, and ``strftime`` was a tenth of an 849."""
    return value.strftime("%Y%m%d")


class _Writer:
    """Collects segments and builds the envelope around them with correct counts."""

    def __init__(self, delims: Delimiters) -> None:
        self.delims = delims
        self.segments: list[str] = []
        self.transaction_start = 0
        self._unwritable = re.compile(
            f"[{re.escape(delims.element + delims.component + delims.segment)}\r\n]"
        )
        #: what no written segment may hold at all; the element separator is counted instead
        foreign = dict.fromkeys(delims.component + delims.segment + "\r\n")
        foreign.pop(delims.element, None)
        self._foreign = re.compile(f"[{re.escape(''.join(foreign))}]")

    def add(self, seg_id: str, *elements: str | None) -> None:
        values: Sequence[str]
        if None in elements or not elements or not elements[-1]:  # blanks and trailing empties
            values = [e or "" for e in elements]
            while values and not values[-1]:
                values.pop()
        else:  # the usual segment, taken as it is: an 849 has a hundred thousand
            values = elements  # type: ignore[assignment]  # no None among them, as checked
        element = self.delims.element
        segment = element.join((seg_id, *values))
        # one search and one count per segment (an 849 has a hundred thousand): a value holds a
        # delimiter or line break exactly when the segment has more separators than joins
        if self._foreign.search(segment) or segment.count(element) != len(values):
            value = next(v for v in values if self._unwritable.search(v))
            raise ValueError(
                f"{seg_id} value {value!r} contains an X12 delimiter or line break; "
                "it cannot be written without corrupting the file"
            )
        self.segments.append(segment)

    def open(
        self,
        *,
        sender: tuple[str, str],
        receiver: tuple[str, str],
        application: tuple[str, str],
        control: int,
        when: dt.datetime,
        usage: str,
        set_id: str,
    ) -> None:
        if not 0 < control <= 999_999_999:
            raise ValueError(f"control number {control} must be 1..999999999")
        for qualifier, ident in (sender, receiver):
            if len(qualifier) != 2 or not 0 < len(ident) <= 15:
                raise ValueError(
                    f"interchange id {qualifier}/{ident!r} must be a 2-char qualifier and 1-15 chars"
                )
        e = self.delims.element
        isa = [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            sender[0],
            sender[1].ljust(15),
            receiver[0],
            receiver[1].ljust(15),
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            "U",
            "00401",
            f"{control:09d}",
            "0",
            usage,
            self.delims.component,
        ]
        self.segments.append(e.join(isa))
        self.add(
            "GS",
            "CF",
            application[0],
            application[1],
            _yyyymmdd(when),
            when.strftime("%H%M"),
            str(control),
            "X",
            "004010",
        )
        self.transaction_start = len(self.segments)
        self.add("ST", set_id, "0001")

    def close(self, control: int) -> str:
        count = len(self.segments) - self.transaction_start + 1
        self.add("SE", str(count), "0001")
        self.add("GE", "1", str(control))
        self.add("IEA", "1", f"{control:09d}")
        newline = "" if self.delims.segment in "\r\n" else "\n"
        terminator = self.delims.segment + newline
        return terminator.join(self.segments) + terminator

    def party(self, party: Party | None, *, all_ids: bool = False) -> None:
        """N1 per identifier (the 844 way) or once with the first identifier (the 849 echo)."""
        if party is None:
            return
        ids = party.identifiers if all_ids else party.identifiers[:1]
        if not ids:
            self.add("N1", party.role, party.name)
        for n, ident in enumerate(ids):
            qualifier = ident.qualifier or QUALIFIER_BY_KIND[ident.kind]
            self.add("N1", party.role, party.name, qualifier, ident.value)
            if all_ids and n == 0:  # by position: equal identifiers are one shared object
                self.address(party.address)
        if not ids and all_ids:
            self.address(party.address)

    def address(self, address: Address | None) -> None:
        if address is None:
            return
        for pair in (address.lines[i : i + 2] for i in range(0, len(address.lines), 2)):
            self.add("N3", *pair)
        if address.city or address.state or address.postal_code or address.country:
            self.add("N4", address.city, address.state, address.postal_code, address.country)


def _contract_loops(lines: Sequence[ClaimLine]) -> list[list[ClaimLine]]:
    """Lines grouped as their CON loops were sent; lines from free text get a loop each."""
    loops: list[list[ClaimLine]] = []
    for line in lines:
        if (
            loops
            and line.contract_loop is not None
            and loops[-1][0].contract_loop == line.contract_loop
        ):
            loops[-1].append(line)
        else:
            loops.append([line])
    return loops


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def _parties(
    claim: Claim, sender: tuple[str, str] | None, receiver: tuple[str, str] | None, *, reply: bool
) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str], str]:
    env = claim.envelope
    if env is None and (sender is None or receiver is None):
        raise ValueError("the claim has no X12 envelope; pass sender and receiver (qualifier, id)")
    if env is not None:
        ours = (env.sender_qualifier, env.sender_id)
        theirs = (env.receiver_qualifier, env.receiver_id)
        apps = (env.application_sender, env.application_receiver)
        if reply:
            ours, theirs, apps = theirs, ours, (apps[1], apps[0])
        sender, receiver = sender or ours, receiver or theirs
        application = apps if (sender, receiver) == (ours, theirs) else (sender[1], receiver[1])
        return sender, receiver, application, env.usage
    assert sender is not None and receiver is not None
    return sender, receiver, (sender[1], receiver[1]), "P"


def write_844(claim: Claim, *, delimiters: Delimiters = Delimiters()) -> str:
    """The claim as an 844 interchange, envelope numbers taken from ``claim.envelope``.

    Used to build test and benchmark claims that are right by construction; ``parse_844`` of
    the result gives the claim back (apart from ``document_sha256``).
    """
    env = claim.envelope
    if env is None:
        raise ValueError(
            "write_844 needs claim.envelope for the interchange ids and control numbers"
        )
    w = _Writer(delimiters)
    control = int(env.interchange_control)
    when = dt.datetime.combine(env.date, dt.datetime.strptime(env.time or "0000", "%H%M").time())
    w.open(
        sender=(env.sender_qualifier, env.sender_id),
        receiver=(env.receiver_qualifier, env.receiver_id),
        application=(env.application_sender, env.application_receiver),
        control=control,
        when=when,
        usage=env.usage,
        set_id="844",
    )
    w.add(
        "BAA",
        claim.purpose,
        claim.transaction_type,
        _yyyymmdd(claim.claim_date) if claim.claim_date else None,
        claim.debit_memo_qualifier,
        claim.debit_memo,
    )
    w.add("CUR", "SE", claim.currency)
    if claim.original_debit_memo:
        w.add("REF", "F8", claim.original_debit_memo)
    w.party(claim.distributor, all_ids=True)
    w.party(claim.manufacturer, all_ids=True)
    loops = _contract_loops(claim.lines)
    for loop in loops:
        first = loop[0]
        w.add("CON", "CT", first.contract_id, first.contract_status)
        w.party(first.customer, all_ids=True)
        for line in loop:
            w.add("PAD", line.line_id)
            if line.ndc_submitted is not None:
                w.add("LIN", "", line.ndc_qualifier or "N4", line.ndc_submitted)
            if line.description:
                w.add("PID", "F", "", "", "", line.description)
            unit = line.unit or "UN"
            if line.wac is not None:
                w.add("UIT", unit, _price(line.wac), "WH")
            if line.contract_price is not None:
                w.add("UIT", unit, _price(line.contract_price), "CT")
            if line.quantity is not None:
                w.add("QTY", "39", _quantity(line.quantity), line.unit)
            if line.claimed_amount is not None:
                w.add("AMT", "CC", _money(line.claimed_amount))
            if line.invoice_number:
                w.add("REF", "IV", line.invoice_number)
            if line.invoice_line:
                w.add("REF", "FJ", line.invoice_line)
            if line.invoice_date:
                w.add("DTM", "003", _yyyymmdd(line.invoice_date))
            if line.ship_date:
                w.add("DTM", "011", _yyyymmdd(line.ship_date))
    quantities = [line.quantity for line in claim.lines if line.quantity is not None]
    w.add("CTT", str(len(loops)), _quantity(sum(quantities, Decimal(0))))
    if claim.total_claimed is not None:
        w.add("AMT", "CC", _money(claim.total_claimed))
    return w.close(control)


def _used(on_file: Decimal | None, submitted: Decimal | None) -> Decimal | None:
    """The price a decision used: the one on file when it names one (0.00 included)."""
    return submitted if on_file is None else on_file


#: AAA04 (X12 889) of a rejection, by its 901 reason (brief §2.3): what the wholesaler may do
#: next. C (correct and resubmit) where the line's data is what is wrong (contract, product,
#: customer, dates, quantity, missing fields), so a corrected line may be paid; N
#: (resubmission not allowed) where no correction can make this sale payable: already paid
#: (28), an excluded party (09), past the exercise period (29), a DC not authorized (08), no
#: funds left (05); D (resubmit the entire claim) for a debit memo number already used
#: (11, 12), which is corrected as a whole (BAA01 05/CO or a new number).
FOLLOW_UP_BY_REASON: Mapping[str, str] = {
    **dict.fromkeys(("01", "02", "03", "04", "14", "15", "16", "18", "19", "23", "26", "27"), "C"),
    **dict.fromkeys(("05", "08", "09", "28", "29"), "N"),
    **dict.fromkeys(("11", "12"), "D"),
}


def _follow_up(decision: LineDecision, code: str) -> str:
    """AAA04 for one reason of a decision: Y (we will respond again) for a pended line, N for
    an adjusted one (it is settled at the right amount: sending it again would be a
    duplicate), and for a rejection what its reason allows (C for a reason not listed)."""
    if decision.follow_up:
        return decision.follow_up
    if decision.status == "pend":
        return "Y"
    if decision.status == "adjust":
        return "N"
    return FOLLOW_UP_BY_REASON.get(code, "C")


def write_849(
    claim: Claim,
    decisions: Sequence[LineDecision],
    *,
    control_number: int,
    date: dt.date | dt.datetime,
    exceptions_only: bool = False,
    sender: tuple[str, str] | None = None,
    receiver: tuple[str, str] | None = None,
    delimiters: Delimiters = Delimiters(),
) -> str:
    """The 849 answering ``claim``: one PAD per line with AAA result, prices used vs submitted
    (UIT CT/SC/SW/WH), submitted and allowed amounts (AMT S/A), and the wholesaler's own
    references echoed so it can match the answer to its lines (brief §2.5).

    ``exceptions_only`` leaves accepted lines out, as some wholesalers ask (brief §2.1); the
    summary amounts still cover the whole debit memo. Sender/receiver default to the 844's,
    swapped; a claim that did not come as X12 needs them given.
    """
    by_line: dict[int, LineDecision] = {}
    for decision in decisions:
        if decision.line in by_line:
            raise ValueError(f"two decisions for line {decision.line}")
        by_line[decision.line] = decision
    numbers = {line.line for line in claim.lines}
    unknown = sorted(set(by_line) - numbers)
    missing = sorted(numbers - set(by_line))
    if unknown or missing:
        raise ValueError(
            f"decisions must cover each claim line once: missing {missing or 'none'}, "
            f"unknown {unknown or 'none'}"
        )
    when = _as_datetime(date)
    me, them, application, usage = _parties(claim, sender, receiver, reply=True)
    w = _Writer(delimiters)
    w.open(
        sender=me,
        receiver=them,
        application=application,
        control=control_number,
        when=when,
        usage=usage,
        set_id="849",
    )
    w.add("BRC", "00", _yyyymmdd(when), claim.debit_memo_qualifier or "AM", claim.debit_memo)
    w.party(claim.distributor)
    w.party(claim.manufacturer)
    loops_written = 0
    quantity_hash = Decimal(0)
    for loop in _contract_loops(claim.lines):
        shown = [
            line for line in loop if not (exceptions_only and by_line[line.line].status == "accept")
        ]
        if not shown:
            continue
        loops_written += 1
        w.add("CON", "CT", loop[0].contract_id, loop[0].contract_status or "VA")
        w.party(loop[0].customer)
        for line in shown:
            decision = by_line[line.line]
            w.add("PAD", line.line_id or str(line.line))
            if line.ndc_submitted is not None:
                w.add(
                    "LIN",
                    "",
                    line.ndc_qualifier or ("N4" if line.ndc11 else "ND"),
                    line.ndc_submitted
                    if line.ndc_qualifier
                    else (line.ndc11 or line.ndc_submitted),
                )
            if decision.status == "accept":
                w.add("AAA", "Y")
            else:
                for code in decision.reason_codes or ("",):
                    w.add("AAA", "N", "", code, _follow_up(decision, code))
            unit = line.unit or "UN"
            for price, basis in (
                (_used(decision.contract_price, line.contract_price), "CT"),
                (line.contract_price, "SC"),
                (line.wac, "SW"),
                (_used(decision.wac, line.wac), "WH"),
            ):
                if price is not None:
                    w.add("UIT", unit, _price(price), basis)
            if line.quantity is not None:
                quantity_hash += line.quantity
                w.add("QTY", "39", _quantity(line.quantity), line.unit)
            if line.claimed_amount is not None:
                w.add("AMT", "S", _money(line.claimed_amount))
            w.add("AMT", "A", _money(decision.accepted_amount))
            if line.invoice_number:
                w.add("REF", "IV", line.invoice_number)
            if line.invoice_line:
                w.add("REF", "FJ", line.invoice_line)
            if line.invoice_date:
                w.add("DTM", "003", _yyyymmdd(line.invoice_date))
    w.add("CTT", str(loops_written), _quantity(quantity_hash))
    submitted = sum(
        (line.claimed_amount for line in claim.lines if line.claimed_amount is not None), Decimal(0)
    )
    w.add("AMT", "S", _money(submitted))
    w.add("AMT", "A", _money(sum((d.accepted_amount for d in decisions), Decimal(0))))
    return w.close(control_number)
