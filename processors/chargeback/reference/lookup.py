"""What the reference data says about a customer, product or contract *as of a date*.

Every rule decides on the invoice (sale) date, never on today's date (brief §1.4, §9.1), so
each question here takes the date and answers from effective-dated rows. The predicates
(``covers``, ``leie_status``, ...) are pure functions over model rows, kept apart from the
queries so the date logic can be tested without a database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Concatenate, Generic, Literal, ParamSpec, TypeVar

from sqlalchemy import Select, String, and_, or_, select
from sqlalchemy import column as column_
from sqlalchemy import values as sa_values
from sqlalchemy.orm import Session

from processors.chargeback.claim import Claim, Party
from processors.chargeback.db import in_chunks, listed
from processors.chargeback.reference import models as m

#: The two exclusion lists share their matching columns (npi, name_key, zip5).
_Excl = TypeVar("_Excl", m.LeieExclusion, m.SamExclusion)
from processors.chargeback.reference.fields import normalize_name, zip5

#: claim identifier kind -> id_type in the customer master
ID_TYPES: Mapping[str, str] = {
    "hin": "HIN",
    "dea": "DEA",
    "gln": "GLN",
    "npi": "NPI",
    "340b": "340B",
}
#: strongest identifier first (brief §6: HIN, then DEA, then GLN)
ID_PRIORITY = ("HIN", "DEA", "GLN", "NPI", "340B")


_P = ParamSpec("_P")
_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


def _by_key(session: Session, table: Any, column: Any, keys: Sequence[_K]) -> dict[_K, Any]:
    """Rows of ``table`` whose ``column`` (unique) is one of ``keys``; None for the rest."""
    found: dict[_K, Any] = dict.fromkeys(keys)
    for chunk in in_chunks(sorted(keys)):  # type: ignore[type-var]
        for row in session.scalars(select(table).where(column.in_(chunk))):
            found[getattr(row, column.key)] = row
    return found


class Batched(Generic[_K, _V]):
    """A reference question that can be asked for every key of a claim in a few queries.

    Asked line by line, each distinct key costs a round trip (about half a millisecond through
    the ORM); a 10,000-line claim naming 2,000 customers spent seconds per step on round trips
    alone. ``bulk`` answers a whole set of keys at once and :meth:`Memo.prefetch` keeps the
    answers. Asked singly (a test, or a key no prefetch foresaw) it is a batch of one, so the
    per-line code reads the same either way.
    """

    def __init__(self, bulk: Callable[[Session, Sequence[_K]], Mapping[_K, _V]]) -> None:
        self.bulk = bulk
        functools.update_wrapper(self, bulk)

    def __call__(self, session: Session, key: _K) -> _V:
        return self.bulk(session, [key])[key]


class Memo:
    """The reference questions one step has already asked, with their answers.

    A claim names few distinct customers, contracts and NDCs across many lines, and each line
    asks the same questions again; answering repeats from memory keeps a step's queries
    proportional to what is distinct, not to the line count. A memo lives for one step's
    ``process()`` and its session only: reference data can be reloaded between steps and runs,
    so answers are never shared beyond that. Only ask it questions whose answer the step itself
    does not change (reference lookups, not history the step writes).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._answers: dict[tuple[Any, ...], Any] = {}
        self._by_identity: dict[int, tuple[Party | None, CustomerMatch]] = {}

    def __call__(
        self,
        question: Callable[Concatenate[Session, _P], _T],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        key = (question, args, tuple(sorted(kwargs.items())))
        try:
            return self._answers[key]  # type: ignore[no-any-return]
        except KeyError:
            answer = self._answers[key] = question(self.session, *args, **kwargs)
            return answer

    def match_of(self, party: Party | None) -> CustomerMatch:
        """``resolve_customer`` for a party of the claim being checked, found by identity.

        Each line of a decoded claim may carry its own (equal) Party, and hashing one walks
        every identifier and address field: asked by value on every line of every step, that
        cost more than the rest of the lookups. The party is kept with its answer, so its id
        cannot be reused while this memo lives. Equal parties get the same match object, so
        its identity tells which lines share a customer."""
        known = self._by_identity.get(id(party))
        if known is None:
            known = self._by_identity[id(party)] = (party, self(resolve_customer, party))
        return known[1]

    def match_all(self, parties: Iterable[Party | None]) -> list[CustomerMatch]:
        """The distinct matches of ``parties`` (first seen first), resolving in one bulk query
        those ``match_of`` does not know yet, so that it then knows every one by identity.

        Each party is compared by value once, against the others new to this memo: a claim
        whose lines share one Party per customer costs a hash per customer, not per line."""
        by_object = {id(p): p for p in parties}  # a claim's lines share a few hundred objects
        parties = list(by_object.values())
        fresh = {key: p for key, p in by_object.items() if key not in self._by_identity}
        equal: dict[Party | None, list[Party | None]] = {}
        for party in fresh.values():
            equal.setdefault(party, []).append(party)
        # asked directly, not through ``prefetch``: a party is hashed by value (its identifiers
        # and address walked) each time it is a key, and the objects are known by id from here
        answers = resolve_customer.bulk(self.session, list(equal)) if equal else {}
        for value, same in equal.items():
            for party in same:
                self._by_identity[id(party)] = (party, answers[value])
        distinct = {id(m): m for m in (self._by_identity[id(p)][1] for p in parties)}
        return list(distinct.values())

    def prefetch(self, question: Batched[_K, _V], keys: Iterable[_K]) -> dict[_K, _V]:
        """Answer ``question`` for all ``keys`` (one bulk query for those not yet known), so
        that ``memo(question, key)`` is then a memory hit; returns the answers by key."""
        wanted = list(dict.fromkeys(keys))
        missing = [k for k in wanted if (question, (k,), ()) not in self._answers]
        if missing:
            answers = question.bulk(self.session, missing)
            for k in missing:
                self._answers[(question, (k,), ())] = answers[k]
        return {k: self._answers[(question, (k,), ())] for k in wanted}


def in_period(
    day: date, start: date | None, end: date | None, *, end_inclusive: bool = True
) -> bool:
    """start <= day, and day <= end (or day < end for "first day no longer valid" ends)."""
    if start is not None and day < start:
        return False
    if end is None:
        return True
    return day <= end if end_inclusive else day < end


# --- customers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractPharmacy:
    """The claim party is a 340B contract pharmacy registered (at some time) with the covered
    entity whose 340B ID it was sent with: the entity is the customer, the pharmacy its
    ship-to. ``identifiers`` are the party's own (``TYPE:VALUE``), which a registration holds;
    ``periods`` when it was registered ((begin, first day no longer), end None: still)."""

    covered_entity: str
    pharmacy_id: str
    name: str
    identifiers: tuple[str, ...]
    periods: tuple[tuple[date, date | None], ...]

    def registered_on(self, day: date) -> bool:
        return any(in_period(day, b, e, end_inclusive=False) for b, e in self.periods)


@dataclass(frozen=True)
class CustomerMatch:
    """A claim customer resolved against the customer master.

    ``by_identifier`` maps ``TYPE:VALUE`` to the KUNNR it belongs to; identifiers not in the
    master are in ``unknown``. ``kunnr`` is the canonical customer when every known
    identifier agrees; on a conflict it is the customer of the strongest identifier, and
    ``conflict`` says a human must look (brief §9.8). Every rule step asks these of every
    line, so each is worked out once per match (cached; the match itself never changes).

    A 340B contract pharmacy sent with its covered entity's 340B ID (``pharmacy``) is matched
    as that entity: its own identifiers are the ship-to's, not the customer's, so they
    neither name another customer nor clash with the entity's.
    """

    identifiers: tuple[str, ...]
    by_identifier: Mapping[str, str]
    unknown: tuple[str, ...]
    name: str = ""
    postal_code: str = ""
    state: str = ""
    pharmacy: ContractPharmacy | None = None

    @property
    def named_identifiers(self) -> tuple[str, ...]:
        """The identifiers sent under the party's own name: the pharmacy's, when it is one
        (the entity's 340B ID is sent on the entity's behalf)."""
        return self.pharmacy.identifiers if self.pharmacy is not None else self.identifiers

    @cached_property
    def kunnrs(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.by_identifier.values())))

    @cached_property
    def conflict(self) -> bool:
        return len(self.kunnrs) > 1

    @cached_property
    def kunnr(self) -> str | None:
        for ident in sorted(self.by_identifier, key=_priority):
            return self.by_identifier[ident]
        return None

    @cached_property
    def key(self) -> str:
        """The canonical customer key: the KUNNR, else the strongest identifier sent."""
        if self.kunnr is not None:
            return self.kunnr
        ordered = sorted(self.identifiers, key=_priority)
        return ordered[0] if ordered else f"NAME:{normalize_name(self.name)}|{self.postal_code}"

    @cached_property
    def candidate_keys(self) -> tuple[str, ...]:
        """Every key an earlier run may have filed this customer under."""
        return tuple(dict.fromkeys((*self.kunnrs, self.key, *self.identifiers)))

    def values(self, id_type: str) -> tuple[str, ...]:
        prefix = f"{id_type}:"
        return tuple(i[len(prefix) :] for i in self.identifiers if i.startswith(prefix))


