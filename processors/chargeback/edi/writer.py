"""X12 004010 chargebacks: write the 849 answer, and the 844 (brief §2).

The 849 answers an 844 line for line (contract loop for contract loop) with the decision,
the amounts and one AAA segment per reason code; ``write_844`` writes a claim back as an 844
(samples, the benchmark's generated claims, round-trip tests).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TextIO

from processors.chargeback.claim import (
    CENT,
    Address,
    Claim,
    ClaimLine,
    LineDecision,
    Party,
)
from processors.chargeback.edi.tokens import STANDARD, Delimiters
from processors.chargeback.identifiers import (
    QUALIFIER_BY_KIND,
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
    """Writes segments to ``out`` as they come and builds the envelope around them with correct
    counts. Written, not collected: the answer to a large claim has over a million segments,
    and holding them all and then their joined text held the answer several times over."""

    def __init__(self, delims: Delimiters, out: TextIO) -> None:
        self.delims = delims
        self._write = out.write
        newline = "" if delims.segment in "\r\n" else "\n"
        self._terminator = delims.segment + newline
        self.count = 0
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
        self._emit(segment)

    def block(self, segments: Sequence[tuple[str, ...]]) -> None:
        """Several segments written at once: the segments of one 849 line, each given as its
        id and values with no None and no trailing empty value (``trimmed``).

        An answer has a hundred thousand segments; checked together, a block costs one search
        and one count, as one segment does. When the check fails, the segments go one by one
        through ``add``, which names the value that cannot be written."""
        element = self.delims.element
        texts = [element.join(segment) for segment in segments]
        joined = element.join(texts)
        separators = sum(map(len, segments)) - 1
        if self._foreign.search(joined) or joined.count(element) != separators:
            for segment in segments:
                self.add(*segment)
            return
        terminator = self._terminator
        self._write(terminator.join(texts))
        self._write(terminator)
        self.count += len(texts)

    def _emit(self, segment: str) -> None:
        self._write(segment)
        self._write(self._terminator)
        self.count += 1

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
        self._emit(e.join(isa))
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
        self.transaction_start = self.count
        self.add("ST", set_id, "0001")

    def close(self, control: int) -> None:
        count = self.count - self.transaction_start + 1
        self.add("SE", str(count), "0001")
        self.add("GE", "1", str(control))
        self.add("IEA", "1", f"{control:09d}")

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


def write_844(claim: Claim, *, delimiters: Delimiters = STANDARD) -> str:
    """The claim as an 844 interchange, envelope numbers taken from ``claim.envelope``.

    Used to build test and benchmark claims that are right by construction; ``parse_844`` of
    the result gives the claim back (apart from ``document_sha256``).
    """
    env = claim.envelope
    if env is None:
        raise ValueError(
            "write_844 needs claim.envelope for the interchange ids and control numbers"
        )
    out = io.StringIO()
    w = _Writer(delimiters, out)
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
    w.close(control)
    return out.getvalue()


#: the AAA of an accepted line
_ACCEPTED = ("AAA", "Y")


def trimmed(seg_id: str, *elements: str | None) -> tuple[str, ...]:
    """A segment as ``_Writer.block`` takes it: None written as empty, trailing empties left
    out (X12 drops them, as ``_Writer.add`` does)."""
    values = [e or "" for e in elements]
    while values and not values[-1]:
        values.pop()
    return (seg_id, *values)


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
    delimiters: Delimiters = STANDARD,
) -> str:
    """The 849 answering ``claim`` as text (see ``write_849_to``)."""
    out = io.StringIO()
    write_849_to(
        out,
        claim,
        decisions,
        control_number=control_number,
        date=date,
        exceptions_only=exceptions_only,
        sender=sender,
        receiver=receiver,
        delimiters=delimiters,
    )
    return out.getvalue()


def write_849_to(
    out: TextIO,
    claim: Claim,
    decisions: Sequence[LineDecision],
    *,
    control_number: int,
    date: dt.date | dt.datetime,
    exceptions_only: bool = False,
    sender: tuple[str, str] | None = None,
    receiver: tuple[str, str] | None = None,
    delimiters: Delimiters = STANDARD,
) -> None:
    """Write to ``out`` the 849 answering ``claim``: one PAD per line with AAA result, prices used vs submitted
    (UIT CT/SC/SW/WH), submitted and allowed amounts (AMT S/A), and the wholesaler's own
    references echoed so it can match the answer to its lines (brief §2.5).

    ``exceptions_only`` leaves accepted lines out, as some wholesalers ask (brief §2.1); the
    summary amounts still cover the whole debit memo. Sender/receiver default to the 844's,
    swapped; a claim that did not come as X12 needs them given. The decisions and parties
    are checked before anything is written; a value that cannot be written raises
    ValueError part way, so a caller writing to a file removes it then.
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
    w = _Writer(delimiters, out)
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
            segments: list[tuple[str, ...]] = [("PAD", line.line_id or str(line.line))]
            if line.ndc_submitted is not None:
                qualifier = line.ndc_qualifier or ("N4" if line.ndc11 else "ND")
                ndc = line.ndc_submitted if line.ndc_qualifier else (line.ndc11 or line.ndc_submitted)
                segments.append(trimmed("LIN", "", qualifier, ndc))
            if decision.status == "accept":
                segments.append(_ACCEPTED)
            else:
                for code in decision.reason_codes or ("",):
                    segments.append(trimmed("AAA", "N", "", code, _follow_up(decision, code)))
            unit = line.unit or "UN"
            for price, basis in (
                (_used(decision.contract_price, line.contract_price), "CT"),
                (line.contract_price, "SC"),
                (line.wac, "SW"),
                (_used(decision.wac, line.wac), "WH"),
            ):
                if price is not None:
                    segments.append(("UIT", unit, _price(price), basis))
            if line.quantity is not None:
                quantity_hash += line.quantity
                segments.append(trimmed("QTY", "39", _quantity(line.quantity), line.unit))
            if line.claimed_amount is not None:
                segments.append(("AMT", "S", _money(line.claimed_amount)))
            segments.append(("AMT", "A", _money(decision.accepted_amount)))
            if line.invoice_number:
                segments.append(("REF", "IV", line.invoice_number))
            if line.invoice_line:
                segments.append(("REF", "FJ", line.invoice_line))
            if line.invoice_date:
                segments.append(("DTM", "003", _yyyymmdd(line.invoice_date)))
            w.block(segments)
    w.add("CTT", str(loops_written), _quantity(quantity_hash))
    submitted = sum(
        (line.claimed_amount for line in claim.lines if line.claimed_amount is not None), Decimal(0)
    )
    w.add("AMT", "S", _money(submitted))
    w.add("AMT", "A", _money(sum((d.accepted_amount for d in decisions), Decimal(0))))
    w.close(control_number)
