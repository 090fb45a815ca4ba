"""The ground every dataset generator shares: constants, check digits, identifiers, customers.

A deterministic, fictitious but realistic reference set for offline chargeback runs.

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

import random
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from processors.chargeback.identifiers import (
    dea_check_digit,
    gs1_check_digit,
    luhn_valid,
)
from processors.chargeback.reference.datasets import DATASETS

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


def money(value: Decimal, places: str = "0.01") -> Decimal:
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


class WorldBase:
    """The random source, the identifiers handed out and the customers; each dataset's module
    adds its generator on top (``products`` .. ``planted``), and ``world.World`` runs them in
    order."""

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
