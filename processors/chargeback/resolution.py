"""Chargeback resolution: one accept / adjust / reject / pend decision per claim line.

The rule steps (duplicate check, contract eligibility, roster, federal databases, SAP) each
report :class:`~processors.chargeback.claim.Finding` records; this step folds them into one
:class:`~processors.chargeback.claim.LineDecision` per line, does the money arithmetic and
writes the 849 response plus a summary a person can read. It also settles the claim-line
ledger duplicate-check filled (``reference.history.settle_claim``): accepted and adjusted lines
become PAID, rejected ones REJECTED, so the next claim of the same sale is caught.

How findings combine (brief §8 "cross-cutting"):

* any ``reject`` finding rejects the line, allowed amount 0.00, with every reject code;
* otherwise, unless every expected rule step ran and gave a verdict on the line, it is
  pended (901 code 25) with the checks it lacks named: money is paid only on checks that
  were made, so a check that was not made is never read as one that passed;
* otherwise any ``review`` finding pends it (901 code 25 unless the rule gave another);
* otherwise ``adjust`` findings adjust it. Each carries the allowed amount after its
  correction; when several rules adjust one line the lowest amount is paid, so no rule's
  correction can be undone by another's. An adjustment that would pay the wholesaler more
  than the line claims (a decimal slip in the claimed amount, a WAC claimed below the one on
  file) is pended instead (25, after the adjustment's own codes): money the wholesaler did not
  ask for is paid only after a person looked;
* otherwise the line is accepted as claimed, after this step's own arithmetic check: the
  claimed amount must be ``(WAC - contract price) x quantity`` half-up to the cent within
  0.01 (R13, else adjusted, code 06), and a contract price at or above WAC pays 0.00 (R14,
  code 17). A chargeback is never negative except for a credit line (negative quantity).

A line a rule step made contingent on others (``data["contingent_on"]``: a rebill that is
paid in full only because a credit in the same debit memo reverses the earlier payment) is
pended (25) unless each of those lines is paid (accepted or adjusted) as well.

A finding on line 0 applies to every line (a duplicate debit memo rejects all of them), but
only a finding of its own is a step's verdict on a line: a debit-memo level pass says nothing
about the line checks. An expected rule step that did not run (absent, Skipped, Omitted,
Failed, Error), ran without publishing findings, or published none for a line, has not
checked that line. Its rejections elsewhere still stand, since they pay nothing; a duplicate
debit memo, on which the rule checks are skipped by design, is rejected all the same.

All money is ``Decimal``; floats never touch an amount.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy.exc import SQLAlchemyError

from engine.processors import StepContext, StepFailed, StepResult, TransientError
from processors.chargeback import rules
from processors.chargeback.claim import (
    CENT,
    Claim,
    ClaimLine,
    Finding,
    LineDecision,
    MalformedFinding,
    Status,
    chargeback_amount,
    decode_findings,
    quick_init,
)
from processors.chargeback.claim_store import claim_from_upstream
from processors.chargeback.db import session_scope
from processors.chargeback.edi import write_849_to
from processors.chargeback.outfiles import output_file
from processors.chargeback.reference.history import settle_claim
from processors.chargeback.reference.lookup import find_dc

#: The rule steps of the chargeback workflow (brief, heading): a line is paid only when each of
#: them ran and gave a verdict on it.
DEFAULT_CHECKS = (
    "duplicate-check",
    "contract-eligibility",
    "gpo-roster-validation",
    "federal-db-validation",
)
#: Required as well where the workflow has it: a chargeback is booked against the customer
#: master. It judges customers, not lines, so it must have succeeded but need not name each line.
SAP_CHECK = "sap-customer-creation"
ZERO = Decimal("0.00")
#: ISA05 "mutually defined": the interchange id qualifier when none is configured
MUTUALLY_DEFINED = "ZZ"
TOLERANCE = Decimal("0.01")  # R13: a difference above one cent is an error
CODE_PENDING = "25"
CODE_MISSING_DATA = "15"
CODE_AMOUNT = "06"
CODE_NO_SPREAD = "17"


# --------------------------------------------------------------------------- upstream


@dataclass(frozen=True)
class Evidence:
    """Every finding the rule steps made, and which of the expected checks were not made."""

    findings: tuple[tuple[str, Finding], ...]
    performed: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    skipped_reasons: Mapping[str, str] = field(default_factory=dict)
    #: line -> {"contract_price", "wac"} on file, from the pricing step's ``data["prices"]``
    prices: Mapping[int, Mapping[str, Decimal]] = field(default_factory=dict)
    #: expected check that ran -> the lines it gave a verdict on (a finding on that line)
    verdicts: Mapping[str, frozenset[int]] = field(default_factory=dict)
    #: line -> the lines that must be paid for it to be paid (``data["contingent_on"]``)
    contingent: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    def unchecked(self, line: int) -> tuple[str, ...]:
        """The checks this line lacks, each with why: not run, or no verdict on the line."""
        missing = [f"{name} ({why})" for name, why in self.skipped_reasons.items()]
        missing += [
            f"{name} (no verdict on this line)"
            for name, lines in self.verdicts.items()
            if line not in lines
        ]
        return tuple(missing)

    def lines_without_verdict(self, lines: Iterable[int]) -> dict[str, list[int]]:
        """Expected check that ran -> the claim lines it gave no verdict on, for the summary."""
        numbers = list(lines)
        gaps = {
            name: [n for n in numbers if n not in given] for name, given in self.verdicts.items()
        }
        return {name: missing for name, missing in gaps.items() if missing}

    def for_line(self, line: int) -> list[Finding]:
        """Findings on this line and on the whole claim (line 0), in their original order."""
        by_line = self._by_line
        own = by_line.get(line, []) if line != 0 else []
        claim_wide = by_line.get(0, [])
        both = sorted(claim_wide + own) if own and claim_wide else own or claim_wide
        findings = self.findings
        return [findings[i][1] for i in both]

    @cached_property
    def _by_line(self) -> dict[int, list[int]]:
        """The positions of the findings on each line, grouped once, in order: looking them up
        per line must not rescan or re-sort them all. Positions, not the findings with them:
        a large claim has hundreds of thousands, and a pair for each was the largest part of
        the evidence kept while deciding."""
        groups: dict[int, list[int]] = {}
        for i, (_step, finding) in enumerate(self.findings):
            groups.setdefault(finding.line, []).append(i)
        return groups


def _prices(step: str, raw: Any) -> dict[int, dict[str, Decimal]]:
    """``{"3": {"contract_price": "82.50", "wac": "125.00", ...}}`` as exact decimals."""
    if not isinstance(raw, Mapping):
        raise StepFailed(f"step '{step}' published prices that are not an object by line")
    prices: dict[int, dict[str, Decimal]] = {}
    for line, values in raw.items():
        try:
            prices[int(line)] = {
                k: Decimal(str(values[k])) for k in ("contract_price", "wac") if k in values
            }
        except (ValueError, TypeError, ArithmeticError):
            raise StepFailed(f"step '{step}' published unreadable prices for line {line}") from None
    return prices


def _contingent(step: str, raw: Any) -> dict[int, tuple[int, ...]]:
    """``{"5": [4]}`` (line 5 is paid only with line 4) as line numbers."""
    if not isinstance(raw, Mapping):
        raise StepFailed(f"step '{step}' published contingent_on that is not an object by line")
    try:
        return {int(line): tuple(int(n) for n in on) for line, on in raw.items()}
    except (ValueError, TypeError):
        raise StepFailed(f"step '{step}' published unreadable contingent_on") from None


def gather_findings(
    context: StepContext,
    expected: Iterable[str] = DEFAULT_CHECKS,
    required: Iterable[str] = (),
    outcomes: frozenset[str] | None = None,
) -> Evidence:
    """Collect ``data["findings"]`` (with ``data["prices"]`` and ``data["contingent_on"]``)
    from every ancestor that succeeded.

    Each ``expected`` check must have succeeded and published findings; the lines it gave a
    verdict on are kept. Each ``required`` step need only have succeeded. With ``outcomes``,
    only the findings of those outcomes are collected (see ``decode_findings``).
    """
    expected, required = tuple(expected), tuple(required)
    found: list[tuple[str, Finding]] = []
    prices: dict[int, dict[str, Decimal]] = {}
    performed: list[str] = []
    reasons: dict[str, str] = {}
    verdicts: dict[str, frozenset[int]] = {}
    contingent: dict[int, tuple[int, ...]] = {}
    for name, up in context.upstream.items():
        raw = up.data.get("findings")
        if up.phase != "Succeeded":
            if raw is not None or name in expected or name in required:
                reasons[name] = up.phase
            continue
        if "prices" in up.data:
            for line, values in _prices(name, up.data["prices"]).items():
                prices.setdefault(line, {}).update(values)
        if "contingent_on" in up.data:
            for line, on in _contingent(name, up.data["contingent_on"]).items():
                contingent[line] = (*contingent.get(line, ()), *on)
        if raw is None:
            if name in expected:
                reasons[name] = "Succeeded without publishing findings"
            continue
        if not isinstance(raw, list):
            raise StepFailed(f"step '{name}' published findings that are not a list")
        performed.append(name)
        try:
            published = decode_findings(raw, outcomes)
        except MalformedFinding as exc:
            raise StepFailed(
                f"finding {exc.index} of step '{name}' is malformed: {exc.reason}"
            ) from None
        found.extend((name, finding) for finding in published)
        if name in expected:
            verdicts[name] = frozenset(f.line for f in published)
    for name in expected:
        if name not in context.upstream:
            reasons.setdefault(name, "not in this workflow")
    return Evidence(
        tuple(found), tuple(performed), tuple(reasons), reasons, prices, verdicts, contingent
    )


# --------------------------------------------------------------------------- deciding


@quick_init
@dataclass(frozen=True, slots=True)
class Resolution:
    """A decision and the reasons behind it, for the summary and the audit trail (slots: one
    per claim line, and a per-instance dict is one more object for the cycle collector)."""

    decision: LineDecision
    submitted: Decimal | None
    #: the line's findings in rule order, and what resolution itself adds to them
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """Each finding as ``rule: message``, then the notes: made when the summary asks, one
        line at a time (kept for every line of a large claim, they were its largest part)."""
        return (*(f"{f.rule}: {f.message}" for f in self.findings), *self.notes)


def _by_rule(finding: Finding) -> tuple[int, str]:
    """A line's findings in the brief's rule order (``rules.rank``)."""
    return rules.rank(finding.rule)


def _codes(ordered: Iterable[Finding], default: str | None = None) -> tuple[str, ...]:
    """Distinct codes of findings already in rule order (``_by_rule``)."""
    codes = [f.code or default for f in ordered]
    return tuple(dict.fromkeys(c for c in codes if c))


def decide_line(
    line: ClaimLine,
    findings: Sequence[Finding],
    on_file: Mapping[str, Decimal] | None = None,
    unchecked: Sequence[str] = (),
) -> Resolution:
    """Fold one line's findings (its own and the debit memo's) into its decision.

    ``on_file`` holds the ``contract_price`` and ``wac`` the pricing rules found on file; the
    decision carries them so the 849 shows them next to the submitted prices (UIT CT/WH).
    ``unchecked`` names the expected checks the line lacks (``Evidence.unchecked``): such a
    line is rejected if a check that ran rejects it, and otherwise pended, never paid.
    """
    on_file = on_file or {}

    def decided(status: Status, amount: Decimal, codes: Iterable[str] = ()) -> LineDecision:
        return LineDecision(
            line.line,
            status,
            amount,
            tuple(dict.fromkeys(codes)),
            contract_price=on_file.get("contract_price"),
            wac=on_file.get("wac"),
        )

    ordered = tuple(sorted(findings, key=_by_rule))  # once: each subset below keeps this order
    submitted = line.claimed_amount
    rejects = [f for f in ordered if f.outcome == "reject"]
    if rejects:
        return Resolution(decided("reject", ZERO, _codes(rejects)), submitted, ordered)
    if (
        line.wac is None
        or line.contract_price is None
        or line.quantity is None
        or submitted is None
    ):
        why = "resolution: WAC, contract price, quantity or claimed amount is missing"
        return Resolution(decided("reject", ZERO, [CODE_MISSING_DATA]), submitted, ordered, (why,))
    reviews = [f for f in ordered if f.outcome == "review"]
    if unchecked:
        why = "resolution: pending, a line is paid only when every check judged it; missing: "
        why += ", ".join(unchecked)
        codes = [*_codes(reviews, CODE_PENDING), CODE_PENDING]
        return Resolution(decided("pend", ZERO, codes), submitted, ordered, (why,))
    if reviews:
        return Resolution(decided("pend", ZERO, _codes(reviews, CODE_PENDING)), submitted, ordered)
    computed = chargeback_amount(line.wac, line.contract_price, line.quantity)
    adjusts = [f for f in ordered if f.outcome == "adjust"]
    # the given order, not rule order: of equal amounts, min() keeps the first one given
    priced = [f for f in findings if f.outcome == "adjust" and f.amount is not None]
    if priced:
        amount = min(f.amount for f in priced if f.amount is not None)
        codes = list(_codes(adjusts))
        notes: tuple[str, ...] = ()
    elif line.wac <= line.contract_price and not line.is_credit:
        amount, codes = ZERO, [*_codes(adjusts), CODE_NO_SPREAD]
        notes = ("resolution: contract price is not below WAC, nothing is owed (R14)",)
    elif abs(computed - submitted) > TOLERANCE:
        amount, codes = computed, [*_codes(adjusts), CODE_AMOUNT]
        notes = (
            f"resolution: claimed {submitted} but (WAC - contract price) x quantity is {computed} (R13)",
        )
    elif adjusts:
        amount, codes, notes = submitted, list(_codes(adjusts)), ()
    else:
        return Resolution(decided("accept", submitted), submitted, ordered)
    if amount < 0 and not line.is_credit:
        amount = ZERO
        codes.append(CODE_NO_SPREAD)
        notes = (*notes, "resolution: a negative chargeback is never paid back (R14)")
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > max(submitted, ZERO):  # a payment above the claim; 0 for a negative claim is R14
        why = (
            f"resolution: pending, the adjustment would pay {amount}, more than the {submitted} "
            "claimed; an upward adjustment is paid only after review"
        )
        return Resolution(decided("pend", ZERO, [*codes, CODE_PENDING]), submitted, ordered, (*notes, why))
    return Resolution(decided("adjust", amount, codes), submitted, ordered, notes)


_PAID = ("accept", "adjust")


def resolve(claim: Claim, evidence: Evidence) -> list[Resolution]:
    """Every line decided on its own findings, then each contingent line that is to be paid
    checked against the lines it depends on (see the module docstring)."""
    decided = [
        decide_line(
            line,
            evidence.for_line(line.line),
            evidence.prices.get(line.line),
            evidence.unchecked(line.line),
        )
        for line in claim.lines
    ]
    status = {r.decision.line: r.decision.status for r in decided}
    return [
        _unpaid_dependency(r, evidence.contingent[r.decision.line], status)
        if r.decision.status in _PAID and r.decision.line in evidence.contingent
        else r
        for r in decided
    ]


def _unpaid_dependency(
    resolution: Resolution, on: Sequence[int], status: Mapping[int, str]
) -> Resolution:
    """The resolution, pended if a line it is paid on is not paid itself."""
    unpaid = [n for n in on if status.get(n) not in _PAID]
    if not unpaid:
        return resolution
    decision = replace(
        resolution.decision,
        status="pend",
        accepted_amount=ZERO,
        reason_codes=(*resolution.decision.reason_codes, CODE_PENDING),
    )
    lines = ", ".join(f"line {n} ({status.get(n, 'absent')})" for n in unpaid)
    why = f"resolution: pending, paid only together with {lines}, which is not paid"
    return Resolution(
        decision, resolution.submitted, resolution.findings, (*resolution.notes, why)
    )


@dataclass(frozen=True)
class Totals:
    submitted: Decimal
    allowed: Decimal
    counts: Mapping[str, int]


def totals(resolutions: Sequence[Resolution]) -> Totals:
    """The debit memo total is the sum of allowed line amounts (brief §8)."""
    counts = {s: 0 for s in ("accept", "adjust", "reject", "pend")}
    for r in resolutions:
        counts[r.decision.status] += 1
    return Totals(
        submitted=sum((r.submitted or Decimal(0) for r in resolutions), Decimal("0.00")),
        allowed=sum((r.decision.accepted_amount for r in resolutions), Decimal("0.00")),
        counts=counts,
    )


# --------------------------------------------------------------------------- the processor


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80] or "claim"


def default_control_number(run_id: str, debit_memo: str) -> int:
    """A 9-digit interchange control number that a re-run of the same run reproduces."""
    digest = hashlib.sha256(f"{run_id}|{debit_memo}".encode()).hexdigest()
    return int(digest[:12], 16) % 999_999_999 + 1


class ChargebackResolution:
    """Decides every claim line from the upstream findings and writes the 849 and a summary."""

    #: its reference data, ledger and trail live in the run's database
    uses_database: ClassVar[bool] = True
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "output_dir": {
                "type": "string",
                "description": "Folder for the 849 and the summary when the step is called "
                "outside the engine (which keeps them as the step's file outputs 'response' "
                "and 'summary'); default: the working directory, which relative paths are "
                "taken from.",
            },
            "claim_step": {
                "type": "string",
                "description": "Step that published the claim; default: the first ancestor with one.",
            },
            "checks": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "description": "Rule steps every line needs a verdict from before it is paid "
                "(sap-customer-creation, where the workflow has it, must succeed as well).",
            },
            "control_number": {
                "type": "integer",
                "minimum": 1,
                "maximum": 999999999,
                "description": "ISA13/GS06 of the 849; default: derived from the run id.",
            },
            "response_time": {
                "type": "string",
                "description": "849 date and time, YYYY-MM-DD or YYYY-MM-DDTHH:MM; "
                "default: now (UTC).",
            },
            "interchange": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "qualifier": {
                        "type": "string",
                        "pattern": "^[0-9A-Z]{2}$",
                        "default": MUTUALLY_DEFINED,
                    },
                    "id": {"type": "string", "minLength": 1, "maxLength": 15},
                },
                "description": "Our own EDI interchange address (the 844's receiver, the 849's "
                "sender), for claims that did not come as X12 (text, PDF): an 844 is answered "
                "from its own envelope. The wholesaler's address is its DC's edi_id in the "
                "reference data.",
            },
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "accepted": "integer",
        "adjusted": "integer",
        "rejected": "integer",
        "pending": "integer",
        "total_paid": "string",
        "response_path": "string",
        "skipped_checks": "list",
        "response": "file",
        "summary": "file",
    }

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)  # what it was built from (the seed's add_step)
        self.output_dir: str | None = config.get("output_dir")
        self.claim_step: str | None = config.get("claim_step")
        self.checks: tuple[str, ...] = tuple(config.get("checks", DEFAULT_CHECKS))
        self.control_number: int | None = config.get("control_number")
        interchange = config.get("interchange")
        self.interchange: tuple[str, str] | None = (
            (interchange.get("qualifier", MUTUALLY_DEFINED), interchange["id"])
            if interchange
            else None
        )
        raw = config.get("response_time")
        try:
            self.response_time = datetime.fromisoformat(raw) if raw else None
        except ValueError:
            raise StepFailed(
                f"config response_time {raw!r} is not a date or time; "
                "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM"
            ) from None

    def process(self, context: StepContext) -> StepResult:
        claim_step, claim = claim_from_upstream(context, self.claim_step)
        required = (SAP_CHECK,) if SAP_CHECK in context.upstream else ()
        evidence = gather_findings(context, self.checks, required)
        resolutions = resolve(claim, evidence)
        sums = totals(resolutions)
        decisions = [r.decision for r in resolutions]
        stem = f"849-{_safe_name(claim.debit_memo or context.run_id)}"
        response = output_file(context, "response", self.output_dir, f"{stem}.edi")
        sender, receiver = self._addresses(context, claim)
        answered = self.response_time or datetime.now(UTC)
        # written as it is made, not built and then written: a large claim's answer is
        # tens of megabytes of text
        try:
            with response.open("w", encoding="utf-8") as out:
                write_849_to(
                    out,
                    claim,
                    decisions,
                    control_number=self.control_number
                    or default_control_number(context.run_id, claim.debit_memo or ""),
                    date=answered,
                    sender=sender,
                    receiver=receiver,
                )
        except ValueError:
            response.unlink(missing_ok=True)  # no half-written answer left to be sent
            raise
        summary = output_file(context, "summary", self.output_dir, f"{stem}.md")
        summary.write_text(render_summary(claim, resolutions, sums, evidence), encoding="utf-8")
        # last: a line is recorded PAID only once its answer is written, so a step that fails
        # before that leaves no payment on the ledger for a claim that goes to review
        settled = self._settle(context, claim, decisions, answered.date())
        return StepResult(
            outputs={
                "accepted": sums.counts["accept"],
                "adjusted": sums.counts["adjust"],
                "rejected": sums.counts["reject"],
                "pending": sums.counts["pend"],
                "total_paid": format(sums.allowed, "f"),
                "response_path": str(response),
                "skipped_checks": list(evidence.skipped),
            },
            data={
                "decisions": [d.to_json() for d in decisions],
                "summary": {
                    "debit_memo": claim.debit_memo,
                    "claim_step": claim_step,
                    "submitted": format(sums.submitted, "f"),
                    "allowed": format(sums.allowed, "f"),
                    "checks_performed": list(evidence.performed),
                    "checks_skipped": dict(evidence.skipped_reasons),
                    "lines_without_verdict": evidence.lines_without_verdict(
                        line.line for line in claim.lines
                    ),
                    "summary_path": str(summary),
                    "ledger_rows_settled": settled,
                },
                "subject": {
                    "wholesaler": _party_id(claim),
                    "dm_no": claim.debit_memo,
                },
                "report": render_table(claim, resolutions, sums, response, summary, evidence),
            },
        )

    def _addresses(
        self, context: StepContext, claim: Claim
    ) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """Who the 849 is from and to: an 844's own envelope, swapped (None, None); for a
        claim read from text or PDF, our address from the config and the wholesaler's from
        the reference data of the DC that sent it. Without either the claim cannot be
        answered, which fails the step (and the claim goes to review) rather than guessing
        an address."""
        if claim.envelope is not None:
            return None, None
        kind = f"a {claim.format} claim"
        if self.interchange is None:
            raise StepFailed(
                f"{kind} has no EDI envelope to answer: set this step's config interchange "
                "({qualifier, id}: our own EDI address)"
            )
        if not context.database_url:
            raise StepFailed(
                f"{kind} is answered at its DC's EDI address: the step needs the store"
            )
        try:
            with session_scope(context.database_url) as session:
                found = find_dc(session, claim.distributor)
        except SQLAlchemyError as exc:
            raise TransientError(f"reference store error: {type(exc).__name__}") from None
        if found.dc is None:
            raise StepFailed(f"{kind} cannot be answered: {found.problem}")
        if not found.dc.edi_id:
            raise StepFailed(
                f"{kind} cannot be answered: distribution center {found.dc.dc_key} has no EDI "
                "address in the reference data (wholesaler_dc.edi_id)"
            )
        return self.interchange, (found.dc.edi_qualifier or MUTUALLY_DEFINED, found.dc.edi_id)

    @staticmethod
    def _settle(
        context: StepContext, claim: Claim, decisions: Sequence[LineDecision], answered: date
    ) -> int | None:
        """Mark the lines duplicate-check recorded as PAID/REJECTED/PENDING, answered on
        ``answered``, so the next claim of the same sale is caught (R06/R07) and a rejected
        line's resubmission is measured from its 849; None when the workflow has no store."""
        if not context.database_url:
            return None
        try:
            with session_scope(context.database_url) as session:
                return settle_claim(
                    session, context.run_id, claim, decisions, responded_on=answered
                )
        except SQLAlchemyError as exc:
            raise TransientError(f"claim-line ledger store error: {type(exc).__name__}") from None

    @classmethod
    def report_section(cls, result: StepResult) -> Mapping[str, Any]:
        """The run report's section (``engine.report``): each line's decision with its
        reason codes (X12 889 of the 849), and the claim's totals."""
        summary = result.data.get("summary", {})
        return {
            "title": f"Decisions, debit memo {summary.get('debit_memo') or '-'}",
            "columns": ["line", "decision", "allowed", "contract price", "WAC", "reason codes"],
            "rows": [
                [d["line"], d["status"], d["accepted_amount"], d.get("contract_price"),
                 d.get("wac"), " ".join(d.get("reason_codes") or ()) or "-"]
                for d in result.data.get("decisions", ())
            ],
            "totals": [
                ("submitted", summary.get("submitted")),
                ("allowed", summary.get("allowed")),
                *((name, result.outputs.get(name))
                  for name in ("accepted", "adjusted", "rejected", "pending")),
                ("checks skipped", ", ".join(summary.get("checks_skipped", {})) or "none"),
            ],
        }


