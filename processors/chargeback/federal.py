"""``chargeback.federal-db-validation``: exclusions, licences and 340B status at the invoice date.

- **R18 exclusions** (OIG LEIE, SAM.gov): an NPI match is confirmed and rejects the line
  (09, "no credit allowed"); a normalized name + ZIP5 match only holds it for review (25).
  Reinstatements are honoured: LEIE history (REIN rows, and parties that dropped out of a later
  full file) decides as of the invoice date (§9.3).
- **R19 DEA**: for a controlled product (schedule in the product master) the buyer needs a
  registration *in force at the invoice date* (a renewal keeps the number; the period that
  covered the date decides, §9.4), active, and authorized for the schedule; otherwise 26.
  For a non-controlled product the DEA is only an identifier: a problem is a warning
  (configurable to review).
- **NPI**: an NPI deactivated at the invoice date and not reactivated rejects (26); an NPI
  NPPES does not know rejects only when nothing else identifies the customer (§9.10).
- **340B** (OPAIS): a 340B contract needs an entity participating at the invoice date (26); a
  child site must be registered itself (review otherwise); an active DSH/PED/CAN hospital
  buying on a GPO pharmacy contract is a GPO-prohibition flag (25, §4.5, §9.9). A contract
  pharmacy sent with its covered entity's 340B ID (``lookup.ContractPharmacy``) buys for the
  entity: the entity's status decides as above, the pharmacy must be registered with it at
  the invoice date (26), and only a 340B contract prices a 340B dispensation (another
  contract: 25). The pharmacy's own identifiers are screened too (exclusions, DEA, NPI), and
  the lines it is named on are published (``data["contract_pharmacies"]``) so the SAP step
  books them to the entity.
- **R04** for a line intake left to the registrant data (its only customer id a DEA failing
  its check digit, §9.10): ``dea_identity``.
- **R20 wholesaler authorization** (DC known, DSA in force, licensed for the ship-to state;
  08): ``authorization``.

Identifiers come from the claim *and* from the customer master for the resolved customer, so
a claim that sends only a HIN is still screened by the customer's NPI and DEA.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cached_property
from typing import Any, ClassVar, NamedTuple

from engine.processors import StepContext
from processors.chargeback import rules
from processors.chargeback.authorization import authorization_findings
from processors.chargeback.claim import Claim, ClaimLine, Finding, Outcome
from processors.chargeback.dea_identity import dea_identity_findings
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.fields import zip5
from processors.chargeback.reference.rulestep import Checked, RuleStep

GPO_PROHIBITED_TYPES = ("DSH", "PED", "CAN")


class FederalDbValidation(RuleStep):
    datasets: ClassVar[tuple[str, ...]] = (
        "leie",
        "sam",
        "dea",
        "nppes",
        "opais",
        "products",
        "contracts",
        "sap_customers",
        "wholesaler_dc",
    )
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "noncontrolled_dea_problem": {
                "enum": ["warn", "review"],
                "default": "warn",
                "description": "A DEA problem on a non-controlled product: a warning, or review (25).",
            },
        },
    }

    def check(self, ref: lookup.Memo, claim: Claim, context: StepContext) -> Checked:
        # a claim repeats each customer, product schedule and contract on many lines: each
        # combination is screened once (id(match) names the customer: see Memo.match_of)
        screens: dict[tuple[int, date, str | None, str | None], _Screen] = {}
        dated: list[tuple[ClaimLine, _Screen]] = []
        schedules = {ndc: _schedule(ref, ndc) for ndc in {line.ndc11 for line in claim.lines}}
        for line in claim.lines:
            if line.invoice_date is None:
                continue
            match = ref.match_of(line.customer)
            schedule = schedules[line.ndc11]
            key = (id(match), line.invoice_date, schedule, line.contract_id)
            screen = screens.get(key)
            if screen is None:
                screen = screens[key] = _Screen(
                    ref, match, line.invoice_date, schedule, line.contract_id, self.config
                )
            dated.append((line, screen))
        _prefetch(ref, list(screens.values()))
        findings = [Finding(line.line, *found) for line, screen in dated for found in screen.found]
        findings += dea_identity_findings(ref, claim)  # R04 deferred by intake (§9.10)
        findings += authorization_findings(ref, claim)  # R20
        return Checked(findings=findings, data={"contract_pharmacies": _pharmacies(ref, claim)})


def _prefetch(ref: lookup.Memo, screens: list[_Screen]) -> None:
    """Ask each list once for every party of the claim, before any line is screened."""
    ref.prefetch(lookup.leie_rows, (s.screened for s in screens))
    ref.prefetch(lookup.sam_rows, (s.screened for s in screens))
    ref.prefetch(lookup.dea_status, ((n, s.day) for s in screens for n in s.values("DEA")))
    ref.prefetch(lookup.nppes, (n for s in screens for n in s.values("NPI")))
    ref.prefetch(lookup.opais_by_npi, (s.values("NPI") for s in screens))
    ids = {i for s in screens for i in s.values("340B")}
    ref.prefetch(
        lookup.opais_entity, (*ids, *(p for i in ids for p in lookup.parent_340b_candidates(i)))
    )


def _pharmacies(ref: lookup.Memo, claim: Claim) -> dict[str, dict[str, str]]:
    """line -> the covered entity a contract pharmacy named on it buys for (see the module
    docstring); the entity's name from OPAIS where it is registered."""
    named: dict[str, dict[str, str]] = {}
    for line in claim.lines:
        pharmacy = ref.match_of(line.customer).pharmacy
        if pharmacy is None:
            continue
        entity = ref(lookup.opais_entity, pharmacy.covered_entity)
        named[str(line.line)] = {
            "covered_entity": pharmacy.covered_entity,
            "covered_entity_name": entity.name if entity is not None else "",
            "pharmacy": pharmacy.name,
            "pharmacy_id": pharmacy.pharmacy_id,
        }
    return named


