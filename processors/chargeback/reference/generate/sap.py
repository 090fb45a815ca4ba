"""Generating the SAP customer master (sap_customers)."""

from __future__ import annotations

from processors.chargeback.reference.generate.base import (
    Customer,
)
from processors.chargeback.reference.generate.rosters import _Rosters


class _Sap(_Rosters):
    """The world with the SAP customer master generated."""

    def _sap(self) -> None:
        self.tables["sap_customers"].extend(
            sap_row(c, "2019-01-02") for c in self.customers if c.in_sap
        )


def sap_row(c: Customer, created: str) -> dict[str, str]:
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
