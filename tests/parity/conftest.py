"""The argo-expr oracle as one long-lived subprocess per test session.

The oracle is the project's own Go program in ``tests/parity/oracle/`` (its README.md gives
the protocol). Build it with ``.ci/build-oracle.sh``, which compiles it from Debian packages
in a scratch directory, and point ``FLOWSPEC_ORACLE`` at the binary; without that variable
every parity test is skipped (they need Go and Debian packages to build).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.expr.errors import ERROR_UNKNOWN_ENV

ORACLE_ENV = "FLOWSPEC_ORACLE"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.oracle)


class Oracle:
    """Request/response over the oracle's line protocol; ``id`` keeps answers matched."""

    def __init__(self, binary: str) -> None:
        self._next_id = 0
        self._process = subprocess.Popen(
            [binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            encoding="utf-8", env={**os.environ, "EXPRESSION_TEMPLATES": "true"},
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._next_id += 1
        self._process.stdin.write(json.dumps({**request, "id": self._next_id}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the oracle exited (code {self._process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        assert answer.get("id") == self._next_id, answer
        return answer

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    binary = os.environ.get(ORACLE_ENV)
    if not binary:
        pytest.skip(f"{ORACLE_ENV} is not set: build the oracle with .ci/build-oracle.sh and "
                    f"export {ORACLE_ENV}=<path printed>")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{ORACLE_ENV}={binary} is not an executable file")
    process = Oracle(binary)
    yield process
    process.close()


@pytest.fixture(autouse=True)
def _error_on_unknown_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ERROR_UNKNOWN_ENV, "1")
