"""Generating the OPAIS 340B covered entities (opais)."""

from __future__ import annotations

from datetime import date

from processors.chargeback.identifiers import (
    ID340B_PREFIXES,
)
from processors.chargeback.reference.generate.base import (
    PLANTED,
    Customer,
)
from processors.chargeback.reference.generate.nppes import _Nppes


class _Opais(_Nppes):
    """The world with OPAIS entities generated."""

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
