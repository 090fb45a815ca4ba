"""A deterministic, fictitious but realistic reference set for offline chargeback runs.

Everything here is invented: facilities, people, numbers. Identifiers carry *valid* check
digits (NPI Luhn over 80840, DEA checksum, GLN mod 10) because the intake step pre-filters on
them, and a demo where every customer fails R04 would show nothing. The same seed always
gives the same bytes (no clock, no hash order), so the shipped ``data/`` folder can be
regenerated and diffed.

On top of the random population the set always contains:

- the parties and contract of ``shared/domain/examples/844_example.edi`` (St Elsewhere General
  Hospital, Riverbend Community Clinic, contract NWP-GPO-00117, DC RA7301194) and the earlier
  paid line of DM0301240007, so the example claim resolves exactly as its 849 says;
- one planted case per edge case of brief §9 that reference data decides (reinstated LEIE
  exclusion, DEA expired then renewed, deactivated NPI, member of another GPO, roster end
  mid-month, WAC rise mid-period, contract price >= WAC, 340B DSH on a GPO contract, child
  340B site, a DEA retired after a sale, a DC whose DSA ended, a contract not started yet, a
  per-line quantity cap and a customer's usual quantity, a 340B child site on a 340B contract,
  a DEA registration that fails the check-digit formula, identifiers nobody was assigned, a
  contract with its own claim window, a contract priced by tier only, a tribal health center
  known only by its 340B ID, a 340B contract pharmacy and two lines rejected by 849s of known
  dates);
  ``PLANTED`` lists them for tests and demos. Cases added later draw no random numbers
  (``World._planted_rows``), so a seed's random rows stay byte for byte what they were.
"""

from __future__ import annotations

import csv
import random
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from processors.chargeback.identifiers import (
    ID340B_PREFIXES,
    dea_check_digit,
    gs1_check_digit,
    luhn_valid,
)
from processors.chargeback.reference.datasets import DATASETS, LEIE_HEADER, SAM_HEADER, headers

LABELER = "12345"
LABELER_NAME = "NORTHWIND PHARMACEUTICALS INC"
AS_OF = date(2024, 3, 15)  # the shipped set describes the world on this day

CITIES = (
    ("COLUMBUS", "OH", "432"),
    ("DAYTON", "OH", "454"),
    ("SPRINGFIELD", "OH", "455"),
    ("INDIANAPOLIS", "IN", "462"),
    ("LOUISVILLE", "KY", "402"),
    ("NASHVILLE", "TN", "372"),
    ("PITTSBURGH", "PA", "152"),
    ("CHARLOTTE", "NC", "282"),
    ("RICHMOND", "VA", "232"),
    ("ATLANTA", "GA", "303"),
    ("BIRMINGHAM", "AL", "352"),
    ("DETROIT", "MI", "482"),
    ("MILWAUKEE", "WI", "532"),
    ("CHICAGO", "IL", "606"),
    ("ST LOUIS", "MO", "631"),
    ("OMAHA", "NE", "681"),
    ("DENVER", "CO", "802"),
    ("PHOENIX", "AZ", "850"),
    ("BOISE", "ID", "837"),
    ("PORTLAND", "OR", "972"),
    ("SACRAMENTO", "CA", "958"),
    ("AUSTIN", "TX", "787"),
    ("TULSA", "OK", "741"),
    ("LITTLE ROCK", "AR", "722"),
    ("BATON ROUGE", "LA", "708"),
    ("TAMPA", "FL", "336"),
    ("COLUMBIA", "SC", "292"),
    ("BALTIMORE", "MD", "212"),
    ("ALBANY", "NY", "122"),
    ("DES MOINES", "IA", "503"),
)
PLACES = (
    "OAK HOLLOW",
    "CEDAR RIDGE",
    "MAPLE GROVE",
    "WILLOW CREEK",
    "PINE VALLEY",
    "SILVER LAKE",
    "EAGLE ROCK",
    "FOX RUN",
    "STONEBRIDGE",
    "BRIGHTWATER",
    "HIGHLAND",
    "LAKESIDE",
    "MEADOWBROOK",
    "NORTHFIELD",
    "SUNRISE",
    "CLEARVIEW",
    "GREEN MEADOW",
    "HILLCREST",
    "RIDGEWAY",
    "ASHFORD",
    "BLUE HERON",
    "CANYON VIEW",
    "DEER PARK",
    "ELM HAVEN",
    "FAIRMONT",
    "GLENWOOD",
    "HARBOR POINT",
    "IRONWOOD",
    "JUNIPER",
    "KINGSLEY",
    "LAUREL",
    "MILLBROOK",
    "NEWCASTLE",
    "ORCHARD",
    "PRAIRIE",
    "QUARRY HILL",
    "REDSTONE",
    "SPRUCE",
    "TIMBERLINE",
    "VALLEY FORGE",
    "WESTBROOK",
    "YARROW",
    "BRIAR CLIFF",
    "COPPER CREEK",
    "DRIFTWOOD",
)
STREETS = (
    "MAIN",
    "OAK",
    "ELM",
    "MAPLE",
    "LAKE",
    "HILL",
    "PARK",
    "RIVER",
    "CEDAR",
    "PINE",
    "CHURCH",
    "MILL",
    "SPRING",
    "CENTER",
    "HOSPITAL",
    "COLLEGE",
    "MARKET",
    "UNION",
)
STREET_KINDS = ("ST", "AVE", "RD", "DR", "BLVD", "PKWY", "WAY")
SURNAMES = (
    "HARTLEY",
    "OKAFOR",
    "LINDQVIST",
    "BRANNIGAN",
    "DESAI",
    "MORCOMBE",
    "TALLIS",
    "VOSS",
    "QUINLAN",
    "ABERNATHY",
    "FENWICK",
    "GALLOWAY",
    "IVERSEN",
    "KOWALCZYK",
)
FIRST_NAMES = (
    "ALDEN",
    "BRIONY",
    "CASIMIR",
    "DELPHINE",
    "EZRA",
    "FARRAH",
    "GIDEON",
    "HOLLIS",
    "INGRID",
    "JASPER",
    "KESTREL",
    "LIONEL",
    "MARISOL",
    "NOLAN",
)

#: kind -> (class of trade, DEA business activity, DEA first letter, name suffixes, weight)
FACILITY_KINDS: Mapping[str, tuple[str, str, str, tuple[str, ...], int]] = {
    "hospital": (
        "HOSP_ACUTE",
        "B",
        "B",
        ("REGIONAL MEDICAL CENTER", "COMMUNITY HOSPITAL", "GENERAL HOSPITAL"),
        18,
    ),
    "childrens": ("HOSP_CHILD", "B", "B", ("CHILDRENS HOSPITAL",), 3),
    "cah": ("HOSP_CAH", "B", "B", ("CRITICAL ACCESS HOSP", "COUNTY HOSPITAL"), 5),
    "clinic": ("CLINIC", "B", "B", ("COMMUNITY CLINIC", "MEDICAL GROUP", "HEALTH CLINIC"), 16),
    "office": ("PHYS_OFFICE", "C", "F", ("FAMILY PRACTICE", "INTERNAL MEDICINE"), 8),
    "asc": ("ASC", "B", "B", ("SURGERY CENTER",), 5),
    "ltc": ("LTC", "B", "B", ("CARE CENTER", "NURSING AND REHAB"), 6),
    "retail": ("RETAIL_PHARM", "A", "A", ("PHARMACY", "DRUG"), 14),
    "chain": ("CHAIN_PHARM", "A", "A", ("PHARMACY #",), 8),
    "specialty": ("SPECIALTY_PHARM", "A", "A", ("SPECIALTY PHARMACY",), 5),
    "dialysis": ("DIALYSIS", "B", "B", ("DIALYSIS CENTER",), 4),
    "fqhc": ("CLINIC", "B", "B", ("HEALTH CENTER",), 8),
}

