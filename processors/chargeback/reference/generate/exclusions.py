"""Generating the exclusion lists: LEIE files (leie) and SAM (sam)."""

from __future__ import annotations

import string
from datetime import date, timedelta

from processors.chargeback.reference.datasets import LEIE_HEADER, SAM_HEADER
from processors.chargeback.reference.generate.base import (
    FIRST_NAMES,
    PLANTED,
    SURNAMES,
)
from processors.chargeback.reference.generate.opais import _Opais


class _Exclusions(_Opais):
    """The world with exclusion lists generated."""

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
