"""``chargeback.gpo-roster-validation``: was the customer on *this* GPO's roster that day? (R17)

The customer is matched to roster rows by its identifiers, strongest first (HIN, the HIN's
7-character base, DEA, GLN, 340B ID, NPI; brief §5), using both the identifiers the claim sent
and those the customer master holds. Then, at the invoice date:

- a member of the contract's GPO: pass (tier and member id in ``data["roster"]``);
- on the contract's GPO roster but not that day (ended, or not yet started): 26;
- a member of *another* GPO only: 26, reported as its own status ``other_gpo`` (§9.6);
- on no roster: 26; a same-name-and-ZIP row on the GPO goes to review (25) instead.

Contracts that are not roster-driven (IDN, direct, 340B, FSS) pass here; contract-eligibility
checks their explicit member lists.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from engine.processors import StepContext
from processors.chargeback.claim import Claim, ClaimLine, Finding
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.rulestep import Checked, RuleStep

RULE = "R17"


class GpoRosterValidation(RuleStep):
    datasets: ClassVar[tuple[str, ...]] = ("gpo_roster", "contracts", "sap_customers")

    def prefetch(self, ref: lookup.Memo, claim: Claim) -> None:
        super().prefetch(ref, claim)
        lookup.prefetch_roster(ref, (line.customer for line in claim.lines))

    def check(self, ref: lookup.Memo, claim: Claim, context: StepContext) -> Checked:
        findings: list[Finding] = []
        statuses: dict[str, dict[str, Any]] = {}
        for line in claim.lines:
            result = _line(ref, line)
            if result is None:
                continue
            finding, status = result
            findings.append(finding)
            statuses[str(line.line)] = status
        return Checked(findings=findings, data={"roster": statuses})


def _line(ref: lookup.Memo, line: ClaimLine) -> tuple[Finding, dict[str, Any]] | None:
    """None when the line cannot be judged here (no contract, unknown contract, no date):
    contract-eligibility rejects those lines already."""
    n = line.line
    contract = ref(lookup.contract, line.contract_id) if line.contract_id else None
    if contract is None or line.invoice_date is None:
        return None
    if contract.contract_type != "GPO" or not contract.gpo_id:
        return (
            Finding(
                n,
                RULE,
                "pass",
                None,
                f"contract {contract.contract_id} is not roster-driven ({contract.contract_type})",
            ),
            {"status": "not_roster_driven"},
        )
    day, gpo = line.invoice_date, contract.gpo_id
    match = ref.match_of(line.customer)
    hits = ref(lookup.roster_hits, lookup.known_identifiers(ref, match))
    on_gpo = [h for h in hits if h.row.gpo_id == gpo]
    current = [h for h in on_gpo if lookup.member_on(h.row, day)]
    if current:
        hit = current[0]
        return (
            Finding(
                n,
                RULE,
                "pass",
                None,
                f"member {hit.row.gpo_member_id} of {gpo} on {day} (matched by {hit.matched_by})",
            ),
            _status("member", hit),
        )
    elsewhere = [h for h in hits if h.row.gpo_id != gpo and lookup.member_on(h.row, day)]
    if on_gpo:
        hit = max(on_gpo, key=lambda h: h.row.membership_start_date)
        return _outside_membership(n, gpo, day, hit, elsewhere)
    if elsewhere:
        others = sorted({h.row.gpo_id for h in elsewhere})
        return (
            Finding(
                n,
                RULE,
                "reject",
                "26",
                f"customer not covered: member of {', '.join(others)} on {day}, not of {gpo} "
                f"(matched by {elsewhere[0].matched_by})",
            ),
            _status("other_gpo", elsewhere[0]),
        )
    by_name = [
        r
        for r in ref(lookup.roster_by_name, gpo, match.name, match.postal_code)
        if lookup.member_on(r, day)
    ]
    if by_name:
        row = by_name[0]
        return (
            Finding(
                n,
                RULE,
                "review",
                "25",
                f"no identifier matches the {gpo} roster, but member {row.gpo_member_id} has the "
                f"same name and ZIP; confirm and update the identifiers",
            ),
            {"status": "name_match", "gpo_id": gpo, "gpo_member_id": row.gpo_member_id},
        )
    return (
        Finding(
            n,
            RULE,
            "reject",
            "26",
            f"customer not covered: not on any GPO roster on {day} ({gpo} expected)",
        ),
        {"status": "not_found", "gpo_id": gpo},
    )


def _outside_membership(
    n: int, gpo: str, day: date, hit: lookup.RosterHit, elsewhere: list[lookup.RosterHit]
) -> tuple[Finding, dict[str, Any]]:
    row = hit.row
    if day < row.membership_start_date:
        why, status = f"joins {gpo} only on {row.membership_start_date}", "not_yet_member"
    else:
        why, status = f"membership in {gpo} ended {row.membership_end_date}", "membership_ended"
    also = (
        f"; on {day} a member of {', '.join(sorted({h.row.gpo_id for h in elsewhere}))}"
        if elsewhere
        else ""
    )
    return (
        Finding(n, RULE, "reject", "26", f"customer not covered: {why}, invoice dated {day}{also}"),
        _status(status, hit),
    )


def _status(status: str, hit: lookup.RosterHit) -> dict[str, Any]:
    row: m.GpoRosterMember = hit.row
    return {
        "status": status,
        "gpo_id": row.gpo_id,
        "gpo_member_id": row.gpo_member_id,
        "tier": row.tier,
        "class_of_trade": row.class_of_trade,
        "matched_by": hit.matched_by,
    }
