"""SAP customer master for the claim's ship-to customers: found or created, never twice.

A chargeback is booked against a customer master record, so every end customer of a claim
must exist in SAP (KNA1/KNB1/KNVV, or the S/4 Business Partner that CVI syncs into them).
Creating one is the only step of the workflow with an outside side effect that a retry could
repeat, and OData POST has no idempotency key (brief §6), so:

1. a **deterministic request key** (sha256 of the customer's external identifiers) is looked
   up first: a retry after a create that timed out finds what it created;
2. then every external identifier (HIN, DEA, GLN, NPI, 340B; strongest first) is searched:
   an existing customer is reused, and identifiers it lacks are added to it;
3. only when nothing matches is a customer created, atomically with its identifiers and
   the request key (a deep insert; in the store, one transaction for all of the claim's new
   customers).

What is never done automatically: two identifiers pointing at two customers, or a customer
already holding a *different* HIN, DEA or 340B ID than the claim (a new HIN can be a new
location of the same customer; brief §3.3, §9.8). Those lines get a ``review`` finding (901
code 25) and the resolution step pends them. GLN and NPI are different: one customer has
many (a GLN per dock, pharmacy or department; an NPI per subpart), so a valid one the master
lacks, beside identifiers that found the customer, is no conflict; it is not added either
(nothing has confirmed it), and the claim is told so in a warning. A GLN failing its check
digit never gets here: only valid identifiers are synced, and intake's R04 warns about it. A customer whose every line an upstream rule rejected is not
created either: the master data is not the place for customers nobody will be paid for.

A 340B contract pharmacy named with its covered entity's 340B ID (federal-db-validation
publishes which lines, ``data["contract_pharmacies"]``) is not a customer of its own on those
lines: the entity buys, so the entity is synced, by its 340B ID, and the pharmacy's
identifiers are not added to it.

The gateway is pluggable (:class:`CustomerGateway`): ``store`` writes the KNA1/KNB1/KNVV
shaped tables of the reference data through SQLAlchemy (offline and tests), ``odata`` calls
``API_BUSINESS_PARTNER`` on an S/4HANA system.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Protocol

from sqlalchemy import ColumnElement, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.processors import StepContext, StepFailed, StepResult, TransientError
from processors.chargeback import rules
from processors.chargeback.claim import (
    Address,
    ClaimLine,
    Finding,
    Identifier,
    IdentifierKind,
    Party,
)
from processors.chargeback.claim_store import claim_from_upstream
from processors.chargeback.db import get_engine, in_chunks
from processors.chargeback.reference.models import (
    SapCreateRequest,
    SapCustomerIdentifier,
    SapKna1,
    SapKnb1,
    SapKnvv,
)
from processors.chargeback.resolution import gather_findings
from processors.chargeback.sap_odata import (
    Credentials,
    ODataClient,
    quote_literal,
    results,
)

#: Identifier kinds that identify a customer, strongest first (brief §6 "Idempotency").
ID_TYPES: Mapping[IdentifierKind, str] = {
    "hin": "HIN",
    "dea": "DEA",
    "gln": "GLN",
    "npi": "NPI",
    "340b": "340B",
}
SEARCH_ORDER = tuple(ID_TYPES.values())
#: Identifier types a customer may hold several of (see the module docstring).
MANY_PER_CUSTOMER = frozenset({"GLN", "NPI"})
Action = Literal["created", "updated", "unchanged", "conflict", "skipped"]


@dataclass(frozen=True)
class SalesSetup:
    """Org data every new customer gets; all of it is per-system configuration (brief §6)."""

    client: str = "100"
    company_code: str = "1000"
    reconciliation_account: str = "0012100000"
    payment_terms: str = "NT30"
    sales_org: str = "1000"
    distribution_channel: str = "10"
    division: str = "00"
    currency: str = "USD"
    account_group: str = "KUNA"
    bp_grouping: str = "BP02"
    created_by: str = "CHARGEBACK"


@dataclass(frozen=True)
class CustomerMaster:
    """The customer as the claim describes it, ready to be created."""

    request_key: str
    name: str
    address: Address | None
    identifiers: tuple[tuple[str, str], ...]  # (type, number), strongest first


@dataclass(frozen=True)
class CustomerRecord:
    """A customer as SAP holds it."""

    number: str
    name: str
    identifiers: frozenset[tuple[str, str]]


def request_key(identifiers: Sequence[tuple[str, str]]) -> str:
    """Same identifiers, same key: in any order, in any run, for any claim."""
    canonical = "|".join(f"{t}={n}" for t, n in sorted(identifiers))
    return hashlib.sha256(f"cb-customer/v1|{canonical}".encode()).hexdigest()


class CustomerGateway(Protocol):
    """Where customers live. Every call is one atomic operation on the system of record."""

    def find_by_request_key(self, key: str) -> CustomerRecord | None: ...

    def find_by_identifier(self, id_type: str, number: str) -> list[CustomerRecord]: ...

    def create(self, customer: CustomerMaster) -> CustomerRecord: ...

    def add_identifiers(
        self, number: str, identifiers: Sequence[tuple[str, str]]
    ) -> CustomerRecord: ...


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True)
class Outcome:
    action: Action
    number: str | None
    message: str
    #: identifiers of the claim the customer does not hold and that were not added
    not_added: tuple[tuple[str, str], ...] = ()


def sync_customer(gateway: CustomerGateway, customer: CustomerMaster) -> Outcome:
    """Find-or-create one customer; see the module docstring for the order and why."""
    record = gateway.find_by_request_key(customer.request_key)
    if record is None:
        matches: dict[str, CustomerRecord] = {}
        for id_type, number in customer.identifiers:
            for found in gateway.find_by_identifier(id_type, number):
                matches.setdefault(found.number, found)
        if len(matches) > 1:
            numbers = ", ".join(sorted(matches))
            return Outcome(
                "conflict",
                None,
                f"the claim's identifiers belong to different SAP customers ({numbers}); "
                "merge or correct them before this customer is paid",
            )
        if not matches:
            return Outcome("created", gateway.create(customer).number, "new customer")
        (record,) = matches.values()
    held = {t for t, _ in record.identifiers}
    others = [
        (t, n) for t, n in customer.identifiers if t in held and (t, n) not in record.identifiers
    ]
    clashes = [
        f"{t} {n} (SAP has {', '.join(sorted(m for s, m in record.identifiers if s == t))})"
        for t, n in others
        if t not in MANY_PER_CUSTOMER
    ]
    if clashes:
        return Outcome(
            "conflict",
            record.number,
            f"SAP customer {record.number} holds other identifiers than the claim: "
            f"{'; '.join(clashes)}; a new identifier may be a new location, so raise a "
            "change request instead of creating a customer",
        )
    missing = [(t, n) for t, n in customer.identifiers if t not in held]
    if missing:
        gateway.add_identifiers(record.number, missing)
        added = ", ".join(f"{t} {n}" for t, n in missing)
        return Outcome("updated", record.number, f"added {added}", tuple(others))
    return Outcome("unchanged", record.number, "already in SAP", tuple(others))


# --------------------------------------------------------------------------- store gateway


class CustomerSync(Protocol):
    """Syncs a claim's customers with the system of record, each like ``sync_customer``."""

    def sync_customers(self, customers: Sequence[CustomerMaster]) -> list[Outcome]: ...