def _priority(ident: str) -> tuple[int, str]:
    id_type = ident.partition(":")[0]
    return (ID_PRIORITY.index(id_type) if id_type in ID_PRIORITY else len(ID_PRIORITY), ident)


def party_identifiers(party: Party | None) -> tuple[str, ...]:
    """``TYPE:VALUE`` for each identifier the claim sent (custom ids carry no meaning here)."""
    if party is None:
        return ()
    out = []
    for ident in party.identifiers:
        id_type = ID_TYPES.get(ident.kind)
        if id_type and ident.value:
            out.append(f"{id_type}:{ident.value.strip().upper().split('-')[0]}")
    return tuple(dict.fromkeys(out))


_ID = m.SapCustomerIdentifier


@Batched
def resolve_customer(
    session: Session, parties: Sequence[Party | None]
) -> dict[Party | None, CustomerMatch]:
    # by position, the party hashed once: hashing one walks its identifiers and address
    sent = [party_identifiers(party) for party in parties]
    pharmacies = _contract_pharmacies(session, sent)
    idents = [
        ids if pharmacy is None else tuple(i for i in ids if i not in pharmacy.identifiers)
        for ids, pharmacy in zip(sent, pharmacies, strict=True)
    ]
    numbers = sorted({i.partition(":")[2] for ids in idents for i in ids})
    known: dict[str, str] = {}
    for chunk in in_chunks(numbers):
        rows = session.execute(
            select(_ID.id_type, _ID.id_number, _ID.kunnr).where(_ID.id_number.in_(chunk))
        )
        known.update({f"{id_type}:{number}": kunnr for id_type, number, kunnr in rows})
    return {
        party: _match(party, ids, known, pharmacy)
        for party, ids, pharmacy in zip(parties, idents, pharmacies, strict=True)
    }