#: Controlled schedules the brief names; most products are not controlled.
PRODUCT_FORMS = (
    ("NORTHAZOLE", "20 MG TABLET", None),
    ("CARDIVANT", "40 MG TABLET", None),
    ("PULMORIX", "250 MCG INHALER", None),
    ("GLYCENDA", "500 MG ER TABLET", None),
    ("NEUROFEN-X", "100 MG CAPSULE", None),
    ("ONCOVELT", "100 MG/10 ML VIAL", None),
    ("HEPARIN NWP", "5000 UNIT/ML VIAL", None),
    ("CEFTRIVANE", "1 G VIAL", None),
    ("VANCOREX", "500 MG VIAL", None),
    ("ONDARIS", "4 MG/2 ML VIAL", None),
    ("ENOXARIN", "40 MG/0.4 ML SYRINGE", None),
    ("PANTOLEX", "40 MG VIAL", None),
    ("DEXAMORE", "10 MG/ML VIAL", None),
    ("INSULARA", "100 UNIT/ML PEN", None),
    ("RITUVANCE", "500 MG/50 ML VIAL", None),
    ("ZOLEDRAX", "4 MG/5 ML VIAL", None),
    ("OXYNORTH ER", "10 MG TABLET", "2"),
    ("HYDROVANE", "5 MG/325 MG TABLET", "2"),
    ("FENTARIS", "50 MCG/ML AMPULE", "2"),
    ("METHYLARA", "18 MG ER TABLET", "2"),
    ("DRONABOL", "2.5 MG CAPSULE", "3"),
    ("KETALEX", "50 MG/ML VIAL", "3N"),
    ("TESTORAN", "200 MG/ML VIAL", "3N"),
    ("ALPRANOVA", "0.5 MG TABLET", "4"),
    ("ZOLPIVANE", "10 MG TABLET", "4"),
    ("MIDAZERIN", "5 MG/ML VIAL", "4"),
    ("PREGALIN NW", "75 MG CAPSULE", "5"),
    ("LACOSARIN", "200 MG TABLET", "5"),
)

GPOS = (
    ("GPO-MRD", "MERIDIAN HEALTH PURCHASING"),
    ("GPO-KST", "KEYSTONE SOURCING ALLIANCE"),
    ("GPO-SMT", "SUMMIT PROCUREMENT GROUP"),
    ("GPO-HBR", "HARBOR CARE COOPERATIVE"),
)
HOSPITAL_COT = ("HOSP_ACUTE", "HOSP_CHILD", "HOSP_CAH")
PHARMACY_COT = ("RETAIL_PHARM", "CHAIN_PHARM", "SPECIALTY_PHARM", "MAIL_ORDER")
ALL_SCHEDULES = "2 2N 3 3N 4 5"


def npi_with_check(payload9: str) -> str:
    return payload9 + next(d for d in "0123456789" if luhn_valid("80840" + payload9 + d))


def dea_with_check(prefix2: str, digits6: str) -> str:
    return f"{prefix2}{digits6}{dea_check_digit(digits6)}"


def gln_with_check(payload12: str) -> str:
    return payload12 + str(gs1_check_digit(payload12))


#: The planted edge cases: name -> what to look up (ids are fixed, whatever the seed).
PLANTED: Mapping[str, Mapping[str, str]] = {
    "example_hospital": {
        "kunnr": "0000100001",
        "dea": "BS4182301",
        "hin": "A1B2C3D00",
        "gln": "1234567890128",
    },
    "example_clinic": {"kunnr": "0000100002", "dea": "FR5529017", "hin": "R7K2M9P00"},
    "leie_reinstated": {
        "kunnr": "0000100003",
        "npi": npi_with_check("151829374"),
        "excldate": "2021-01-10",
        "reindate": "2023-05-01",
    },
    "dea_renewed": {
        "kunnr": "0000100004",
        "dea": dea_with_check("AM", "392615"),
        "expired": "2024-02-29",
        "renewed": "2024-03-11",
    },
    "npi_deactivated": {
        "kunnr": "0000100005",
        "npi": npi_with_check("163917284"),
        "deactivated": "2023-11-30",
    },
    "other_gpo_member": {"kunnr": "0000100006", "hin": "K4T8W2Q00", "gpo": "GPO-KST"},
    "roster_ends_mid_month": {"kunnr": "0000100007", "hin": "M3N5B7V00", "end": "2024-03-15"},
    "dsh_340b": {"kunnr": "0000100008", "id340b": "DSH360112", "contract": "NWP-GPO-00117"},
    "child_site_340b": {"kunnr": "0000100009", "id340b": "BL03074A", "parent": "BL030740"},
    "sam_excluded": {
        "kunnr": "0000100010",
        "npi": npi_with_check("178063452"),
        "active": "2023-09-05",
    },
    "wac_rise": {"ndc11": "12345045610", "rise": "2024-03-01"},
    "price_above_wac": {"ndc11": "12345078920", "contract": "NWP-GPO-00117"},
    # planted after the random world is drawn (World._planted_rows and in-place settings that
    # draw nothing), so adding one never reshuffles the random rows of a seed
    "dea_retired": {
        "kunnr": "0000100007",
        "dea": dea_with_check("BH", "772051"),
        "inactive_from": "2024-03-10",
        "ndc11": "12345019450",  # FENTARIS, C-II, on NWP-GPO-00117
    },
    "dc_dsa_ended": {
        "dc_key": "HEARTLAND-DC09",
        "dea": dea_with_check("RH", "518027"),
        "gln": gln_with_check("036000518027"),
        "dsa_end": "2024-02-29",
        "licensed_states": "OH",
    },
    "contract_not_started": {"contract": "NWP-GPO-00200", "start": "2024-04-01"},
    "quantity_cap": {
        "contract": "NWP-GPO-00117",
        "ndc11": "12345678901",  # CARDIVANT 40 MG TABLET, a bottle of 100
        "package_size": "100",
        "qty_cap": "50",
    },
    "usual_quantity": {"kunnr": "0000100001", "ndc11": "12345678901", "quantities": "8 10 12 10"},
    "child_site_340b_member": {"kunnr": "0000100009", "contract": "NWP-340B-00001"},
    # R15: a contract that sets its own claim window, shorter than the default 180 days
    "contract_claim_window": {"contract": "NWP-340B-00001", "days": "90"},
    # §3.5: a tribal health center whose 340B ID has a prefix intake did not know (FQHC638),
    # known by that ID alone, a member of the 340B contract
    "tribal_fqhc_340b": {
        "kunnr": "0000100012",
        "id340b": "FQHC63800042",
        "contract": "NWP-340B-00001",
        "since": "2020-01-01",
    },
    # §3.3, §4.5: a retail pharmacy (a customer in its own right) registered in OPAIS as a
    # contract pharmacy of the 340B child site from a day in 2024, under a HIN of that
    # relationship; claims name it with that HIN, its DEA and the entity's 340B ID
    "contract_pharmacy_340b": {
        "kunnr": "0000100013",
        "covered_entity": "BL03074A",
        "pharmacy_id": "CP10731",
        "own_hin": "S8N4R2P00",
        "hin": "B3S8N4R00",
        "dea": dea_with_check("AS", "731104"),
        "registered": "2024-01-01",
    },
    # R11: a contract that prices the example's tablet by tier only (tier price pairs); on
    # GPO-MRD's roster the example clinic has no tier (only hospitals draw one; the example
    # hospital drew tier 3 with seed 844)
    "tiered_contract": {
        "contract": "NWP-GPO-00201",
        "ndc11": "12345678901",
        "prices": "1 80.00 2 78.00 3 76.00",
    },
    # §1.4: lines of the example hospital rejected by 849s of these dates, one resubmitted
    # within the 90-day limit by a debit memo of 2024-03-15, one past it
    "resubmission_limit": {
        "kunnr": "0000100001",
        "ndc11": "12345678901",
        "quantity": "10",
        "within": "INVRSB0001 2024-01-10 2024-01-12 2024-01-19",
        "late": "INVRSB0002 2023-09-20 2023-09-30 2023-10-10",
    },
    # §9.10: DEA issued this number though it fails the check-digit formula (8, the formula
    # gives 3); the clinic joined GPO-MRD before its registration took effect
    "dea_off_formula": {
        "kunnr": "0000100011",
        "dea": "BO6152038",
        "registered": "2023-10-01",
        "gpo": "GPO-MRD",
        "member_since": "2023-09-01",
    },
    # §9.10: identifiers in no dataset at all, one failing its check digit, three passing it
    "unassigned_ids": {
        "dea_off_formula": "FG2750416",
        "dea": dea_with_check("FS", "804417"),
        "npi": npi_with_check("190844010"),
        "npi_other": npi_with_check("190844028"),
    },
}

