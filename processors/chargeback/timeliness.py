"""Rule R15, timeliness: is the claim late, or does it claim a sale that has not happened yet?

Brief §1.4 and §8 R15, all decided per line:

- **29** "Claim Submitted Past Exercise Period": the debit memo date is more than the claim
  window after the invoice date (DM date - invoice date > window; exactly the window is on
  time). There is no federal window; it comes from the contract or the distribution services
  agreement: a contract's own window (``claim_window_days`` in the contracts reference data)
  decides its lines, the step's configured window (default 180 days, an assumption of the
  brief) every other line.
- **18** "Ship date must not be after current date": the invoice date is after the debit memo
  date (a debit memo cannot claim a sale it predates) or after the processing date.

Why the rule lives in ``chargeback.contract-eligibility`` and not with the cheap claim-only
rules of intake (R01-R04): the window is a term of the contract or DSA, so it belongs next to
the other contract-term checks of the same invoice date (R09 uses that date too), and intake
must not depend on the clock: re-reading a document gives the same claim whenever it is read.
The processing date is injectable (``as_of``), so a test or a replayed run decides exactly as
the original did; by default it is today's date (UTC).

The functions here are pure over the claim; the step only adds their findings to its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.processors import StepFailed
from processors.chargeback import rules
from processors.chargeback.claim import Claim, ClaimLine, Finding

RULE = rules.R15
CODE_LATE = "29"
CODE_FUTURE = "18"
DEFAULT_WINDOW_DAYS = 180

#: The step config keys this rule reads, merged into the owning step's config schema.
CONFIG_PROPERTIES: Mapping[str, Any] = {
    "claim_window_days": {
        "type": "integer",
        "minimum": 0,
        "default": DEFAULT_WINDOW_DAYS,
        "description": "R15: days after the invoice date a debit memo may claim it (901 code 29 "
        "beyond), for lines whose contract has no window of its own (contracts reference "
        "data, claim_window_days); set it to the DSA's exercise period.",
    },
    "as_of": {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}$",
        "description": "R15: the processing date (YYYY-MM-DD) an invoice date may not be after "
        "(901 code 18); default: today (UTC). Set it to replay a run as it was decided.",
    },
}


def processing_date(config: Mapping[str, Any]) -> date:
    """``as_of`` from the config, else today (UTC)."""
    raw = config.get("as_of")
    if not raw:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise StepFailed(f"config as_of {raw!r} is not a date; write it as YYYY-MM-DD") from None


def line_timeliness(
    line: ClaimLine,
    dm_date: date | None,
    today: date,
    window_days: int,
    contract: str | None = None,
) -> Finding | None:
    """The R15 verdict on one line, or None when it is on time.

    A line without an invoice date is intake's business (R02 15 or R15 27) and gets nothing
    here; without a DM date only the processing date can be checked. ``contract`` names the
    contract whose own window ``window_days`` is, for the message.
    """
    invoice = line.invoice_date
    if invoice is None:
        return None
    if dm_date is not None and invoice > dm_date:
        return _reject(
            line, CODE_FUTURE, f"invoice date {invoice} is after the debit memo date {dm_date}"
        )
    if invoice > today:
        return _reject(
            line, CODE_FUTURE, f"invoice date {invoice} is after the processing date {today}"
        )
    if dm_date is not None and (dm_date - invoice).days > window_days:
        whose = f" of contract {contract}" if contract else ""
        return _reject(
            line,
            CODE_LATE,
            f"claimed {(dm_date - invoice).days} days after the invoice date {invoice} "
            f"(debit memo {dm_date}); the claim window{whose} is {window_days} days",
        )
    return None


def timeliness_findings(
    claim: Claim, config: Mapping[str, Any], contract_windows: Mapping[str, int]
) -> list[Finding]:
    """R15 on every line of the claim: the window of the line's contract where
    ``contract_windows`` (contract as claimed -> days) has one, else the one in ``config``,
    which also gives the processing date."""
    default = int(config.get("claim_window_days", DEFAULT_WINDOW_DAYS))
    today = processing_date(config)
    findings: list[Finding] = []
    for line in claim.lines:
        own = contract_windows.get(line.contract_id or "")
        window, contract = (default, None) if own is None else (own, line.contract_id)
        finding = line_timeliness(line, claim.claim_date, today, window, contract)
        if finding is not None:
            findings.append(finding)
    return findings


def _reject(line: ClaimLine, code: str, message: str) -> Finding:
    return Finding(line.line, RULE, "reject", code, message, Decimal("0.00"))