_CP = m.OpaisContractPharmacy
#: customer id type -> the registration column a claim may name a contract pharmacy by
_CP_COLUMNS = {"HIN": "hin", "DEA": "dea", "NPI": "npi"}


def _contract_pharmacies(
    session: Session, sent: Sequence[tuple[str, ...]]
) -> list[ContractPharmacy | None]:
    """For each party (by the identifiers it was sent with), the contract pharmacy it is of
    the covered entity whose 340B ID it was sent with, if it is one; the registrations of
    every such entity read in a few queries."""
    entities = sorted({i.partition(":")[2] for ids in sent for i in ids if _is_340b(i)})
    registered: dict[str, list[m.OpaisContractPharmacy]] = {}
    for chunk in in_chunks(entities):
        for row in session.scalars(select(_CP).where(_CP.id340b.in_(chunk)).order_by(_CP.id)):
            registered.setdefault(row.id340b, []).append(row)
    return [_registered_pharmacy(ids, registered) for ids in sent]


def _is_340b(ident: str) -> bool:
    return ident.startswith("340B:")


def _registered_pharmacy(
    ids: tuple[str, ...], registered: Mapping[str, list[m.OpaisContractPharmacy]]
) -> ContractPharmacy | None:
    """The pharmacy of the first registration, of an entity whose 340B ID is among ``ids``,
    that holds another of ``ids``."""
    for entity in (i.partition(":")[2] for i in ids if _is_340b(i)):
        rows = registered.get(entity, [])
        for row in rows:
            own = tuple(i for i in ids if _holds(row, i))
            if own:
                periods = tuple(
                    (r.begin_date, r.end_date) for r in rows if r.pharmacy_id == row.pharmacy_id
                )
                return ContractPharmacy(entity, row.pharmacy_id, row.name, own, periods)
    return None


def _holds(row: m.OpaisContractPharmacy, ident: str) -> bool:
    """Whether the registration names the pharmacy by ``ident`` (``TYPE:VALUE``)."""
    id_type, _, value = ident.partition(":")
    column = _CP_COLUMNS.get(id_type)
    return column is not None and getattr(row, column) == value


def _match(
    party: Party | None,
    idents: tuple[str, ...],
    known: Mapping[str, str],
    pharmacy: ContractPharmacy | None,
) -> CustomerMatch:
    address = party.address if party is not None else None
    return CustomerMatch(
        identifiers=idents,
        by_identifier={i: known[i] for i in idents if i in known},
        unknown=tuple(i for i in idents if i not in known),
        name=(party.name or "") if party is not None else "",
        postal_code=zip5(address.postal_code or "") if address is not None else "",
        state=(address.state or "") if address is not None else "",
        pharmacy=pharmacy,
    )


