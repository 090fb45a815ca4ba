"""The chargeback claim as every step after intake sees it.

Convention for passing claims and results between steps (through the store, as
``StepResult.data``, so everything here is plain JSON on the wire):

* ``chargeback.extract-identifiers`` stores the claim once (``claim_body``, in the
  chargeback database) and returns a reference to it, ``data={"claim_ref": {...}}``; a later
  step loads it with ``claim_store.claim_from_upstream(context)``.
* every rule processor returns ``data={"findings": [finding.to_row(), ...]}``: one
  :class:`Finding` per (line, rule) it decided, as a compact row (``decode_findings`` reads
  rows and objects); ``line == 0`` means the whole debit memo.
* chargeback resolution folds the findings into one :class:`LineDecision` per line, which is
  what the 849 writer (``processors.chargeback.edi.write_849``) consumes.

JSON shapes: Decimals are strings (``"82.50"``), dates ISO ``YYYY-MM-DD``, tuples are lists,
absent values are ``null``. ``X.from_json(x.to_json()) == x`` for every record here. Derived
values (``is_credit``, ``is_resubmission``) are properties, never stored, so they cannot
disagree with the fields they come from.

Why frozen dataclasses: a claim is evidence. Steps derive new facts (findings, decisions)
from it; none may edit it, and the compliance trail hashes its canonical JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import operator
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, Self, TypeVar, get_args, get_origin, get_type_hints

IdentifierKind = Literal["dea", "hin", "gln", "npi", "340b", "custom"]
Outcome = Literal["pass", "adjust", "reject", "review"]
Status = Literal["accept", "adjust", "reject", "pend"]
ClaimFormat = Literal["x12-844", "text", "pdf"]

CENT = Decimal("0.01")


def chargeback_amount(wac: Decimal, contract_price: Decimal, quantity: Decimal) -> Decimal:
    """(WAC - contract price) x quantity, half-up to cents (brief §1.1, R13).

    One definition for every step so intake, pricing rules and the 849 agree to the cent.
    """
    return ((wac - contract_price) * quantity).quantize(CENT, rounding=ROUND_HALF_UP)


#: Fields every claim line must carry (R02, brief §1.2); the 849 answers 15 when one is absent.
REQUIRED_LINE_FIELDS = (
    "contract_id",
    "customer",
    "ndc_submitted",
    "quantity",
    "wac",
    "contract_price",
    "claimed_amount",
    "invoice_number",
    "invoice_date",
)


_Record = TypeVar("_Record")


def quick_init(cls: type[_Record]) -> type[_Record]:
    """A frozen slots dataclass whose ``__init__`` sets each field through its slot's own
    descriptor, still frozen to everything else (``setattr`` raises as before).

    The ``__init__`` dataclasses writes for a frozen class sets every field through
    ``object.__setattr__``, which costs several times a plain assignment; findings and
    decisions are made by the hundred thousand for a large claim. Only plain fields with or
    without a default, and no ``__post_init__``, as these value types have.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if "__post_init__" in vars(cls) or any(
        f.default_factory is not dataclasses.MISSING or not f.init for f in fields
    ):
        raise TypeError(f"quick_init cannot build {cls.__name__}.__init__")
    names = [f.name for f in fields]
    params = [f.name if f.default is dataclasses.MISSING else f"{f.name}=_d_{f.name}" for f in fields]
    scope: dict[str, Any] = {f"_s_{n}": vars(cls)[n].__set__ for n in names}
    scope.update({f"_d_{f.name}": f.default for f in fields if f.default is not dataclasses.MISSING})
    source = f"def __init__(self, {', '.join(params)}):\n" + "".join(
        f"    _s_{n}(self, {n})\n" for n in names
    )
    exec(source, scope)  # noqa: S102 - built from the class's own field names only
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 - replacing the method dataclasses wrote
    return cls