class OneAtATime:
    """A remote gateway, one customer after the other: each call is its own atomic operation
    there, so there is nothing to batch."""

    def __init__(self, gateway: CustomerGateway) -> None:
        self.gateway = gateway

    def sync_customers(self, customers: Sequence[CustomerMaster]) -> list[Outcome]:
        return [sync_customer(self.gateway, customer) for customer in customers]


class StoreGateway:
    """KNA1/KNB1/KNVV-shaped tables in the chargeback database (the offline SAP).

    A claim names hundreds of customers: they are read in a few queries, decided in memory
    (``sync_customer`` against :class:`_Staged`) and the changes written in one transaction.
    A parallel run that created some of them or took the same numbers meanwhile makes that
    transaction fail on a key (request key, identifier or KUNNR): the claim is then read and
    decided again, so nothing is ever created twice.
    """

    _ATTEMPTS = 5

    def __init__(self, engine: Engine, setup: SalesSetup, number_range: tuple[str, str]) -> None:
        self.engine = engine
        self.setup = setup
        self.first, self.last = number_range

    def sync_customers(self, customers: Sequence[CustomerMaster]) -> list[Outcome]:
        for _ in range(self._ATTEMPTS):
            with Session(self.engine) as session:
                staged = self._read(session, customers)
            outcomes = [sync_customer(staged, customer) for customer in customers]
            if not staged.rows:
                return outcomes
            try:
                with Session(self.engine) as session, session.begin():
                    for model, rows in staged.rows.items():
                        session.execute(insert(model), rows)
                return outcomes
            except IntegrityError:
                continue
        raise TransientError("could not write the claim's customers; too many parallel creates")

    def _read(self, session: Session, customers: Sequence[CustomerMaster]) -> _Staged:
        """What the store holds about these customers, and the next free number."""
        of_client = SapCustomerIdentifier.mandt == self.setup.client
        ids = (
            SapCustomerIdentifier.kunnr,
            SapCustomerIdentifier.id_type,
            SapCustomerIdentifier.id_number,
        )
        by_request = dict(
            _in_chunks(
                session,
                (SapCreateRequest.request_key, SapCreateRequest.kunnr),
                SapCreateRequest.request_key,
                [c.request_key for c in customers],
            )
        )
        wanted = {pair for c in customers for pair in c.identifiers}
        by_identifier = {
            (id_type, number): kunnr
            for kunnr, id_type, number in _in_chunks(
                session, ids, SapCustomerIdentifier.id_number, [n for _, n in wanted], of_client
            )
            if (id_type, number) in wanted
        }
        kunnrs = sorted({*by_request.values(), *by_identifier.values()})
        held: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for kunnr, id_type, number in _in_chunks(
            session, ids, SapCustomerIdentifier.kunnr, kunnrs, of_client
        ):
            held[kunnr].add((id_type, number))
        records = {
            kunnr: CustomerRecord(kunnr, (name1 + name2).strip(), frozenset(held[kunnr]))
            for kunnr, name1, name2 in _in_chunks(
                session,
                (SapKna1.kunnr, SapKna1.name1, SapKna1.name2),
                SapKna1.kunnr,
                kunnrs,
                SapKna1.mandt == self.setup.client,
            )
        }
        top = session.scalar(
            select(func.max(SapKna1.kunnr)).where(
                SapKna1.mandt == self.setup.client, SapKna1.kunnr.between(self.first, self.last)
            )
        )
        return _Staged(self, records, by_request, by_identifier, int(top) + 1 if top else None)

    def next_number(self, number: int | None) -> str:
        """``number`` (None: the first of the range) as a KUNNR, if the range still has it."""
        number = int(self.first) if number is None else number
        if number > int(self.last):
            raise StepFailed(
                f"the customer number range {self.first}-{self.last} is exhausted; "
                "configure a larger number_range"
            )
        return str(number).zfill(len(self.first))

    def rows(self, kunnr: str, customer: CustomerMaster) -> list[tuple[type[Any], dict[str, Any]]]:
        """The rows of a new customer, by table."""
        s = self.setup
        address = customer.address or Address()
        gln = next((n for t, n in customer.identifiers if t == "GLN" and len(n) == 13), "")
        now = datetime.now(UTC)
        return [
            (
                SapKna1,
                {
                    "mandt": s.client,
                    "kunnr": kunnr,
                    "name1": customer.name[:35],
                    "name2": customer.name[35:70],
                    "stras": " ".join(address.lines)[:60],
                    "ort01": (address.city or "")[:35],
                    "pstlz": (address.postal_code or "")[:10],
                    "regio": (address.state or "")[:3],
                    "land1": (address.country or "US")[:3],
                    "ktokd": s.account_group,
                    "bbbnr": gln[:7],
                    "bbsnr": gln[7:12],
                    "bubkz": gln[12:],
                    "erdat": now.date(),
                    "ernam": s.created_by[:12],
                },
            ),
            (
                SapKnb1,
                {
                    "mandt": s.client,
                    "kunnr": kunnr,
                    "bukrs": s.company_code,
                    "akont": s.reconciliation_account,
                    "zterm": s.payment_terms,
                },
            ),
            (
                SapKnvv,
                {
                    "mandt": s.client,
                    "kunnr": kunnr,
                    "vkorg": s.sales_org,
                    "vtweg": s.distribution_channel,
                    "spart": s.division,
                    "waers": s.currency,
                    "zterm": s.payment_terms,
                },
            ),
            *self.identifier_rows(kunnr, customer.identifiers),
            (
                SapCreateRequest,
                {"request_key": customer.request_key, "kunnr": kunnr, "created_at": now},
            ),
        ]

    def identifier_rows(
        self, kunnr: str, identifiers: Sequence[tuple[str, str]]
    ) -> list[tuple[type[Any], dict[str, Any]]]:
        return [
            (
                SapCustomerIdentifier,
                {"mandt": self.setup.client, "kunnr": kunnr, "id_type": t, "id_number": n},
            )
            for t, n in identifiers
        ]


