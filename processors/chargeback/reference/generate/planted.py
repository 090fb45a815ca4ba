"""Generating the planted cases added after the random rows (they draw no random numbers), the contract pharmacies (opais_contract_pharmacies) among them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from processors.chargeback.reference.generate.base import (
    ANSWERED_AFTER,
    EXAMPLE_CONTRACT,
    EXAMPLE_DC,
    FACILITY_KINDS,
    HOSPITAL_COT,
    PLANTED,
    Customer,
    money,
)
from processors.chargeback.reference.generate.dea import dea_row
from processors.chargeback.reference.generate.history import _History
from processors.chargeback.reference.generate.sap import sap_row


class _Planted(_History):
    """The world with the planted cases generated."""

    def _planted_rows(self) -> None:
        """Rows of the later planted cases that are not a change to a drawn row (PLANTED)."""
        self._dea_off_formula()
        dc = PLANTED["dc_dsa_ended"]
        self.used.update((dc["dea"], dc["gln"]))
        self.tables["wholesaler_dc"].append(
            {
                "dc_key": dc["dc_key"],
                "wholesaler": "HEARTLAND DRUG SUPPLY DC 09",
                "dea": dc["dea"],
                "gln": dc["gln"],
                "dsa_start": "2021-01-01",
                "dsa_end": dc["dsa_end"],
                "licensed_states": dc["licensed_states"],
            }
        )
        later = PLANTED["contract_not_started"]
        start = date.fromisoformat(later["start"])
        end = date(start.year + 2, start.month, 1) - timedelta(days=1)
        self.tables["contracts"].append(
            self._contract(
                later["contract"],
                "GPO-MRD",
                "GPO",
                start,
                end,
                "ACTIVE",
                HOSPITAL_COT + ("CLINIC", "PHYS_OFFICE", "ASC", "LTC"),
            )
        )
        self.tables["contract_lines"].append(
            self._line(later["contract"], "12345678901", "", Decimal("80.00"), start, end)
        )
        self._tiered_contract()
        self._tribal_fqhc()
        self._contract_pharmacy()
        member = PLANTED["child_site_340b_member"]
        term = next(c for c in self.tables["contracts"] if c["contract_id"] == member["contract"])
        windowed = PLANTED["contract_claim_window"]
        for contract in self.tables["contracts"]:
            if contract["contract_id"] == windowed["contract"]:
                contract["claim_window_days"] = windowed["days"]
        self.tables["contract_eligibility"].append(
            {
                "contract_id": member["contract"],
                "kunnr": member["kunnr"],
                "tier": "",
                "start_date": term["start_date"],
                "end_date": "",
            }
        )
        usual = PLANTED["usual_quantity"]
        price = next(
            Decimal(line["contract_price"])
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT and line["ndc11"] == usual["ndc11"]
        )
        for i, qty in enumerate(usual["quantities"].split(), start=1):
            dm_date = date(2023, 11, 6) + timedelta(days=28 * i)
            invoice_date = dm_date - timedelta(days=10)
            amount = money((self.wac_at(usual["ndc11"], invoice_date) - price) * Decimal(qty))
            self.tables["claim_history"].append(
                {
                    "wholesaler_id": EXAMPLE_DC["dc_key"],
                    "dm_no": f"DM{dm_date:%m%d%y}{9000 + i}",
                    "dm_date": dm_date.isoformat(),
                    "dm_purpose": "00",
                    "line_no": "1",
                    "invoice_no": f"INV8{9000000 + i}",
                    "invoice_line": "1",
                    "invoice_date": invoice_date.isoformat(),
                    "ndc11": usual["ndc11"],
                    "customer_key": usual["kunnr"],
                    "contract_id": EXAMPLE_CONTRACT,
                    "quantity": qty,
                    "amount": str(amount),
                    "status": "PAID",
                    "paid_quantity": qty,
                    "allowed_amount": str(amount),
                    "response_date": (dm_date + ANSWERED_AFTER).isoformat(),
                }
            )
        self._rejected_history()

    def _contract_pharmacy(self) -> None:
        """PLANTED["contract_pharmacy_340b"]: the pharmacy in the customer master and the DEA
        data as itself, and in OPAIS as a contract pharmacy of the covered entity; nothing
        drawn, so it has no NPI and no roster membership."""
        planted = PLANTED["contract_pharmacy_340b"]
        ids = (planted["own_hin"], planted["hin"], planted["dea"])
        taken = [v for v in ids if v in self.used]
        if taken:
            raise ValueError(f"seed drew the planted identifiers {taken}: pick other ones")
        self.used.update(ids)
        pharmacy = Customer(
            planted["kunnr"],
            "SUNRISE COMMUNITY PHARMACY",
            "retail",
            FACILITY_KINDS["retail"][0],
            "90 SPRING ST",
            "COLUMBUS",
            "OH",
            "43206",
            hin=planted["own_hin"],
            dea=planted["dea"],
            fixed=True,
        )
        self.customers.append(pharmacy)
        self.tables["sap_customers"].append(sap_row(pharmacy, "2019-01-02"))
        self.tables["dea"].append({**dea_row(pharmacy), "expiration_date": "2026-06-30"})
        self.tables["opais_contract_pharmacies"].append(
            {
                "id340b": planted["covered_entity"],
                "pharmacy_id": planted["pharmacy_id"],
                "name": pharmacy.name,
                "hin": planted["hin"],
                "dea": planted["dea"],
                "npi": "",
                "street": pharmacy.street,
                "city": pharmacy.city,
                "state": pharmacy.state,
                "zip": pharmacy.zip,
                "begin_date": planted["registered"],
                "end_date": "",
            }
        )

    def _tribal_fqhc(self) -> None:
        """§3.5: PLANTED["tribal_fqhc_340b"], in the customer master, OPAIS and the 340B
        contract's members; nothing drawn, so it has no other identifier."""
        planted = PLANTED["tribal_fqhc_340b"]
        if planted["id340b"] in self.used:
            raise ValueError(f"seed drew the planted 340B ID {planted['id340b']}: pick another")
        self.used.add(planted["id340b"])
        center = Customer(
            planted["kunnr"],
            "CEDAR FALLS TRIBAL HEALTH CENTER",
            "fqhc",
            FACILITY_KINDS["fqhc"][0],
            "400 RIVER RD",
            "COLUMBUS",
            "OH",
            "43215",
            id340b=planted["id340b"],
            fixed=True,
        )
        self.customers.append(center)
        self.tables["sap_customers"].append(sap_row(center, planted["since"]))
        since = date.fromisoformat(planted["since"])
        self.tables["opais"].append(self._opais_row(center, center.id340b, "", since, None))
        self.tables["contract_eligibility"].append(
            {
                "contract_id": planted["contract"],
                "kunnr": center.kunnr,
                "tier": "",
                "start_date": planted["since"],
                "end_date": "",
            }
        )

    def _tiered_contract(self) -> None:
        """R11: PLANTED["tiered_contract"], on the example contract's terms, priced by tier only."""
        tiered = PLANTED["tiered_contract"]
        example = next(c for c in self.tables["contracts"] if c["contract_id"] == EXAMPLE_CONTRACT)
        self.tables["contracts"].append({**example, "contract_id": tiered["contract"]})
        prices = tiered["prices"].split()
        start = date.fromisoformat(example["start_date"])
        end = date.fromisoformat(example["end_date"])
        for tier, price in zip(prices[::2], prices[1::2], strict=True):
            self.tables["contract_lines"].append(
                self._line(tiered["contract"], tiered["ndc11"], tier, Decimal(price), start, end)
            )

    def _rejected_history(self) -> None:
        """§1.4: the lines of PLANTED["resubmission_limit"] (invoice, invoice date, DM date,
        849 date), each rejected by that 849, at the prices on file, so a resubmission of
        either is decided by the limit alone."""
        planted = PLANTED["resubmission_limit"]
        quantity = Decimal(planted["quantity"])
        price = next(
            Decimal(line["contract_price"])
            for line in self.tables["contract_lines"]
            if line["contract_id"] == EXAMPLE_CONTRACT and line["ndc11"] == planted["ndc11"]
        )
        for case in ("within", "late"):
            invoice, invoiced, dm_date, answered = planted[case].split()
            wac = self.wac_at(planted["ndc11"], date.fromisoformat(invoiced))
            amount = money((wac - price) * quantity)
            self.tables["claim_history"].append(
                {
                    "wholesaler_id": EXAMPLE_DC["dc_key"],
                    "dm_no": f"DM{date.fromisoformat(dm_date):%m%d%y}{invoice[-4:]}",
                    "dm_date": dm_date,
                    "dm_purpose": "00",
                    "line_no": "1",
                    "invoice_no": invoice,
                    "invoice_line": "1",
                    "invoice_date": invoiced,
                    "ndc11": planted["ndc11"],
                    "customer_key": planted["kunnr"],
                    "contract_id": EXAMPLE_CONTRACT,
                    "quantity": planted["quantity"],
                    "amount": str(amount),
                    "status": "REJECTED",
                    "paid_quantity": "",
                    "allowed_amount": "0.00",
                    "response_date": answered,
                }
            )

    def _dea_off_formula(self) -> None:
        """§9.10: a clinic known only by a DEA number that fails the check-digit formula, in the
        customer master, on GPO-MRD's roster and active in the DEA data from its registration
        on; and identifiers that no dataset holds. Nothing is drawn: the clinic has no NPI, HIN
        or GLN, so intake has nothing valid to identify it by."""
        odd = PLANTED["dea_off_formula"]
        taken = [v for v in (odd["dea"], *PLANTED["unassigned_ids"].values()) if v in self.used]
        if taken:
            raise ValueError(f"seed drew the planted identifiers {taken}: pick other ones")
        self.used.add(odd["dea"])
        clinic = Customer(
            odd["kunnr"],
            "OXBOW FREE CLINIC",
            "clinic",
            FACILITY_KINDS["clinic"][0],
            "14 FERRY ST",
            "MARIETTA",
            "OH",
            "45750",
            dea=odd["dea"],
            fixed=True,
        )
        self.customers.append(clinic)
        self.tables["sap_customers"].append(sap_row(clinic, odd["member_since"]))
        members = len(self.tables["gpo_roster"])
        since = date.fromisoformat(odd["member_since"])
        self._roster_row(clinic, odd["gpo"], members + 1, True, "", since, None)
        self.tables["dea"].append(
            {
                **dea_row(clinic),
                "effective_from": odd["registered"],
                "expiration_date": "2026-09-30",
            }
        )