class JsonRecord:
    """Mixin: typed JSON round trip driven by the dataclass field annotations."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        record_type: type = type(self)  # as a plain type: the cache key mypy can hash
        return _record_encoder(record_type)(self, {})

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """Rebuild from ``to_json`` output; a wrong shape raises ValueError naming the path."""
        return typing.cast(Self, _decode(cls, data, cls.__name__.lower()))


@dataclasses.dataclass(frozen=True, slots=True)
class Identifier(JsonRecord):
    """One party identifier as submitted, with the verdict of its format/check-digit test.

    ``qualifier`` is the X12 N103 code it arrived under (``11``, ``21``, ``UL``, ``XX``, ``PI``,
    ``ZZ``, ``91``, ``92``) or None for free text. ``valid`` is only the offline pre-filter; the
    reference databases have the last word (brief §9.10).
    """

    kind: IdentifierKind
    value: str
    valid: bool
    problem: str | None = None
    qualifier: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Address(JsonRecord):
    lines: tuple[str, ...] = ()
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Party(JsonRecord):
    """A distributor, manufacturer or end customer with every identifier it was sent with.

    ``role`` is the X12 entity code (DS, DB, MF, SU, ST). Identifiers keep submission order
    (the 849 echoes the first one) and may disagree with each other; resolving them to one
    canonical customer is the reference-data steps' job, not intake's.
    """

    role: str
    name: str | None
    identifiers: tuple[Identifier, ...] = ()
    address: Address | None = None

    def identifiers_of(self, kind: IdentifierKind) -> tuple[Identifier, ...]:
        return tuple(i for i in self.identifiers if i.kind == kind)

    @property
    def valid_identifiers(self) -> tuple[Identifier, ...]:
        return tuple(i for i in self.identifiers if i.valid)


@dataclasses.dataclass(frozen=True, slots=True)
class Issue(JsonRecord):
    """A problem intake found in one field.

    ``code`` is the 849 reason it maps to (15 missing, 14 bad NDC, 27 bad date), or None for a
    notice that rejects nothing by itself (e.g. a summary total that disagrees with the lines).
    """

    field: str
    code: str | None
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class ClaimLine(JsonRecord):
    """One claimed sale. ``line`` is the 1-based position in the claim (what findings refer to);
    ``line_id`` is the wholesaler's own line id (PAD01), echoed verbatim in the 849;
    ``contract_loop`` the 1-based CON loop it came in (lines of one loop share contract and
    customer), so the 849 can answer loop for loop. None for claims that were not X12.

    Missing or unparseable fields are None with an :class:`Issue` explaining why, so R02/R15
    can reject the line instead of intake rejecting the whole document.
    """

    line: int
    line_id: str
    contract_loop: int | None = None
    contract_id: str | None = None
    contract_status: str | None = None
    customer: Party | None = None
    ndc11: str | None = None
    ndc_submitted: str | None = None
    ndc_qualifier: str | None = None
    ndc_problem: str | None = None
    ndc_candidates: tuple[str, ...] = ()
    description: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    wac: Decimal | None = None
    contract_price: Decimal | None = None
    claimed_amount: Decimal | None = None
    invoice_number: str | None = None
    invoice_line: str | None = None
    invoice_date: dt.date | None = None
    ship_date: dt.date | None = None
    issues: tuple[Issue, ...] = ()

    @property
    def is_credit(self) -> bool:
        """A reversing (negative) quantity: a credit/rebill, never a duplicate (brief §1.5)."""
        return (self.quantity is not None and self.quantity < 0) or (
            self.claimed_amount is not None and self.claimed_amount < 0
        )

    @property
    def missing_fields(self) -> tuple[str, ...]:
        """Required fields that are absent, in REQUIRED_LINE_FIELDS order."""
        return tuple(f for f in REQUIRED_LINE_FIELDS if getattr(self, f) is None)

    @property
    def expected_amount(self) -> Decimal | None:
        """The amount the submitted prices imply, or None when a price or quantity is missing."""
        if self.wac is None or self.contract_price is None or self.quantity is None:
            return None
        return chargeback_amount(self.wac, self.contract_price, self.quantity)


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope(JsonRecord):
    """The X12 interchange/group/transaction envelope, kept so the 849 can answer in kind."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    interchange_control: str
    group_control: str
    transaction_control: str
    application_sender: str
    application_receiver: str
    date: dt.date
    time: str
    usage: str
    version: str = "004010"


