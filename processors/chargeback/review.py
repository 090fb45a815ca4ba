"""Route to review: the error path of the workflow puts the claim in front of a person.

A spec wires it as ``depends: contract-eligibility.Failed || contract-eligibility.Errored``
(or any failure it wants handled): a claim that cannot be decided automatically must not
vanish with a failed run, and the wholesaler's 849 deadline keeps running. The step records
the claim (when intake got that far), which steps failed and why, and the findings that
asked for review, in the ``cb_review_queue`` table an analyst's tool reads.

Then it fails, on purpose: the claim is queued, not decided, and a run that did not decide
its claim must not look like one that did. On Argo the workflow's phase is assessed from its
leaf tasks, and this step is the spec's leaf on every path that reaches it, so its failure
is what makes the workflow Failed (locally, ``flowspec run`` exits 1); the message names the
queue item. Before failing it releases the claim lines duplicate-check recorded for this run
(``history.release_undecided``): nothing was answered or paid, so the wholesaler's next
sending of the claim is checked afresh, not rejected as a duplicate debit memo.

One queue item per run and step: a retried or resumed run finds its item instead of
queueing the claim twice. Error texts pass through the same secret redaction as the
compliance trail before they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, NoReturn

from sqlalchemy import DateTime, Engine, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.processors import StepContext, StepFailed, TransientError, Upstream
from engine.secrets import Redactor
from processors.chargeback.claim import Claim
from processors.chargeback.claim_store import claim_from_upstream
from processors.chargeback.db import get_engine, session_scope
from processors.chargeback.reference.history import release_undecided
from processors.chargeback.resolution import Evidence, gather_findings
from processors.chargeback.schema import Base
from processors.chargeback.trail.store import canonical_json

FAILED_PHASES = ("Failed", "Error")
_MAX_REASON = 2000


class ReviewItem(Base):
    """One claim waiting for a person; ``status`` moves OPEN -> IN_PROGRESS -> CLOSED in the
    analysts' tool, never here."""

    __tablename__ = "cb_review_queue"
    __table_args__ = (UniqueConstraint("run_id", "step", name="uq_cb_review_run_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(200), index=True)
    step: Mapped[str] = mapped_column(String(200))
    workflow: Mapped[str] = mapped_column(String(200))
    debit_memo: Mapped[str | None] = mapped_column(String(40), index=True)
    wholesaler: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    failed_steps: Mapped[str] = mapped_column(Text)  # canonical JSON {step: {phase, error}}
    findings: Mapped[str] = mapped_column(Text)  # canonical JSON [finding, ...]
    claim: Mapped[str | None] = mapped_column(Text)  # canonical JSON of the claim, if read
    status: Mapped[str] = mapped_column(String(12), default="OPEN")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _error_of(up: Upstream) -> str | None:
    """The failed step's error text: the engine's ``Upstream.error`` where it has one, else
    an ``error`` a processor left in its data."""
    error = getattr(up, "error", None) or up.data.get("error")
    return str(error) if error else None


def _claim(context: StepContext, step: str | None) -> Claim | None:
    try:
        return claim_from_upstream(context, step)[1]
    except StepFailed:
        return None  # intake itself failed: queue the document reference instead


def enqueue(engine: Engine, item: ReviewItem) -> tuple[ReviewItem, bool]:
    """Insert the item unless this run and step already queued one; (item, inserted)."""
    query = select(ReviewItem).where(ReviewItem.run_id == item.run_id, ReviewItem.step == item.step)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            existing = session.scalars(query).first()
            if existing is not None:
                return existing, False
            session.add(item)
        return item, True
    except IntegrityError:  # a parallel attempt of the same step won the race
        with Session(engine, expire_on_commit=False) as session:
            return session.scalars(query).one(), False


class RouteToReview:
    """Queues the claim for manual review with the reason it could not be decided."""

    #: its reference data, ledger and trail live in the run's database
    uses_database: ClassVar[bool] = True
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "reason": {
                "type": "string",
                "description": "Why this path sends claims to review; prefixed to the "
                "failures found upstream.",
            },
            "claim_step": {
                "type": "string",
                "description": "Step that published the claim; default: the first ancestor with one.",
            },
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)  # what it was built from (the seed's add_step)
        self.reason: str | None = config.get("reason")
        self.claim_step: str | None = config.get("claim_step")

    def process(self, context: StepContext) -> NoReturn:
        """Queue the claim and release its recorded lines, then fail: see the module doc."""
        if not context.database_url:
            raise StepFailed("route-to-review needs the store: no database URL in the step context")
        redact = Redactor.for_env(context.env)
        failed = {
            name: {"phase": up.phase, "error": redact.scrub(_error_of(up))}
            for name, up in context.upstream.items()
            if up.phase in FAILED_PHASES
        }
        parts = [self.reason] if self.reason else []
        try:
            evidence = gather_findings(context, ())
        except StepFailed as exc:  # a broken finding is one more thing for the reviewer
            evidence, parts = Evidence((), ()), [*parts, str(exc)]
        asking = [
            {"step": step, **finding.to_json()}
            for step, finding in evidence.findings
            if finding.outcome == "review"
        ]
        claim = _claim(context, self.claim_step)
        parts += [
            f"{name} {info['phase']}" + (f": {info['error']}" if info["error"] else "")
            for name, info in failed.items()
        ]
        parts += [f"line {f['line']} {f['rule']}: {f['message']}" for f in asking]
        if claim is None:
            parts.append(f"the claim could not be read (document {context.document!r})")
        reason = redact.scrub("; ".join(parts) or "routed to review")[:_MAX_REASON]
        distributor = claim.distributor if claim else None
        item = ReviewItem(
            run_id=context.run_id,
            step=context.step,
            workflow=context.workflow,
            debit_memo=claim.debit_memo if claim else None,
            wholesaler=distributor.identifiers[0].value
            if distributor and distributor.identifiers
            else None,
            reason=reason,
            failed_steps=canonical_json(failed),
            findings=canonical_json(asking),
            claim=canonical_json(claim.to_json()) if claim else None,
            status="OPEN",
            created_at=datetime.now(UTC),
        )
        try:
            stored, _inserted = enqueue(get_engine(context.database_url), item)
            with session_scope(context.database_url) as session:
                release_undecided(session, context.run_id)
        except SQLAlchemyError as exc:
            raise TransientError(f"review queue store error: {type(exc).__name__}") from None
        raise StepFailed(
            f"not decided: the claim is queued for manual review as item {stored.id}: "
            f"{stored.reason}"
        )