@Batched
def master_identifiers(
    session: Session, kunnrs: Sequence[str | None]
) -> dict[str | None, tuple[str, ...]]:
    """Every identifier the customer master holds for a customer, as ``TYPE:VALUE``."""
    held: dict[str | None, list[str]] = {k: [] for k in kunnrs}
    for chunk in in_chunks(k for k in kunnrs if k is not None):
        rows = session.execute(
            select(_ID.kunnr, _ID.id_type, _ID.id_number).where(_ID.kunnr.in_(chunk))
        )
        for kunnr, id_type, number in rows:
            held[kunnr].append(f"{id_type}:{number}")
    return {k: tuple(sorted(v)) for k, v in held.items()}


@Batched
def customer(session: Session, kunnrs: Sequence[str | None]) -> dict[str | None, m.SapKna1 | None]:
    found: dict[str | None, m.SapKna1 | None] = dict.fromkeys(kunnrs)
    for chunk in in_chunks(k for k in kunnrs if k is not None):
        for row in session.scalars(select(m.SapKna1).where(m.SapKna1.kunnr.in_(chunk))):
            found[row.kunnr] = found[row.kunnr] or row
    return found


def prefetch_customers(memo: Memo, parties: Iterable[Party | None]) -> list[CustomerMatch]:
    """Resolve every customer of a claim and load what the rule steps ask about each (the
    master identifiers and KNA1 record) in a handful of queries; the distinct matches."""
    matches = memo.match_all(parties)
    kunnrs = {match.kunnr for match in matches}
    memo.prefetch(master_identifiers, kunnrs)
    memo.prefetch(customer, kunnrs)
    return matches


def known_identifiers(memo: Memo, match: CustomerMatch) -> tuple[str, ...]:
    """The identifiers the claim sent, then those the customer master adds."""
    return match.identifiers + memo(master_identifiers, match.kunnr)


def prefetch_roster(memo: Memo, parties: Iterable[Party | None]) -> None:
    """Every roster row any of the claim's customers matches, in a few bulk queries."""
    matches = prefetch_customers(memo, parties)
    memo.prefetch(roster_hits, (known_identifiers(memo, match) for match in matches))


# --- products, prices, contracts -----------------------------------------------------------


@Batched
def product(session: Session, ndcs: Sequence[str]) -> dict[str, m.Product | None]:
    return _by_key(session, m.Product, m.Product.ndc11, ndcs)


@Batched
def wac_at(
    session: Session, asked: Sequence[tuple[str, date]]
) -> dict[tuple[str, date], m.WacPrice | None]:
    """The WAC in force for each (NDC, day): the latest effective row covering the day."""
    history: dict[str, list[m.WacPrice]] = {}
    for chunk in in_chunks(sorted({ndc for ndc, _ in asked})):
        stmt = select(m.WacPrice).where(m.WacPrice.ndc11.in_(chunk)).order_by(m.WacPrice.id)
        for row in session.scalars(stmt):
            history.setdefault(row.ndc11, []).append(row)
    return {
        (ndc, day): max(
            (w for w in history.get(ndc, ()) if in_period(day, w.effective_from, w.effective_to)),
            key=lambda w: w.effective_from,
            default=None,
        )
        for ndc, day in asked
    }


@Batched
def contract(session: Session, ids: Sequence[str]) -> dict[str, m.Contract | None]:
    """Contracts by the number as claimed (CON02: case and spaces are not significant)."""
    found = _by_key(session, m.Contract, m.Contract.contract_id, [i.strip().upper() for i in ids])
    return {i: found[i.strip().upper()] for i in ids}


@Batched
def contract_lines(
    session: Session, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], list[m.ContractLine]]:
    """Each (contract, NDC11)'s price lines, all tiers and periods."""
    lines: dict[tuple[str, str], list[m.ContractLine]] = {}
    for chunk in in_chunks(sorted({contract_id for contract_id, _ in pairs})):
        stmt = (
            select(m.ContractLine)
            .where(m.ContractLine.contract_id.in_(chunk))
            .order_by(m.ContractLine.id)
        )
        for row in session.scalars(stmt):
            lines.setdefault((row.contract_id, row.ndc11), []).append(row)
    return {pair: lines.get(pair, []) for pair in pairs}


def prefetch_terms(memo: Memo, claim: Claim) -> None:
    """The contracts and products a claim names, each read once."""
    memo.prefetch(contract, (line.contract_id for line in claim.lines if line.contract_id))
    memo.prefetch(product, (line.ndc11 for line in claim.lines if line.ndc11))


@dataclass(frozen=True)
class PriceOnFile:
    line: m.ContractLine
    basis: str  # why this line: "tier 2", "all tiers"