@dataclasses.dataclass(frozen=True, slots=True)
class Claim(JsonRecord):
    """One debit memo. ``format`` is what the document was; ``extractor`` how it was read
    (``x12-844``, ``offline``, ``llm:<model>``) and ``document_sha256`` which bytes, both for
    the audit trail. ``purpose`` is BAA01: 00 original, 05 replace, CO corrected.
    """

    format: ClaimFormat
    extractor: str
    document_sha256: str
    debit_memo: str | None
    claim_date: dt.date | None
    lines: tuple[ClaimLine, ...]
    purpose: str | None = "00"
    transaction_type: str | None = None
    debit_memo_qualifier: str | None = None
    original_debit_memo: str | None = None
    currency: str = "USD"
    distributor: Party | None = None
    manufacturer: Party | None = None
    total_claimed: Decimal | None = None
    envelope: Envelope | None = None
    issues: tuple[Issue, ...] = ()

    @property
    def is_resubmission(self) -> bool:
        return self.purpose in ("05", "CO")

    def line(self, number: int) -> ClaimLine:
        for line in self.lines:
            if line.line == number:
                return line
        raise KeyError(f"claim {self.debit_memo} has no line {number}")

    @property
    def customers(self) -> tuple[Party, ...]:
        """Distinct end customers in first-seen order (same name and identifier values)."""
        seen: dict[tuple[Any, ...], Party] = {}
        for line in self.lines:
            if line.customer is not None:
                key = (
                    line.customer.name,
                    tuple(sorted(i.value for i in line.customer.identifiers)),
                )
                seen.setdefault(key, line.customer)
        return tuple(seen.values())


def summary_issues(claim: Claim) -> tuple[Issue, ...]:
    """Debit-memo level problems, computed the same way whatever the claim was read from."""
    issues: list[Issue] = []
    if claim.distributor is None:
        issues.append(Issue("distributor", "15", "the claim names no distributor (844: N1*DS/DB)"))
    amounts = [line.claimed_amount for line in claim.lines if line.claimed_amount is not None]
    if claim.total_claimed is not None and claim.total_claimed != sum(amounts):
        issues.append(
            Issue(
                "total_claimed",
                None,
                f"the claimed total {claim.total_claimed} differs from the sum of line amounts "
                f"{sum(amounts, Decimal(0))}",
            )
        )
    if claim.is_resubmission and not claim.original_debit_memo:
        issues.append(
            Issue(
                "original_debit_memo",
                None,
                f"purpose {claim.purpose} (replacement) without the original debit memo number "
                "(844: REF*F8)",
            )
        )
    return tuple(issues)


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class Finding(JsonRecord):
    """One rule's verdict on one line (``line == 0``: the whole debit memo).

    ``code`` is the X12 901 reason code (brief §2.3) or None for a pass; ``amount`` is the
    allowed amount when the rule changes it (adjust/reject), else None.
    """

    line: int
    rule: str
    outcome: Outcome
    code: str | None
    message: str
    amount: Decimal | None = None

    def to_row(self) -> list[Any]:
        """The finding as steps publish it: ``[line, rule, outcome, code, message]``, and the
        amount as a decimal string when there is one. A large claim's steps publish hundreds
        of thousands of findings; as rows they take a third of the memory objects take, and
        ``decode_findings`` reads both."""
        row: list[Any] = [self.line, self.rule, self.outcome, self.code, self.message]
        if self.amount is not None:
            row.append(str(self.amount))
        return row


