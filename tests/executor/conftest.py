"""Shared helpers: steps built directly (for the pure parts) and specs from YAML text."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.model import ContinueOn, Retry, Spec, Step

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # executor_procs must import the same way in child processes
    sys.path.insert(0, str(HERE))


def make_step(name: str, deps: list[str] | None = None, *, depends: str | None = None,
              when: str | None = None, failed: bool = False, error: bool = False,
              retry: Retry | None = None, index: int = 0, **kw: Any) -> Step:
    return Step(name=name, processor="noop", index=index, path=("steps", index),
                dependencies=tuple(deps) if deps is not None else None, depends=depends,
                when=when, continue_on=ContinueOn(failed, error), retry=retry or Retry(), **kw)


def spec_from(text: str) -> Spec:
    from engine.validate import load_spec

    return load_spec(textwrap.dedent(text).lstrip())


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.db"


@pytest.fixture
def pg_url() -> Any:
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
