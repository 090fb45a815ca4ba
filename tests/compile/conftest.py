"""Shared paths and helpers for the compiler tests.

Argo's own schemas, CRDs, OpenAPI document and examples are read from the repository's copy
of an Argo release (``tests/fixtures/argo``, see its README), so a fresh clone tests alone.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.compile.versions import LATEST, ArgoTarget
from engine.model import Spec

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
FIXTURE_SPECS = HERE / "specs"


#: Argo's own files (schema.json, swagger.json, CRDs gzipped; examples as Argo ships them).
ARGO = REPO / "tests" / "fixtures" / "argo"


def argo_release_dir(argo: ArgoTarget) -> Path:
    """The copy of the schema.json and CRDs of the release ``--check`` uses for ``argo``: the
    newest at the top of ARGO, older ones under ``versions/``."""
    if argo is LATEST:
        return ARGO
    return ARGO / "versions" / argo.schema_release


def regen() -> bool:
    return os.environ.get("FLOWSPEC_REGEN") == "1"


def spec_from(text: str, name: str = "<test>") -> Spec:
    from engine.validation import load_spec_text

    return load_spec_text(textwrap.dedent(text).lstrip(), name=name)


def compiled_from(text: str, **kwargs: Any) -> Any:
    from engine.compile import build

    return build(spec_from(text), **kwargs)


def shipped_specs() -> list[Path]:
    """Every flowspec spec the repository ships (specs/, recursively) plus our fixtures."""
    from engine.validation import expand_paths

    found = [Path(p) for p in expand_paths([str(REPO / "specs"), str(FIXTURE_SPECS)])]
    return sorted(found)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh run store: a SQLite file, and a throw-away PostgreSQL database when
    FLOWSPEC_TEST_PG_URL names a server (CI starts one with .ci/postgres.sh)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
        return
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("FLOWSPEC_TEST_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL server configured (FLOWSPEC_TEST_PG_URL is not set)")
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"flowspec_pods_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session")
def oracle() -> Any:
    """The argo-expr oracle (its client lives with the expression parity tests)."""
    from parity.conftest import ORACLE_ENV, Oracle  # tests/ is on sys.path (rootdir packages)

    binary = os.environ.get(ORACLE_ENV)
    if not binary:
        pytest.skip(f"{ORACLE_ENV} is not set: build the oracle with .ci/build-oracle.sh")
    process = Oracle(binary)
    yield process
    process.close()
