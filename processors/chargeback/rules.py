"""Every rule a chargeback finding can name, once: its id, what it checks and its place in the
brief's order (§8), so rule steps name rules by constant, never by a loose string, and the
resolution step orders reasons by the registry instead of parsing ids.

The R01-R20 ids are the brief's; the hyphenated ones are parts of a rule that a step reports
on its own (a resubmission is R06's case, a unit of measure R10's); ``340B`` and ``SAP`` are
the program and customer-master checks the brief describes outside §8's list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    #: place in the brief's processing order: reasons are listed by it
    rank: int


RULES: dict[str, Rule] = {}


def _rule(id: str, title: str) -> str:
    if id in RULES:
        raise ValueError(f"rule {id} declared twice")
    RULES[id] = Rule(id, title, len(RULES))
    return id


R02 = _rule("R02", "mandatory fields")
R03 = _rule("R03", "NDC format and existence")
R04 = _rule("R04", "customer identifier check digits")
R05 = _rule("R05", "duplicate debit memo")
R06 = _rule("R06", "duplicate line")
R06_CUSTOMER = _rule("R06-customer", "duplicate line under another customer identifier")
R06_RESUBMISSION = _rule("R06-resubmission", "resubmission of a rejected line, within its limit")
R07 = _rule("R07", "resubmission delta")
R08 = _rule("R08", "contract exists and is indirect")
R08_R16 = _rule("R08-R16", "contract checks: all passed")
R09 = _rule("R09", "contract active at the invoice date")
R10 = _rule("R10", "product on contract")
R10_UOM = _rule("R10-uom", "unit of measure of the claimed quantity")
R11 = _rule("R11", "contract price")
R12 = _rule("R12", "WAC")
R13 = _rule("R13", "amount arithmetic")
R14 = _rule("R14", "non-positive spread")
R15 = _rule("R15", "timeliness")
R16 = _rule("R16", "customer eligible on contract")
R17 = _rule("R17", "GPO roster membership")
R18 = _rule("R18", "exclusion screening")
R18_R19 = _rule("R18-R19", "federal databases: nothing found")
R19 = _rule("R19", "DEA for controlled substances")
R20 = _rule("R20", "wholesaler authorization")
# After §8's rules, as a line's reasons list them: the checks the brief describes elsewhere.
PROGRAM_340B = _rule("340B", "340B program: OPAIS registration, GPO prohibition")
NPI = _rule("NPI", "NPI registry (NPPES): active at the invoice date")
SAP = _rule("SAP", "SAP customer master")


@functools.cache
def rank(rule: str) -> tuple[int, str]:
    """Where a rule's reasons go among a line's: the registry's order, unknown ids last.
    Kept per id (the registry is complete once this module is imported): every finding of a
    large claim is ordered by it."""
    known = RULES.get(rule)
    return (known.rank if known is not None else len(RULES), rule)