EXAMPLE_CONTRACT = "NWP-GPO-00117"
#: how long after its debit memo the history's lines were answered (the brief's 849 SLA is
#: 10 business days)
ANSWERED_AFTER = timedelta(days=7)
EXAMPLE_DC = {"dc_key": "ACME-DC012", "dea": "RA7301194", "edi_id": "ACMEDRUG012"}


def _money(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@dataclass
class Customer:
    kunnr: str
    name: str
    kind: str
    cot: str
    street: str
    city: str
    state: str
    zip: str
    hin: str = ""
    dea: str = ""
    gln: str = ""
    npi: str = ""
    id340b: str = ""
    in_sap: bool = True
    fixed: bool = False  # planted: deterministic whatever the seed, free of random defects
    gpos: list[str] = field(default_factory=list)


class World:
    """Builds every dataset as rows of strings; ``write`` puts them on disk."""

    def __init__(self, seed: int, customers: int = 400, roster_only: int = 1700) -> None:
        self.rng = random.Random(seed)
        self.used: set[str] = set()
        self.customers: list[Customer] = []
        self.tables: dict[str, list[dict[str, str]]] = {name: [] for name in DATASETS}
        self.leie_files: dict[str, list[dict[str, str]]] = {}
        self.products: list[dict[str, str]] = []
        self.wac: dict[str, list[tuple[date, date | None, Decimal]]] = {}
        self._planted_customers()
        for i in range(customers - len(self.customers)):
            self.customers.append(self._random_customer(f"{100101 + i:010d}", in_sap=True))
        for i in range(roster_only):
            self.customers.append(self._random_customer(f"R{700001 + i}", in_sap=False))
        self._products()
        self._contracts()
        self._rosters()
        self._sap()
        self._dea()
        self._nppes()
        self._opais()
        self._leie()
        self._sam()
        self._wholesalers()
        self._history()
        self._planted_rows()

    # --- identifiers -----------------------------------------------------------------------

    def _unique(self, make: Any) -> str:
        while True:
            value: str = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def new_npi(self) -> str:
        return self._unique(
            lambda: npi_with_check("1" + "".join(self.rng.choices(string.digits, k=8)))
        )

    def new_dea(self, letter: str, name: str) -> str:
        second = next((c for c in name if c.isalpha()), "9")
        return self._unique(
            lambda: dea_with_check(letter + second, "".join(self.rng.choices(string.digits, k=6)))
        )

    def new_gln(self) -> str:
        return self._unique(
            lambda: gln_with_check("03" + "".join(self.rng.choices(string.digits, k=10)))
        )

    def new_hin(self) -> str:
        alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ23456789"
        return self._unique(lambda: "".join(self.rng.choices(alphabet, k=7)) + "00")

    # --- customers -------------------------------------------------------------------------

    def _address(self) -> tuple[str, str, str, str]:
        city, state, prefix = self.rng.choice(CITIES)
        street = f"{self.rng.randint(1, 9899)} {self.rng.choice(STREETS)} {self.rng.choice(STREET_KINDS)}"
        return street, city, state, prefix + f"{self.rng.randint(1, 99):02d}"

    def _random_customer(self, kunnr: str, *, in_sap: bool) -> Customer:
        kinds = list(FACILITY_KINDS)
        kind = self.rng.choices(kinds, weights=[FACILITY_KINDS[k][4] for k in kinds])[0]
        cot, _bac, letter, suffixes, _w = FACILITY_KINDS[kind]
        street, city, state, zip_ = self._address()
        place = self.rng.choice(PLACES)
        suffix = self.rng.choice(suffixes)
        if suffix.endswith("#"):
            name = f"{place} {suffix}{self.rng.randint(100, 9999)}"
        elif kind == "office":
            name = f"{self.rng.choice(SURNAMES)} {suffix}"
        else:
            name = f"{place} {suffix}"
        name = name[:35]
        customer = Customer(kunnr, name, kind, cot, street, city, state, zip_)
        customer.hin = self.new_hin()
        customer.dea = self.new_dea(letter, name)
        customer.npi = self.new_npi()
        if self.rng.random() < 0.6:
            customer.gln = self.new_gln()
        if kind == "fqhc" or (kind == "hospital" and self.rng.random() < 0.25):
            prefix = "CH" if kind == "fqhc" else "DSH"
            digits = 5 if kind == "fqhc" else 6
            customer.id340b = self._unique(
                lambda: prefix + "".join(self.rng.choices(string.digits, k=digits))
            )
        customer.in_sap = in_sap
        return customer

    def _fixed(
        self, kunnr: str, name: str, kind: str, address: tuple[str, str, str, str], **ids: str
    ) -> Customer:
        customer = Customer(kunnr, name, kind, FACILITY_KINDS[kind][0], *address, fixed=True)
        for key, value in ids.items():
            setattr(customer, key, value)
            self.used.add(value)
        if not customer.npi:
            customer.npi = self.new_npi()
        if not customer.hin:
            customer.hin = self.new_hin()
        self.customers.append(customer)
        return customer

    def _planted_customers(self) -> None:
        p = PLANTED
        hospital = p["example_hospital"]
        self._fixed(
            "0000100001",
            "ST ELSEWHERE GENERAL HOSPITAL",
            "hospital",
            ("1 HOSPITAL DR", "SPRINGFIELD", "OH", "45501"),
            dea=hospital["dea"],
            hin=hospital["hin"],
            gln=hospital["gln"],
        )
        self._fixed(
            "0000100002",
            "RIVERBEND COMMUNITY CLINIC",
            "clinic",
            ("22 RIVER RD", "DAYTON", "OH", "45402"),
            dea=p["example_clinic"]["dea"],
            hin=p["example_clinic"]["hin"],
        )
        self._fixed(
            "0000100003",
            "BLUE RIVER PHARMACY",
            "retail",
            ("410 MARKET ST", "COLUMBUS", "OH", "43215"),
            npi=p["leie_reinstated"]["npi"],
            dea=dea_with_check("AB", "518293"),
        )
        self._fixed(
            "0000100004",
            "MAPLE GROVE PHARMACY",
            "retail",
            ("88 MAPLE AVE", "DAYTON", "OH", "45409"),
            dea=p["dea_renewed"]["dea"],
        )
        self._fixed(
            "0000100005",
            "CEDAR RIDGE FAMILY PRACTICE",
            "office",
            ("12 CEDAR DR", "COLUMBUS", "OH", "43220"),
            npi=p["npi_deactivated"]["npi"],
            dea=dea_with_check("FC", "391728"),
        )
        self._fixed(
            "0000100006",
            "LAKESIDE SURGERY CENTER",
            "asc",
            ("9 LAKE ST", "LOUISVILLE", "KY", "40202"),
            hin=p["other_gpo_member"]["hin"],
            dea=dea_with_check("BL", "604418"),
        )
        self._fixed(
            "0000100007",
            "HILLCREST CARE CENTER",
            "ltc",
            ("300 HILL RD", "INDIANAPOLIS", "IN", "46204"),
            hin=p["roster_ends_mid_month"]["hin"],
            dea=dea_with_check("BH", "772051"),
        )
        self._fixed(
            "0000100008",
            "MERIDIAN VALLEY MEDICAL CENTER",
            "hospital",
            ("1200 PARK BLVD", "DAYTON", "OH", "45417"),
            id340b=p["dsh_340b"]["id340b"],
            dea=dea_with_check("BM", "250913"),
            gln=gln_with_check("036000291452"),
        )
        self._fixed(
            "0000100009",
            "BRIGHTWATER HEALTH CENTER EAST",
            "fqhc",
            ("75 SPRING ST", "COLUMBUS", "OH", "43206"),
            id340b=p["child_site_340b"]["id340b"],
            dea=dea_with_check("BB", "847316"),
        )
        self._fixed(
            "0000100010",
            "FOX RUN SPECIALTY PHARMACY",
            "specialty",
            ("5 FOX RUN WAY", "NASHVILLE", "TN", "37203"),
            npi=p["sam_excluded"]["npi"],
            dea=dea_with_check("AF", "630472"),
        )
        self.used.add(PLANTED["child_site_340b"]["parent"])

    # --- products, prices, contracts -------------------------------------------------------

    def _products(self) -> None:
        fixed = {
            "12345678901": ("CARDIVANT", "40 MG TABLET 100CT", None),
            "12345067810": ("ONCOVELT", "100 MG/10 ML VIAL", None),
            PLANTED["wac_rise"]["ndc11"]: ("PULMORIX", "250 MCG INHALER", None),
            PLANTED["price_above_wac"]["ndc11"]: ("HEPARIN NWP", "5000 UNIT/ML VIAL 10X1ML", None),
        }
        ndcs: dict[str, tuple[str, str, str | None]] = dict(fixed)
        for brand, form, schedule in PRODUCT_FORMS:
            for _ in range(self.rng.choice((1, 1, 2))):
                ndc = self._unique(lambda: LABELER + self._product_code())
                ndcs[ndc] = (brand, form, schedule)
        capped = PLANTED["quantity_cap"]
        for ndc, (brand, form, schedule) in sorted(ndcs.items()):
            package = (
                Decimal(self.rng.choice((1, 10, 25, 30, 100)))
                if "TABLET" in form or "CAPSULE" in form
                else Decimal(1)
            )
            if ndc == capped["ndc11"]:  # its label says 100CT: the draw above is discarded
                package = Decimal(capped["package_size"])
            label = (
                f"{ndc[:5]}-{ndc[6:9]}-{ndc[9:]}"
                if ndc[5] == "0"
                else f"{ndc[:5]}-{ndc[5:9]}-{ndc[10]}"
            )
            self.products.append(
                {
                    "ndc11": ndc,
                    "ndc10_label": label,
                    "labeler": LABELER_NAME,
                    "description": f"{brand} {form}",
                    "package_size": str(package),
                    "uom": "EA",
                    "dea_schedule": schedule or "",
                    "active_from": "2019-01-01",
                    "active_to": "",
                }
            )
            self.wac[ndc] = self._wac_periods(ndc)
        self.tables["products"] = self.products
        for ndc, periods in sorted(self.wac.items()):
            for start, end, price in periods:
                self.tables["wac"].append(
                    {
                        "ndc11": ndc,
                        "wac": str(price),
                        "effective_from": start.isoformat(),
                        "effective_to": end.isoformat() if end else "",
                    }
                )

    def _product_code(self) -> str:
        """5-3-2 labels pad the product, 5-4-1 labels pad the package: both occur."""
        if self.rng.random() < 0.5:
            return (
                "0"
                + "".join(self.rng.choices(string.digits, k=3))
                + "".join(self.rng.choices(string.digits, k=2))
            )
        return (
            "".join(self.rng.choices("123456789", k=1) + self.rng.choices(string.digits, k=3))
            + "0"
            + self.rng.choice(string.digits)
        )

    def _wac_periods(self, ndc: str) -> list[tuple[date, date | None, Decimal]]:
        fixed = {
            "12345678901": [
                (date(2022, 1, 1), Decimal("112.00")),
                (date(2023, 1, 1), Decimal("118.00")),
                (date(2024, 1, 1), Decimal("125.00")),
            ],
            "12345067810": [
                (date(2022, 7, 1), Decimal("289.00")),
                (date(2023, 7, 1), Decimal("310.00")),
            ],
            PLANTED["wac_rise"]["ndc11"]: [
                (date(2023, 1, 1), Decimal("64.00")),
                (date(2024, 3, 1), Decimal("69.50")),
            ],
            PLANTED["price_above_wac"]["ndc11"]: [
                (date(2022, 1, 1), Decimal("18.40")),
                (date(2024, 1, 1), Decimal("14.90")),
            ],
        }.get(ndc)
        if fixed is None:
            price = _money(Decimal(self.rng.randint(1500, 90000)) / 100)
            fixed = []
            for year in (2022, 2023, 2024):
                fixed.append((date(year, self.rng.choice((1, 7)), 1), price))
                price = _money(price * (1 + Decimal(self.rng.randint(2, 9)) / 100))
        periods = []
        for i, (start, price) in enumerate(fixed):
            end = fixed[i + 1][0] - timedelta(days=1) if i + 1 < len(fixed) else None
            periods.append((start, end, price))
        return periods

    def wac_at(self, ndc: str, day: date) -> Decimal:
        return next(p for s, e, p in self.wac[ndc] if s <= day and (e is None or day <= e))

    def _contracts(self) -> None:
        contracts = self.tables["contracts"]
        lines = self.tables["contract_lines"]
        ndcs = [p["ndc11"] for p in self.products]
        # the example's contract
        contracts.append(
            self._contract(
                EXAMPLE_CONTRACT,
                "GPO-MRD",
                "GPO",
                date(2023, 7, 1),
                date(2025, 6, 30),
                "ACTIVE",
                HOSPITAL_COT + ("CLINIC", "PHYS_OFFICE", "ASC", "LTC"),
            )
        )
        example_prices = {
            "12345678901": Decimal("82.50"),
            "12345067810": Decimal("255.75"),
            PLANTED["wac_rise"]["ndc11"]: Decimal("48.00"),
            PLANTED["price_above_wac"]["ndc11"]: Decimal("15.25"),
        }
        capped = PLANTED["quantity_cap"]
        for ndc, price in example_prices.items():
            cap = capped["qty_cap"] if ndc == capped["ndc11"] else ""
            lines.append(
                self._line(
                    EXAMPLE_CONTRACT, ndc, "", price, date(2023, 7, 1), date(2025, 6, 30), cap
                )
            )
        for ndc in self.rng.sample([n for n in ndcs if n not in example_prices], 10):
            lines.append(
                self._line(
                    EXAMPLE_CONTRACT, ndc, "", self._price(ndc), date(2023, 7, 1), date(2025, 6, 30)
                )
            )
        number = 118
        for gpo, _name in GPOS:
            for program, cots in (
                ("PHARMACY", HOSPITAL_COT + ("CLINIC", "PHYS_OFFICE", "ASC", "LTC", "DIALYSIS")),
                ("PHARMACY", PHARMACY_COT),
                ("MED_SURG", HOSPITAL_COT + ("ASC",)),
            ):
                for (
                    start,
                    end,
                    status,
                ) in self._contract_terms():  # an expired term, then the current one
                    cid = f"NWP-GPO-{number:05d}"
                    number += 1
                    contracts.append(
                        self._contract(cid, gpo, "GPO", start, end, status, cots, program)
                    )
                    tiered = self.rng.random() < 0.4
                    for ndc in self.rng.sample(ndcs, self.rng.randint(6, 16)):
                        for tier in ("1", "2", "3") if tiered else ("",):
                            lines.append(
                                self._line(cid, ndc, tier, self._price(ndc, tier), start, end)
                            )
        for kind, prefix, count in (
            ("IDN", "IDN", 6),
            ("DIRECT", "DIR", 4),
            ("340B", "340B", 2),
            ("FSS", "FSS", 1),
        ):
            for i in range(count):
                cid = f"NWP-{prefix}-{i + 1:05d}"
                start, end, status = self._contract_terms()[-1]
                allowed = (
                    ("GOV_FED",) if kind == "FSS" else (*HOSPITAL_COT, "CLINIC", *PHARMACY_COT)
                )
                contracts.append(self._contract(cid, "", kind, start, end, status, allowed))
                for ndc in self.rng.sample(ndcs, self.rng.randint(4, 10)):
                    lines.append(self._line(cid, ndc, "", self._price(ndc), start, end))
                pool = [
                    c
                    for c in self.customers
                    if c.in_sap and not c.fixed and (kind != "340B" or c.id340b)
                ]
                members = self.rng.sample(pool, min(5, len(pool)))  # small test worlds
                for member in members:
                    self.tables["contract_eligibility"].append(
                        {
                            "contract_id": cid,
                            "kunnr": member.kunnr,
                            "tier": "",
                            "start_date": start.isoformat(),
                            "end_date": "",
                        }
                    )

    def _contract_terms(self) -> list[tuple[date, date, str]]:
        """An expired term and the current one (2-3 years around today); a few current terms
        are terminated or void."""
        start = date(self.rng.choice((2022, 2023)), self.rng.choice((1, 4, 7, 10)), 1)
        end = date(start.year + self.rng.choice((2, 3)), start.month, 1) - timedelta(days=1)
        status = self.rng.choices(("ACTIVE", "TERMINATED", "VOID"), weights=(20, 2, 1))[0]
        previous = date(start.year - 2, start.month, 1)
        return [(previous, start - timedelta(days=1), "ACTIVE"), (start, end, status)]

    @staticmethod
    def _contract(
        cid: str,
        gpo: str,
        kind: str,
        start: date,
        end: date,
        status: str,
        cots: Sequence[str],
        program: str = "PHARMACY",
    ) -> dict[str, str]:
        mode = "INDIRECT" if kind in ("GPO", "340B") else "BOTH"
        return {
            "contract_id": cid,
            "gpo_id": gpo,
            "contract_type": kind,
            "mode": mode,
            "program": program,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "status": status,
            "allowed_cot": "|".join(cots),
        }

    @staticmethod
    def _line(
        cid: str, ndc: str, tier: str, price: Decimal, start: date, end: date, cap: str = ""
    ) -> dict[str, str]:
        return {
            "contract_id": cid,
            "ndc11": ndc,
            "tier": tier,
            "contract_price": str(price),
            "qty_cap": cap,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        }

    def _price(self, ndc: str, tier: str = "") -> Decimal:
        wac = self.wac[ndc][-1][2]
        discount = Decimal(self.rng.randint(15, 45)) / 100 + (
            Decimal(int(tier or 1) - 1) * Decimal("0.03")
        )
        return _money(wac * (1 - discount))

    # --- rosters ---------------------------------------------------------------------------

    def _rosters(self) -> None:
        p = PLANTED
        special: dict[str, list[tuple[str, date, date | None]]] = {
            "0000100001": [("GPO-MRD", date(2020, 1, 1), None)],
            "0000100002": [("GPO-MRD", date(2021, 4, 1), None)],
            "0000100006": [(p["other_gpo_member"]["gpo"], date(2020, 7, 1), None)],
            "0000100007": [
                (
                    "GPO-MRD",
                    date(2019, 1, 1),
                    date.fromisoformat(p["roster_ends_mid_month"]["end"]),
                ),
                ("GPO-HBR", date(2024, 3, 15), None),
            ],
            "0000100008": [("GPO-MRD", date(2018, 1, 1), None)],
            **{
                k: [("GPO-MRD", date(2019, 1, 1), None)]
                for k in ("0000100003", "0000100004", "0000100005", "0000100009", "0000100010")
            },
        }
        member = 0
        for customer in self.customers:
            periods = special.get(customer.kunnr)
            if periods is None:
                periods = self._random_memberships(customer)
            for gpo, start, end in periods:
                member += 1
                tier = self.rng.choice(("1", "2", "3")) if customer.cot in HOSPITAL_COT else ""
                self._roster_row(customer, gpo, member, gpo == periods[0][0], tier, start, end)

    def _roster_row(
        self,
        customer: Customer,
        gpo: str,
        member: int,
        primary: bool,
        tier: str,
        start: date,
        end: date | None,
    ) -> None:
        customer.gpos.append(gpo)
        self.tables["gpo_roster"].append(
            {
                "gpo_id": gpo,
                "gpo_member_id": f"{gpo[4:]}{member:06d}",
                "parent_member_id": "",
                "facility_name": customer.name,
                "addr1": customer.street,
                "city": customer.city,
                "state": customer.state,
                "zip": customer.zip,
                "hin": customer.hin,
                "dea": customer.dea,
                "gln": customer.gln,
                "npi": customer.npi,
                "id340b": customer.id340b,
                "class_of_trade": customer.cot,
                "primary_gpo_flag": "Y" if primary else "N",
                "tier": tier,
                "contract_program": "PHARMACY",
                "membership_start_date": start.isoformat(),
                "membership_end_date": end.isoformat() if end else "",
            }
        )

    def _random_memberships(self, customer: Customer) -> list[tuple[str, date, date | None]]:
        roll = self.rng.random()
        if customer.in_sap and roll < 0.08:
            return []  # not a GPO member: buys on direct/IDN contracts or not at all
        gpo = self.rng.choice(GPOS)[0]
        start = date(self.rng.randint(2017, 2023), self.rng.randint(1, 12), 1)
        if roll < 0.25:  # switched GPO on some day of a month
            switch = start + timedelta(days=self.rng.randint(200, 1500))
            other = self.rng.choice([g for g, _ in GPOS if g != gpo])
            if switch < AS_OF:
                return [(gpo, start, switch), (other, switch, None)]
        if roll < 0.32:  # left and did not come back
            return [(gpo, start, start + timedelta(days=self.rng.randint(180, 900)))]
        return [(gpo, start, None)]

    # --- SAP customer master ---------------------------------------------------------------

    def _sap(self) -> None:
        self.tables["sap_customers"].extend(
            _sap_row(c, "2019-01-02") for c in self.customers if c.in_sap
        )

    # --- federal databases -----------------------------------------------------------------

    def _dea(self) -> None:
        renewed = PLANTED["dea_renewed"]
        for c in self.customers:
            if not c.in_sap:
                continue
            base = _dea_row(c)
            if c.dea == PLANTED["dea_retired"]["dea"]:
                base["active"] = "N"
                base["inactive_from"] = PLANTED["dea_retired"]["inactive_from"]
            if c.dea == renewed["dea"]:
                self.tables["dea"].append(
                    {**base, "effective_from": "2021-03-01", "expiration_date": renewed["expired"]}
                )
                self.tables["dea"].append(
                    {**base, "effective_from": renewed["renewed"], "expiration_date": "2027-02-28"}
                )
                continue
            roll = 0.5 if c.fixed else self.rng.random()
            expiration = (
                date(2026, 6, 30)
                if c.fixed
                else date(self.rng.choice((2024, 2025, 2026)), self.rng.randint(1, 12), 28)
            )
            if roll < 0.05:
                expiration = date(2023, self.rng.randint(1, 12), 28)  # lapsed, never renewed
            elif roll < 0.15:  # renewed: an earlier period, then the current one
                previous = date(expiration.year - 3, expiration.month, expiration.day)
                self.tables["dea"].append({**base, "expiration_date": previous.isoformat()})
                base["effective_from"] = (previous + timedelta(days=1)).isoformat()
            elif roll < 0.17:
                base["active"] = "N"  # retired or revoked
            if c.kind == "office" and roll > 0.9:
                base["schedules"] = "3 3N 4 5"  # a practitioner without C-II authority
            self.tables["dea"].append({**base, "expiration_date": expiration.isoformat()})

    def _nppes(self) -> None:
        deactivated = PLANTED["npi_deactivated"]
        for c in self.customers:
            if not c.npi:
                continue
            row = {
                "NPI": c.npi,
                "Entity Type Code": "2",
                "Replacement NPI": "",
                "Provider Organization Name (Legal Business Name)": c.name,
                "Provider Last Name (Legal Name)": "",
                "Provider First Name": "",
                "Provider First Line Business Practice Location Address": c.street,
                "Provider Business Practice Location Address City Name": c.city,
                "Provider Business Practice Location Address State Name": c.state,
                "Provider Business Practice Location Address Postal Code": c.zip,
                "Provider Enumeration Date": "05/23/2007",
                "NPI Deactivation Reason Code": "",
                "NPI Deactivation Date": "",
                "NPI Reactivation Date": "",
                "Healthcare Provider Taxonomy Code_1": _TAXONOMY[c.cot],
            }
            roll = self.rng.random()
            if c.npi == deactivated["npi"]:
                row.update(
                    {
                        "Entity Type Code": "",
                        "NPI Deactivation Reason Code": "DT",
                        "NPI Deactivation Date": "11/30/2023",
                    }
                )
            elif not c.fixed and roll < 0.03:
                row.update(
                    {
                        "NPI Deactivation Reason Code": "OT",
                        "NPI Deactivation Date": "06/30/2022",
                        "NPI Reactivation Date": "01/15/2023",
                    }
                )
            elif not c.fixed and roll < 0.05:
                row.update(
                    {
                        "Entity Type Code": "",
                        "NPI Deactivation Reason Code": "DB",
                        "NPI Deactivation Date": f"{self.rng.randint(1, 12):02d}/01/2023",
                    }
                )
            self.tables["nppes"].append(row)

    def _opais(self) -> None:
        child = PLANTED["child_site_340b"]
        for c in self.customers:
            if not c.id340b or c.id340b == child["id340b"]:
                continue
            quarter = date(self.rng.randint(2012, 2022), self.rng.choice((1, 4, 7, 10)), 1)
            terminated = self.rng.random() < 0.08 and c.kunnr != PLANTED["dsh_340b"]["kunnr"]
            self.tables["opais"].append(
                self._opais_row(
                    c, c.id340b, "", quarter, date(2023, 12, 31) if terminated else None
                )
            )
        parent = Customer(
            "",
            "BRIGHTWATER HEALTH CENTER",
            "fqhc",
            "CLINIC",
            "70 SPRING ST",
            "COLUMBUS",
            "OH",
            "43206",
        )
        self.tables["opais"].append(
            self._opais_row(parent, child["parent"], "", date(2015, 1, 1), None)
        )
        site = next(c for c in self.customers if c.id340b == child["id340b"])
        self.tables["opais"].append(
            self._opais_row(site, child["id340b"], child["parent"], date(2019, 10, 1), None)
        )

    @staticmethod
    def _opais_row(
        c: Customer, id340b: str, parent: str, start: date, end: date | None
    ) -> dict[str, str]:
        entity_type = next(
            p for p in sorted(ID340B_PREFIXES, key=len, reverse=True) if id340b.startswith(p)
        )
        return {
            "id340b": id340b,
            "ce_id": str(10000 + sum(map(ord, id340b)) * 7 % 89999),
            "parent_id340b": parent,
            "entity_type": entity_type,
            "name": c.name,
            "sub_name": "",
            "participating": "N" if end else "Y",
            "participating_start_date": start.isoformat(),
            "termination_date": end.isoformat() if end else "",
            "termination_reason": "Loss of eligibility" if end else "",
            "medicare_provider_no": id340b[3:] if entity_type == "DSH" else "",
            "grant_no": "" if entity_type == "DSH" else f"H80CS{id340b[-5:]}",
            "street": c.street,
            "city": c.city,
            "state": c.state,
            "zip": c.zip,
            "npi_numbers": c.npi,
        }

    def _leie(self) -> None:
        reinstated = PLANTED["leie_reinstated"]
        people = [self._leie_person(after=date(2022, 7, 1) if i >= 30 else None) for i in range(36)]
        party = _leie_row(
            busname="BLUE RIVER PHARMACY",
            general="PHARMACY",
            npi=reinstated["npi"],
            address="410 MARKET ST",
            city="COLUMBUS",
            state="OH",
            zip_="43215",
            excltype="1128b4",
            excldate="20210110",
        )
        by_name = _leie_row(
            busname="GREEN MEADOW DRUG",
            general="PHARMACY",
            address="1 ELM ST",
            city="TULSA",
            state="OK",
            zip_="74103",
            excltype="1128a1",
            excldate="20220815",
        )
        for c in self.rng.sample(
            pool := [c for c in self.customers if c.in_sap and not c.fixed], min(2, len(pool))
        ):
            people.append(
                _leie_row(
                    busname=c.name,
                    general="PHARMACY",
                    npi=c.npi,
                    address=c.street,
                    city=c.city,
                    state=c.state,
                    zip_=c.zip,
                    excltype="1128b7",
                    excldate="20230301",
                )
            )
        old = people[:30] + [party]
        self.leie_files["leie_2022-06_UPDATED.csv"] = old
        self.leie_files["2305REIN.csv"] = [
            {**party, "REINDATE": reinstated["reindate"].replace("-", "")}
        ]
        self.leie_files["leie_2024-03_UPDATED.csv"] = people + [by_name]

    def _leie_person(self, after: date | None) -> dict[str, str]:
        last, first = self.rng.choice(SURNAMES), self.rng.choice(FIRST_NAMES)
        street, city, state, zip_ = self._address()
        excl = date(self.rng.randint(2008, 2021), self.rng.randint(1, 12), self.rng.randint(1, 28))
        if after is not None:
            excl = after + timedelta(days=self.rng.randint(0, 600))
        npi = self.new_npi() if self.rng.random() < 0.5 else "0000000000"
        return _leie_row(
            lastname=last,
            firstname=first,
            midname=self.rng.choice(string.ascii_uppercase),
            general="IND- LIC HC SERV PRO",
            specialty="NURSE/NURSES AIDE",
            npi=npi,
            dob=f"19{self.rng.randint(50, 95)}0{self.rng.randint(1, 9)}15",
            address=street,
            city=city,
            state=state,
            zip_=zip_,
            excltype=self.rng.choice(("1128a1", "1128b4", "1128b7")),
            excldate=excl.strftime("%Y%m%d"),
        )

    def _sam(self) -> None:
        sam = PLANTED["sam_excluded"]
        target = next(c for c in self.customers if c.npi == sam["npi"])
        rows = [
            _sam_row(
                "Firm",
                name=target.name,
                address=target.street,
                city=target.city,
                state=target.state,
                zip_=target.zip,
                npi=target.npi,
                active="09/05/2023",
                termination="Indefinite",
                sam_number="S4MRQ7X9A",
            ),
        ]
        for i in range(18):
            last, first = self.rng.choice(SURNAMES), self.rng.choice(FIRST_NAMES)
            street, city, state, zip_ = self._address()
            active = date(
                self.rng.randint(2015, 2023), self.rng.randint(1, 12), self.rng.randint(1, 28)
            )
            term = (
                "Indefinite"
                if i % 3 == 0
                else (active + timedelta(days=365 * self.rng.randint(1, 5))).strftime("%m/%d/%Y")
            )
            rows.append(
                _sam_row(
                    "Individual",
                    first=first,
                    last=last,
                    address=street,
                    city=city,
                    state=state,
                    zip_=zip_,
                    npi="",
                    active=active.strftime("%m/%d/%Y"),
                    termination=term,
                    sam_number=f"S4MR{i:05d}",
                )
            )
        self.tables["sam"] = rows

    def _wholesalers(self) -> None:
        self.tables["wholesaler_dc"] = [
            {
                "dc_key": EXAMPLE_DC["dc_key"],
                "wholesaler": "ACME DRUG DISTRIBUTORS DC 012",
                "dea": EXAMPLE_DC["dea"],
                "gln": "",
                "dsa_start": "2020-01-01",
                "dsa_end": "",
                "licensed_states": "OH|IN|KY|MI|PA|TN|WV",
                "edi_qualifier": "ZZ",
                "edi_id": EXAMPLE_DC["edi_id"],
            },
        ]
        for i, (name, states) in enumerate(
            (
                ("CASCADE HEALTH SUPPLY DC 03", "OR|WA|ID"),
                ("GULF COAST MEDICAL DIST DC 7", "LA|MS|AL|FL|TX"),
                ("PRAIRIE WHOLESALE DRUG DC 21", "IA|NE|MO|IL"),
            )
        ):
            self.tables["wholesaler_dc"].append(
                {
                    "dc_key": f"DC-{i + 2:03d}",
                    "wholesaler": name,
                    "dea": self.new_dea("R", name),
                    "gln": self.new_gln(),
                    "dsa_start": "2021-01-01",
                    "dsa_end": "",
                    "licensed_states": states,
                }
            )

    def _history(self) -> None:
        rows = self.tables["claim_history"]
        rows.append(
            {
                "wholesaler_id": EXAMPLE_DC["dc_key"],
                "dm_no": "DM0301240007",
                "dm_date": "2024-03-01",
                "dm_purpose": "00",
                "line_no": "3",
                "invoice_no": "INV88119954",
                "invoice_line": "1",
                "invoice_date": "2024-02-21",
                "ndc11": "12345067810",
                "customer_key": "0000100002",
                "contract_id": EXAMPLE_CONTRACT,
                "quantity": "5",
                "amount": "271.25",
                "status": "PAID",
                "paid_quantity": "5",
                "allowed_amount": "271.25",
                "response_date": (date(2024, 3, 1) + ANSWERED_AFTER).isoformat(),
            }
        )
        members = [c for c in self.customers if c.in_sap and "GPO-MRD" in c.gpos and not c.fixed]
        example_ndcs = [
            line["ndc11"]
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT
        ]
        prices = {
            line["ndc11"]: Decimal(line["contract_price"])
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT
        }
        for dm in range(40):
            dm_date = date(2024, 1, 2) + timedelta(days=dm)
            for line in range(1, self.rng.randint(2, 6)):
                c = self.rng.choice(members)
                ndc = self.rng.choice(example_ndcs)
                invoice_date = dm_date - timedelta(days=self.rng.randint(3, 40))
                qty = Decimal(self.rng.randint(1, 24))
                amount = _money((self.wac_at(ndc, invoice_date) - prices[ndc]) * qty)
                if amount < 0:
                    amount = Decimal("0.00")
                status = self.rng.choices(("PAID", "REJECTED"), weights=(9, 1))[0]
                rows.append(
                    {
                        "wholesaler_id": EXAMPLE_DC["dc_key"],
                        "dm_no": f"DM{dm_date:%m%d%y}{dm:04d}",
                        "dm_date": dm_date.isoformat(),
                        "dm_purpose": "00",
                        "line_no": str(line),
                        "invoice_no": f"INV8{self.rng.randint(7000000, 8099999)}",
                        "invoice_line": "1",
                        "invoice_date": invoice_date.isoformat(),
                        "ndc11": ndc,
                        "customer_key": c.kunnr,
                        "contract_id": EXAMPLE_CONTRACT,
                        "quantity": str(qty),
                        "amount": str(amount),
                        "status": status,
                        "paid_quantity": str(qty) if status == "PAID" else "",
                        "allowed_amount": str(amount) if status == "PAID" else "0.00",
                        "response_date": (dm_date + ANSWERED_AFTER).isoformat(),
                    }
                )

    def _planted_rows(self) -> None:
        """Rows of the later planted cases that are not a change to a drawn row (PLANTED)."""
        self._dea_off_formula()
        dc = PLANTED["dc_dsa_ended"]
        self.used.update((dc["dea"], dc["gln"]))
        self.tables["wholesaler_dc"].append(
            {
                "dc_key": dc["dc_key"],
                "wholesaler": "HEARTLAND DRUG SUPPLY DC 09",
                "dea": dc["dea"],
                "gln": dc["gln"],
                "dsa_start": "2021-01-01",
                "dsa_end": dc["dsa_end"],
                "licensed_states": dc["licensed_states"],
            }
        )
        later = PLANTED["contract_not_started"]
        start = date.fromisoformat(later["start"])
        end = date(start.year + 2, start.month, 1) - timedelta(days=1)
        self.tables["contracts"].append(
            self._contract(
                later["contract"],
                "GPO-MRD",
                "GPO",
                start,
                end,
                "ACTIVE",
                HOSPITAL_COT + ("CLINIC", "PHYS_OFFICE", "ASC", "LTC"),
            )
        )
        self.tables["contract_lines"].append(
            self._line(later["contract"], "12345678901", "", Decimal("80.00"), start, end)
        )
        self._tiered_contract()
        self._tribal_fqhc()
        self._contract_pharmacy()
        member = PLANTED["child_site_340b_member"]
        term = next(c for c in self.tables["contracts"] if c["contract_id"] == member["contract"])
        windowed = PLANTED["contract_claim_window"]
        for contract in self.tables["contracts"]:
            if contract["contract_id"] == windowed["contract"]:
                contract["claim_window_days"] = windowed["days"]
        self.tables["contract_eligibility"].append(
            {
                "contract_id": member["contract"],
                "kunnr": member["kunnr"],
                "tier": "",
                "start_date": term["start_date"],
                "end_date": "",
            }
        )
        usual = PLANTED["usual_quantity"]
        price = next(
            Decimal(line["contract_price"])
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT and line["ndc11"] == usual["ndc11"]
        )
        for i, qty in enumerate(usual["quantities"].split(), start=1):
            dm_date = date(2023, 11, 6) + timedelta(days=28 * i)
            invoice_date = dm_date - timedelta(days=10)
            amount = _money((self.wac_at(usual["ndc11"], invoice_date) - price) * Decimal(qty))
            self.tables["claim_history"].append(
                {
                    "wholesaler_id": EXAMPLE_DC["dc_key"],
                    "dm_no": f"DM{dm_date:%m%d%y}{9000 + i}",
                    "dm_date": dm_date.isoformat(),
                    "dm_purpose": "00",
                    "line_no": "1",
                    "invoice_no": f"INV8{9000000 + i}",
                    "invoice_line": "1",
                    "invoice_date": invoice_date.isoformat(),
                    "ndc11": usual["ndc11"],
                    "customer_key": usual["kunnr"],
                    "contract_id": EXAMPLE_CONTRACT,
                    "quantity": qty,
                    "amount": str(amount),
                    "status": "PAID",
                    "paid_quantity": qty,
                    "allowed_amount": str(amount),
                    "response_date": (dm_date + ANSWERED_AFTER).isoformat(),
                }
            )
        self._rejected_history()

    def _contract_pharmacy(self) -> None:
        """PLANTED["contract_pharmacy_340b"]: the pharmacy in the customer master and the DEA
        data as itself, and in OPAIS as a contract pharmacy of the covered entity; nothing
        drawn, so it has no NPI and no roster membership."""
        planted = PLANTED["contract_pharmacy_340b"]
        ids = (planted["own_hin"], planted["hin"], planted["dea"])
        taken = [v for v in ids if v in self.used]
        if taken:
            raise ValueError(f"seed drew the planted identifiers {taken}: pick other ones")
        self.used.update(ids)
        pharmacy = Customer(
            planted["kunnr"],
            "SUNRISE COMMUNITY PHARMACY",
            "retail",
            FACILITY_KINDS["retail"][0],
            "90 SPRING ST",
            "COLUMBUS",
            "OH",
            "43206",
            hin=planted["own_hin"],
            dea=planted["dea"],
            fixed=True,
        )
        self.customers.append(pharmacy)
        self.tables["sap_customers"].append(_sap_row(pharmacy, "2019-01-02"))
        self.tables["dea"].append({**_dea_row(pharmacy), "expiration_date": "2026-06-30"})
        self.tables["opais_contract_pharmacies"].append(
            {
                "id340b": planted["covered_entity"],
                "pharmacy_id": planted["pharmacy_id"],
                "name": pharmacy.name,
                "hin": planted["hin"],
                "dea": planted["dea"],
                "npi": "",
                "street": pharmacy.street,
                "city": pharmacy.city,
                "state": pharmacy.state,
                "zip": pharmacy.zip,
                "begin_date": planted["registered"],
                "end_date": "",
            }
        )

    def _tribal_fqhc(self) -> None:
        """§3.5: PLANTED["tribal_fqhc_340b"], in the customer master, OPAIS and the 340B
        contract's members; nothing drawn, so it has no other identifier."""
        planted = PLANTED["tribal_fqhc_340b"]
        if planted["id340b"] in self.used:
            raise ValueError(f"seed drew the planted 340B ID {planted['id340b']}: pick another")
        self.used.add(planted["id340b"])
        center = Customer(
            planted["kunnr"],
            "CEDAR FALLS TRIBAL HEALTH CENTER",
            "fqhc",
            FACILITY_KINDS["fqhc"][0],
            "400 RIVER RD",
            "COLUMBUS",
            "OH",
            "43215",
            id340b=planted["id340b"],
            fixed=True,
        )
        self.customers.append(center)
        self.tables["sap_customers"].append(_sap_row(center, planted["since"]))
        since = date.fromisoformat(planted["since"])
        self.tables["opais"].append(self._opais_row(center, center.id340b, "", since, None))
        self.tables["contract_eligibility"].append(
            {
                "contract_id": planted["contract"],
                "kunnr": center.kunnr,
                "tier": "",
                "start_date": planted["since"],
                "end_date": "",
            }
        )

    def _tiered_contract(self) -> None:
        """R11: PLANTED["tiered_contract"], on the example contract's terms, priced by tier only."""
        tiered = PLANTED["tiered_contract"]
        example = next(c for c in self.tables["contracts"] if c["contract_id"] == EXAMPLE_CONTRACT)
        self.tables["contracts"].append({**example, "contract_id": tiered["contract"]})
        prices = tiered["prices"].split()
        start = date.fromisoformat(example["start_date"])
        end = date.fromisoformat(example["end_date"])
        for tier, price in zip(prices[::2], prices[1::2], strict=True):
            self.tables["contract_lines"].append(
                self._line(tiered["contract"], tiered["ndc11"], tier, Decimal(price), start, end)
            )

    def _rejected_history(self) -> None:
        """§1.4: the lines of PLANTED["resubmission_limit"] (invoice, invoice date, DM date,
        849 date), each rejected by that 849, at the prices on file, so a resubmission of
        either is decided by the limit alone."""
        planted = PLANTED["resubmission_limit"]
        quantity = Decimal(planted["quantity"])
        price = next(
            Decimal(line["contract_price"])
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT and line["ndc11"] == planted["ndc11"]
        )
        for case in ("within", "late"):
            invoice, invoiced, dm_date, answered = planted[case].split()
            wac = self.wac_at(planted["ndc11"], date.fromisoformat(invoiced))
            amount = _money((wac - price) * quantity)
            self.tables["claim_history"].append(
                {
                    "wholesaler_id": EXAMPLE_DC["dc_key"],
                    "dm_no": f"DM{date.fromisoformat(dm_date):%m%d%y}{invoice[-4:]}",
                    "dm_date": dm_date,
                    "dm_purpose": "00",
                    "line_no": "1",
                    "invoice_no": invoice,
                    "invoice_line": "1",
                    "invoice_date": invoiced,
                    "ndc11": planted["ndc11"],
                    "customer_key": planted["kunnr"],
                    "contract_id": EXAMPLE_CONTRACT,
                    "quantity": planted["quantity"],
                    "amount": str(amount),
                    "status": "REJECTED",
                    "paid_quantity": "",
                    "allowed_amount": "0.00",
                    "response_date": answered,
                }
            )

    def _dea_off_formula(self) -> None:
        """§9.10: a clinic known only by a DEA number that fails the check-digit formula, in the
        customer master, on GPO-MRD's roster and active in the DEA data from its registration
        on; and identifiers that no dataset holds. Nothing is drawn: the clinic has no NPI, HIN
        or GLN, so intake has nothing valid to identify it by."""
        odd = PLANTED["dea_off_formula"]
        taken = [v for v in (odd["dea"], *PLANTED["unassigned_ids"].values()) if v in self.used]
        if taken:
            raise ValueError(f"seed drew the planted identifiers {taken}: pick other ones")
        self.used.add(odd["dea"])
        clinic = Customer(
            odd["kunnr"],
            "OXBOW FREE CLINIC",
            "clinic",
            FACILITY_KINDS["clinic"][0],
            "14 FERRY ST",
            "MARIETTA",
            "OH",
            "45750",
            dea=odd["dea"],
            fixed=True,
        )
        self.customers.append(clinic)
        self.tables["sap_customers"].append(_sap_row(clinic, odd["member_since"]))
        members = len(self.tables["gpo_roster"])
        since = date.fromisoformat(odd["member_since"])
        self._roster_row(clinic, odd["gpo"], members + 1, True, "", since, None)
        self.tables["dea"].append(
            {
                **_dea_row(clinic),
                "effective_from": odd["registered"],
                "expiration_date": "2026-09-30",
            }
        )

    # --- output ----------------------------------------------------------------------------

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        snapshot = {
            "products": "2024-03-01",
            "wac": "2024-03-01",
            "contracts": "2024-03-01",
            "contract_lines": "2024-03-01",
            "contract_eligibility": "2024-03-01",
            "gpo_roster": "2024-03-08",
            "sam": "2024-03-14",
            "dea": "2024-03-14",
            "nppes": "2024-03-11",
            "opais": "2024-03-15",
            "opais_contract_pharmacies": "2024-03-15",
            "wholesaler_dc": "2024-01-02",
            "sap_customers": "2024-03-15",
            "claim_history": "2024-03-15",
        }
        manifest: list[dict[str, str]] = []
        written: list[Path] = []
        for name, rows in self.tables.items():
            if name == "leie":
                continue
            written.append(_write_csv(out_dir / f"{name}.csv", list(headers(DATASETS[name])), rows))
            manifest.append(
                {
                    "file": f"{name}.csv",
                    "dataset": name,
                    "snapshot_date": snapshot[name],
                    "kind": "full",
                }
            )
        for file_name, snap, kind in (
            ("leie_2022-06_UPDATED.csv", "2022-06-10", "full"),
            ("2305REIN.csv", "2023-06-12", "supplement"),
            ("leie_2024-03_UPDATED.csv", "2024-03-11", "full"),
        ):
            written.append(
                _write_csv(out_dir / file_name, list(LEIE_HEADER), self.leie_files[file_name])
            )
            manifest.append(
                {"file": file_name, "dataset": "leie", "snapshot_date": snap, "kind": kind}
            )
        written.append(
            _write_csv(
                out_dir / "manifest.csv", ["file", "dataset", "snapshot_date", "kind"], manifest
            )
        )
        return written


def _sap_row(c: Customer, created: str) -> dict[str, str]:
    """The customer master record of a customer: one company code, one sales area."""
    return {
        "kunnr": c.kunnr,
        "name1": c.name,
        "name2": "",
        "stras": c.street,
        "ort01": c.city,
        "pstlz": c.zip,
        "regio": c.state,
        "land1": "US",
        "telf1": "",
        "ktokd": "0001",
        "stcd1": "",
        "brsch": c.cot,
        "aufsd": "",
        "loevm": "",
        "erdat": created,
        "bukrs": "1000",
        "akont": "0012100000",
        "zterm": "NT30",
        "vkorg": "1000",
        "vtweg": "10",
        "spart": "00",
        "kdgrp": "01",
        "waers": "USD",
        "hin": c.hin,
        "dea": c.dea,
        "gln": c.gln,
        "npi": c.npi,
        "id340b": c.id340b,
    }


def _dea_row(c: Customer) -> dict[str, str]:
    """A customer's registration, active and for every schedule, without its period."""
    return {
        "dea_no": c.dea,
        "bac": FACILITY_KINDS[c.kind][1],
        "bac_sub": "",
        "schedules": ALL_SCHEDULES,
        "effective_from": "",
        "name": c.name,
        "addl_info": "",
        "addr1": c.street,
        "addr2": "",
        "city": c.city,
        "state": c.state,
        "zip": c.zip,
        "active": "Y",
    }


_TAXONOMY = {
    "HOSP_ACUTE": "282N00000X",
    "HOSP_CHILD": "282NC2000X",
    "HOSP_CAH": "282NC0060X",
    "CLINIC": "261QP2300X",
    "PHYS_OFFICE": "207Q00000X",
    "ASC": "261QA1903X",
    "LTC": "314000000X",
    "RETAIL_PHARM": "3336C0003X",
    "CHAIN_PHARM": "3336C0003X",
    "SPECIALTY_PHARM": "3336S0011X",
    "MAIL_ORDER": "3336M0002X",
    "DIALYSIS": "261QE0700X",
}


def _leie_row(
    *,
    lastname: str = "",
    firstname: str = "",
    midname: str = "",
    busname: str = "",
    general: str = "",
    specialty: str = "",
    npi: str = "0000000000",
    dob: str = "00000000",
    address: str = "",
    city: str = "",
    state: str = "",
    zip_: str = "",
    excltype: str,
    excldate: str,
) -> dict[str, str]:
    values = (
        lastname,
        firstname,
        midname,
        busname,
        general,
        specialty,
        "",
        npi,
        dob,
        address,
        city,
        state,
        zip_,
        excltype,
        excldate,
        "00000000",
        "00000000",
        "",
    )
    return dict(zip(LEIE_HEADER, values, strict=True))


def _sam_row(
    classification: str,
    *,
    name: str = "",
    first: str = "",
    last: str = "",
    address: str,
    city: str,
    state: str,
    zip_: str,
    npi: str,
    active: str,
    termination: str,
    sam_number: str,
) -> dict[str, str]:
    row = dict.fromkeys(SAM_HEADER, "")
    row.update(
        {
            "Classification": classification,
            "Name": name,
            "First": first,
            "Last": last,
            "Address 1": address,
            "City": city,
            "State / Province": state,
            "Country": "USA",
            "Zip Code": zip_,
            "Open Data Flag": "Y",
            "Exclusion Program": "Reciprocal",
            "Excluding Agency": "HHS",
            "CT Code": "Z1",
            "Exclusion Type": "Prohibition/Restriction",
            "Active Date": active,
            "Termination Date": termination,
            "Record Status": "Active",
            "SAM Number": sam_number,
            "NPI": npi,
            "Creation_Date": active,
        }
    )
    return row


def _write_csv(path: Path, header: list[str], rows: Iterable[Mapping[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({h: row.get(h, "") for h in header})
    return path


def generate(
    out_dir: Path, seed: int = 844, customers: int = 400, roster_only: int = 1700
) -> list[Path]:
    """Write the whole reference set plus ``manifest.csv`` into ``out_dir``."""
    return World(seed, customers, roster_only).write(out_dir)
