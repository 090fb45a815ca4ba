"""Reference data and claim-line history for the chargeback processors, as SQLAlchemy tables.

The tables are declared on the chargeback package's one base (``processors.chargeback.schema``),
whose Alembic history creates and upgrades them beside the run store's tables.

Conventions, chosen so that an auditor can replay any decision:

- every reference row points at the snapshot that last delivered it (``snapshot_id``), and
  every snapshot records file name, snapshot date, sha256 and row count;
- dates that drive a decision (invoice date rules) are real ``Date`` columns, effective-dated
  rows use ``NULL`` for "open ended";
- money and prices are exact decimals (``Decimal`` in Python), never floats; SQLite has no
  decimal type, so they are stored there as canonical text and read back exactly;
- identifiers (NDC, GLN, NPI, HIN, DEA) are strings: leading zeros matter.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from processors.chargeback.schema import Base

#: The SAP client (MANDT) every customer-master row is written under.
SAP_CLIENT = "100"

#: Statuses of a claim line in the history ledger (duplicate detection reads them).
LINE_STATUSES = ("PENDING", "PAID", "REJECTED")


class ExactDecimal(TypeDecorator[Decimal]):
    """``NUMERIC(precision, scale)`` where the database has it, exact text on SQLite.

    SQLite's NUMERIC affinity converts to binary floating point, which would turn 82.50 into
    82.4999... on the way back; the text form keeps the value exact on every backend.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        return str(number) if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def Price() -> ExactDecimal:
    """Unit prices keep 4 decimals (brief §4.6)."""
    return ExactDecimal(12, 4)


def Amount() -> ExactDecimal:
    """Line amounts keep 2 decimals, rounded half-up at the line (brief §4.6)."""
    return ExactDecimal(14, 2)


def Quantity() -> ExactDecimal:
    """Quantities may be fractional in X12 (R type) and negative for credits."""
    return ExactDecimal(14, 3)


