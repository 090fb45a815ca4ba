"""Which reference snapshots are in force: what the compliance trail cites for every decision."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from processors.chargeback.reference.models import ReferenceSnapshot


def _newest(snapshots: Iterable[ReferenceSnapshot]) -> dict[str, str]:
    newest: dict[str, ReferenceSnapshot] = {}
    for snap in snapshots:
        best = newest.get(snap.dataset)
        if best is None or (snap.snapshot_date, snap.id) > (best.snapshot_date, best.id):
            newest[snap.dataset] = snap
    return {name: f"{s.snapshot_date.isoformat()}#{s.sha256}" for name, s in sorted(newest.items())}


def in_force(session: Session, datasets: Iterable[str] | None = None) -> dict[str, str]:
    """``dataset -> "YYYY-MM-DD#sha256"`` of the newest loaded snapshot of each dataset."""
    stmt = select(ReferenceSnapshot)
    if datasets is not None:
        stmt = stmt.where(ReferenceSnapshot.dataset.in_(list(datasets)))
    return _newest(session.scalars(stmt))


def current(engine: Engine) -> dict[str, str]:
    """``in_force`` for every dataset; empty when the store has no reference tables yet."""
    if not inspect(engine).has_table(ReferenceSnapshot.__tablename__):
        return {}
    with Session(engine) as session:
        return in_force(session)
