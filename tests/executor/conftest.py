"""Fixtures for the executor tests: a SQLite URL (``pg_url`` is in tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # executor_procs and executor_helpers import by name
    sys.path.insert(0, str(HERE))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.db"
