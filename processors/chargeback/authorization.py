"""Rule R20, wholesaler authorization: may this distribution center claim this sale? (901 code 08)

Brief §8 R20 and §4.6 ``wholesaler_dc``. The 844's N1*DS names the distribution center by DEA
(N103 11) or GLN (UL). A line is rejected with 08 "Invalid Ship Location" when

- no DC of the table carries any of those identifiers (or they name different DCs),
- the invoice date is outside the DC's distribution services agreement (start and end
  inclusive; decided on the invoice date like every other term, §9.1), or
- the ship-to state is not one the DC is licensed to ship to (DSCSA: trading partners must be
  authorized). The ship-to state is the customer's N4 state when the claim sends one (it is
  the address the DC shipped to), else the state in the customer master.

What cannot be checked is said, not guessed: with no DC data loaded at all R20 is not checked
(a warning on the whole debit memo); a DC without recorded licence states, or a line whose
ship-to state is unknown, gets a warning instead of a licence verdict. A claim without a
distributor is intake's R02 (15), so R20 adds nothing to it.

It runs in ``chargeback.federal-db-validation`` with the other authorization checks (R18-R20).
``dc_verdict`` is pure over a ``WholesalerDc`` row; ``authorization_findings`` asks the store.
"""

from __future__ import annotations

from datetime import date

from processors.chargeback import rules
from processors.chargeback.claim import Claim, ClaimLine, Finding, Outcome
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.lookup import find_dc

RULE = rules.R20
CODE = "08"


def licensed_states(dc: m.WholesalerDc) -> frozenset[str]:
    return frozenset(s for s in dc.licensed_states.split("|") if s)


def dc_verdict(
    dc: m.WholesalerDc, day: date, ship_to_state: str | None
) -> tuple[Outcome, str | None, str]:
    """(outcome, code, message) of one line shipped by ``dc`` on ``day`` to ``ship_to_state``."""
    who = f"DC {dc.dc_key} ({dc.wholesaler})"
    if not lookup.in_period(day, dc.dsa_start, dc.dsa_end):
        until = f" to {dc.dsa_end}" if dc.dsa_end else ""
        return (
            "reject",
            CODE,
            (
                f"{who} has no distribution services agreement on the invoice date {day} "
                f"(DSA from {dc.dsa_start}{until})"
            ),
        )
    states = licensed_states(dc)
    if not states:
        return "pass", None, f"warning: {who} has no licensed states on file; licence not checked"
    if not ship_to_state:
        return "pass", None, f"warning: ship-to state unknown; {who} licence not checked"
    if ship_to_state not in states:
        return (
            "reject",
            CODE,
            (
                f"{who} is not licensed to ship to {ship_to_state} "
                f"(licensed: {', '.join(sorted(states))})"
            ),
        )
    return (
        "pass",
        None,
        f"DC {dc.dc_key} authorized on {day}: DSA in force, licensed for {ship_to_state}",
    )


def ship_to_state(ref: lookup.Memo, line: ClaimLine) -> str | None:
    """The N4 state sent for the customer, else the customer master's region."""
    customer = line.customer
    if customer is not None and customer.address is not None and customer.address.state:
        return customer.address.state.strip().upper()
    master = ref(lookup.customer, ref.match_of(customer).kunnr)
    return master.regio.strip().upper() if master is not None and master.regio else None


def authorization_findings(ref: lookup.Memo, claim: Claim) -> list[Finding]:
    """R20 on every line of the claim (see the module docstring)."""
    if claim.distributor is None:
        return []
    if not lookup.dc_table_loaded(ref.session):
        return [
            Finding(
                0,
                RULE,
                "pass",
                None,
                "warning: no wholesaler DC data is loaded; DC authorization not checked",
            )
        ]
    match = find_dc(ref.session, claim.distributor)
    # lines without an invoice date are rejected by intake; R20 is decided on that date
    dated = [line for line in claim.lines if line.invoice_date is not None]
    dc = match.dc
    if dc is None:
        message = f"DC not authorized: {match.problem}"
        return [Finding(line.line, RULE, "reject", CODE, message) for line in dated]
    # the verdict depends on the day and the state only, and a claim repeats both on many lines
    verdicts: dict[tuple[date, str | None], tuple[Outcome, str | None, str]] = {}
    findings = []
    for line in dated:
        assert line.invoice_date is not None
        key = (line.invoice_date, ship_to_state(ref, line))
        if key not in verdicts:
            verdicts[key] = dc_verdict(dc, *key)
        findings.append(Finding(line.line, RULE, *verdicts[key]))
    return findings
