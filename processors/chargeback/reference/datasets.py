"""The CSV layout of every reference dataset, and how its rows become table rows.

One ``Dataset`` per file kind: its columns (header name, parser, whether a value is required),
the key that must be unique inside one file, cross-field checks, and ``rows()`` mapping a
parsed record to one or more table rows. README.md in this folder is the user-facing copy of
these layouts; ``tests/chargeback/test_reference_loader.py`` keeps the two in step.

Load modes say what a newer snapshot means for older rows:

- ``replace``: the file is the complete current state (contracts, WAC history, rosters,
  NPPES, OPAIS, ...). Effective dates *inside* the data carry history.
- ``merge``: rows are upserted by key and never deleted. Used where an absent row still
  matters (LEIE, SAM: a reinstated party drops out of the current file; DEA: an earlier
  registration period decides an earlier invoice), for the SAP customer master (customers are
  also created at run time) and for claim-line history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from processors.chargeback.reference import fields as f
from processors.chargeback.reference import models as m
from processors.chargeback.reference.history import hard_key, soft_key
from processors.chargeback.schema import Base

Record = dict[str, Any]
Row = tuple[type[Base], dict[str, Any]]


@dataclass(frozen=True)
class LoadContext:
    """What a row builder may know about the file it comes from."""

    snapshot_date: date
    kind: str  # full | supplement
    loaded_at: datetime


@dataclass(frozen=True)
class Column:
    """``header`` is the CSV header; ``attr`` the record key (defaults to header)."""

    header: str
    parse: f.Parser
    required: bool = False
    attr: str = ""
    default: Any = None
    optional_column: bool = False  # may be absent from the header altogether

    @property
    def key(self) -> str:
        return self.attr or self.header


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    mode: Literal["replace", "merge"]
    columns: tuple[Column, ...]
    tables: tuple[type[Base], ...]
    key: tuple[str, ...]
    rows: Callable[[Record, LoadContext], list[Row]]
    checks: tuple[Callable[[Record], str | None], ...] = ()
    extra_columns_allowed: bool = False
    supplements_allowed: bool = False
    merge_keys: Mapping[type[Base], tuple[str, ...]] = field(default_factory=dict)

    def column(self, header: str) -> Column:
        return next(c for c in self.columns if c.header == header)


def _c(header: str, parse: f.Parser, required: bool = False, **kw: Any) -> Column:
    return Column(header, parse, required, **kw)


def _dates_ordered(start: str, end: str) -> Callable[[Record], str | None]:
    def check(r: Record) -> str | None:
        if r.get(start) and r.get(end) and r[end] < r[start]:
            return f"column {end}: {r[end]} is before {start} {r[start]}"
        return None

    return check


def _one_of(*keys: str) -> Callable[[Record], str | None]:
    def check(r: Record) -> str | None:
        if not any(r.get(k) for k in keys):
            return f"columns {', '.join(keys)}: at least one must be filled in"
        return None

    return check


def _plain(model: type[Base]) -> Callable[[Record, LoadContext], list[Row]]:
    def rows(r: Record, _ctx: LoadContext) -> list[Row]:
        return [(model, dict(r))]

    return rows


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


# --- products and prices -------------------------------------------------------------------

PRODUCTS = Dataset(
    name="products",
    description="Product master, one row per 11-digit NDC.",
    mode="replace",
    columns=(
        _c("ndc11", f.ndc11, True),
        _c("ndc10_label", f.text(12)),
        _c("labeler", f.text(80), True),
        _c("description", f.text(200), True),
        _c("package_size", f.decimal(3, positive=True), True),
        _c("uom", f.upper(8), True),
        _c("dea_schedule", f.choice(("",) + f.DEA_SCHEDULES)),
        _c("active_from", f.iso_date, True),
        _c("active_to", f.iso_date),
    ),
    tables=(m.Product,),
    key=("ndc11",),
    rows=lambda r, _ctx: [(m.Product, {**r, "dea_schedule": r["dea_schedule"] or None})],
    checks=(_dates_ordered("active_from", "active_to"),),
)

WAC = Dataset(
    name="wac",
    description="WAC history: one row per NDC and price period.",
    mode="replace",
    columns=(
        _c("ndc11", f.ndc11, True),
        _c("wac", f.decimal(4), True),
        _c("effective_from", f.iso_date, True),
        _c("effective_to", f.iso_date),
    ),
    tables=(m.WacPrice,),
    key=("ndc11", "effective_from"),
    rows=_plain(m.WacPrice),
    checks=(_dates_ordered("effective_from", "effective_to"),),
)

# --- contracts -----------------------------------------------------------------------------


def _gpo_needs_id(r: Record) -> str | None:
    if r["contract_type"] == "GPO" and not r["gpo_id"]:
        return "column gpo_id: a GPO contract needs the GPO's id"
    return None


CONTRACTS = Dataset(
    name="contracts",
    description="Contract headers.",
    mode="replace",
    columns=(
        _c("contract_id", f.upper(40), True),
        _c("gpo_id", f.upper(20)),
        _c("contract_type", f.choice(("GPO", "IDN", "DIRECT", "340B", "FSS")), True),
        _c("mode", f.choice(("INDIRECT", "BOTH", "DIRECT")), True),
        _c("program", f.choice(("PHARMACY", "MED_SURG")), default="PHARMACY"),
        _c("start_date", f.iso_date, True),
        _c("end_date", f.iso_date, True),
        _c("status", f.choice(("ACTIVE", "TERMINATED", "VOID")), True),
        _c("allowed_cot", f.listing(f.choice(f.CLASSES_OF_TRADE))),
        _c("claim_window_days", f.days),
    ),
    tables=(m.Contract,),
    key=("contract_id",),
    rows=lambda r, _ctx: [(m.Contract, {**r, "gpo_id": r["gpo_id"] or None})],
    checks=(_dates_ordered("start_date", "end_date"), _gpo_needs_id),
)

CONTRACT_LINES = Dataset(
    name="contract_lines",
    description="Products on contracts: price per tier and period.",
    mode="replace",
    columns=(
        _c("contract_id", f.upper(40), True),
        _c("ndc11", f.ndc11, True),
        _c("tier", f.upper(12)),
        _c("contract_price", f.decimal(4), True),
        _c("qty_cap", f.decimal(3, positive=True)),
        _c("start_date", f.iso_date, True),
        _c("end_date", f.iso_date, True),
    ),
    tables=(m.ContractLine,),
    key=("contract_id", "ndc11", "tier", "start_date"),
    rows=lambda r, _ctx: [(m.ContractLine, {**r, "tier": r["tier"] or None})],
    checks=(_dates_ordered("start_date", "end_date"),),
)

CONTRACT_ELIGIBILITY = Dataset(
    name="contract_eligibility",
    description="Explicit customers of contracts that are not roster-driven.",
    mode="replace",
    columns=(
        _c("contract_id", f.upper(40), True),
        _c("kunnr", f.kunnr, True),
        _c("tier", f.upper(12)),
        _c("start_date", f.iso_date, True),
        _c("end_date", f.iso_date),
    ),
    tables=(m.ContractEligibility,),
    key=("contract_id", "kunnr", "start_date"),
    rows=lambda r, _ctx: [(m.ContractEligibility, {**r, "tier": r["tier"] or None})],
    checks=(_dates_ordered("start_date", "end_date"),),
)

# --- rosters -------------------------------------------------------------------------------

_IDENTIFIER_COLUMNS = (
    _c("hin", f.hin),
    _c("dea", f.dea),
    _c("gln", f.gln),
    _c("npi", f.npi),
    _c("id340b", f.id340b),
)


def _none_if_blank(r: Record, *keys: str) -> Record:
    return {**r, **{k: (r[k] or None) for k in keys}}


GPO_ROSTER = Dataset(
    name="gpo_roster",
    description="GPO membership periods of facilities (HISCI-like roster).",
    mode="replace",
    columns=(
        _c("gpo_id", f.upper(20), True),
        _c("gpo_member_id", f.upper(20), True),
        _c("parent_member_id", f.upper(20)),
        _c("facility_name", f.text(120), True),
        _c("addr1", f.text(120)),
        _c("city", f.text(60)),
        _c("state", f.state),
        _c("zip", f.zip_code, attr="zip5"),
        *_IDENTIFIER_COLUMNS,
        _c("class_of_trade", f.choice(f.CLASSES_OF_TRADE), True),
        _c("primary_gpo_flag", f.boolean, default=True),
        _c("tier", f.upper(12)),
        _c("contract_program", f.choice(("PHARMACY", "MED_SURG")), default="PHARMACY"),
        _c("membership_start_date", f.iso_date, True),
        _c("membership_end_date", f.iso_date),
    ),
    tables=(m.GpoRosterMember,),
    key=("gpo_id", "gpo_member_id", "membership_start_date"),
    rows=lambda r, _ctx: [
        (
            m.GpoRosterMember,
            _none_if_blank(r, "parent_member_id", "hin", "dea", "gln", "npi", "id340b", "tier"),
        )
    ],
    checks=(
        _dates_ordered("membership_start_date", "membership_end_date"),
        _one_of("hin", "dea", "gln", "npi", "id340b"),
    ),
)

# --- OIG LEIE ------------------------------------------------------------------------------

LEIE_HEADER = (
    "LASTNAME",
    "FIRSTNAME",
    "MIDNAME",
    "BUSNAME",
    "GENERAL",
    "SPECIALTY",
    "UPIN",
    "NPI",
    "DOB",
    "ADDRESS",
    "CITY",
    "STATE",
    "ZIP",
    "EXCLTYPE",
    "EXCLDATE",
    "REINDATE",
    "WAIVERDATE",
    "WVRSTATE",
)


def _leie_npi(raw: str) -> str | None:
    value = raw.strip()
    return None if value in ("", "0000000000") else f.npi(value)


def _leie_rows(r: Record, ctx: LoadContext) -> list[Row]:
    person = " ".join(p for p in (r["lastname"], r["firstname"], r["midname"]) if p)
    values = {
        **r,
        "name_key": f.normalize_name(r["busname"] or person),
        "record_key": _digest(
            f.normalize_name(r["lastname"]),
            f.normalize_name(r["firstname"]),
            f.normalize_name(r["midname"]),
            f.normalize_name(r["busname"]),
            r["npi"],
            r["dob"],
            r["excltype"],
            r["excldate"],
        ),
        "first_seen": ctx.snapshot_date,
        "last_seen_full": ctx.snapshot_date if ctx.kind == "full" else None,
    }
    return [(m.LeieExclusion, values)]


def _leie_named(r: Record) -> str | None:
    if not (r["busname"] or r["lastname"]):
        return "columns BUSNAME, LASTNAME: an exclusion names a business or a person"
    return None


LEIE = Dataset(
    name="leie",
    description="OIG LEIE: UPDATED.csv (kind full) or a monthly EXCL/REIN file (kind supplement).",
    mode="merge",
    columns=(
        _c("LASTNAME", f.text(80), attr="lastname"),
        _c("FIRSTNAME", f.text(80), attr="firstname"),
        _c("MIDNAME", f.text(80), attr="midname"),
        _c("BUSNAME", f.text(200), attr="busname"),
        _c("GENERAL", f.text(80), attr="general"),
        _c("SPECIALTY", f.text(80), attr="specialty"),
        _c("UPIN", f.text(12), attr="upin"),
        _c("NPI", _leie_npi, attr="npi"),
        _c("DOB", f.yyyymmdd, attr="dob"),
        _c("ADDRESS", f.text(200), attr="address"),
        _c("CITY", f.text(80), attr="city"),
        _c("STATE", f.state, attr="state"),
        _c("ZIP", f.zip_code, attr="zip5"),
        _c("EXCLTYPE", f.text(12), True, attr="excltype"),
        _c("EXCLDATE", f.yyyymmdd, True, attr="excldate"),
        _c("REINDATE", f.yyyymmdd, attr="reindate"),
        _c("WAIVERDATE", f.yyyymmdd, attr="waiverdate"),
        _c("WVRSTATE", f.state, attr="wvrstate"),
    ),
    tables=(m.LeieExclusion,),
    key=("lastname", "firstname", "midname", "busname", "npi", "dob", "excltype", "excldate"),
    rows=_leie_rows,
    checks=(_leie_named, _dates_ordered("excldate", "reindate")),
    supplements_allowed=True,
    merge_keys={m.LeieExclusion: ("record_key",)},
)

# --- SAM.gov exclusions --------------------------------------------------------------------

SAM_HEADER = (
    "Classification",
    "Name",
    "Prefix",
    "First",
    "Middle",
    "Last",
    "Suffix",
    "Address 1",
    "Address 2",
    "Address 3",
    "Address 4",
    "City",
    "State / Province",
    "Country",
    "Zip Code",
    "Open Data Flag",
    "Blank (Deprecated)",
    "Unique Entity ID",
    "Exclusion Program",
    "Excluding Agency",
    "CT Code",
    "Exclusion Type",
    "Additional Comments",
    "Active Date",
    "Termination Date",
    "Record Status",
    "Cross-Reference",
    "SAM Number",
    "CAGE",
    "NPI",
    "Creation_Date",
)

_SAM_STORED = {
    "Classification": (
        "classification",
        f.choice(("INDIVIDUAL", "FIRM", "VESSEL", "SPECIAL ENTITY DESIGNATION")),
        True,
    ),
    "Name": ("name", f.text(200), False),
    "First": ("first", f.text(80), False),
    "Middle": ("middle", f.text(80), False),
    "Last": ("last", f.text(80), False),
    "Address 1": ("address1", f.text(200), False),
    "City": ("city", f.text(80), False),
    "State / Province": ("state", f.text(40), False),
    "Country": ("country", f.text(40), False),
    "Zip Code": ("zip5", f.zip_code, False),
    "Unique Entity ID": ("uei", f.text(20), False),
    "Exclusion Program": ("exclusion_program", f.text(40), False),
    "Excluding Agency": ("excluding_agency", f.text(80), False),
    "Exclusion Type": ("exclusion_type", f.text(60), False),
    "Active Date": ("active_date", f.mdy, True),
    "Termination Date": ("termination_date", f.sam_termination, False),
    "Record Status": ("record_status", f.text(20), False),
    "Cross-Reference": ("cross_reference", f.text(400), False),
    "SAM Number": ("sam_number", f.text(20), False),
    "CAGE": ("cage", f.text(10), False),
    "NPI": ("npi", lambda raw: f.npi(raw) if raw.strip() else None, False),
}


def _sam_rows(r: Record, _ctx: LoadContext) -> list[Row]:
    person = " ".join(p for p in (r["last"], r["first"], r["middle"]) if p)
    values = {k: v for k, v in r.items() if not k.startswith("_")}
    values["name_key"] = f.normalize_name(r["name"] or person)
    values["record_key"] = _digest(
        r["sam_number"] or f.normalize_name(r["name"] or person), r["uei"], r["active_date"]
    )
    return [(m.SamExclusion, values)]


SAM = Dataset(
    name="sam",
    description="SAM.gov exclusions public extract (current 31-column layout).",
    mode="merge",
    columns=tuple(
        _c(h, _SAM_STORED[h][1], _SAM_STORED[h][2], attr=_SAM_STORED[h][0])
        if h in _SAM_STORED
        else _c(h, f.text(4000), attr=f"_{h}")
        for h in SAM_HEADER
    ),
    tables=(m.SamExclusion,),
    key=("sam_number", "name", "last", "first", "uei", "active_date"),
    rows=_sam_rows,
    checks=(_one_of("name", "last"), _dates_ordered("active_date", "termination_date")),
    supplements_allowed=True,
    merge_keys={m.SamExclusion: ("record_key",)},
)

# --- DEA -----------------------------------------------------------------------------------


def _inactive_from_needs_n(r: Record) -> str | None:
    if r.get("inactive_from") and r["active"]:
        return "column inactive_from: only an inactive registration (active N) has one"
    return None


DEA = Dataset(
    name="dea",
    description="DEA registration periods (CSA registrant data as CSV).",
    mode="merge",
    columns=(
        _c("dea_no", f.dea, True),
        _c("bac", f.choice(tuple("ABCDEFGHJKLMNPRSTU")), True),
        _c("bac_sub", f.upper(1)),
        _c("schedules", f.schedules),
        _c("effective_from", f.iso_date),
        _c("expiration_date", f.iso_date, True),
        _c("name", f.text(120), True),
        _c("addl_info", f.text(120)),
        _c("addr1", f.text(120)),
        _c("addr2", f.text(120)),
        _c("city", f.text(60)),
        _c("state", f.state),
        _c("zip", f.zip_code, attr="zip5"),
        _c("active", f.boolean, default=True),
        _c("inactive_from", f.iso_date),
    ),
    tables=(m.DeaRegistration,),
    key=("dea_no", "expiration_date"),
    rows=_plain(m.DeaRegistration),
    checks=(_dates_ordered("effective_from", "expiration_date"), _inactive_from_needs_n),
    merge_keys={m.DeaRegistration: ("dea_no", "expiration_date")},
)

# --- NPPES ---------------------------------------------------------------------------------


def _optional(parse: f.Parser) -> f.Parser:
    return lambda raw: parse(raw) if raw.strip() else None


NPPES = Dataset(
    name="nppes",
    description="NPPES npidata_pfile columns (a subset; the full file's other columns are ignored).",
    mode="replace",
    columns=(
        _c("NPI", f.npi, True, attr="npi"),
        _c("Entity Type Code", _optional(f.choice(("1", "2"))), attr="entity_type"),
        _c("Replacement NPI", _optional(f.npi), attr="replacement_npi", optional_column=True),
        _c("Provider Organization Name (Legal Business Name)", f.text(200), attr="org_name"),
        _c("Provider Last Name (Legal Name)", f.text(80), attr="last_name"),
        _c("Provider First Name", f.text(80), attr="first_name"),
        _c(
            "Provider First Line Business Practice Location Address",
            f.text(120),
            attr="addr1",
            optional_column=True,
        ),
        _c(
            "Provider Business Practice Location Address City Name",
            f.text(60),
            attr="city",
            optional_column=True,
        ),
        _c(
            "Provider Business Practice Location Address State Name",
            f.text(2),
            attr="state",
            optional_column=True,
        ),
        _c(
            "Provider Business Practice Location Address Postal Code",
            f.zip_code,
            attr="zip5",
            optional_column=True,
        ),
        _c(
            "Provider Enumeration Date",
            _optional(f.mdy),
            attr="enumeration_date",
            optional_column=True,
        ),
        _c("NPI Deactivation Reason Code", _optional(f.upper(4)), attr="deactivation_reason"),
        _c("NPI Deactivation Date", _optional(f.mdy), attr="deactivation_date"),
        _c("NPI Reactivation Date", _optional(f.mdy), attr="reactivation_date"),
        _c(
            "Healthcare Provider Taxonomy Code_1",
            f.upper(10),
            attr="taxonomy_primary",
            optional_column=True,
        ),
    ),
    tables=(m.NppesProvider,),
    key=("npi",),
    rows=lambda r, _ctx: [
        (
            m.NppesProvider,
            {**r, "entity_type": int(r["entity_type"]) if r["entity_type"] else None},
        )
    ],
    checks=(_dates_ordered("deactivation_date", "reactivation_date"),),
    extra_columns_allowed=True,
)

# --- 340B OPAIS ----------------------------------------------------------------------------


def _opais_rows(r: Record, _ctx: LoadContext) -> list[Row]:
    npis = [n for n in r.pop("npi_numbers").split("|") if n]
    entity = _none_if_blank(r, "parent_id340b")
    return [(m.OpaisEntity, entity)] + [
        (m.OpaisNpi, {"id340b": r["id340b"], "npi": n}) for n in dict.fromkeys(npis)
    ]


OPAIS = Dataset(
    name="opais",
    description="HRSA 340B OPAIS covered entities and child sites (flattened daily export).",
    mode="replace",
    columns=(
        _c("id340b", f.id340b, True),
        _c("ce_id", f.text(12), True),
        _c("parent_id340b", lambda raw: f.id340b(raw) if raw.strip() else ""),
        _c("entity_type", f.upper(8), True),
        _c("name", f.text(200), True),
        _c("sub_name", f.text(200)),
        _c("participating", f.boolean, True),
        _c("participating_start_date", f.iso_date, True),
        _c("termination_date", f.iso_date),
        _c("termination_reason", f.text(120)),
        _c("medicare_provider_no", f.text(12)),
        _c("grant_no", f.text(20)),
        _c("street", f.text(120)),
        _c("city", f.text(60)),
        _c("state", f.state),
        _c("zip", f.zip_code, attr="zip5"),
        _c("npi_numbers", f.listing(f.npi)),
    ),
    tables=(m.OpaisNpi, m.OpaisEntity),
    key=("id340b",),
    rows=_opais_rows,
    checks=(_dates_ordered("participating_start_date", "termination_date"),),
)

OPAIS_CONTRACT_PHARMACIES = Dataset(
    name="opais_contract_pharmacies",
    description="HRSA 340B OPAIS contract pharmacy registrations of covered entities.",
    mode="replace",
    columns=(
        _c("id340b", f.id340b, True),
        _c("pharmacy_id", f.upper(20), True),
        _c("name", f.text(200), True),
        _c("hin", f.hin),
        _c("dea", f.dea),
        _c("npi", f.npi),
        _c("street", f.text(120)),
        _c("city", f.text(60)),
        _c("state", f.state),
        _c("zip", f.zip_code, attr="zip5"),
        _c("begin_date", f.iso_date, True),
        _c("end_date", f.iso_date),
    ),
    tables=(m.OpaisContractPharmacy,),
    key=("id340b", "pharmacy_id", "begin_date"),
    rows=lambda r, _ctx: [(m.OpaisContractPharmacy, _none_if_blank(r, "hin", "dea", "npi"))],
    checks=(_one_of("hin", "dea", "npi"), _dates_ordered("begin_date", "end_date")),
)

# --- wholesaler DCs ------------------------------------------------------------------------

WHOLESALER_DC = Dataset(
    name="wholesaler_dc",
    description="Wholesaler distribution centers and their distribution services agreements.",
    mode="replace",
    columns=(
        _c("dc_key", f.upper(20), True),
        _c("wholesaler", f.text(120), True),
        _c("dea", f.dea),
        _c("gln", f.gln),
        _c("dsa_start", f.iso_date, True),
        _c("dsa_end", f.iso_date),
        _c("licensed_states", f.listing(f.state)),
        _c("edi_qualifier", f.upper(2), default="ZZ"),
        _c("edi_id", f.text(15)),
    ),
    tables=(m.WholesalerDc,),
    key=("dc_key",),
    rows=lambda r, _ctx: [(m.WholesalerDc, _none_if_blank(r, "dea", "gln", "edi_id"))],
    checks=(_one_of("dea", "gln"), _dates_ordered("dsa_start", "dsa_end")),
)

# --- SAP customer master -------------------------------------------------------------------

#: identifier column -> id_type in cb_sap_customer_id
SAP_ID_COLUMNS = {"hin": "HIN", "dea": "DEA", "gln": "GLN", "npi": "NPI", "id340b": "340B"}


def _sap_rows(r: Record, _ctx: LoadContext) -> list[Row]:
    kna1 = {
        k: r[k]
        for k in (
            "kunnr",
            "name1",
            "name2",
            "stras",
            "ort01",
            "pstlz",
            "regio",
            "land1",
            "telf1",
            "ktokd",
            "stcd1",
            "brsch",
            "aufsd",
            "loevm",
        )
    }
    gln = r["gln"] or ""
    kna1.update(
        mandt=m.SAP_CLIENT, bbbnr=gln[:7], bbsnr=gln[7:12], bubkz=gln[12:], erdat=r["erdat"]
    )
    knb1 = {k: r[k] for k in ("kunnr", "bukrs", "akont", "zterm")}
    knvv = {
        k: r[k] for k in ("kunnr", "vkorg", "vtweg", "spart", "kdgrp", "waers", "zterm", "aufsd")
    }
    knb1["mandt"] = knvv["mandt"] = m.SAP_CLIENT
    ids: list[Row] = [
        (
            m.SapCustomerIdentifier,
            {"mandt": m.SAP_CLIENT, "kunnr": r["kunnr"], "id_type": t, "id_number": r[col]},
        )
        for col, t in SAP_ID_COLUMNS.items()
        if r[col]
    ]
    return [(m.SapKna1, kna1), (m.SapKnb1, knb1), (m.SapKnvv, knvv), *ids]


SAP_CUSTOMERS = Dataset(
    name="sap_customers",
    description="SAP customer master (KNA1 + one KNB1 + one KNVV row) with external IDs.",
    mode="merge",
    columns=(
        _c("kunnr", f.kunnr, True),
        _c("name1", f.text(35), True),
        _c("name2", f.text(35)),
        _c("stras", f.text(60)),
        _c("ort01", f.text(35)),
        _c("pstlz", f.text(10)),
        _c("regio", f.upper(3)),
        _c("land1", f.upper(3), default="US"),
        _c("telf1", f.text(30)),
        _c("ktokd", f.upper(4), default="0001"),
        _c("stcd1", f.text(16)),
        _c("brsch", lambda raw: f.choice(f.CLASSES_OF_TRADE)(raw) if raw.strip() else ""),
        _c("aufsd", f.upper(2)),
        _c("loevm", f.upper(1)),
        _c("erdat", f.iso_date),
        _c("bukrs", f.upper(4), True),
        _c("akont", f.text(10), True),
        _c("zterm", f.upper(4)),
        _c("vkorg", f.upper(4), True),
        _c("vtweg", f.upper(2), True),
        _c("spart", f.upper(2), True),
        _c("kdgrp", f.upper(2)),
        _c("waers", f.upper(5), default="USD"),
        *_IDENTIFIER_COLUMNS,
    ),
    tables=(m.SapCustomerIdentifier, m.SapKnvv, m.SapKnb1, m.SapKna1),
    key=("kunnr",),
    rows=_sap_rows,
    merge_keys={
        m.SapKna1: ("mandt", "kunnr"),
        m.SapKnb1: ("mandt", "kunnr", "bukrs"),
        m.SapKnvv: ("mandt", "kunnr", "vkorg", "vtweg", "spart"),
        m.SapCustomerIdentifier: ("mandt", "id_type", "id_number"),
    },
)

# --- claim-line history --------------------------------------------------------------------

#: run id under which loaded (pre-system) claim history is recorded
LOADED_HISTORY_RUN = "reference"


def _history_rows(r: Record, ctx: LoadContext) -> list[Row]:
    return [
        (
            m.ClaimLineHistory,
            {
                **r,
                "run_id": LOADED_HISTORY_RUN,
                "recorded_at": ctx.loaded_at,
                "resolved_at": ctx.loaded_at,  # every loaded line was decided (and answered)
                "hard_key": hard_key(
                    r["wholesaler_id"],
                    r["invoice_no"],
                    r["invoice_line"],
                    r["ndc11"],
                    r["customer_key"],
                ),
                "soft_key": soft_key(
                    r["wholesaler_id"],
                    r["invoice_no"],
                    r["ndc11"],
                    r["customer_key"],
                    r["invoice_date"],
                    r["quantity"],
                ),
            },
        )
    ]


def _paid_has_quantity(r: Record) -> str | None:
    if r["status"] == "PAID" and r["paid_quantity"] is None:
        return "column paid_quantity: a PAID line needs the quantity that was paid"
    return None


CLAIM_HISTORY = Dataset(
    name="claim_history",
    description="Claim lines processed before this system (duplicate detection input).",
    mode="merge",
    columns=(
        _c("wholesaler_id", f.upper(20), True),
        _c("dm_no", f.upper(40), True),
        _c("dm_date", f.iso_date),
        _c("dm_purpose", f.choice(("00", "05", "CO")), default="00"),
        _c("line_no", f.text(20), True),
        _c("invoice_no", f.upper(40), True),
        _c("invoice_line", f.text(20), True),
        _c("invoice_date", f.iso_date, True),
        _c("ndc11", f.ndc11, True),
        _c("customer_key", f.text(40), True),
        _c("contract_id", f.upper(40)),
        _c("quantity", f.decimal(3, negative=True), True),
        _c("amount", f.decimal(2, negative=True), True),
        _c("status", f.choice(m.LINE_STATUSES), True),
        _c("paid_quantity", f.decimal(3, negative=True)),
        _c("allowed_amount", f.decimal(2, negative=True)),
        _c("response_date", f.iso_date, attr="responded_on"),
    ),
    tables=(m.ClaimLineHistory,),
    key=("dm_no", "line_no"),
    rows=_history_rows,
    checks=(_paid_has_quantity,),
    merge_keys={m.ClaimLineHistory: ("run_id", "dm_no", "line_no")},
)

#: Every dataset, in load order (a dataset comes after those its rows refer to).
DATASETS: Mapping[str, Dataset] = {
    d.name: d
    for d in (
        PRODUCTS,
        WAC,
        CONTRACTS,
        CONTRACT_LINES,
        CONTRACT_ELIGIBILITY,
        GPO_ROSTER,
        LEIE,
        SAM,
        DEA,
        NPPES,
        OPAIS,
        OPAIS_CONTRACT_PHARMACIES,
        WHOLESALER_DC,
        SAP_CUSTOMERS,
        CLAIM_HISTORY,
    )
}


def headers(dataset: Dataset) -> Sequence[str]:
    return [c.header for c in dataset.columns]