@dataclass(frozen=True)
class TierUnknown:
    """Only tiered prices are in force, and none for the customer's tier (it has none on the
    contract): which tier price applies is for a person to decide, not the claim."""

    lines: tuple[m.ContractLine, ...]

    @property
    def prices(self) -> str:
        """``tier 1 80.00, tier 2 82.50``, for the message."""
        ordered = sorted(self.lines, key=lambda line: (line.tier or "", line.contract_price))
        return ", ".join(f"tier {line.tier} {line.contract_price}" for line in ordered)


def price_on_file(
    lines: Iterable[m.ContractLine], day: date, tier: str | None
) -> PriceOnFile | TierUnknown | None:
    """The contract price in force at ``day`` for the customer's tier (brief R11): the exact
    tier first, then an all-tiers line; with tiered lines only and no line for the tier,
    :class:`TierUnknown` (the claimed price is never taken as the tier, since a wholesaler
    may claim whichever tier pays most). None when no line is in force."""
    effective = [line for line in lines if in_period(day, line.start_date, line.end_date)]
    if not effective:
        return None
    for line in effective:
        if tier is not None and line.tier == tier:
            return PriceOnFile(line, f"tier {tier}")
    for line in effective:
        if line.tier is None:
            return PriceOnFile(line, "all tiers")
    return TierUnknown(tuple(effective))


def explicit_eligibility(
    session: Session, contract_id: str, kunnr: str | None, day: date
) -> m.ContractEligibility | None:
    if kunnr is None:
        return None
    rows = session.scalars(
        select(m.ContractEligibility).where(
            m.ContractEligibility.contract_id == contract_id, m.ContractEligibility.kunnr == kunnr
        )
    )
    return next((r for r in rows if in_period(day, r.start_date, r.end_date)), None)


# --- rosters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterHit:
    row: m.GpoRosterMember
    matched_by: str  # "HIN A1B2C3D00", "HIN base A1B2C3D", "DEA ...", "name and ZIP"


_R = m.GpoRosterMember
_ROSTER_COLUMNS = {"HIN": _R.hin, "DEA": _R.dea, "GLN": _R.gln, "340B": _R.id340b, "NPI": _R.npi}
#: the HIN base is its first 7 characters: the rest names a site of the same facility (§3.3)
_HIN_BASE = 7


@Batched
def roster_hits(
    session: Session, customers: Sequence[tuple[str, ...]]
) -> dict[tuple[str, ...], list[RosterHit]]:
    """Roster rows per customer (its ``TYPE:VALUE`` identifiers), strongest match first (brief
    §5): HIN (full, then the 7-character base), DEA, GLN, 340B ID, NPI."""
    wanted: dict[str, set[str]] = {t: set() for t in _ROSTER_COLUMNS}
    for idents in customers:
        for ident in idents:
            id_type, _, value = ident.partition(":")
            if id_type in wanted:
                wanted[id_type].add(value[:_HIN_BASE] if id_type == "HIN" else value)
    by_value: dict[tuple[str, str], list[m.GpoRosterMember]] = {}
    for id_type, values in wanted.items():
        for stmt, params, chunk in _roster_queries(session, id_type, sorted(values)):
            members = set(chunk)
            lengths = sorted({len(v) for v in chunk})
            for row in session.scalars(stmt, params):
                for key in _keys_of(row, id_type, members, lengths):
                    by_value.setdefault((id_type, key), []).append(row)
    for (id_type, _), rows in by_value.items():
        # the order a single indexed lookup gave: by HIN within a family, else by row
        rows.sort(key=(lambda r: (r.hin, r.id)) if id_type == "HIN" else (lambda r: r.id))
    return {idents: _roster_hits(idents, by_value) for idents in customers}


def _roster_queries(
    session: Session, id_type: str, values: list[str]
) -> Iterator[tuple[Select[m.GpoRosterMember], dict[str, Any], list[str]]]:
    """The statements finding the roster rows of ``values`` of ``id_type``, each with its
    parameters and the values it asks about.

    A HIN base is a range of the column (from the base to the base followed by the highest
    character), not ``LIKE 'base%'``, which SQLite's case-blind LIKE answers without the index.
    The bases come as one listed parameter (``db.listed``) where the database takes one, else
    as ``VALUES`` lists of a few hundred."""
    column = _ROSTER_COLUMNS[id_type]
    table = listed(session.get_bind().dialect.name, values)
    if table is not None:
        keys, params = table
        if id_type == "HIN":
            condition = and_(column >= keys.c.value, column < keys.c.value + _HIGHEST)
            yield select(_R).join(keys, condition), params, values
        else:
            yield select(_R).where(column.in_(select(keys.c.value))), params, values
        return
    for chunk in in_chunks(values):
        if id_type == "HIN":
            bases = sa_values(column_("low", String), column_("high", String), name="bases")
            ranges = bases.data([(v, v + _HIGHEST) for v in chunk]).cte("bases")
            condition = and_(column >= ranges.c.low, column < ranges.c.high)
            yield select(_R).join(ranges, condition), {}, chunk
        else:
            yield select(_R).where(column.in_(chunk)), {}, chunk