class ReferenceSnapshot(Base):
    """One loaded file: the provenance every decision cites in the compliance trail."""

    __tablename__ = "cb_reference_snapshot"
    __table_args__ = (UniqueConstraint("dataset", "sha256", name="uq_cb_snapshot_dataset_sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(32), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default="full")  # full | supplement
    snapshot_date: Mapped[date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def label(self) -> str:
        """``2024-03-01#ab12cd34`` as in the brief's audit record (§7)."""
        return f"{self.snapshot_date.isoformat()}#{self.sha256[:12]}"


def _snapshot_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("cb_reference_snapshot.id"), index=True)


# --- products and prices -------------------------------------------------------------------


class Product(Base):
    """Product master keyed on the 11-digit NDC; the DEA schedule drives rule R19."""

    __tablename__ = "cb_product"

    ndc11: Mapped[str] = mapped_column(String(12), primary_key=True)
    ndc10_label: Mapped[str | None] = mapped_column(String(12))
    labeler: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(200))
    package_size: Mapped[Decimal] = mapped_column(Quantity())
    uom: Mapped[str] = mapped_column(String(8))
    dea_schedule: Mapped[str | None] = mapped_column(String(3))  # None | 2 | 2N | 3 | 3N | 4 | 5
    active_from: Mapped[date] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()


class WacPrice(Base):
    """WAC history: one row per price period of an NDC (effective-dated, rule R12)."""

    __tablename__ = "cb_wac_history"
    __table_args__ = (UniqueConstraint("ndc11", "effective_from", name="uq_cb_wac_ndc_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ndc11: Mapped[str] = mapped_column(String(12), index=True)
    wac: Mapped[Decimal] = mapped_column(Price())
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)  # inclusive; None = open
    snapshot_id: Mapped[int] = _snapshot_fk()


# --- contracts -----------------------------------------------------------------------------


class Contract(Base):
    """Contract header. ``allowed_cot`` is a ``|``-separated list of class-of-trade codes."""

    __tablename__ = "cb_contract"

    contract_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    gpo_id: Mapped[str | None] = mapped_column(String(20), index=True)
    contract_type: Mapped[str] = mapped_column(String(8))  # GPO | IDN | DIRECT | 340B | FSS
    mode: Mapped[str] = mapped_column(String(8))  # INDIRECT | BOTH | DIRECT
    program: Mapped[str] = mapped_column(String(16), default="PHARMACY")  # PHARMACY | MED_SURG
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # ACTIVE | TERMINATED | VOID
    allowed_cot: Mapped[str] = mapped_column(String(400), default="")
    # R15: days after the invoice date a debit memo may claim a sale on this contract; None:
    # the contract sets none, the configured window applies
    claim_window_days: Mapped[int | None] = mapped_column(Integer)
    snapshot_id: Mapped[int] = _snapshot_fk()

    @property
    def allowed_cot_set(self) -> frozenset[str]:
        return frozenset(c for c in self.allowed_cot.split("|") if c)


class ContractLine(Base):
    """A product on a contract at a price, per tier (``tier`` None = every tier)."""

    __tablename__ = "cb_contract_line"
    __table_args__ = (
        UniqueConstraint("contract_id", "ndc11", "tier", "start_date", name="uq_cb_cline"),
        Index("ix_cb_cline_lookup", "contract_id", "ndc11"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(40))
    ndc11: Mapped[str] = mapped_column(String(12))
    tier: Mapped[str | None] = mapped_column(String(12))
    contract_price: Mapped[Decimal] = mapped_column(Price())
    qty_cap: Mapped[Decimal | None] = mapped_column(Quantity())
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()


class ContractEligibility(Base):
    """Explicit members of a contract that is not roster-driven (IDN, DIRECT, 340B)."""

    __tablename__ = "cb_contract_eligibility"
    __table_args__ = (UniqueConstraint("contract_id", "kunnr", "start_date", name="uq_cb_celig"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(40), index=True)
    kunnr: Mapped[str] = mapped_column(String(10), index=True)
    tier: Mapped[str | None] = mapped_column(String(12))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()


# --- GPO rosters ---------------------------------------------------------------------------


class GpoRosterMember(Base):
    """One membership period of a facility on a GPO roster (HISCI-like, brief §5).

    ``membership_end_date`` is the first day the facility is *no longer* a member: invoices
    dated on or after it fail (brief §9.6).
    """

    __tablename__ = "cb_gpo_roster"
    __table_args__ = (
        UniqueConstraint(
            "gpo_id", "gpo_member_id", "membership_start_date", name="uq_cb_roster_period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gpo_id: Mapped[str] = mapped_column(String(20), index=True)
    gpo_member_id: Mapped[str] = mapped_column(String(20))
    parent_member_id: Mapped[str | None] = mapped_column(String(20))
    facility_name: Mapped[str] = mapped_column(String(120))
    addr1: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip5: Mapped[str] = mapped_column(String(5), default="")
    hin: Mapped[str | None] = mapped_column(String(9), index=True)
    dea: Mapped[str | None] = mapped_column(String(9), index=True)
    gln: Mapped[str | None] = mapped_column(String(13), index=True)
    npi: Mapped[str | None] = mapped_column(String(10), index=True)
    id340b: Mapped[str | None] = mapped_column(String(12), index=True)
    class_of_trade: Mapped[str] = mapped_column(String(20))
    primary_gpo_flag: Mapped[bool] = mapped_column(Boolean, default=True)
    tier: Mapped[str | None] = mapped_column(String(12))
    contract_program: Mapped[str] = mapped_column(String(16), default="PHARMACY")
    membership_start_date: Mapped[date] = mapped_column(Date)
    membership_end_date: Mapped[date | None] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()


# --- federal databases ---------------------------------------------------------------------


class LeieExclusion(Base):
    """OIG LEIE row (the 18 published columns, dates parsed) with its sighting history.

    Rows are never deleted: a party reinstated and dropped from a later ``UPDATED.csv`` must
    still be flagged for invoices dated inside its exclusion (brief §9.3). ``last_seen_full``
    is the date of the last *full* snapshot that listed the row.
    """

    __tablename__ = "cb_leie_exclusion"
    __table_args__ = (UniqueConstraint("record_key", name="uq_cb_leie_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_key: Mapped[str] = mapped_column(String(64))
    lastname: Mapped[str] = mapped_column(String(80), default="")
    firstname: Mapped[str] = mapped_column(String(80), default="")
    midname: Mapped[str] = mapped_column(String(80), default="")
    busname: Mapped[str] = mapped_column(String(200), default="")
    general: Mapped[str] = mapped_column(String(80), default="")
    specialty: Mapped[str] = mapped_column(String(80), default="")
    upin: Mapped[str] = mapped_column(String(12), default="")
    npi: Mapped[str | None] = mapped_column(String(10), index=True)
    dob: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip5: Mapped[str] = mapped_column(String(5), default="")
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # normalized name for matching
    excltype: Mapped[str] = mapped_column(String(12))
    excldate: Mapped[date] = mapped_column(Date)
    reindate: Mapped[date | None] = mapped_column(Date)
    waiverdate: Mapped[date | None] = mapped_column(Date)
    wvrstate: Mapped[str] = mapped_column(String(2), default="")
    first_seen: Mapped[date] = mapped_column(Date)
    last_seen_full: Mapped[date | None] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()


class SamExclusion(Base):
    """SAM.gov public-extract exclusion; ``termination_date`` None means "Indefinite"."""

    __tablename__ = "cb_sam_exclusion"
    __table_args__ = (UniqueConstraint("record_key", name="uq_cb_sam_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_key: Mapped[str] = mapped_column(String(64))
    classification: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    first: Mapped[str] = mapped_column(String(80), default="")
    middle: Mapped[str] = mapped_column(String(80), default="")
    last: Mapped[str] = mapped_column(String(80), default="")
    address1: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(40), default="")
    zip5: Mapped[str] = mapped_column(String(5), default="")
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    uei: Mapped[str] = mapped_column(String(20), default="")
    exclusion_program: Mapped[str] = mapped_column(String(40), default="")
    excluding_agency: Mapped[str] = mapped_column(String(80), default="")
    exclusion_type: Mapped[str] = mapped_column(String(60), default="")
    active_date: Mapped[date] = mapped_column(Date)
    termination_date: Mapped[date | None] = mapped_column(Date)
    record_status: Mapped[str] = mapped_column(String(20), default="")
    cross_reference: Mapped[str] = mapped_column(String(400), default="")
    sam_number: Mapped[str] = mapped_column(String(20), default="")
    cage: Mapped[str] = mapped_column(String(10), default="")
    npi: Mapped[str | None] = mapped_column(String(10), index=True)
    snapshot_id: Mapped[int] = _snapshot_fk()


class DeaRegistration(Base):
    """One registration period of a DEA number (a renewal keeps the number, brief §9.4).

    ``effective_from`` is when this period began (None = unknown, treated as always);
    the registration covers an invoice date D when effective_from <= D <= expiration_date.
    ``schedules`` is a space-separated token list such as ``2 2N 3 3N 4 5``.

    ``active`` is the registrant data's activity flag *as of the snapshot*; ``inactive_from``
    is the first day the registration stopped being active (retired, surrendered, revoked).
    A sale made before that day was made under an active registration, whatever the flag says
    today; an inactive row without the date is inactive for its whole period (nothing says
    when it stopped, so no sale under it can be trusted).
    """

    __tablename__ = "cb_dea_registration"
    __table_args__ = (UniqueConstraint("dea_no", "expiration_date", name="uq_cb_dea_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dea_no: Mapped[str] = mapped_column(String(9), index=True)
    bac: Mapped[str] = mapped_column(String(1))
    bac_sub: Mapped[str] = mapped_column(String(1), default="")
    schedules: Mapped[str] = mapped_column(String(40), default="")
    effective_from: Mapped[date | None] = mapped_column(Date)
    expiration_date: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120))
    addl_info: Mapped[str] = mapped_column(String(120), default="")
    addr1: Mapped[str] = mapped_column(String(120), default="")
    addr2: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip5: Mapped[str] = mapped_column(String(5), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_from: Mapped[date | None] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()

    @property
    def schedule_set(self) -> frozenset[str]:
        return frozenset(self.schedules.split())

    def active_on(self, day: date) -> bool:
        """Was the registration active on ``day`` (brief §9.4: decide on the invoice date)?"""
        if self.inactive_from is not None:
            return day < self.inactive_from
        return self.active


class NppesProvider(Base):
    """NPPES record; deactivation and reactivation dates decide "active at D" (§4.4)."""

    __tablename__ = "cb_nppes_provider"

    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    # 1 individual, 2 organization; blank in NPPES for deactivated NPIs
    entity_type: Mapped[int | None] = mapped_column(Integer)
    replacement_npi: Mapped[str | None] = mapped_column(String(10))
    org_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(80), default="")
    first_name: Mapped[str] = mapped_column(String(80), default="")
    addr1: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip5: Mapped[str] = mapped_column(String(5), default="")
    taxonomy_primary: Mapped[str] = mapped_column(String(10), default="")
    enumeration_date: Mapped[date | None] = mapped_column(Date)
    deactivation_reason: Mapped[str | None] = mapped_column(String(4))
    deactivation_date: Mapped[date | None] = mapped_column(Date)
    reactivation_date: Mapped[date | None] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()


class OpaisEntity(Base):
    """HRSA 340B OPAIS covered entity (or child site, ``parent_id340b`` set)."""

    __tablename__ = "cb_opais_entity"

    id340b: Mapped[str] = mapped_column(String(12), primary_key=True)
    ce_id: Mapped[str] = mapped_column(String(12))
    parent_id340b: Mapped[str | None] = mapped_column(String(12), index=True)
    entity_type: Mapped[str] = mapped_column(String(8))  # DSH, PED, CAN, CAH, CH, BL, ...
    name: Mapped[str] = mapped_column(String(200))
    sub_name: Mapped[str] = mapped_column(String(200), default="")
    participating: Mapped[bool] = mapped_column(Boolean)
    participating_start_date: Mapped[date] = mapped_column(Date)
    termination_date: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str] = mapped_column(String(120), default="")
    medicare_provider_no: Mapped[str] = mapped_column(String(12), default="")
    grant_no: Mapped[str] = mapped_column(String(20), default="")
    street: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip5: Mapped[str] = mapped_column(String(5), default="")
    snapshot_id: Mapped[int] = _snapshot_fk()


class OpaisNpi(Base):
    """The ``npiNumbers[]`` of an OPAIS entity, so a customer can be found by NPI."""

    __tablename__ = "cb_opais_npi"

    id340b: Mapped[str] = mapped_column(
        ForeignKey("cb_opais_entity.id340b", ondelete="CASCADE"), primary_key=True
    )
    npi: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)


class OpaisContractPharmacy(Base):
    """One registration period of a 340B contract pharmacy of a covered entity (OPAIS
    ``contractPharmacies[]``). The pharmacy dispenses 340B drugs for the entity, which buys
    them: a claim names the pharmacy (its HIN for this entity, its DEA or NPI) with the
    entity's 340B ID. ``end_date`` is the first day it is no longer registered."""

    __tablename__ = "cb_opais_contract_pharmacy"
    __table_args__ = (
        UniqueConstraint("id340b", "pharmacy_id", "begin_date", name="uq_cb_opais_cp_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id340b: Mapped[str] = mapped_column(String(12), index=True)  # the covered entity
    pharmacy_id: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # the HIN of the entity-plus-pharmacy relationship (brief §3.3), not the pharmacy's own
    hin: Mapped[str | None] = mapped_column(String(9))
    dea: Mapped[str | None] = mapped_column(String(9))
    npi: Mapped[str | None] = mapped_column(String(10))
    street: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip5: Mapped[str] = mapped_column(String(5), default="")
    begin_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    snapshot_id: Mapped[int] = _snapshot_fk()


class WholesalerDc(Base):
    """A wholesaler distribution center and its distribution services agreement (R20)."""

    __tablename__ = "cb_wholesaler_dc"

    dc_key: Mapped[str] = mapped_column(String(20), primary_key=True)
    wholesaler: Mapped[str] = mapped_column(String(120))
    dea: Mapped[str | None] = mapped_column(String(9), index=True)
    gln: Mapped[str | None] = mapped_column(String(13), index=True)
    dsa_start: Mapped[date] = mapped_column(Date)
    dsa_end: Mapped[date | None] = mapped_column(Date)
    licensed_states: Mapped[str] = mapped_column(String(200), default="")  # "|"-separated
    # the DC's EDI interchange address (ISA05/ISA06): where an 849 answering a claim that did
    # not come as X12 (text, PDF) is sent; an 844 carries its own
    edi_qualifier: Mapped[str | None] = mapped_column(String(2))
    edi_id: Mapped[str | None] = mapped_column(String(15))
    snapshot_id: Mapped[int] = _snapshot_fk()


# --- SAP customer master (ECC shape, brief §6) ---------------------------------------------


class SapKna1(Base):
    """KNA1, general customer data. ``BRSCH`` holds the customer's class-of-trade code."""

    __tablename__ = "cb_sap_kna1"

    mandt: Mapped[str] = mapped_column(String(3), primary_key=True, default=SAP_CLIENT)
    kunnr: Mapped[str] = mapped_column(String(10), primary_key=True)
    name1: Mapped[str] = mapped_column(String(35))
    name2: Mapped[str] = mapped_column(String(35), default="")
    stras: Mapped[str] = mapped_column(String(60), default="")
    ort01: Mapped[str] = mapped_column(String(35), default="")
    pstlz: Mapped[str] = mapped_column(String(10), default="")
    regio: Mapped[str] = mapped_column(String(3), default="")
    land1: Mapped[str] = mapped_column(String(3), default="US")
    telf1: Mapped[str] = mapped_column(String(30), default="")
    ktokd: Mapped[str] = mapped_column(String(4), default="0001")
    stcd1: Mapped[str] = mapped_column(String(16), default="")
    stceg: Mapped[str] = mapped_column(String(20), default="")
    brsch: Mapped[str] = mapped_column(String(20), default="")
    aufsd: Mapped[str] = mapped_column(String(2), default="")
    lifsd: Mapped[str] = mapped_column(String(2), default="")
    faksd: Mapped[str] = mapped_column(String(2), default="")
    loevm: Mapped[str] = mapped_column(String(1), default="")
    bbbnr: Mapped[str] = mapped_column(String(7), default="")
    bbsnr: Mapped[str] = mapped_column(String(5), default="")
    bubkz: Mapped[str] = mapped_column(String(1), default="")
    adrnr: Mapped[str] = mapped_column(String(10), default="")
    erdat: Mapped[date | None] = mapped_column(Date)
    ernam: Mapped[str] = mapped_column(String(12), default="")
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("cb_reference_snapshot.id"), index=True
    )  # None for customers created at run time

    @property
    def gln(self) -> str:
        """KNA1 stores the GLN split in three fields; this joins them back."""
        return f"{self.bbbnr}{self.bbsnr}{self.bubkz}"


class SapKnb1(Base):
    """KNB1, customer data per company code (reconciliation account is mandatory)."""

    __tablename__ = "cb_sap_knb1"

    mandt: Mapped[str] = mapped_column(String(3), primary_key=True, default=SAP_CLIENT)
    kunnr: Mapped[str] = mapped_column(String(10), primary_key=True)
    bukrs: Mapped[str] = mapped_column(String(4), primary_key=True)
    akont: Mapped[str] = mapped_column(String(10))
    zterm: Mapped[str] = mapped_column(String(4), default="")
    zuawa: Mapped[str] = mapped_column(String(3), default="")
    fdgrv: Mapped[str] = mapped_column(String(10), default="")
    zwels: Mapped[str] = mapped_column(String(10), default="")
    sperr: Mapped[str] = mapped_column(String(1), default="")
    loevm: Mapped[str] = mapped_column(String(1), default="")
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("cb_reference_snapshot.id"))


class SapKnvv(Base):
    """KNVV, customer data per sales area (VKORG/VTWEG/SPART)."""

    __tablename__ = "cb_sap_knvv"

    mandt: Mapped[str] = mapped_column(String(3), primary_key=True, default=SAP_CLIENT)
    kunnr: Mapped[str] = mapped_column(String(10), primary_key=True)
    vkorg: Mapped[str] = mapped_column(String(4), primary_key=True)
    vtweg: Mapped[str] = mapped_column(String(2), primary_key=True)
    spart: Mapped[str] = mapped_column(String(2), primary_key=True)
    kdgrp: Mapped[str] = mapped_column(String(2), default="")
    bzirk: Mapped[str] = mapped_column(String(6), default="")
    konda: Mapped[str] = mapped_column(String(2), default="")
    pltyp: Mapped[str] = mapped_column(String(2), default="")
    kalks: Mapped[str] = mapped_column(String(1), default="1")
    waers: Mapped[str] = mapped_column(String(5), default="USD")
    inco1: Mapped[str] = mapped_column(String(3), default="")
    inco2: Mapped[str] = mapped_column(String(28), default="")
    vsbed: Mapped[str] = mapped_column(String(2), default="")
    lprio: Mapped[str] = mapped_column(String(2), default="")
    zterm: Mapped[str] = mapped_column(String(4), default="")
    aufsd: Mapped[str] = mapped_column(String(2), default="")
    lifsd: Mapped[str] = mapped_column(String(2), default="")
    faksd: Mapped[str] = mapped_column(String(2), default="")
    loevm: Mapped[str] = mapped_column(String(1), default="")
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("cb_reference_snapshot.id"))


class SapCustomerIdentifier(Base):
    """External IDs of a customer (BP identification, ``A_BuPaIdentification``).

    ``id_type`` is one of ``HIN``, ``DEA``, ``GLN``, ``NPI``, ``340B``. The unique index makes
    "one identifier, one customer" a database fact; it is what customer resolution and the
    duplicate-customer rule read.
    """

    __tablename__ = "cb_sap_customer_id"
    __table_args__ = (
        UniqueConstraint("mandt", "id_type", "id_number", name="uq_cb_sap_customer_id"),
        # customer resolution looks identifiers up without the client: it needs its own index
        Index("ix_cb_sap_customer_id_lookup", "id_type", "id_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mandt: Mapped[str] = mapped_column(String(3), default=SAP_CLIENT)
    kunnr: Mapped[str] = mapped_column(String(10), index=True)
    id_type: Mapped[str] = mapped_column(String(4))
    id_number: Mapped[str] = mapped_column(String(20))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("cb_reference_snapshot.id"))


class SapCreateRequest(Base):
    """Deterministic request key -> KUNNR, so a retried create returns the same customer."""

    __tablename__ = "cb_sap_create_request"

    request_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kunnr: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- claim-line history (duplicate detection, rules R05-R07) -------------------------------


class ClaimLineHistory(Base):
    """Every claim line ever seen, with its outcome once resolved.

    ``hard_key`` = DC id | invoice number | invoice line | NDC11 | canonical customer key;
    ``soft_key`` = DC id | invoice number | NDC11 | customer | invoice date | abs(quantity)
    (brief §1.5). A line is recorded once per (run, DM, line): a retried or resumed step
    updates its own row instead of adding one. ``paid_quantity`` is what was actually paid
    (the delta for a resubmission), so the net paid quantity of a hard key is a plain sum.
    """

    __tablename__ = "cb_claim_line_history"
    __table_args__ = (
        UniqueConstraint("run_id", "dm_no", "line_no", name="uq_cb_history_run_line"),
        Index("ix_cb_history_dm", "wholesaler_id", "dm_no"),
        # a customer's usual quantity of an NDC (edge case 12) without scanning the ledger
        Index("ix_cb_history_customer_ndc", "customer_key", "ndc11"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(80))
    hard_key: Mapped[str] = mapped_column(String(200), index=True)
    soft_key: Mapped[str] = mapped_column(String(200), index=True)
    wholesaler_id: Mapped[str] = mapped_column(String(20))
    dm_no: Mapped[str] = mapped_column(String(40))
    dm_date: Mapped[date | None] = mapped_column(Date)
    dm_purpose: Mapped[str] = mapped_column(String(2), default="00")
    line_no: Mapped[str] = mapped_column(String(20))
    invoice_no: Mapped[str] = mapped_column(String(40))
    invoice_line: Mapped[str] = mapped_column(String(20))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    ndc11: Mapped[str] = mapped_column(String(12))
    customer_key: Mapped[str] = mapped_column(String(40))
    contract_id: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    amount: Mapped[Decimal] = mapped_column(Amount())
    status: Mapped[str] = mapped_column(String(10), default="PENDING")
    # the quantity still payable when the line was checked: the claim net of what was
    # already paid under the same hard key (brief R07); None for loaded history
    net_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    paid_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    allowed_amount: Mapped[Decimal | None] = mapped_column(Amount())
    # the date of the 849 that answered the line: a rejected line may be resubmitted only
    # for a while after it (brief §1.4)
    responded_on: Mapped[date | None] = mapped_column(Date)
    original_id: Mapped[int | None] = mapped_column(ForeignKey("cb_claim_line_history.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