class MalformedFinding(ValueError):
    """A published finding that does not decode; ``index`` is its place in the list."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index, self.reason = index, reason


def decode_findings(
    raw: list[Any], outcomes: frozenset[str] | None = None
) -> tuple[Finding, ...]:
    """A step's published findings, decoded. The resolution step reads every rule step's, tens
    of thousands for a large claim, so a row of the usual shape is read where it stands (no
    dict made of it), and only an item that is not goes through ``Finding.from_json``, which
    says what is wrong with it.

    A finding is a row (``Finding.to_row``, what steps publish) or an object (``to_json``).
    With ``outcomes``, only the findings published with one of them are decoded (a step that
    asks only about rejections need not hold a large claim's passes)."""
    findings: list[Finding] = []
    append = findings.append
    for i, item in enumerate(raw):
        if type(item) is list:
            size = len(item)
            if size == 5:
                line, rule, outcome, code, message = item
                amount = None
            elif size == 6:
                line, rule, outcome, code, message, amount = item
            else:
                raise MalformedFinding(
                    i, f"a finding row has {size} values; expected {', '.join(_ROW)}"
                )
            if outcomes is not None and outcome not in outcomes:
                continue
            finding = _plain(line, rule, outcome, code, message, amount)
            if finding is None:
                finding = _from_json(i, dict(zip(_ROW, item, strict=False)))
        else:
            if outcomes is not None and isinstance(item, dict) and item.get("outcome") not in outcomes:
                continue
            finding = _plain_finding(item)
            if finding is None:
                finding = _from_json(i, item)
        append(finding)
    return tuple(findings)


_OUTCOMES = frozenset(get_args(Outcome))
_ROW = ("line", "rule", "outcome", "code", "message", "amount")
_FINDING_KEYS = frozenset(_ROW)


def _from_json(index: int, item: Any) -> Finding:
    """``Finding.from_json``, its complaint as a MalformedFinding at ``index``."""
    try:
        return Finding.from_json(item)
    except ValueError as exc:
        raise MalformedFinding(index, str(exc)) from None


def _plain_finding(item: Any) -> Finding | None:
    """``item`` as a Finding when it is one exactly as ``to_json`` writes it, else None."""
    if type(item) is not dict or not item.keys() <= _FINDING_KEYS or len(item) < 5:
        return None
    return _plain(
        item.get("line"),
        item.get("rule"),
        item.get("outcome"),
        item.get("code"),
        item.get("message"),
        item.get("amount"),
    )


def _plain(
    line: Any, rule: Any, outcome: Any, code: Any, message: Any, amount: Any
) -> Finding | None:
    """The Finding of these published values when each has the type it is written with, else
    None (``Finding.from_json`` then says what is wrong)."""
    if (
        type(line) is not int
        or type(rule) is not str
        or outcome not in _OUTCOMES
        or not (code is None or type(code) is str)
        or type(message) is not str
    ):
        return None
    if amount is None:
        return Finding(line, rule, outcome, code, message)
    if type(amount) is not str:
        return None
    try:
        return Finding(line, rule, outcome, code, message, Decimal(amount))
    except InvalidOperation:
        return None


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class LineDecision(JsonRecord):
    """The final answer for one claim line, as the 849 reports it.

    ``contract_price``/``wac`` are the prices the decision used (on file); None means "as
    submitted". ``follow_up`` is AAA04 (889); None picks the usual one for the status and
    reason (``edi.FOLLOW_UP_BY_REASON``): Y (we will respond again) for pend, N
    (resubmission not allowed) for adjust, C (correct and resubmit), N or D for a rejection.
    """

    line: int
    status: Status
    accepted_amount: Decimal
    reason_codes: tuple[str, ...] = ()
    contract_price: Decimal | None = None
    wac: Decimal | None = None
    follow_up: str | None = None


# ---------------------------------------------------------------------------------------------
# The JSON codec behind JsonRecord: one place that knows how each annotated type travels.

_T = TypeVar("_T")


#: the JSON already made of records that are equal by value, for one ``to_json`` call
_Memo = dict[Any, dict[str, Any]]
#: encodes one non-null value of an annotated type; None where the value is its own JSON
_Encoder = Callable[[Any, _Memo], Any] | None


@functools.cache
def _encoder(tp: Any) -> _Encoder:
    """The encoder of one annotated type, built once, like the decoder: a 10,000-line claim has
    half a million values, and asking each one's type at run time cost most of the encoding.
    Nulls never reach an encoder (its caller keeps them), so optionals encode as their type."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [o for o in get_args(tp) if o is not type(None)]
        return _encoder(inner)
    if origin is tuple:
        (item_type, _ellipsis) = get_args(tp)
        encode_item = _encoder(item_type)
        if encode_item is None:
            return lambda items, _memo: list(items)
        return lambda items, memo: [encode_item(item, memo) for item in items]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _shared_encoder(tp) if _text_only(tp) else _record_encoder(tp)
    if tp is Decimal:
        return lambda value, _memo: str(value)
    if tp is dt.date:
        return lambda value, _memo: value.isoformat()
    return None  # str, int, bool, Literal: JSON as they are


@functools.cache
def _text_only(tp: Any) -> bool:
    """Whether equal values of ``tp`` always have the same JSON: only text, flags and records
    of them (equal Decimals such as 1.0 and 1.00 are written differently)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType, tuple):
        return all(_text_only(a) for a in get_args(tp) if a is not type(None) and a is not ...)
    if origin is Literal:
        return all(type(a) is str for a in get_args(tp))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        return all(_text_only(hints[f.name]) for f in dataclasses.fields(tp))
    return tp in (str, bool)