def _in_chunks(
    session: Session,
    columns: Sequence[InstrumentedAttribute[str]],
    key: InstrumentedAttribute[str],
    values: Sequence[str],
    *where: ColumnElement[bool],
) -> list[Any]:
    """``columns`` of the rows whose ``key`` is one of ``values``, a bounded IN at a time."""
    found: list[Any] = []
    for chunk in in_chunks(values):
        found += session.execute(select(*columns).where(key.in_(chunk), *where)).all()
    return found


class _Staged:
    """The store's customer master as it will be once the claim's changes are written: what
    was read up front plus what was decided since. Answers ``sync_customer`` from memory, so a
    customer created for one line group is found by the next, as if written at once; the
    changes are kept as rows for one transaction."""

    def __init__(
        self,
        store: StoreGateway,
        records: dict[str, CustomerRecord],
        by_request: dict[str, str],
        by_identifier: dict[tuple[str, str], str],
        next_free: int | None,
    ) -> None:
        self.store = store
        self.records = records
        self.by_request = by_request
        self.by_identifier = by_identifier
        self.next_free = next_free
        self.rows: dict[type[Any], list[dict[str, Any]]] = {}

    def _stage(self, rows: list[tuple[type[Any], dict[str, Any]]]) -> None:
        for model, row in rows:
            self.rows.setdefault(model, []).append(row)

    def find_by_request_key(self, key: str) -> CustomerRecord | None:
        kunnr = self.by_request.get(key)
        return None if kunnr is None else self.records.get(kunnr)

    def find_by_identifier(self, id_type: str, number: str) -> list[CustomerRecord]:
        kunnr = self.by_identifier.get((id_type, number))
        record = None if kunnr is None else self.records.get(kunnr)
        return [] if record is None else [record]

    def create(self, customer: CustomerMaster) -> CustomerRecord:
        kunnr = self.store.next_number(self.next_free)
        self.next_free = int(kunnr) + 1
        self._stage(self.store.rows(kunnr, customer))
        record = CustomerRecord(kunnr, customer.name, frozenset(customer.identifiers))
        self.records[kunnr] = record
        self.by_request[customer.request_key] = kunnr
        self.by_identifier.update(dict.fromkeys(customer.identifiers, kunnr))
        return record

    def add_identifiers(
        self, number: str, identifiers: Sequence[tuple[str, str]]
    ) -> CustomerRecord:
        self._stage(self.store.identifier_rows(number, identifiers))
        old = self.records[number]
        record = CustomerRecord(number, old.name, old.identifiers | frozenset(identifiers))
        self.records[number] = record
        self.by_identifier.update(dict.fromkeys(identifiers, number))
        return record


