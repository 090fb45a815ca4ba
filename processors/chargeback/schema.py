"""The one metadata and declarative base of every chargeback table, and their Alembic history.

Reference data, the claim-line ledger, the SAP customer master, stored claims, the review
queue and the compliance trail all live in one database, often the run store's own. Every
one of their tables is declared on :class:`Base` (names carry the ``cb_`` prefix), and
created or upgraded by one Alembic history (``migrations/``, version table
``cb_alembic_version``) that is the engine's pattern (``engine.store.schema``) with a version
table of its own, so the chargeback tables and the run store's never create or upgrade each
other. A store made before the history existed is taken over by its first revision.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from engine.store.schema import History

METADATA = MetaData()

HISTORY = History(
    migrations=Path(__file__).with_name("migrations"),
    version_table="cb_alembic_version",
    revisions=("0001_initial", "0002_claims"),
    lock_key=0x63626B73,  # "cbks"
    subject="the chargeback schema",
)


class Base(DeclarativeBase):
    """The base of every chargeback model."""

    metadata = METADATA
