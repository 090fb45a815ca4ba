"""Rule R04 for a DEA number that fails its check digit: the DEA registrant data decides (§9.10).

DEA has issued valid registrations that do not follow the check-digit formula (brief §3.2,
[S16]), so the checksum is only a pre-filter. Intake (``extract.intake_findings``) rejects a
line with 26 when *every* customer identifier fails its offline check, except when one of
them is a well-formed DEA number whose only fault is the check digit: that line is left to
``chargeback.federal-db-validation``, which has the registrant data, and which calls
``dea_identity_findings`` to decide it on the invoice date:

- the number is an active registration that day: it identifies the customer (pass, with a
  note of the anomaly);
- the number is registered but not active that day: a person looks (review, 25);
- the number is not in the registrant data: nothing identifies the customer (reject, 26).
"""

from __future__ import annotations

import re

from processors.chargeback.claim import Claim, ClaimLine, Finding, Identifier
from processors.chargeback.identifiers import check_dea, dea_check_digit
from processors.chargeback.reference import lookup

RULE = "R04"
_DEA_SHAPE = re.compile(r"[A-Z][A-Z9]\d{7}")


def database_decides(ident: Identifier) -> bool:
    """A DEA number that would pass its offline check with another check digit."""
    if ident.kind != "dea" or ident.valid:
        return False
    base = ident.value.strip().upper().partition("-")[0]
    if not _DEA_SHAPE.fullmatch(base):
        return False
    corrected = base[:8] + str(dea_check_digit(base[2:8]))
    return corrected != base and check_dea(corrected).valid


def deferred_deas(line: ClaimLine) -> tuple[str, ...]:
    """The DEA numbers intake left to the registrant data: only on a line whose customer
    identifiers all failed their offline checks (with one valid id there is nothing to decide)."""
    customer = line.customer
    if customer is None or not customer.identifiers:
        return ()
    if any(i.valid for i in customer.identifiers):
        return ()
    return tuple(
        i.value.strip().upper().partition("-")[0]
        for i in customer.identifiers
        if database_decides(i)
    )


def dea_identity_findings(ref: lookup.Memo, claim: Claim) -> list[Finding]:
    """The R04 verdict on every line intake deferred (see the module docstring)."""
    findings: list[Finding] = []
    for line in claim.lines:
        numbers = deferred_deas(line)
        day = line.invoice_date or claim.claim_date
        if not numbers or day is None:
            continue
        statuses = [ref(lookup.dea_status, (number, day)) for number in numbers]
        active = [s for s in statuses if s.active]
        known = [s for s in statuses if s.found]
        if active:
            findings.append(
                Finding(
                    line.line,
                    RULE,
                    "pass",
                    None,
                    f"warning: DEA {active[0].dea_no} fails its check digit but is an active "
                    f"registration on {day} in the DEA registrant data; it identifies the customer",
                )
            )
        elif known:
            problems = "; ".join(p for s in known for p in s.problems)
            findings.append(
                Finding(
                    line.line,
                    RULE,
                    "review",
                    "25",
                    f"DEA {known[0].dea_no} fails its check digit and is registered but not "
                    f"active on {day} ({problems}); no other valid customer identifier",
                )
            )
        else:
            findings.append(
                Finding(
                    line.line,
                    RULE,
                    "reject",
                    "26",
                    f"no valid customer identifier: DEA {', '.join(numbers)} fails its check "
                    "digit and is not in the DEA registrant data",
                )
            )
    return findings