# --------------------------------------------------------------------------- OData gateway

#: BP identification types are customer configuration (brief §6, ASSUMPTION): Z-types.
DEFAULT_IDENTIFICATION_TYPES: Mapping[str, str] = {
    "HIN": "ZHIN",
    "DEA": "ZDEA",
    "GLN": "ZGLN",
    "NPI": "ZNPI",
    "340B": "Z340",
}
_SEARCH_TERM_LENGTH = 20  # A_BusinessPartner-SearchTerm1/2 are CHAR 20


class BusinessPartnerGateway:
    """``API_BUSINESS_PARTNER`` (OData v2) on S/4HANA; CVI fills KNA1/KNB1/KNVV from the BP.

    The request key travels in ``SearchTerm2`` (its first 20 hex digits) so that the system of
    record itself answers "was this already created?"; ``SearchTerm1`` carries the strongest
    identifier for people searching in SAP GUI.
    """

    def __init__(
        self, client: ODataClient, setup: SalesSetup, identification_types: Mapping[str, str]
    ) -> None:
        self.client = client
        self.setup = setup
        self.types = dict(identification_types)
        self.kinds = {v: k for k, v in self.types.items()}

    def _record(self, entity: Mapping[str, Any]) -> CustomerRecord:
        ids = frozenset(
            (self.kinds[i["BPIdentificationType"]], i["BPIdentificationNumber"])
            for i in results(entity.get("to_BuPaIdentification"))
            if i.get("BPIdentificationType") in self.kinds
        )
        name = " ".join(
            p for p in (entity.get("OrganizationBPName1"), entity.get("OrganizationBPName2")) if p
        )
        return CustomerRecord(str(entity["BusinessPartner"]), name, ids)

    def _partner(self, number: str) -> CustomerRecord | None:
        entity = self.client.get(
            f"A_BusinessPartner({quote_literal(number)})", {"$expand": "to_BuPaIdentification"}
        )
        return None if entity is None else self._record(entity)

    def find_by_request_key(self, key: str) -> CustomerRecord | None:
        found = results(
            self.client.get(
                "A_BusinessPartner",
                {
                    "$filter": f"SearchTerm2 eq {quote_literal(_search_term(key))}",
                    "$expand": "to_BuPaIdentification",
                    "$top": "2",
                },
            )
        )
        return self._record(found[0]) if found else None

    def find_by_identifier(self, id_type: str, number: str) -> list[CustomerRecord]:
        rows = results(
            self.client.get(
                "A_BuPaIdentification",
                {
                    "$filter": f"BPIdentificationType eq {quote_literal(self.types[id_type])} "
                    f"and BPIdentificationNumber eq {quote_literal(number)}",
                    "$select": "BusinessPartner",
                },
            )
        )
        partners = dict.fromkeys(str(r["BusinessPartner"]) for r in rows)
        found = (self._partner(p) for p in partners)
        return [r for r in found if r is not None]

    def create(self, customer: CustomerMaster) -> CustomerRecord:
        s = self.setup
        address = customer.address or Address()
        strongest = customer.identifiers[0][1] if customer.identifiers else ""
        body = {
            "BusinessPartnerCategory": "2",  # organization
            "BusinessPartnerGrouping": s.bp_grouping,
            "OrganizationBPName1": customer.name[:40],
            "OrganizationBPName2": customer.name[40:80],
            "SearchTerm1": strongest[:_SEARCH_TERM_LENGTH],
            "SearchTerm2": _search_term(customer.request_key),
            "to_BusinessPartnerRole": [
                {"BusinessPartnerRole": "FLCU00"},
                {"BusinessPartnerRole": "FLCU01"},
            ],
            "to_BusinessPartnerAddress": [
                {
                    "StreetName": " ".join(address.lines),
                    "CityName": address.city or "",
                    "PostalCode": address.postal_code or "",
                    "Region": address.state or "",
                    "Country": address.country or "US",
                }
            ],
            "to_BuPaIdentification": [
                {"BPIdentificationType": self.types[t], "BPIdentificationNumber": n}
                for t, n in customer.identifiers
            ],
            "to_Customer": {
                "to_CustomerCompany": [
                    {
                        "CompanyCode": s.company_code,
                        "ReconciliationAccount": s.reconciliation_account,
                        "PaymentTerms": s.payment_terms,
                    }
                ],
                "to_CustomerSalesArea": [
                    {
                        "SalesOrganization": s.sales_org,
                        "DistributionChannel": s.distribution_channel,
                        "Division": s.division,
                        "Currency": s.currency,
                    }
                ],
            },
        }
        created = self.client.post("A_BusinessPartner", body)
        if not isinstance(created, Mapping) or not created.get("BusinessPartner"):
            raise StepFailed("SAP created a business partner but did not return its number")
        number = str(created["BusinessPartner"])
        return CustomerRecord(number, customer.name, frozenset(customer.identifiers))

    def add_identifiers(
        self, number: str, identifiers: Sequence[tuple[str, str]]
    ) -> CustomerRecord:
        for id_type, value in identifiers:
            self.client.post(
                "A_BuPaIdentification",
                {
                    "BusinessPartner": number,
                    "BPIdentificationType": self.types[id_type],
                    "BPIdentificationNumber": value,
                },
            )
        record = self._partner(number)
        if record is None:
            raise TransientError(f"SAP business partner {number} vanished while being updated")
        return record


