"""The chargeback tables of a store kept across an upgrade are brought up to the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from engine.processors import StepFailed
from processors.chargeback import db
from processors.chargeback.reference.models import REFERENCE_METADATA


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("pg_url"))


def _older_store(url: str, drop: str) -> None:
    """Tables as a flowspec before ``cb_dea_registration.<drop>`` existed left them."""
    engine = create_engine(url)
    REFERENCE_METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE cb_dea_registration DROP COLUMN {drop}"))
    engine.dispose()


def test_a_column_added_since_is_added_to_an_older_store(url: str) -> None:
    _older_store(url, "inactive_from")
    with db.session_scope(url) as session:
        session.execute(text("SELECT inactive_from FROM cb_dea_registration"))
    columns = {c["name"] for c in inspect(db.get_engine(url)).get_columns("cb_dea_registration")}
    assert "inactive_from" in columns


def test_an_index_added_since_is_created_in_an_older_store(url: str) -> None:
    engine = create_engine(url)
    REFERENCE_METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_cb_history_customer_ndc"))
    engine.dispose()
    names = {i["name"] for i in inspect(db.get_engine(url)).get_indexes("cb_claim_line_history")}
    assert "ix_cb_history_customer_ndc" in names


def test_a_missing_required_column_is_a_clear_error(url: str) -> None:
    _older_store(url, "schedules")
    with pytest.raises(StepFailed, match="lacks the required column schedules"):
        db.get_engine(url)
