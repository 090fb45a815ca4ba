"""Generating the GPO rosters (gpo_roster)."""

from __future__ import annotations

from datetime import date, timedelta

from processors.chargeback.reference.generate.base import (
    AS_OF,
    GPOS,
    HOSPITAL_COT,
    PLANTED,
    Customer,
)
from processors.chargeback.reference.generate.contracts import _Contracts


class _Rosters(_Contracts):
    """The world with GPO rosters generated."""

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