def _search_term(key: str) -> str:
    return key[:_SEARCH_TERM_LENGTH].upper()


# --------------------------------------------------------------------------- the processor


def _identifiers(party: Party) -> tuple[tuple[str, str], ...]:
    """Valid identifiers of the kinds SAP keeps, strongest first, each once."""
    pairs = {
        (ID_TYPES[i.kind], i.value.strip().upper())
        for i in party.valid_identifiers
        if i.kind in ID_TYPES
    }
    return tuple(sorted(pairs, key=lambda p: (SEARCH_ORDER.index(p[0]), p[1])))


def customers_of(lines: Sequence[ClaimLine]) -> list[tuple[Party, list[ClaimLine]]]:
    """Ship-to customers in first-seen order, each with its lines (same name and identifiers)."""
    groups: dict[tuple[Any, ...], tuple[Party, list[ClaimLine]]] = {}
    for line in lines:
        if line.customer is None:
            continue
        key = (line.customer.name, tuple(sorted(i.value for i in line.customer.identifiers)))
        groups.setdefault(key, (line.customer, []))[1].append(line)
    return list(groups.values())


#: the findings this step reads: a rejected line creates no customer
REJECTED = frozenset({"reject"})


def _covered_entities(context: StepContext) -> dict[int, tuple[str, str]]:
    """line -> (340B ID, name) of the covered entity a contract pharmacy on it buys for, as an
    upstream step (federal-db-validation) published them."""
    entities: dict[int, tuple[str, str]] = {}
    for up in context.upstream.values():
        published = up.data.get("contract_pharmacies") if up.phase == "Succeeded" else None
        if isinstance(published, Mapping):
            for line, named in published.items():
                entities[int(line)] = (named["covered_entity"], named["covered_entity_name"])
    return entities


