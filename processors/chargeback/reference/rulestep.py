"""What the four reference-data rule steps share: finding the claim, opening the store, citing
the snapshots they read, and turning findings into typed outputs.

Each step only implements ``check(ref, claim, context) -> Checked``, asking its reference
questions through ``ref`` (a :class:`~processors.chargeback.reference.lookup.Memo` over the
step's session, so a question repeated by many lines is answered once); everything around it
(auto-loading the shipped reference set into an empty store, mapping database trouble to
``TransientError``/``StepFailed`` without ever echoing the URL) is here, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from engine.processors import StepContext, StepFailed, StepResult, TransientError
from processors.chargeback.claim import Claim, Finding
from processors.chargeback.claim_store import claim_from_upstream
from processors.chargeback.db import session_scope
from processors.chargeback.reference.loader import ReferenceLoadError, ensure_loaded
from processors.chargeback.reference.lookup import Memo, prefetch_customers, prefetch_terms
from processors.chargeback.reference.snapshots import in_force

_SEVERITY = {"pass": 0, "adjust": 1, "review": 2, "reject": 3}

LINE_COUNT_OUTPUTS: Mapping[str, str] = {
    "passed_lines": "integer",
    "adjusted_lines": "integer",
    "review_lines": "integer",
    "rejected_lines": "integer",
}


def store_url(context: StepContext) -> str:
    if not context.database_url:
        raise StepFailed(
            f"step {context.step!r} needs the store for reference data; run with a database "
            "(flowspec run --db URL, or FLOWSPEC_DB)"
        )
    return context.database_url


@dataclass
class Checked:
    """A step's verdicts plus any per-line facts later steps need (``data``)."""

    findings: list[Finding] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


def line_outcomes(claim: Claim, findings: Iterable[Finding]) -> dict[int, str]:
    """Worst outcome per line; a finding on line 0 (the whole debit memo) hits every line."""
    worst: dict[int, str] = {}
    numbers = [line.line for line in claim.lines]
    for finding in findings:
        for number in numbers if finding.line == 0 else [finding.line]:
            current = worst.get(number)
            if current is None or _SEVERITY[finding.outcome] > _SEVERITY[current]:
                worst[number] = finding.outcome
    return worst


def count_outputs(claim: Claim, findings: Iterable[Finding]) -> dict[str, int]:
    outcomes = list(line_outcomes(claim, findings).values())
    return {
        "passed_lines": outcomes.count("pass"),
        "adjusted_lines": outcomes.count("adjust"),
        "review_lines": outcomes.count("review"),
        "rejected_lines": outcomes.count("reject"),
    }


class RuleStep:
    """Base of the reference-data rule processors (see module docstring)."""

    #: reference datasets the step reads, cited in ``data["reference_snapshots"]``
    datasets: ClassVar[tuple[str, ...]] = ()
    #: its reference data, ledger and trail live in the run's database
    uses_database: ClassVar[bool] = True
    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "additionalProperties": False}
    outputs: ClassVar[Mapping[str, str]] = LINE_COUNT_OUTPUTS

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)

    def check(self, ref: Memo, claim: Claim, context: StepContext) -> Checked:
        raise NotImplementedError

    def prefetch(self, ref: Memo, claim: Claim) -> None:
        """Load, in a few bulk queries, what ``check`` will ask about every line; each rule
        step asks about the claim's customers, contracts and products, so that much is done
        for all of them."""
        prefetch_customers(ref, (line.customer for line in claim.lines))
        prefetch_terms(ref, claim)

    def process(self, context: StepContext) -> StepResult:
        _, claim = claim_from_upstream(context)
        url = store_url(context)
        try:
            ensure_loaded(url)
            with session_scope(url) as session:
                ref = Memo(session)
                self.prefetch(ref, claim)
                checked = self.check(ref, claim, context)
                snapshots = in_force(session, self.datasets)
        except ReferenceLoadError as exc:
            raise StepFailed(f"the shipped reference data does not load: {exc.errors[0]}") from None
        except OperationalError as exc:
            raise TransientError(
                f"reference store unavailable: {type(exc.orig).__name__}"
            ) from None
        except SQLAlchemyError as exc:
            raise StepFailed(f"reference store error: {type(exc).__name__}") from None
        outputs = checked.outputs or count_outputs(claim, checked.findings)
        published = [f.to_row() for f in checked.findings]
        return StepResult(
            outputs=outputs,
            data={
                "findings": published,
                "reference_snapshots": snapshots,
                **checked.data,
            },
        )