#: after every text that starts with a HIN base, in the collation the index is ordered by
_HIGHEST = "\uffff"


def _keys_of(
    row: m.GpoRosterMember, id_type: str, wanted: set[str], lengths: Sequence[int]
) -> Iterator[str]:
    """The wanted values ``row`` answers: its column's value, or each HIN base it extends."""
    if id_type != "HIN":
        yield getattr(row, _ROSTER_COLUMNS[id_type].key)
        return
    hin = row.hin or ""
    yield from (hin[:n] for n in lengths if hin[:n] in wanted)


def _roster_hits(
    idents: tuple[str, ...], by_value: Mapping[tuple[str, str], list[m.GpoRosterMember]]
) -> list[RosterHit]:
    hits: dict[int, RosterHit] = {}
    for ident in sorted(set(idents), key=_priority):
        id_type, _, value = ident.partition(":")
        if id_type not in _ROSTER_COLUMNS:
            continue
        if id_type != "HIN":
            for row in by_value.get((id_type, value), ()):
                hits.setdefault(row.id, RosterHit(row, f"{id_type} {value}"))
            continue
        base = value[:_HIN_BASE]
        # the base's rows include the full-HIN ones; those match more strongly, so first
        family = by_value.get(("HIN", base), [])
        for row in (r for r in family if r.hin == value):
            hits.setdefault(row.id, RosterHit(row, f"HIN {value}"))
        for row in family:
            hits.setdefault(row.id, RosterHit(row, f"HIN base {base}"))
    return list(hits.values())


def roster_by_name(
    session: Session, gpo_id: str, name: str, postal: str
) -> list[m.GpoRosterMember]:
    """Fallback for review only (brief §5): same normalized name and ZIP5 on this GPO."""
    if not name or not postal:
        return []
    wanted = normalize_name(name)
    rows = session.scalars(
        select(m.GpoRosterMember).where(
            m.GpoRosterMember.gpo_id == gpo_id, m.GpoRosterMember.zip5 == postal
        )
    )
    return [r for r in rows if normalize_name(r.facility_name) == wanted]


def member_on(row: m.GpoRosterMember, day: date) -> bool:
    """The roster end date is the first day of non-membership (brief §9.6)."""
    return in_period(day, row.membership_start_date, row.membership_end_date, end_inclusive=False)


# --- federal lists -------------------------------------------------------------------------

ExclusionState = Literal["excluded", "clear", "uncertain"]


def leie_full_snapshot_dates(session: Session) -> list[date]:
    return sorted(
        session.scalars(
            select(m.ReferenceSnapshot.snapshot_date).where(
                m.ReferenceSnapshot.dataset == "leie", m.ReferenceSnapshot.kind == "full"
            )
        )
    )


def leie_status(
    row: m.LeieExclusion, day: date, full_dates: Sequence[date], state: str = ""
) -> tuple[ExclusionState, str]:
    """Excluded at ``day``: excldate <= day < reindate, no waiver for the customer's state.

    A row that a later *full* file no longer lists was lifted at some point between its last
    sighting and that file; without the REIN date, a day in that gap is uncertain (review),
    a day after it is clear (brief §4.1, §9.3).
    """
    if day < row.excldate:
        return "clear", f"excluded only from {row.excldate}"
    if row.reindate is not None:
        if day >= row.reindate:
            return "clear", f"reinstated {row.reindate}"
        return (
            "excluded",
            f"excluded {row.excldate} ({row.excltype}), reinstated only {row.reindate}",
        )
    if row.waiverdate is not None and day >= row.waiverdate and state and row.wvrstate == state:
        return "clear", f"waiver for {state} since {row.waiverdate}"
    seen = row.last_seen_full or row.first_seen
    later = [d for d in full_dates if d > seen]
    if later and day >= later[0]:
        return "clear", f"not listed in the LEIE full file of {later[0]} (reinstated)"
    if later and day > seen:
        return "uncertain", (
            f"excluded {row.excldate}; dropped from the LEIE between {seen} and {later[0]} "
            "without a reinstatement date"
        )
    return "excluded", f"excluded {row.excldate} ({row.excltype})"


#: who is screened against an exclusion list: (NPIs, name, ZIP5)
Screened = tuple[tuple[str, ...], str, str]


