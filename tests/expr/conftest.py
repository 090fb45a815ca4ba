"""Unknown AST nodes must raise in tests (the pyflakes PYFLAKES_ERROR_UNKNOWN switch)."""

from __future__ import annotations

import pytest

from engine.expr.errors import ERROR_UNKNOWN_ENV


@pytest.fixture(autouse=True)
def _error_on_unknown_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ERROR_UNKNOWN_ENV, "1")
