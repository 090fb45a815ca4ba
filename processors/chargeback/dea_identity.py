"""Rule R04 for a DEA number that fails its offline check: the DEA registrant data decides (§9.10).

DEA has issued valid registrations that do not follow the check-digit formula (brief §3.2,
[S16]), so the checksum is only a pre-filter. The same holds for the second letter, which DEA
takes from the registrant's name: a name the claim spells otherwise (a trade name, a person
written first name first) is not proof of a wrong number, and a number whose letter is not
the claimed party's may belong to someone else. Intake (``extract.intake_findings``) rejects
a line with 26 when *every* customer identifier fails its offline check, except when one of
them is a well-formed DEA number whose only fault is the check digit or the name letter:
that line is left to ``chargeback.federal-db-validation``, which has the registrant data, and
which calls ``dea_identity_findings`` to decide it on the invoice date:

- the number is an active registration that day: it identifies the customer (pass, with a
  note of the anomaly) when its fault was the check digit, or when it was the name letter
  but the registrant data names the claimed party (renamed since the number was issued);
  otherwise the registration is someone else's, so a person confirms who bought (review, 25);
- the number is registered but not active that day: a person looks (review, 25);
- the number is not in the registrant data: nothing identifies the customer (reject, 26).
"""

from __future__ import annotations

import re

from processors.chargeback import rules
from processors.chargeback.claim import Claim, ClaimLine, Finding, Identifier
from processors.chargeback.identifiers import check_dea, dea_check_digit
from processors.chargeback.reference import lookup
from processors.chargeback.reference.fields import normalize_name

RULE = rules.R04
_DEA_SHAPE = re.compile(r"[A-Z][A-Z9]\d{7}")


def _base(ident: Identifier) -> str:
    """The 9-character registration number, without an institutional ``-suffix``."""
    return ident.value.strip().upper().partition("-")[0]


def _name_only(ident: Identifier) -> bool:
    """Whether the number passes its offline check but for the party's name."""
    return check_dea(_base(ident)).valid


def database_decides(ident: Identifier) -> bool:
    """A well-formed DEA number that failed its offline check only on the name letter, or
    that would pass it with another check digit."""
    if ident.kind != "dea" or ident.valid:
        return False
    base = _base(ident)
    if not _DEA_SHAPE.fullmatch(base):
        return False
    if _name_only(ident):
        return True
    corrected = base[:8] + str(dea_check_digit(base[2:8]))
    return corrected != base and check_dea(corrected).valid


def _deferred(line: ClaimLine) -> tuple[Identifier, ...]:
    """The DEA identifiers intake left to the registrant data: only on a line whose customer
    identifiers all failed their offline checks (with one valid id there is nothing to decide)."""
    customer = line.customer
    if customer is None or not customer.identifiers:
        return ()
    if any(i.valid for i in customer.identifiers):
        return ()
    return tuple(i for i in customer.identifiers if database_decides(i))


def _same_name(registrant: str, line: ClaimLine) -> bool:
    """Whether the registrant data names the party the claim names (a registrant renamed since
    its number was issued keeps the number)."""
    claimed = line.customer.name if line.customer is not None else None
    return bool(claimed) and normalize_name(registrant) == normalize_name(claimed or "")


def deferred_deas(line: ClaimLine) -> tuple[str, ...]:
    """The DEA numbers intake left to the registrant data (see :func:`_deferred`)."""
    return tuple(_base(i) for i in _deferred(line))


def dea_identity_findings(ref: lookup.Memo, claim: Claim) -> list[Finding]:
    """The R04 verdict on every line intake deferred (see the module docstring)."""
    findings: list[Finding] = []
    for line in claim.lines:
        deferred = _deferred(line)
        day = line.invoice_date or claim.claim_date
        if not deferred or day is None:
            continue
        checked = [(i, ref(lookup.dea_status, (_base(i), day))) for i in deferred]
        active = [(i, s) for i, s in checked if s.active]
        known = [(i, s) for i, s in checked if s.found]
        if active:
            ident, status = active[0]
            assert status.period is not None  # active: a period covers the day
            registrant = status.period.name
            if _name_only(ident) and not _same_name(registrant, line):
                findings.append(
                    Finding(
                        line.line,
                        RULE,
                        "review",
                        "25",
                        f"DEA {status.dea_no} is an active registration on {day} of "
                        f"{registrant}, but {ident.problem}; no other valid customer "
                        "identifier: confirm who bought",
                    )
                )
                continue
            findings.append(
                Finding(
                    line.line,
                    RULE,
                    "pass",
                    None,
                    f"warning: DEA {status.dea_no} fails its offline check ({ident.problem}) "
                    f"but is an active registration of {registrant} on {day} in the DEA "
                    "registrant data; it identifies the customer",
                )
            )
        elif known:
            ident, status = known[0]
            problems = "; ".join(p for _, s in known for p in s.problems)
            findings.append(
                Finding(
                    line.line,
                    RULE,
                    "review",
                    "25",
                    f"DEA {status.dea_no} ({ident.problem}) is registered but not active on "
                    f"{day} ({problems}); no other valid customer identifier",
                )
            )
        else:
            faults = "; ".join(f"DEA {_base(i)}: {i.problem}" for i in deferred)
            findings.append(
                Finding(
                    line.line,
                    RULE,
                    "reject",
                    "26",
                    f"no valid customer identifier ({faults}) and none is in the DEA "
                    "registrant data",
                )
            )
    return findings