@functools.cache
def _record_encoder(cls: type) -> Callable[[Any, _Memo], dict[str, Any]]:
    """All fields read in one ``attrgetter`` call; only those needing it are converted."""
    hints = get_type_hints(cls)
    names = tuple(f.name for f in dataclasses.fields(cls))
    read_all = operator.attrgetter(*names)  # a tuple: every record has several fields
    converted = tuple(
        (name, encode) for name in names if (encode := _encoder(hints[name])) is not None
    )

    def encode_record(record: Any, memo: _Memo) -> dict[str, Any]:
        out = dict(zip(names, read_all(record), strict=True))
        for name, encode in converted:
            value = out[name]
            if value is not None:
                out[name] = encode(value, memo)
        return out

    return encode_record


def _shared_encoder(cls: type) -> Callable[[Any, _Memo], dict[str, Any]]:
    """Equal records of a text-only type share one JSON object within a claim: an 844 sends
    each customer (name, identifiers, address) again with every contract loop, and building
    the same objects thousands of times was half the encoding. The JSON is never changed
    after it is made, so sharing it is safe."""
    encode_record = _record_encoder(cls)

    def encode_shared(record: Any, memo: _Memo) -> dict[str, Any]:
        try:
            return memo[record]
        except KeyError:
            encoded = memo[record] = encode_record(record, memo)
            return encoded
        except TypeError:  # a field holds a list, not the annotated tuple: not hashable
            return encode_record(record, memo)

    return encode_shared


#: decodes one JSON value to an annotated type
_Decoder = Callable[[Any], Any]


