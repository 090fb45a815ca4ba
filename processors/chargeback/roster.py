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

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, NamedTuple

from engine.processors import StepContext
from processors.chargeback import rules
from processors.chargeback.claim import Claim, Finding, Outcome
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.rulestep import Checked, RuleStep

RULE = rules.R17


class GpoRosterValidation(RuleStep):
    datasets: ClassVar[tuple[str, ...]] = ("gpo_roster", "contracts", "sap_customers")

    def prefetch(self, ref: lookup.Memo, claim: Claim) -> None:
        super().prefetch(ref, claim)
        lookup.prefetch_roster(ref, (line.customer for line in claim.lines))

    def check(self, ref: lookup.Memo, claim: Claim, context: StepContext) -> Checked:
        findings: list[Finding] = []
        statuses: dict[str, dict[str, Any]] = {}
        # a claim repeats each (contract, day, customer) on many lines: each is judged once
        # (id(match) names the customer: see Memo.match_of)
        verdicts: dict[tuple[str, date, int], _Verdict | None] = {}
        for line in claim.lines:
            if not line.contract_id or line.invoice_date is None:
                continue  # contract-eligibility rejects those lines already
            match = ref.match_of(line.customer)
            key = (line.contract_id, line.invoice_date, id(match))
            if key not in verdicts:
                verdicts[key] = _verdict(ref, line.contract_id, line.invoice_date, match)
            verdict = verdicts[key]
            if verdict is None:
                continue
            findings.append(
                Finding(line.line, RULE, verdict.outcome, verdict.code, verdict.message)
            )
            statuses[str(line.line)] = dict(verdict.status)
        return Checked(findings=findings, data={"roster": statuses})


class _Verdict(NamedTuple):
    """R17 on the lines of one contract, day and customer."""

    outcome: Outcome
    code: str | None
    message: str
    status: Mapping[str, Any]


def _verdict(
    ref: lookup.Memo, contract_id: str, day: date, match: lookup.CustomerMatch
) -> _Verdict | None:
    """None for a contract that does not exist: contract-eligibility rejects its lines."""
    contract = ref(lookup.contract, contract_id)
    if contract is None:
        return None
    if contract.contract_type != "GPO" or not contract.gpo_id:
        return _Verdict(
            "pass",
            None,
            f"contract {contract.contract_id} is not roster-driven ({contract.contract_type})",
            {"status": "not_roster_driven"},
        )
    gpo = contract.gpo_id
    hits = ref(lookup.roster_hits, lookup.known_identifiers(ref, match))
    on_gpo = [h for h in hits if h.row.gpo_id == gpo]
    current = [h for h in on_gpo if lookup.member_on(h.row, day)]
    if current:
        hit = current[0]
        return _Verdict(
            "pass",
            None,
            f"member {hit.row.gpo_member_id} of {gpo} on {day} (matched by {hit.matched_by})",
            _status("member", hit),
        )
    elsewhere = [h for h in hits if h.row.gpo_id != gpo and lookup.member_on(h.row, day)]
    if on_gpo:
        hit = max(on_gpo, key=lambda h: h.row.membership_start_date)
        return _outside_membership(gpo, day, hit, elsewhere)
    if elsewhere:
        others = sorted({h.row.gpo_id for h in elsewhere})
        return _Verdict(
            "reject",
            "26",
            f"customer not covered: member of {', '.join(others)} on {day}, not of {gpo} "
            f"(matched by {elsewhere[0].matched_by})",
            _status("other_gpo", elsewhere[0]),
        )
    by_name = [
        r
        for r in ref(lookup.roster_by_name, gpo, match.name, match.postal_code)
        if lookup.member_on(r, day)
    ]
    if by_name:
        row = by_name[0]
        return _Verdict(
            "review",
            "25",
            f"no identifier matches the {gpo} roster, but member {row.gpo_member_id} has the "
            f"same name and ZIP; confirm and update the identifiers",
            {"status": "name_match", "gpo_id": gpo, "gpo_member_id": row.gpo_member_id},
        )
    return _Verdict(
        "reject",
        "26",
        f"customer not covered: not on any GPO roster on {day} ({gpo} expected)",
        {"status": "not_found", "gpo_id": gpo},
    )


def _outside_membership(
    gpo: str, day: date, hit: lookup.RosterHit, elsewhere: list[lookup.RosterHit]
) -> _Verdict:
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
    return _Verdict(
        "reject",
        "26",
        f"customer not covered: {why}, invoice dated {day}{also}",
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
