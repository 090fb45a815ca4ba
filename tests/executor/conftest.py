"""Fixtures for the executor tests: a SQLite URL, and a fresh PostgreSQL database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # executor_procs and executor_helpers import by name
    sys.path.insert(0, str(HERE))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.db"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (skipped without FLOWSPEC_TEST_PG_URL)."""
    import os
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("FLOWSPEC_TEST_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL server configured (FLOWSPEC_TEST_PG_URL is not set; "
                    ".ci/postgres.sh starts one)")
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"flowspec_t_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