class _Invalid(ValueError):
    """A value that does not decode. Where it sits is added on the way out (innermost
    first), so decoding builds no path text unless something is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where: list[str] = []

    def message(self, root: str) -> str:
        return f"{root}{''.join(reversed(self.where))}: {self.reason}"


def _decode(tp: Any, data: Any, root: str) -> Any:
    """``data`` as ``tp``; ValueError naming the path from ``root`` to the bad value."""
    try:
        return _decoder(tp)(data)
    except _Invalid as exc:
        raise ValueError(exc.message(root)) from None


@functools.cache
def _decoder(tp: Any) -> _Decoder:
    """The decoder of one annotated type, built once: every step rebuilds the claim from
    JSON, and inspecting the annotations again for each of thousands of values would cost
    more than the decoding itself."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        nullable = type(None) in options
        (inner,) = [o for o in options if o is not type(None)]
        if _is_scalar(inner):
            return _scalar_decoder(inner, nullable)
        decode_inner = _decoder(inner)

        def decode_optional(data: Any) -> Any:
            if data is None:
                if nullable:
                    return None
                raise _null()
            return decode_inner(data)

        return decode_optional
    if origin is Literal:
        return _literal_decoder(get_args(tp))
    if origin is tuple:
        (item_type, _ellipsis) = get_args(tp)
        return _tuple_decoder(_decoder(item_type))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _record_decoder(tp)
    return _scalar_decoder(tp, nullable=False)


def _is_scalar(tp: Any) -> bool:
    return get_origin(tp) is None and not (isinstance(tp, type) and dataclasses.is_dataclass(tp))


def _scalar_decoder(tp: type, nullable: bool) -> _Decoder:
    """A scalar value, optional or not, in one call: a claim has hundreds of thousands."""
    # JSON's own types arrive as they are (bool is an int subclass, so compare exact types)
    exact = tp if tp in (str, int, bool, float) else None

    def decode_scalar(data: Any) -> Any:
        if type(data) is exact:
            return data
        if data is None:
            if nullable:
                return None
            raise _null()
        return _decode_scalar(tp, data)

    return decode_scalar


def _null() -> _Invalid:
    return _Invalid("must not be null")


def _literal_decoder(allowed: tuple[Any, ...]) -> _Decoder:
    def decode_literal(data: Any) -> Any:
        if data is None:
            raise _null()
        if data not in allowed:
            raise _Invalid(f"{data!r} is not one of {', '.join(map(repr, allowed))}")
        return data

    return decode_literal


def _tuple_decoder(decode_item: _Decoder) -> _Decoder:
    def decode_tuple(data: Any) -> Any:
        if data is None:
            raise _null()
        if type(data) is not list and not isinstance(data, list):
            raise _Invalid(f"expected a list, got {type(data).__name__}")
        items: list[Any] = []
        try:
            for item in data:
                items.append(decode_item(item))
        except _Invalid as exc:
            exc.where.append(f"[{len(items)}]")
            raise
        return tuple(items)

    return decode_tuple