def _exclusion_rows(
    session: Session, table: type[_Excl], screened: Sequence[Screened]
) -> dict[Screened, list[tuple[_Excl, bool]]]:
    """(row, confirmed) pairs per party: confirmed by NPI, or a name + ZIP5 match to review.

    LEIE and SAM are matched the same way (brief §4.1, §4.2); only the table differs.
    """
    npis = sorted({n for npi_list, _, _ in screened for n in npi_list})
    names = {(normalize_name(name), postal) for _, name, postal in screened if name and postal}
    by_npi: dict[str, list[_Excl]] = {}
    for chunk in in_chunks(npis):
        for row in session.scalars(select(table).where(table.npi.in_(chunk)).order_by(table.id)):
            by_npi.setdefault(row.npi or "", []).append(row)
    by_name: dict[tuple[str, str], list[_Excl]] = {}
    for chunk in in_chunks(sorted({key for key, _ in names})):
        stmt = select(table).where(table.name_key.in_(chunk)).order_by(table.id)
        for row in session.scalars(stmt):
            if (row.name_key, row.zip5) in names:
                by_name.setdefault((row.name_key, row.zip5), []).append(row)
    answers: dict[Screened, list[tuple[_Excl, bool]]] = {}
    for who in screened:
        npi_list, name, postal = who
        confirmed = sorted((row for n in set(npi_list) for row in by_npi.get(n, ())), key=_row_id)
        out: dict[int, tuple[_Excl, bool]] = {row.id: (row, True) for row in confirmed}
        if name and postal:
            for row in by_name.get((normalize_name(name), postal), ()):
                out.setdefault(row.id, (row, False))
        answers[who] = list(out.values())
    return answers


def _row_id(row: m.LeieExclusion | m.SamExclusion) -> int:
    return row.id


@Batched
def leie_rows(
    session: Session, screened: Sequence[Screened]
) -> dict[Screened, list[tuple[m.LeieExclusion, bool]]]:
    return _exclusion_rows(session, m.LeieExclusion, screened)


def sam_excluded(row: m.SamExclusion, day: date) -> bool:
    """active_date <= day and (Indefinite or day <= termination) (brief §4.2)."""
    return in_period(day, row.active_date, row.termination_date)


@Batched
def sam_rows(
    session: Session, screened: Sequence[Screened]
) -> dict[Screened, list[tuple[m.SamExclusion, bool]]]:
    return _exclusion_rows(session, m.SamExclusion, screened)


@dataclass(frozen=True)
class DeaStatus:
    dea_no: str
    found: bool
    period: m.DeaRegistration | None = None  # the registration in force at the date
    last: m.DeaRegistration | None = None  # the latest period on file (for messages)
    problems: tuple[str, ...] = field(default=())

    @property
    def active(self) -> bool:
        """In force and active at the date asked about (the only case without problems)."""
        return self.period is not None and not self.problems


@Batched
def dea_status(
    session: Session, asked: Sequence[tuple[str, date]]
) -> dict[tuple[str, date], DeaStatus]:
    """The registration period covering each (number, day): a renewal keeps the number (§9.4)."""
    periods: dict[str, list[m.DeaRegistration]] = {}
    for chunk in in_chunks(sorted({number for number, _ in asked})):
        stmt = (
            select(m.DeaRegistration)
            .where(m.DeaRegistration.dea_no.in_(chunk))
            .order_by(m.DeaRegistration.expiration_date, m.DeaRegistration.id)
        )
        for row in session.scalars(stmt):
            periods.setdefault(row.dea_no, []).append(row)
    return {(n, day): _dea_status(n, day, periods.get(n, [])) for n, day in asked}


def _dea_status(dea_no: str, day: date, periods: Sequence[m.DeaRegistration]) -> DeaStatus:
    if not periods:
        return DeaStatus(
            dea_no, False, problems=(f"DEA {dea_no} is not in the DEA registrant data",)
        )
    covering = [p for p in periods if in_period(day, p.effective_from, p.expiration_date)]
    period = covering[0] if covering else None
    last = periods[-1]
    if period is None:
        before = [p for p in periods if p.expiration_date < day]
        why = (
            f"DEA {dea_no} expired {before[-1].expiration_date}"
            + (
                f" and was renewed only from {last.effective_from}"
                if last.effective_from and last.effective_from > day
                else ""
            )
            if before
            else f"DEA {dea_no} was not registered yet"
        )
        return DeaStatus(dea_no, True, None, last, (why,))
    if not period.active_on(day):
        since = f" since {period.inactive_from}" if period.inactive_from else ""
        return DeaStatus(
            dea_no, True, period, last, (f"DEA {dea_no} is inactive (retired or revoked){since}",)
        )
    return DeaStatus(dea_no, True, period, last)


