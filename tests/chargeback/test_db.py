"""The chargeback tables come from one Alembic history: a new store gets its head, a store
an older flowspec made (before the history, or at an earlier revision) is upgraded."""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
    select,
    text,
)

from engine.processors import StepFailed
from processors.chargeback import db
from processors.chargeback.schema import HISTORY, METADATA

OLD_STORE = Path(__file__).resolve().parents[1] / "fixtures/chargeback/store_before_alembic.sql"


def _baseline() -> MetaData:
    """The tables of the history's first revision, as that revision file declares them."""
    path = HISTORY.migrations / "versions/0001_initial.py"
    spec = importlib.util.spec_from_file_location("cb_0001_initial", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BASELINE  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("pg_url"))


def _columns(url: str, table: str) -> set[str]:
    return {c["name"] for c in inspect(db.get_engine(url)).get_columns(table)}


def test_a_new_store_has_every_model_table_at_the_head(url: str) -> None:
    engine = db.get_engine(url)
    assert HISTORY.current_revision(engine) == HISTORY.head
    names = set(inspect(engine).get_table_names())
    assert {table.name for table in METADATA.sorted_tables} <= names
    for table in METADATA.sorted_tables:  # the history makes what the models declare
        assert {c.name for c in table.columns} == _columns(url, table.name)


def test_a_store_made_before_the_history_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_STORE.read_text("utf-8"))
    url = f"sqlite:///{path}"
    with db.session_scope(url) as session:
        paid = session.execute(
            text("SELECT status, paid_quantity, responded_on FROM cb_claim_line_history")
        ).one()
        assert tuple(paid) == ("PAID", "10", None)
        assert session.execute(text("SELECT count(*) FROM cb_audit")).scalar() == 1
        assert session.execute(text("SELECT count(*) FROM cb_claim")).scalar() == 0
    engine = db.get_engine(url)
    assert HISTORY.current_revision(engine) == HISTORY.head
    assert "claim_window_days" in _columns(url, "cb_contract")
    assert inspect(engine).has_table("cb_opais_contract_pharmacy")


def test_a_column_added_before_the_history_is_added_to_an_older_store(url: str) -> None:
    engine = create_engine(url)
    _baseline().create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE cb_dea_registration DROP COLUMN inactive_from"))
    engine.dispose()
    with db.session_scope(url) as session:
        session.execute(text("SELECT inactive_from FROM cb_dea_registration"))


def test_an_index_added_before_the_history_is_created_in_an_older_store(url: str) -> None:
    engine = create_engine(url)
    _baseline().create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_cb_history_customer_ndc"))
    engine.dispose()
    names = {i["name"] for i in inspect(db.get_engine(url)).get_indexes("cb_claim_line_history")}
    assert "ix_cb_history_customer_ndc" in names


def test_a_missing_required_column_is_a_clear_error(url: str) -> None:
    engine = create_engine(url)
    _baseline().create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE cb_dea_registration DROP COLUMN schedules"))
    engine.dispose()
    with pytest.raises(StepFailed, match="lacks the required column schedules"):
        db.get_engine(url)


def test_a_store_from_a_newer_flowspec_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {HISTORY.version_table} (version_num VARCHAR(32))"))
        conn.execute(text(f"INSERT INTO {HISTORY.version_table} VALUES ('0099_future')"))
    engine.dispose()
    with pytest.raises(StepFailed, match="written by a newer flowspec.*0099_future"):
        db.get_engine(url)


def test_the_history_has_one_head_and_knows_every_revision() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(HISTORY.config())  # type: ignore[arg-type]
    assert scripts.get_heads() == [HISTORY.head]
    assert [s.revision for s in reversed(list(scripts.walk_revisions()))] == list(
        HISTORY.revisions
    )


def test_a_sqlite_store_keeps_the_run_stores_durability(tmp_path: Path) -> None:
    """The chargeback tables share the run's file and its write-ahead log, so they are synced
    as the run store syncs them: WAL with synchronous=NORMAL (1), not a flush per commit."""
    engine = db.get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    engine.dispose()


def test_rows_are_written_alike_passed_through_or_converted(url: str) -> None:
    # execute_many hands a positional driver its tuples as they are only when their order
    # is the statement's and no column converts; otherwise it gathers the columns and
    # converts them. Both ways, and both drivers, must write the same rows.
    table = Table(
        "t_rows",
        MetaData(),
        Column("n", Integer, primary_key=True),
        Column("name", String(20)),
        Column("day", Date),
    )
    plain = Table(
        "t_plain",
        table.metadata,
        Column("n", Integer, primary_key=True),
        Column("name", String(20)),
    )
    engine = create_engine(url)
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        db.execute_many(conn, insert(plain), ("n", "name"), [(1, "a"), (2, "b|c")])
        db.execute_many(conn, insert(plain), ("name", "n"), [("d", 3)])
        db.execute_many(conn, insert(table), ("n", "name", "day"), [(1, "a", date(2024, 3, 1))])
        db.execute_many(conn, insert(table), ("day", "n", "name"), [(None, 2, "b")])
        db.execute_many(conn, insert(table), ("n", "name", "day"), [(3, None, date(2024, 1, 2))])
        db.execute_many(conn, insert(plain), ("n", "name"), [])
    with engine.connect() as conn:
        assert conn.execute(select(plain).order_by(plain.c.n)).all() == [
            (1, "a"),
            (2, "b|c"),
            (3, "d"),
        ]
        assert conn.execute(select(table).order_by(table.c.n)).all() == [
            (1, "a", date(2024, 3, 1)),
            (2, "b", None),
            (3, None, date(2024, 1, 2)),
        ]
    engine.dispose()