def _record_decoder(cls: type) -> _Decoder:
    hints = get_type_hints(cls)
    fields = {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(cls)}

    def decode_record(data: Any) -> Any:
        if data is None:
            raise _null()
        if type(data) is not dict and not isinstance(data, Mapping):
            raise _Invalid(f"expected an object, got {type(data).__name__}")
        if not fields.keys() >= data.keys():
            unknown = sorted(set(data) - set(fields))
            raise _Invalid(f"unknown field(s) {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        name = ""
        try:
            for name, value in data.items():
                kwargs[name] = fields[name](value)
        except _Invalid as exc:
            exc.where.append(f".{name}")
            raise
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a required field is absent
            raise _Invalid(str(exc)) from None

    return decode_record


def _decode_scalar(tp: type[_T], data: Any) -> _T:
    if tp is Decimal:
        if not isinstance(data, str):
            raise _Invalid(f"a decimal travels as a string, got {data!r}")
        try:
            return typing.cast(_T, Decimal(data))
        except InvalidOperation:
            raise _Invalid(f"{data!r} is not a decimal number") from None
    if tp is dt.date:
        try:
            return typing.cast(_T, dt.date.fromisoformat(data))
        except (TypeError, ValueError):
            raise _Invalid(f"{data!r} is not an ISO date (YYYY-MM-DD)") from None
    # bool is an int subclass: check it first so true never decodes as 1 and 1 never as true
    if tp is int and (isinstance(data, bool) or not isinstance(data, int)):
        raise _Invalid(f"expected an integer, got {data!r}")
    if not isinstance(data, tp):
        raise _Invalid(f"expected {tp.__name__}, got {type(data).__name__}")
    return data


# ---------------------------------------------------------------------------------------------
# Columns: many values of one annotated type at once, as the stored claim keeps a claim's lines
# (``claim_body``). Each value travels as ``to_json`` writes it; a column of JSON's own scalars,
# decimals or dates is converted and checked by the column, in C loops where it can be, since a
# large claim has tens of thousands of values per field and a call per value was most of the
# cost of decoding it. Other types go value by value through the codec above.

_NONE = type(None)
#: JSON's own scalar types, which a column holds as they are
_EXACT = (str, int, bool)


def encode_column(tp: Any, values: Sequence[Any]) -> Sequence[Any]:
    """``values`` of annotated type ``tp`` as JSON values; a column that is already JSON (text,
    numbers, flags, dates, which orjson writes as ISO text) is returned as it is."""
    inner, _nullable = _optional(tp)
    if inner is Decimal:
        return [None if value is None else str(value) for value in values]
    if inner in _EXACT or inner is dt.date or _exact_tuple(inner) is not None:
        return values
    encode = _encoder(inner)
    if encode is None:
        return values
    memo: _Memo = {}
    if get_origin(inner) is tuple:  # most lines have none: null and () are JSON as they are
        return [encode(value, memo) if value else value for value in values]
    return [None if value is None else encode(value, memo) for value in values]


def decode_column(tp: Any, data: Any, root: str) -> list[Any]:
    """A JSON column as values of annotated type ``tp``, as ``from_json`` reads each one;
    ValueError naming ``root[index]`` of the first value that does not decode."""
    if type(data) is not list:
        raise ValueError(f"{root}: expected a list, got {type(data).__name__}")
    inner, nullable = _optional(tp)
    allowed = {_NONE} if nullable else set()
    item = _exact_tuple(inner)
    try:
        if inner in _EXACT:
            _check_types(data, {inner, *allowed})
            return data
        if inner is Decimal or inner is dt.date:
            _check_types(data, {str, *allowed})
            parse = Decimal if inner is Decimal else dt.date.fromisoformat
            try:
                return [None if value is None else parse(value) for value in data]
            except (InvalidOperation, ValueError):
                pass  # the value by value decoder below says which one and why
        elif get_origin(inner) is tuple and not nullable:
            _check_types(data, {list})
            if item is not None:
                _check_types(itertools.chain.from_iterable(data), {item})
                return [tuple(value) for value in data]
            decode = _decoder(inner)
            return [decode(value) if value else () for value in data]
    except _Invalid:
        pass
    return _decode_each(tp, data, root)


def _decode_each(tp: Any, data: list[Any], root: str) -> list[Any]:
    decode = _decoder(tp)
    values: list[Any] = []
    append = values.append
    try:
        for value in data:
            append(decode(value))
    except _Invalid as exc:
        exc.where.append(f"[{len(values)}]")
        raise ValueError(exc.message(root)) from None
    return values


def _check_types(data: Iterable[Any], allowed: set[type]) -> None:
    """Raise _Invalid unless every value in ``data`` is of exactly one of ``allowed``."""
    if not set(map(type, data)) <= allowed:
        raise _Invalid("a value of another type")


def _optional(tp: Any) -> tuple[Any, bool]:
    """``tp`` without None, and whether None was allowed."""
    if get_origin(tp) in (typing.Union, types.UnionType):
        options = get_args(tp)
        (inner,) = [o for o in options if o is not _NONE]
        return inner, _NONE in options
    return tp, False


def _exact_tuple(tp: Any) -> type | None:
    """The item type of ``tuple[T, ...]`` when T is one of JSON's own scalars, else None."""
    if get_origin(tp) is tuple:
        (item, _ellipsis) = get_args(tp)
        if item in _EXACT:
            return typing.cast(type, item)
    return None