def _schedule(ref: lookup.Memo, ndc11: str | None) -> str | None:
    """The NDC's DEA schedule; None: not controlled, or not in the product master."""
    product = ref(lookup.product, ndc11) if ndc11 else None
    return product.dea_schedule if product is not None else None


class _Found(NamedTuple):
    """A finding for every line of a screen: ``Finding(line, *found)``."""

    rule: str
    outcome: Outcome
    code: str | None
    message: str


class _Screen:
    """All federal checks of the lines that sell one customer a product of one DEA schedule on
    one contract and invoice date: nothing else of a line enters them. Collects findings
    instead of stopping at the first, and reaches them once (``found``)."""

    def __init__(
        self,
        ref: lookup.Memo,
        match: lookup.CustomerMatch,
        day: date,
        schedule: str | None,
        contract_id: str | None,
        config: Mapping[str, Any],
    ) -> None:
        self.ref, self.match, self.day, self.config = ref, match, day, config
        self.schedule, self.contract_id = schedule, contract_id
        # a contract pharmacy is screened with the entity it buys for: both take the goods
        ship_to = match.pharmacy.identifiers if match.pharmacy is not None else ()
        self.idents = tuple(dict.fromkeys((*lookup.known_identifiers(ref, match), *ship_to)))
        master = self.ref(lookup.customer, self.match.kunnr)
        self.name = master.name1 if master is not None else self.match.name
        self.postal = zip5(master.pstlz) if master is not None else self.match.postal_code
        self.state = master.regio if master is not None else self.match.state
        self.findings: list[_Found] = []
        self._values: dict[str, tuple[str, ...]] = {}

    def values(self, id_type: str) -> tuple[str, ...]:
        if id_type not in self._values:
            prefix = f"{id_type}:"
            self._values[id_type] = tuple(
                i[len(prefix) :] for i in self.idents if i.startswith(prefix)
            )
        return self._values[id_type]

    @property
    def screened(self) -> lookup.Screened:
        """Who the exclusion lists are asked about: the NPIs, name and ZIP5."""
        return self.values("NPI"), self.name, self.postal

    def add(self, rule: str, outcome: Outcome, code: str | None, message: str) -> None:
        self.findings.append(_Found(rule, outcome, code, message))

    @cached_property
    def found(self) -> list[_Found]:
        """Every check's findings, reached once for all the lines of the screen."""
        self.leie()
        self.sam()
        self.dea()
        self.npi()
        self.opais()
        if not any(f.outcome != "pass" for f in self.findings):
            self.add(
                rules.R18_R19,
                "pass",
                None,
                f"not excluded; licences and 340B status fine on {self.day}",
            )
        return self.findings

    def leie(self) -> None:
        full_dates = self.ref(lookup.leie_full_snapshot_dates)
        for row, confirmed in self.ref(lookup.leie_rows, self.screened):
            state, why = lookup.leie_status(row, self.day, full_dates, self.state)
            who = row.busname or f"{row.lastname}, {row.firstname}"
            if state == "clear":
                continue
            if confirmed and state == "excluded":
                self.add(rules.R18, "reject", "09", f"OIG LEIE: {who} (NPI {row.npi}) {why}")
            else:
                basis = f"NPI {row.npi}" if confirmed else "name and ZIP only"
                self.add(rules.R18, "review", "25", f"OIG LEIE possible match ({basis}): {who}: {why}")

    def sam(self) -> None:
        for row, confirmed in self.ref(lookup.sam_rows, self.screened):
            if not lookup.sam_excluded(row, self.day):
                continue
            until = row.termination_date or "indefinitely"
            who = row.name or f"{row.last}, {row.first}"
            what = f"SAM exclusion {row.sam_number} ({row.exclusion_type}) from {row.active_date} until {until}"
            if confirmed:
                self.add(rules.R18, "reject", "09", f"{what}: {who} (NPI {row.npi})")
            else:
                self.add(
                    rules.R18, "review", "25", f"possible {what}: {who} matches by name and ZIP only"
                )

    def dea(self) -> None:
        schedule = self.schedule
        numbers = self.values("DEA")
        statuses = [self.ref(lookup.dea_status, (n, self.day)) for n in numbers]
        if schedule is None:
            problems = [p for s in statuses for p in s.problems]
            if problems:
                note = (
                    "; ".join(problems) + " (non-controlled product: the DEA is only an identifier)"
                )
                if self.config.get("noncontrolled_dea_problem", "warn") == "review":
                    self.add(rules.R19, "review", "25", note)
                else:
                    self.add(rules.R19, "pass", None, f"warning: {note}")
            return
        if not numbers:
            self.add(
                rules.R19,
                "reject",
                "26",
                f"DEA: schedule {schedule} product, but no DEA registration is known for the customer",
            )
            return
        good = [
            s
            for s in statuses
            if s.active and s.period is not None and lookup.schedule_authorized(s.period, schedule)
        ]
        if good:
            return
        problems = [p for s in statuses for p in s.problems] or [
            f"DEA {s.dea_no} is not authorized for schedule {schedule} (has {s.period.schedules or 'none'})"
            for s in statuses
            if s.period is not None
        ]
        self.add(rules.R19, "reject", "26", f"DEA: schedule {schedule} product; " + "; ".join(problems))

    def npi(self) -> None:
        sent = set(self.match.values("NPI"))
        for number in self.values("NPI"):
            row = self.ref(lookup.nppes, number)
            if row is None:
                if number in sent and self.match.kunnr is None:
                    self.add(
                        rules.NPI,
                        "reject",
                        "26",
                        f"NPI {number} is not assigned (not in NPPES) and no other identifier is known",
                    )
                else:
                    self.add(rules.NPI, "pass", None, f"warning: NPI {number} is not in NPPES")
                continue
            if not lookup.npi_active(row, self.day):
                reason = f", reason {row.deactivation_reason}" if row.deactivation_reason else ""
                self.add(
                    rules.NPI,
                    "reject",
                    "26",
                    f"NPI {number} deactivated {row.deactivation_date}{reason}; invoice dated {self.day}",
                )

    def opais(self) -> None:
        contract = self.ref(lookup.contract, self.contract_id) if self.contract_id else None
        if self.match.pharmacy is not None:
            self.contract_pharmacy(self.match.pharmacy, contract)
        entities: dict[str, m.OpaisEntity] = {}
        for id340b in self.values("340B"):
            entity = self.ref(lookup.opais_entity, id340b)
            if entity is not None:
                entities[entity.id340b] = entity
                continue
            parents = [
                p for p in lookup.parent_340b_candidates(id340b) if self.ref(lookup.opais_entity, p)
            ]
            if parents:
                self.add(
                    rules.PROGRAM_340B,
                    "review",
                    "25",
                    f"340B ID {id340b} is not registered in OPAIS; its parent {parents[0]} is: register the child site",
                )
            else:
                self.add(rules.PROGRAM_340B, "review", "25", f"340B ID {id340b} is not in OPAIS")
        for entity in self.ref(lookup.opais_by_npi, self.values("NPI")):
            entities.setdefault(entity.id340b, entity)
        eligible = [e for e in entities.values() if lookup.opais_eligible(e, self.day)]
        if contract is not None and contract.contract_type == "340B" and not eligible:
            known = (
                ", ".join(f"{e.id340b} ({_participation(e)})" for e in entities.values())
                or "none found"
            )
            self.add(
                rules.PROGRAM_340B,
                "reject",
                "26",
                f"contract {contract.contract_id} is a 340B contract but the customer is not an eligible 340B entity on {self.day}: {known}",
            )
        if (
            contract is not None
            and contract.contract_type == "GPO"
            and contract.program == "PHARMACY"
        ):
            for entity in eligible:
                if entity.entity_type in GPO_PROHIBITED_TYPES:
                    self.add(
                        rules.PROGRAM_340B,
                        "review",
                        "25",
                        f"GPO prohibition: {entity.id340b} is a participating 340B {entity.entity_type} on "
                        f"{self.day} buying on GPO pharmacy contract {contract.contract_id}",
                    )

    def contract_pharmacy(
        self, pharmacy: lookup.ContractPharmacy, contract: m.Contract | None
    ) -> None:
        """The pharmacy's own conditions; the entity it buys for is checked like any other."""
        who = f"340B contract pharmacy {pharmacy.name} of {pharmacy.covered_entity}"
        if not pharmacy.registered_on(self.day):
            periods = ", ".join(
                f"from {begin}" + (f" to {end}" if end else "") for begin, end in pharmacy.periods
            )
            self.add(
                rules.PROGRAM_340B,
                "reject",
                "26",
                f"customer not covered: {who} is not registered with it in OPAIS on "
                f"{self.day} (registered {periods})",
            )
        if contract is not None and contract.contract_type != "340B":
            self.add(
                rules.PROGRAM_340B,
                "review",
                "25",
                f"{who} on {contract.contract_type} contract {contract.contract_id}: a 340B "
                "dispensation is bought on the covered entity's 340B account; confirm the "
                "contract",
            )


def _participation(entity: m.OpaisEntity) -> str:
    if entity.termination_date is not None:
        return f"terminated {entity.termination_date}"
    return f"participating from {entity.participating_start_date}"
