"""Generating NPPES providers (nppes)."""

from __future__ import annotations

from processors.chargeback.reference.generate.base import (
    PLANTED,
)
from processors.chargeback.reference.generate.dea import _Dea


class _Nppes(_Dea):
    """The world with NPPES providers generated."""

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