def _party_id(claim: Claim) -> str | None:
    party = claim.distributor
    if party is None or not party.identifiers:
        return None
    return party.identifiers[0].value


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_STATUS_WORD = {
    "accept": "Accepted",
    "adjust": "Adjusted",
    "reject": "Rejected",
    "pend": "Pending review",
}


def render_table(
    claim: Claim,
    resolutions: Sequence[Resolution],
    sums: Totals,
    response: Path,
    summary: Path,
    evidence: Evidence,
) -> str:
    """The per-line decision as a plain table for the terminal (``flowspec run`` prints it),
    with the checks that were not made, since they are why a line is pending."""
    lines = {line.line: line for line in claim.lines}
    header = ("line", "NDC", "qty", "submitted", "allowed", "decision", "codes")
    rows = [header]
    for res in resolutions:
        d = res.decision
        line = lines.get(d.line)
        rows.append(
            (
                str(d.line),
                (line.ndc11 or line.ndc_submitted or "-") if line else "-",
                str(line.quantity) if line and line.quantity is not None else "-",
                format(res.submitted, "f") if res.submitted is not None else "-",
                format(d.accepted_amount, "f"),
                _STATUS_WORD.get(d.status, d.status),
                ",".join(d.reason_codes) or "-",
            )
        )
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    # all columns but the last padded by one format: a row per claim line
    layout = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {}"
    text = [layout.format(*row).rstrip() for row in rows]
    text.append(
        f"debit memo {claim.debit_memo or '?'}: submitted {format(sums.submitted, 'f')},"
        f" allowed {format(sums.allowed, 'f')}"
    )
    if evidence.skipped_reasons:
        text.append(
            "checks not made, so no line is paid on them: "
            + ", ".join(f"{name} ({why})" for name, why in evidence.skipped_reasons.items())
        )
    text.append(f"849 response: {response}")
    text.append(f"summary:      {summary}")
    return "\n".join(text)


