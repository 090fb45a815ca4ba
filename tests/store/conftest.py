"""Store URLs for the tests: a real SQLite file, and a fresh real PostgreSQL database (the
shared ``pg_url`` fixture) when FLOWSPEC_TEST_PG_URL names a server, as CI always does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
    else:
        yield request.getfixturevalue("pg_url")
