"""Generating the product master (products) and its WAC history (wac)."""

from __future__ import annotations

import string
from datetime import date, timedelta
from decimal import Decimal

from processors.chargeback.reference.generate.base import (
    LABELER,
    LABELER_NAME,
    PLANTED,
    PRODUCT_FORMS,
    WorldBase,
    money,
)


class _Products(WorldBase):
    """The world with products and WAC generated."""

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
            price = money(Decimal(self.rng.randint(1500, 90000)) / 100)
            fixed = []
            for year in (2022, 2023, 2024):
                fixed.append((date(year, self.rng.choice((1, 7)), 1), price))
                price = money(price * (1 + Decimal(self.rng.randint(2, 9)) / 100))
        periods = []
        for i, (start, price) in enumerate(fixed):
            end = fixed[i + 1][0] - timedelta(days=1) if i + 1 < len(fixed) else None
            periods.append((start, end, price))
        return periods

    def wac_at(self, ndc: str, day: date) -> Decimal:
        return next(p for s, e, p in self.wac[ndc] if s <= day and (e is None or day <= e))
