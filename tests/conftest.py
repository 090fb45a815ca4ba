"""Fixtures every test folder shares: a fresh PostgreSQL database on the CI server."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

PG_ENV = "FLOWSPEC_TEST_PG_URL"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards.

    Skipped only when no server is configured; CI always configures one (.ci/postgres.sh).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"no PostgreSQL server configured ({PG_ENV} is not set; "
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