def render_summary(
    claim: Claim, resolutions: Sequence[Resolution], sums: Totals, evidence: Evidence
) -> str:
    """The decision in words for the analyst: per line what was decided and why."""
    lines = {line.line: line for line in claim.lines}
    out = [
        f"# Chargeback resolution: debit memo {_md(claim.debit_memo or 'unknown')}",
        "",
        (
            f"- Wholesaler: {_md((claim.distributor and claim.distributor.name) or 'unknown')}"
            f" ({_md(_party_id(claim) or 'no id')})"
        ),
        f"- Debit memo date: {claim.claim_date or 'unknown'}",
        f"- Submitted: {sums.submitted}; allowed: **{sums.allowed}**",
        "- Lines: " + ", ".join(f"{n} {_STATUS_WORD[s].lower()}" for s, n in sums.counts.items()),
        "",
        "| line | NDC | qty | submitted | allowed | decision | codes | why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in resolutions:
        d = r.decision
        line = lines[d.line]
        out.append(
            f"| {_md(line.line_id)} | {_md(line.ndc11 or line.ndc_submitted or '')} "
            f"| {line.quantity if line.quantity is not None else ''} "
            f"| {r.submitted if r.submitted is not None else ''} | {d.accepted_amount} "
            f"| {_STATUS_WORD[d.status]} | {' '.join(d.reason_codes)} "
            f"| {_md('; '.join(r.reasons))} |"
        )
    out += ["", "## Checks", ""]
    out.append(
        "Performed: " + (", ".join(evidence.performed) if evidence.performed else "none") + "."
    )
    if evidence.skipped_reasons:
        out.append("")
        out.append("**Not performed**, so no line is accepted or adjusted on them:")
        out += [f"- {_md(name)}: {_md(why)}" for name, why in evidence.skipped_reasons.items()]
    gaps = evidence.lines_without_verdict(lines)
    if gaps:
        out.append("")
        out.append("**No verdict** on these lines, which are therefore not paid:")
        out += [
            f"- {_md(name)}: lines {', '.join(map(str, numbers))}" for name, numbers in gaps.items()
        ]
    out.append("")
    return "\n".join(out)