def _buyer(
    party: Party, lines: Sequence[ClaimLine], entities: Mapping[int, tuple[str, str]]
) -> Party:
    """The customer a group of lines is booked to: the covered entity when the party is its
    contract pharmacy on those lines, else the party itself."""
    bought_for = {entities.get(line.line) for line in lines}
    if len(bought_for) != 1:
        return party
    (entity,) = bought_for
    if entity is None:
        return party
    id340b, name = entity
    return Party(party.role, name or party.name, (Identifier("340b", id340b, True),))


_STRING = {"type": "string"}


class SapCustomerCreation:
    """Creates or updates the SAP customer of every ship-to customer on the claim."""

    #: its reference data, ledger and trail live in the run's database
    uses_database: ClassVar[bool] = True
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "gateway": {"enum": ["store", "odata"], "description": "Where customers live."},
            "base_url": {
                "type": "string",
                "description": "odata: service URL, e.g. https://s4/sap/opu/odata/sap/API_BUSINESS_PARTNER",
            },
            "auth": {"enum": ["basic", "bearer", "none"]},
            "username_env": {**_STRING, "description": "Env variable with the user (basic)."},
            "password_env": {**_STRING, "description": "Env variable with the password (basic)."},
            "token_env": {**_STRING, "description": "Env variable with the token (bearer)."},
            "timeout": {"type": "number", "exclusiveMinimum": 0},
            "identification_types": {
                "type": "object",
                "additionalProperties": _STRING,
                "description": "BP identification type per HIN/DEA/GLN/NPI/340B (odata).",
            },
            "number_range": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[0-9]{10}$"},
                "minItems": 2,
                "maxItems": 2,
                "description": "First and last KUNNR for new customers (store).",
            },
            "claim_step": _STRING,
            "client": _STRING,
            "company_code": _STRING,
            "reconciliation_account": _STRING,
            "payment_terms": _STRING,
            "sales_org": _STRING,
            "distribution_channel": _STRING,
            "division": _STRING,
            "currency": _STRING,
            "account_group": _STRING,
            "bp_grouping": _STRING,
            "created_by": _STRING,
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "created": "integer",
        "updated": "integer",
        "unchanged": "integer",
        "conflicts": "integer",
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        fields = SalesSetup.__dataclass_fields__
        self.setup = SalesSetup(**{k: str(v) for k, v in config.items() if k in fields})
        self.gateway_kind: str = config.get("gateway", "store")
        if self.gateway_kind == "odata" and not config.get("base_url"):
            raise StepFailed("gateway: odata needs base_url (the API_BUSINESS_PARTNER service URL)")
        types = {**DEFAULT_IDENTIFICATION_TYPES, **config.get("identification_types", {})}
        unknown = sorted(set(types) - set(SEARCH_ORDER))
        if unknown:
            raise StepFailed(
                f"identification_types has unknown key(s) {', '.join(unknown)}; "
                f"use {', '.join(SEARCH_ORDER)}"
            )
        self.identification_types = types

    def gateway(self, context: StepContext) -> CustomerSync:
        if self.gateway_kind == "odata":
            c = self.config
            credentials = Credentials.from_env(
                c.get("auth", "basic"),
                context.env,  # the step's declared env only, never the whole process's
                username_env=c.get("username_env", "SAP_USER"),
                password_env=c.get("password_env", "SAP_PASSWORD"),
                token_env=c.get("token_env", "SAP_TOKEN"),
            )
            client = ODataClient(
                c["base_url"],
                credentials,
                sap_client=self.setup.client,
                timeout=float(c.get("timeout", 30)),
            )
            return OneAtATime(BusinessPartnerGateway(client, self.setup, self.identification_types))
        if not context.database_url:
            raise StepFailed("gateway: store needs the store database; no database URL in context")
        first, last = self.config.get("number_range", ("0000900000", "0000999999"))
        return StoreGateway(get_engine(context.database_url), self.setup, (first, last))

    def process(self, context: StepContext) -> StepResult:
        _, claim = claim_from_upstream(context, self.config.get("claim_step"))
        rejected = {f.line for _, f in gather_findings(context, (), outcomes=REJECTED).findings}
        gateway = self.gateway(context)
        entities = _covered_entities(context)
        groups = [
            (_buyer(party, lines, entities), lines) for party, lines in customers_of(claim.lines)
        ]
        outcomes: dict[int, Outcome] = {}
        to_sync: dict[int, CustomerMaster] = {}
        for index, (party, lines) in enumerate(groups):
            ids = _identifiers(party)
            if not ids:
                outcomes[index] = Outcome("skipped", None, "no valid HIN, DEA, GLN, NPI or 340B ID")
            elif 0 in rejected or all(line.line in rejected for line in lines):
                outcomes[index] = Outcome(
                    "skipped", None, "every line of this customer was rejected"
                )
            else:
                to_sync[index] = CustomerMaster(
                    request_key(ids), party.name or "", party.address, ids
                )
        try:
            synced = gateway.sync_customers(list(to_sync.values()))
        except SQLAlchemyError as exc:
            raise TransientError(f"customer master store error: {type(exc).__name__}") from None
        outcomes.update(zip(to_sync, synced, strict=True))
        counts = dict.fromkeys(("created", "updated", "unchanged", "conflict", "skipped"), 0)
        customers: list[dict[str, Any]] = []
        findings: list[Finding] = []
        for index, (party, lines) in enumerate(groups):
            outcome = outcomes[index]
            ids = _identifiers(party)
            numbers = [line.line for line in lines]
            counts[outcome.action] += 1
            customers.append(
                {
                    "name": party.name,
                    "identifiers": [f"{t} {n}" for t, n in ids],
                    "request_key": request_key(ids) if ids else None,
                    "action": outcome.action,
                    "number": outcome.number,
                    "message": outcome.message,
                    "lines": numbers,
                }
            )
            if outcome.action == "conflict":
                findings += [
                    Finding(n, rules.SAP, "review", "25", f"customer master: {outcome.message}")
                    for n in numbers
                ]
            if outcome.not_added:
                kept = ", ".join(f"{t} {n}" for t, n in outcome.not_added)
                note = (
                    f"warning: customer master {outcome.number} does not hold {kept}; a "
                    "customer has several, so it was neither a conflict nor added: add it by "
                    "change request once confirmed"
                )
                findings += [Finding(n, rules.SAP, "pass", None, note) for n in numbers]
        return StepResult(
            outputs={
                "created": counts["created"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "conflicts": counts["conflict"],
            },
            data={"customers": customers, "findings": [f.to_row() for f in findings]},
        )
