"""Generating DEA registrations (dea)."""

from __future__ import annotations

from datetime import date, timedelta

from processors.chargeback.reference.generate.base import (
    ALL_SCHEDULES,
    FACILITY_KINDS,
    PLANTED,
    Customer,
)
from processors.chargeback.reference.generate.sap import _Sap


class _Dea(_Sap):
    """The world with DEA registrations generated."""

    def _dea(self) -> None:
        renewed = PLANTED["dea_renewed"]
        for c in self.customers:
            if not c.in_sap:
                continue
            base = dea_row(c)
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


def dea_row(c: Customer) -> dict[str, str]:
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
