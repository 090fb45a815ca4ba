"""X12 004010 chargebacks: read the 844 claim (brief §2).

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
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from processors.chargeback.claim import (
    Address,
    Claim,
    ClaimLine,
    Envelope,
    Identifier,
    Issue,
    Party,
    summary_issues,
)
from processors.chargeback.edi.tokens import (
    ClaimFormatError,
    Delimiters,
    Segment,
    decode_text,
    tokenize,
)
from processors.chargeback.identifiers import (
    DEFAULT_OPTIONS,
    KIND_BY_QUALIFIER,
    CheckOptions,
    check_identifier,
    normalize_ndc,
)

_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)")
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


# ---------------------------------------------------------------------------------------------
# Envelope (R01)


def parse_844_interchange(
    data: str | bytes, *, options: CheckOptions = DEFAULT_OPTIONS
) -> tuple[Claim, ...]:
    """Every 844 transaction set in an interchange, with the envelope checked (R01)."""
    text, digest = decode_text(data)
    delims, cursor = tokenize(text)
    isa = next(cursor)
    if isa.el(12) != "00401":
        raise isa.error(f"ISA12 version {isa.el(12)!r} is not supported; expected 00401")
    claims: list[Claim] = []
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
        reader = _TransactionReader(st, delims, options)
        se = last = reader.read(cursor)
        count = reader.count + 2
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
        claims.append(reader.claim(se, envelope, digest))
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
    """Walks ST..SE once, tracking which loop it is in (brief §2.1), and builds the Claim.

    Segments are read as the tokenizer produces them (``read``), never held: the SE count is
    checked after them, so a malformed segment inside is reported before a wrong count."""

    def __init__(self, st: Segment, delims: Delimiters, options: CheckOptions) -> None:
        self.st = st
        self.count = 0  # segments read between ST and SE
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

    def read(self, cursor: Iterator[Segment]) -> Segment:
        """Read every segment up to the SE, which is returned."""
        last = self.st
        for seg in cursor:
            last = seg
            if seg.id == "SE":
                if self.count == 0:
                    raise seg.error("an 844 must start with BAA after ST; found SE")
                return seg
            if seg.id in ("ST", "GE", "GS", "IEA"):
                raise seg.error(
                    f"{seg.id} before the SE that closes the ST at segment {self.st.position}"
                )
            self.count += 1
            if self.count == 1 and seg.id != "BAA":
                raise seg.error(f"an 844 must start with BAA after ST; found {seg.id}")
            handler = self.handlers.get(seg.id)
            if handler is None:
                raise seg.error(
                    f"{seg.id} is not a segment of the 844; expected one of {', '.join(self.handlers)}"
                )
            handler(seg)
        raise last.error("the interchange ends here without SE: the file is truncated")

    def claim(self, se: Segment, envelope: Envelope, digest: str) -> Claim:
        """The claim read, once ``read`` reached the SE and the envelope was checked."""
        self._finish_line()
        if not self.lines:
            raise se.error("the 844 claims no lines: at least one CON loop with a PAD is required")
        if self.ctt is None:
            raise se.error("no CTT segment before SE; CTT carries the CON count and QTY hash")
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
        if self.count != 1:
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
