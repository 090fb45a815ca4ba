"""``chargeback.duplicate-check``: the cheap rules that run first (brief §1.5, R05-R07).

- **R05** the same wholesaler sent this debit memo number before as an original (00): the
  whole DM is a duplicate (901 code 11). A replacement (05/CO) is fine: its lines are netted.
- **R06** a line whose hard key (DC | invoice | invoice line | NDC | canonical customer) was
  already paid for the same quantity: reject, 28, allowed 0. A line previously *rejected* is
  a resubmission and goes on, within the resubmission limit: resubmitted (the debit memo's
  date) more than ``resubmission_limit_days`` after the 849 that rejected it, it is rejected
  29 ("past exercise period", brief §1.4: 90 days); with no 849 date on file it is held (25).
  A reversal (negative quantity) is a credit, never a duplicate.
- **R07** the same key paid for another quantity: pay only the delta (net of every earlier
  payment and credit); a delta <= 0 is a duplicate (28). A credit of the same key in the same
  debit memo counts as well: a paid line credited and rebilled in one claim pays the whole
  rebill (credit and rebill, brief §1.5), but only if the credit is paid too, so the rebill
  is published as contingent on it (``data["contingent_on"]``, read by resolution).
- **Soft key** (same invoice, NDC, customer, date and |quantity| under another line number)
  and a same key still pending in another run go to review (25), never auto-reject.
- **Duplicate customers**: one claim customer whose identifiers belong to different customer
  records, or one identifier sent under differently named customers: review (25, §9.8). A
  registered 340B contract pharmacy sent with its covered entity's 340B ID is that entity
  (``lookup.ContractPharmacy``), not a second name for the ID.

Every line is then recorded in the claim-line ledger under this run, once per (run, DM,
line): a retried or resumed step rewrites its own rows and ignores them when looking back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple

from sqlalchemy.orm import Session

from engine.processors import StepContext
from processors.chargeback import rules
from processors.chargeback.claim import Claim, ClaimLine, Finding, chargeback_amount
from processors.chargeback.reference import history, lookup
from processors.chargeback.reference.datasets import LOADED_HISTORY_RUN
from processors.chargeback.reference.fields import normalize_name
from processors.chargeback.reference.rulestep import Checked, RuleStep

RULE_DM = rules.R05
RULE_LINE = rules.R06
RULE_DELTA = rules.R07
RULE_CUSTOMER = rules.R06_CUSTOMER
RULE_RESUBMISSION = rules.R06_RESUBMISSION
CODE_LATE = "29"
ZERO = Decimal("0.00")
#: Brief §1.4 (an assumption it asks to keep configurable): a rejected line may be sent again
#: until this many days after the 849 that rejected it.
DEFAULT_RESUBMISSION_LIMIT_DAYS = 90


class _Limit(NamedTuple):
    """When a rejected line may still be resubmitted: ``days`` after its 849, as of ``on``
    (the date of the debit memo resubmitting it)."""

    days: int
    on: date


def _ref(row: history.EarlierLine) -> str:
    where = "" if row.run_id == LOADED_HISTORY_RUN else f" (run {row.run_id})"
    return f"DM {row.dm_no} line {row.line_no}{where}"


class DuplicateCheck(RuleStep):
    """Duplicate debit memos, lines and customers; records the claim in the ledger.

    Outputs: ``is_duplicate`` (the whole debit memo is one: R05, or every line was rejected
    as a duplicate; later checks can be skipped), ``duplicate_lines`` (lines rejected 28; a
    resubmission paying a delta is not counted) and ``duplicate_customers``. ``data`` adds
    ``net_quantity`` (line -> quantity still payable, for delta lines), ``customer_keys`` and
    ``contingent_on`` (rebill line -> the credit lines of this claim it is paid on).
    """

    datasets: ClassVar[tuple[str, ...]] = ("claim_history", "sap_customers", "wholesaler_dc")
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "record": {
                "type": "boolean",
                "default": True,
                "description": "Record the claim's lines in the ledger (false: a dry run).",
            },
            "resubmission_limit_days": {
                "type": "integer",
                "minimum": 0,
                "default": DEFAULT_RESUBMISSION_LIMIT_DAYS,
                "description": "R06: days after the 849 that rejected a line that it may be "
                "resubmitted (901 code 29 beyond), counted to the resubmitting debit memo's date.",
            },
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {
        "is_duplicate": "boolean",
        "duplicate_lines": "integer",
        "duplicate_customers": "integer",
    }

    def prefetch(self, ref: lookup.Memo, claim: Claim) -> None:
        """The claim's customers resolved, and nothing else: the duplicate rules file lines by
        customer key and ask nothing of the customer master's records, the contracts or the
        products that the other rule steps read."""
        ref.match_all(line.customer for line in claim.lines)

    def check(self, ref: lookup.Memo, claim: Claim, context: StepContext) -> Checked:
        session, run_id = ref.session, context.run_id
        dc_keys = lookup.wholesaler_keys(session, claim.distributor) or ("UNKNOWN",)
        dm_no = claim.debit_memo or ""
        findings: list[Finding] = []
        dm_duplicate = self._debit_memo(session, claim, dc_keys, run_id, findings)

        customers = _resolve_customers(ref, claim)
        duplicate_customers = self._customers(claim, customers, findings)

        keyed: list[tuple[ClaimLine, _Keys]] = []
        for line in claim.lines:
            keys = _keys(line, dc_keys, customers[line.line])
            if keys is None:
                findings.append(
                    Finding(
                        line.line,
                        RULE_LINE,
                        "reject",
                        "15",
                        "invoice number, NDC or quantity missing: cannot check for duplicates",
                    )
                )
            else:
                keyed.append((line, keys))
        # The ledger is read once for the whole claim: every earlier line under any hard key,
        # then soft matches for the lines no earlier run claimed under a hard key (only those
        # reach the soft-key rule). The step's own rows are written after, and ignored anyway.
        prior_by_key = history.prior_lines(
            session, (k for line, keys in keyed if not line.is_credit for k in keys.hards), run_id
        )
        prior = {line.line: _earlier(prior_by_key, keys.hards) for line, keys in keyed}
        soft_by_key = history.soft_matches(
            session,
            (
                k
                for line, keys in keyed
                if not line.is_credit and not prior[line.line]
                for k in keys.softs
            ),
            run_id,
        )

        credits: dict[str, list[ClaimLine]] = {}
        for line, keys in keyed:
            if line.is_credit:
                credits.setdefault(keys.hard, []).append(line)

        limit = _Limit(
            int(self.config.get("resubmission_limit_days", DEFAULT_RESUBMISSION_LIMIT_DAYS)),
            claim.claim_date or datetime.now(UTC).date(),
        )
        records: list[history.LineRecord] = []
        net_quantity: dict[str, str] = {}
        contingent_on: dict[str, list[int]] = {}
        seen_in_claim: dict[str, int] = {}
        duplicates = 0
        for line, keys in keyed:
            assert line.quantity is not None
            similar = _earlier(soft_by_key, keys.softs, other_than=keys.hards)
            credited = [c for key in keys.hards for c in credits.get(key, ())]
            finding, net, original, rebills = self._line(
                line, keys.hard, prior[line.line], similar, seen_in_claim, credited, limit
            )
            if rebills:
                contingent_on[str(line.line)] = rebills
            findings.append(finding)
            if finding.code == "28" and finding.outcome == "reject":
                duplicates += 1
            if finding.outcome == "adjust" and net is not None:
                net_quantity[str(line.line)] = str(net)
            records.append(
                history.LineRecord(
                    line_no=str(line.line),
                    hard_key=keys.hard,
                    soft_key=keys.soft,
                    invoice_no=line.invoice_number or "",
                    invoice_line=_invoice_line(line),
                    invoice_date=line.invoice_date,
                    ndc11=line.ndc11 or "",
                    customer_key=customers[line.line].key,
                    contract_id=line.contract_id or "",
                    quantity=line.quantity,
                    amount=line.claimed_amount if line.claimed_amount is not None else ZERO,
                    net_quantity=net,
                    original_id=original,
                )
            )
        if self.config.get("record", True):
            history.record_lines(
                session,
                run_id=run_id,
                wholesaler_id=dc_keys[0],
                dm_no=dm_no,
                dm_date=claim.claim_date,
                dm_purpose=claim.purpose or "00",
                lines=records,
            )
        is_duplicate = dm_duplicate or (bool(claim.lines) and duplicates == len(claim.lines))
        return Checked(
            findings=findings,
            data={
                "net_quantity": net_quantity,
                "customer_keys": {str(n): c.key for n, c in customers.items()},
                "contingent_on": contingent_on,
            },
            outputs={
                "is_duplicate": is_duplicate,
                "duplicate_lines": len(claim.lines) if dm_duplicate else duplicates,
                "duplicate_customers": duplicate_customers,
            },
        )

    @staticmethod
    def _debit_memo(
        session: Session,
        claim: Claim,
        dc_keys: tuple[str, ...],
        run_id: str,
        findings: list[Finding],
    ) -> bool:
        if not claim.debit_memo:
            return False
        earlier = next(
            (
                row
                for key in dc_keys
                if (row := history.debit_memo_seen(session, key, claim.debit_memo, run_id))
            ),
            None,
        )
        if earlier is None:
            return False
        if claim.is_resubmission:
            findings.append(
                Finding(
                    0,
                    RULE_DM,
                    "pass",
                    None,
                    f"replacement ({claim.purpose}) of DM {claim.debit_memo}: lines are netted against it",
                )
            )
            return False
        where = (
            "the loaded claim history"
            if earlier.run_id == LOADED_HISTORY_RUN
            else f"run {earlier.run_id}"
        )
        findings.append(
            Finding(
                0,
                RULE_DM,
                "reject",
                "11",
                f"debit memo {claim.debit_memo} was already received (in {where}); "
                "send a correction as BAA01=05 or CO",
            )
        )
        return True

    @staticmethod
    def _customers(
        claim: Claim, customers: Mapping[int, _Customer], findings: list[Finding]
    ) -> int:
        """Count claim customers whose identifiers point at more than one customer record."""
        flagged: dict[str, str] = {}
        for line in claim.lines:
            customer = customers[line.line]
            if customer.conflict:
                by_identifier = customer.match.by_identifier
                owners = ", ".join(f"{i} -> {k}" for i, k in sorted(by_identifier.items()))
                flagged.setdefault(
                    customer.key,
                    f"identifiers belong to different customers ({owners}); not picking one",
                )
        # a 340B contract pharmacy carries its covered entity's 340B ID on the entity's behalf
        # (a registered arrangement): only its own identifiers are sent under its name
        names_by_ident: dict[str, set[str]] = defaultdict(set)
        normalized: dict[str, str] = {}
        for line in claim.lines:
            raw = (line.customer.name if line.customer else "") or ""
            name = normalized.get(raw)
            if name is None:
                name = normalized[raw] = normalize_name(raw)
            for ident in customers[line.line].match.named_identifiers:
                names_by_ident[ident].add(name)
        shared = {i: n for i, n in names_by_ident.items() if len(n) > 1}
        for line in claim.lines:
            customer = customers[line.line]
            clash = [i for i in customer.match.named_identifiers if i in shared]
            if clash:
                flagged.setdefault(
                    customer.key,
                    f"{clash[0]} is sent for different customers: {', '.join(sorted(shared[clash[0]]))}",
                )
            if customer.key in flagged:
                findings.append(
                    Finding(line.line, RULE_CUSTOMER, "review", "25", flagged[customer.key])
                )
        return len(flagged)

    @staticmethod
    def _line(
        line: ClaimLine,
        hard: str,
        prior: list[history.EarlierLine],
        similar: list[history.EarlierLine],
        seen_in_claim: dict[str, int],
        credited: list[ClaimLine],
        limit: _Limit,
    ) -> tuple[Finding, Decimal | None, int | None, list[int]]:
        """(finding, quantity still payable, id of the line this one resubmits, credit lines
        of this claim it is paid on).

        ``prior`` holds the earlier lines under the line's hard keys, ``similar`` those under
        its soft keys only, both oldest first; ``credited`` the credit lines of this claim
        under its hard keys, which reverse an earlier payment before this line is netted;
        ``limit`` how long a rejected line may be resubmitted.
        """
        assert line.quantity is not None
        n = line.line
        if line.is_credit:
            return (
                Finding(
                    n, RULE_LINE, "pass", None, "credit/rebill (negative quantity): not a duplicate"
                ),
                line.quantity,
                None,
                [],
            )
        first = seen_in_claim.setdefault(hard, n)
        if first != n:
            return (
                Finding(
                    n,
                    RULE_LINE,
                    "reject",
                    "28",
                    f"same invoice line as line {first} of this debit memo",
                    ZERO,
                ),
                ZERO,
                None,
                [],
            )
        if not prior and not similar:  # most lines of a claim: nothing like them before
            return Finding(n, RULE_LINE, "pass", None, "not claimed before"), line.quantity, None, []
        paid = [r for r in prior if r.status == "PAID"]
        net_paid = history.net_paid_quantity(paid)
        rebills = [c.line for c in credited] if paid and net_paid > 0 else []
        # credits in this claim reverse the earlier payment first; what they leave is netted
        net_paid += sum((c.quantity for c in credited if c.quantity is not None), Decimal(0))
        reversed_by = (
            f" less the credit on line{'s' if len(rebills) > 1 else ''} "
            f"{', '.join(map(str, rebills))} of this debit memo"
            if rebills
            else ""
        )
        if paid and net_paid > 0:
            ref = _ref(paid[-1])
            if line.quantity <= net_paid:
                verb = "already paid" if line.quantity == net_paid else "already paid more"
                return (
                    Finding(
                        n,
                        RULE_LINE if line.quantity == net_paid else RULE_DELTA,
                        "reject",
                        "28",
                        f"duplicate: quantity {net_paid} {verb} ({ref}{reversed_by})",
                        ZERO,
                    ),
                    ZERO,
                    paid[-1].id,
                    [],
                )
            delta = line.quantity - net_paid
            amount = (
                max(chargeback_amount(line.wac, line.contract_price, delta), ZERO)
                if line.wac is not None and line.contract_price is not None
                else None
            )
            return (
                Finding(
                    n,
                    RULE_DELTA,
                    "adjust",
                    "28",
                    f"resubmission: quantity {net_paid} already paid ({ref}{reversed_by}); "
                    f"pays the delta of {delta}",
                    amount,
                ),
                delta,
                paid[-1].id,
                rebills,
            )
        pending = [r for r in prior if r.status == "PENDING"]
        if pending:
            return (
                Finding(
                    n,
                    RULE_LINE,
                    "review",
                    "25",
                    f"the same invoice line is still pending ({_ref(pending[-1])})",
                ),
                line.quantity,
                pending[-1].id,
                [],
            )
        rejected = [r for r in prior if r.status == "REJECTED"]
        if rejected:
            return _resubmission(n, rejected[-1], limit), line.quantity, rejected[-1].id, []
        if paid:  # paid and fully credited back: this is the rebill
            return (
                Finding(
                    n,
                    RULE_LINE,
                    "pass",
                    None,
                    f"rebill after credit ({_ref(paid[-1])}{reversed_by})",
                ),
                line.quantity,
                paid[-1].id,
                rebills,
            )
        if similar:
            return (
                Finding(
                    n,
                    RULE_LINE,
                    "review",
                    "25",
                    f"possible duplicate under another invoice line number ({_ref(similar[0])})",
                ),
                line.quantity,
                None,
                [],
            )
        return Finding(n, RULE_LINE, "pass", None, "not claimed before"), line.quantity, None, []


def _resubmission(n: int, rejection: history.EarlierLine, limit: _Limit) -> Finding:
    """R06 on line ``n``, which resubmits the line ``rejection`` rejected: accepted as a
    resubmission within the limit after that 849, rejected 29 past it, held without its date."""
    ref = _ref(rejection)
    if rejection.responded_on is None:
        return Finding(
            n,
            RULE_RESUBMISSION,
            "review",
            "25",
            f"resubmission of a rejected line ({ref}) whose 849 date is not on file: the "
            "resubmission limit cannot be checked",
        )
    days = (limit.on - rejection.responded_on).days
    if days > limit.days:
        return Finding(
            n,
            RULE_RESUBMISSION,
            "reject",
            CODE_LATE,
            f"resubmitted {days} days after the 849 of {rejection.responded_on} that rejected "
            f"it ({ref}); the resubmission limit is {limit.days} days",
            ZERO,
        )
    return Finding(
        n,
        RULE_LINE,
        "pass",
        None,
        f"resubmission of a rejected line ({ref}), {days} days after its 849",
    )


def _earlier(
    by_key: Mapping[str, list[history.EarlierLine]],
    keys: tuple[str, ...],
    *,
    other_than: tuple[str, ...] = (),
) -> list[history.EarlierLine]:
    """The rows filed under any of ``keys`` (and under none of the hard keys ``other_than``),
    oldest first. Most lines of a claim were never claimed before: for them this is a few
    dictionary misses, with no sort."""
    found = [r for k in keys if k in by_key for r in by_key[k] if r.hard_key not in other_than]
    if len(found) > 1:
        found.sort(key=history.recorded_order)
    return found


def _invoice_line(line: ClaimLine) -> str:
    """REF*FJ when sent, else the PAD line id (brief §2.2)."""
    return line.invoice_line or line.line_id


class _Customer(NamedTuple):
    """A claim customer as resolved, with what the step files its lines under, worked out
    once per customer rather than per line (CustomerMatch derives it on every access)."""

    match: lookup.CustomerMatch
    key: str
    #: the key, then every key an earlier run may have filed the customer under
    keys: tuple[str, ...]
    conflict: bool


def _resolve_customers(ref: lookup.Memo, claim: Claim) -> dict[int, _Customer]:
    """Each line's customer. The memo answers a repeated party with the same match object, so
    the match's identity says which lines share a customer."""
    seen: dict[int, _Customer] = {}
    by_line: dict[int, _Customer] = {}
    for line in claim.lines:
        match = ref.match_of(line.customer)
        customer = seen.get(id(match))  # seen holds the match: its id stays its own
        if customer is None:
            key = match.key
            customer = seen[id(match)] = _Customer(
                match, key, (key, *match.candidate_keys), match.conflict
            )
        by_line[line.line] = customer
    return by_line


class _Keys(NamedTuple):
    """A line's own hard and soft key, and every one an earlier run may have used for it."""

    hard: str
    soft: str
    hards: tuple[str, ...]
    softs: tuple[str, ...]


def _keys(line: ClaimLine, dc_keys: tuple[str, ...], customer: _Customer) -> _Keys | None:
    if not line.invoice_number or not line.ndc11 or line.quantity is None:
        return None
    invoice_line = _invoice_line(line)
    # the line's own customer key first: the first hard and soft key are then its own
    hards = history.hard_keys(dc_keys, line.invoice_number, invoice_line, line.ndc11, customer.keys)
    softs = history.soft_keys(
        dc_keys, line.invoice_number, line.ndc11, customer.keys, line.invoice_date, line.quantity
    )
    return _Keys(hard=hards[0], soft=softs[0], hards=hards, softs=softs)
