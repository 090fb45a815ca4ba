"""Generating the wholesaler distribution centers (wholesaler_dc)."""

from __future__ import annotations

from processors.chargeback.reference.generate.base import (
    EXAMPLE_DC,
)
from processors.chargeback.reference.generate.exclusions import _Exclusions


class _Wholesalers(_Exclusions):
    """The world with distribution centers generated."""

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
