"""The claim travels once: intake stores it, every later step loads it by a small reference.

A claim of 100,000 lines is tens of megabytes of JSON. Handed on as step data it was copied
into the run store, read back, and decoded again by every step after intake, and a step
limit of 64 MB stopped the largest claims at intake. Now intake (``chargeback.extract-
identifiers``) stores the parsed claim once, in the chargeback database (``cb_claim``, a row
per run and claim: its compressed body, ``claim_body``), and publishes only a reference as its
data:

    data["claim_ref"] = {"id": 7, "sha256": "<digest of the claim's body>",
                         "debit_memo": "DM1", "lines": 10000}

A later step finds the reference in its upstream (:func:`claim_from_upstream`), loads the row
and checks the digest before it decodes: a claim changed in the database since intake is a
failed step, never a different claim decided.

Loading is keyed by that digest, not by who published it: a claim this process stored or
loaded and checked recently (``_RECENT``) is not decoded again, since its digest names its
content. Steps in other processes (pods on Argo, a resumed run) load it from the database.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.processors import StepContext, StepFailed, TransientError
from processors.chargeback.claim import Claim
from processors.chargeback.claim_body import decode_claim, encode_claim
from processors.chargeback.db import get_engine
from processors.chargeback.schema import Base

#: the key of the reference in intake's data
REF_KEY = "claim_ref"
#: zlib level: claims are repetitive text; the fastest level already shrinks them tenfold
_LEVEL = 1
#: claims kept decoded: the one a run is deciding, and one more for parallel runs
_KEPT = 2


class StoredClaim(Base):
    """One claim as intake read it; ``body`` is its ``claim_body``, zlib-compressed."""

    __tablename__ = "cb_claim"
    __table_args__ = (UniqueConstraint("run_id", "sha256", name="uq_cb_claim_run_sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    debit_memo: Mapped[str | None] = mapped_column(String(40))
    line_count: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class _Recent:
    """The last few claims stored or loaded (and checked), by digest."""

    def __init__(self) -> None:
        self._claims: OrderedDict[str, Claim] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sha256: str) -> Claim | None:
        with self._lock:
            claim = self._claims.get(sha256)
            if claim is not None:
                self._claims.move_to_end(sha256)
            return claim

    def put(self, sha256: str, claim: Claim) -> None:
        with self._lock:
            self._claims[sha256] = claim
            self._claims.move_to_end(sha256)
            while len(self._claims) > _KEPT:
                self._claims.popitem(last=False)


_RECENT = _Recent()


def store_claim(url: str, run_id: str, claim: Claim) -> dict[str, Any]:
    """Store ``claim`` for ``run_id`` (once: a retried intake finds its row) and return the
    reference later steps load it by."""
    text = encode_claim(claim)
    digest = hashlib.sha256(text).hexdigest()
    row = {
        "run_id": run_id,
        "sha256": digest,
        "debit_memo": claim.debit_memo,
        "line_count": len(claim.lines),
        "body": zlib.compress(text, _LEVEL),
        "stored_at": datetime.now(UTC),
    }
    query = select(StoredClaim.id).where(StoredClaim.run_id == run_id, StoredClaim.sha256 == digest)
    try:
        engine = get_engine(url)
        with Session(engine) as session:
            claim_id = session.scalar(query)
        if claim_id is None:
            try:
                with Session(engine) as session, session.begin():
                    stored = StoredClaim(**row)
                    session.add(stored)
                    session.flush()
                    claim_id = stored.id
            except IntegrityError:  # a parallel attempt of the step stored it first
                with Session(engine) as session:
                    claim_id = session.scalars(query).one()
    except OperationalError as exc:
        raise TransientError(f"claim store unavailable: {type(exc.orig).__name__}") from None
    except SQLAlchemyError as exc:
        raise StepFailed(f"claim store error: {type(exc).__name__}") from None
    _RECENT.put(digest, claim)
    return {
        "id": claim_id,
        "sha256": digest,
        "debit_memo": claim.debit_memo,
        "lines": len(claim.lines),
    }


def load_claim(url: str, ref: Any) -> Claim:
    """The claim ``ref`` names, its digest checked; StepFailed says what is wrong."""
    if not (
        isinstance(ref, dict)
        and isinstance(ref.get("id"), int)
        and isinstance(ref.get("sha256"), str)
    ):
        raise StepFailed(f"the claim reference {ref!r} is malformed (needs an id and a sha256)")
    digest: str = ref["sha256"]
    claim = _RECENT.get(digest)
    if claim is not None:
        return claim
    try:
        with Session(get_engine(url)) as session:
            body = session.scalar(select(StoredClaim.body).where(StoredClaim.id == ref["id"]))
    except OperationalError as exc:
        raise TransientError(f"claim store unavailable: {type(exc.orig).__name__}") from None
    except SQLAlchemyError as exc:
        raise StepFailed(f"claim store error: {type(exc).__name__}") from None
    if body is None:
        raise StepFailed(f"no stored claim {ref['id']} in the chargeback database")
    try:
        text = zlib.decompress(body)
    except zlib.error:
        raise StepFailed(f"the stored claim {ref['id']} is not readable (corrupt body)") from None
    if hashlib.sha256(text).hexdigest() != digest:
        raise StepFailed(
            f"the stored claim {ref['id']} does not match its digest {digest[:12]}: it was "
            "changed after intake stored it"
        )
    try:
        claim = decode_claim(text)
    except ValueError as exc:
        raise StepFailed(f"the stored claim {ref['id']} is malformed: {exc}") from None
    _RECENT.put(digest, claim)
    return claim


def claim_from_upstream(context: StepContext, step: str | None = None) -> tuple[str, Claim]:
    """The claim intake stored, found by the reference it published, and the step that did.

    Without ``step``, the first ancestor carrying a reference: the spec may name the intake
    step anything.
    """
    names = [step] if step else list(context.upstream)
    for name in names:
        up = context.upstream.get(name)
        if up is not None and REF_KEY in up.data:
            if not context.database_url:
                raise StepFailed(
                    f"step {context.step!r} needs the store to load the claim; run with a "
                    "database (flowspec run --db URL, or FLOWSPEC_DB)"
                )
            return name, load_claim(context.database_url, up.data[REF_KEY])
    where = f"step '{step}'" if step else "any upstream step"
    raise StepFailed(
        f"no claim found in {where}; the intake step (chargeback.extract-identifiers) must be an "
        "ancestor of this step (add it to its dependencies)"
    )
