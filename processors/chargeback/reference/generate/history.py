"""Generating the claim-line history (claim_history)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from processors.chargeback.reference.generate.base import (
    ANSWERED_AFTER,
    EXAMPLE_CONTRACT,
    EXAMPLE_DC,
    money,
)
from processors.chargeback.reference.generate.wholesalers import _Wholesalers


class _History(_Wholesalers):
    """The world with claim-line history generated."""

    def _history(self) -> None:
        rows = self.tables["claim_history"]
        rows.append(
            {
                "wholesaler_id": EXAMPLE_DC["dc_key"],
                "dm_no": "DM0301240007",
                "dm_date": "2024-03-01",
                "dm_purpose": "00",
                "line_no": "3",
                "invoice_no": "INV88119954",
                "invoice_line": "1",
                "invoice_date": "2024-02-21",
                "ndc11": "12345067810",
                "customer_key": "0000100002",
                "contract_id": EXAMPLE_CONTRACT,
                "quantity": "5",
                "amount": "271.25",
                "status": "PAID",
                "paid_quantity": "5",
                "allowed_amount": "271.25",
                "response_date": (date(2024, 3, 1) + ANSWERED_AFTER).isoformat(),
            }
        )
        members = [c for c in self.customers if c.in_sap and "GPO-MRD" in c.gpos and not c.fixed]
        example_ndcs = [
            line["ndc11"]
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT
        ]
        prices = {
            line["ndc11"]: Decimal(line["contract_price"])
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT
        }
        for dm in range(40):
            dm_date = date(2024, 1, 2) + timedelta(days=dm)
            for line in range(1, self.rng.randint(2, 6)):
                c = self.rng.choice(members)
                ndc = self.rng.choice(example_ndcs)
                invoice_date = dm_date - timedelta(days=self.rng.randint(3, 40))
                qty = Decimal(self.rng.randint(1, 24))
                amount = money((self.wac_at(ndc, invoice_date) - prices[ndc]) * qty)
                if amount < 0:
                    amount = Decimal("0.00")
                status = self.rng.choices(("PAID", "REJECTED"), weights=(9, 1))[0]
                rows.append(
                    {
                        "wholesaler_id": EXAMPLE_DC["dc_key"],
                        "dm_no": f"DM{dm_date:%m%d%y}{dm:04d}",
                        "dm_date": dm_date.isoformat(),
                        "dm_purpose": "00",
                        "line_no": str(line),
                        "invoice_no": f"INV8{self.rng.randint(7000000, 8099999)}",
                        "invoice_line": "1",
                        "invoice_date": invoice_date.isoformat(),
                        "ndc11": ndc,
                        "customer_key": c.kunnr,
                        "contract_id": EXAMPLE_CONTRACT,
                        "quantity": str(qty),
                        "amount": str(amount),
                        "status": status,
                        "paid_quantity": str(qty) if status == "PAID" else "",
                        "allowed_amount": str(amount) if status == "PAID" else "0.00",
                        "response_date": (dm_date + ANSWERED_AFTER).isoformat(),
                    }
                )