def schedule_authorized(period: m.DeaRegistration, schedule: str) -> bool:
    """``2N`` needs ``2N``; ``2`` needs ``2`` (narcotic and non-narcotic are separate grants)."""
    return schedule in period.schedule_set


def npi_active(row: m.NppesProvider, day: date) -> bool:
    """Active unless deactivated on or before ``day`` and not reactivated by then (§4.4)."""
    if row.deactivation_date is None or row.deactivation_date > day:
        return True
    return (
        row.reactivation_date is not None and row.deactivation_date <= row.reactivation_date <= day
    )


@Batched
def nppes(session: Session, npis: Sequence[str]) -> dict[str, m.NppesProvider | None]:
    return _by_key(session, m.NppesProvider, m.NppesProvider.npi, npis)


@Batched
def opais_entity(session: Session, ids: Sequence[str]) -> dict[str, m.OpaisEntity | None]:
    return _by_key(session, m.OpaisEntity, m.OpaisEntity.id340b, ids)


@Batched
def opais_by_npi(
    session: Session, customers: Sequence[tuple[str, ...]]
) -> dict[tuple[str, ...], list[m.OpaisEntity]]:
    """The 340B entities registered under any of each customer's NPIs, by 340B ID."""
    ids: dict[str, set[str]] = {}
    for chunk in in_chunks(sorted({n for npis in customers for n in npis})):
        rows = session.execute(
            select(m.OpaisNpi.npi, m.OpaisNpi.id340b).where(m.OpaisNpi.npi.in_(chunk))
        )
        for npi, id340b in rows:
            ids.setdefault(npi, set()).add(id340b)
    entities = opais_entity.bulk(session, sorted({i for found in ids.values() for i in found}))
    return {
        npis: [
            e
            for i in sorted({i for n in npis for i in ids.get(n, ())})
            if (e := entities[i]) is not None
        ]
        for npis in customers
    }


def opais_eligible(entity: m.OpaisEntity, day: date) -> bool:
    """participating_start_date <= day and (no termination or day < termination) (§4.5)."""
    return in_period(
        day, entity.participating_start_date, entity.termination_date, end_inclusive=False
    )


def parent_340b_candidates(id340b: str) -> tuple[str, ...]:
    """A child site swaps the last digit for a letter (BL03074A -> BL030740, brief §9.9)."""
    if id340b and id340b[-1].isalpha():
        return (id340b[:-1] + "0",)
    return ()


# --- distributors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DcMatch:
    """The DC the claim's distributor resolved to; ``problem`` says why there is none."""

    dc: m.WholesalerDc | None
    problem: str | None = None


def distributor_ids(party: Party | None) -> tuple[str, ...]:
    """The DEA and GLN values the N1*DS carried (other qualifiers name no table column)."""
    if party is None:
        return ()
    return tuple(
        dict.fromkeys(
            i.value.strip().upper().partition("-")[0]
            for i in party.identifiers
            if i.kind in ("dea", "gln") and i.value.strip()
        )
    )


def dc_table_loaded(session: Session) -> bool:
    """Whether any distribution center is on file: without the table R20 cannot be judged."""
    return session.scalar(select(m.WholesalerDc.dc_key).limit(1)) is not None


def find_dc(session: Session, party: Party | None) -> DcMatch:
    """The ``cb_wholesaler_dc`` row the distributor's DEA or GLN names."""
    ids = distributor_ids(party)
    sent = ", ".join(ids) or "no DEA or GLN"
    if not ids:
        return DcMatch(None, f"the distributor is identified by {sent}")
    table = m.WholesalerDc
    rows = list(
        session.scalars(
            select(table).where(or_(table.dea.in_(ids), table.gln.in_(ids))).order_by(table.dc_key)
        )
    )
    if not rows:
        return DcMatch(None, f"{sent} is not a known distribution center")
    if len(rows) > 1:
        keys = ", ".join(r.dc_key for r in rows)
        return DcMatch(None, f"{sent} name different distribution centers ({keys})")
    return DcMatch(rows[0])


def wholesaler_keys(session: Session, party: Party | None) -> tuple[str, ...]:
    """The DC's canonical key (its ``dc_key`` when its DEA or GLN names one DC) first, then
    every id it was sent with: what a claim line's hard key is filed under (brief §1.5)."""
    idents = [i.value.strip().upper() for i in (party.identifiers if party else ()) if i.value]
    dc = find_dc(session, party).dc
    return tuple(dict.fromkeys(([dc.dc_key] if dc is not None else []) + idents))
