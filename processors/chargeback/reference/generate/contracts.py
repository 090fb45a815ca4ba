"""Generating contracts, their price lines (contract_lines) and eligibility (contract_eligibility)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from processors.chargeback.reference.generate.base import (
    EXAMPLE_CONTRACT,
    GPOS,
    HOSPITAL_COT,
    PHARMACY_COT,
    PLANTED,
    money,
)
from processors.chargeback.reference.generate.products import _Products


class _Contracts(_Products):
    """The world with contracts generated."""

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
        return money(wac * (1 - discount))
