"""Shared paths and helpers for the compiler tests.

Argo's own schemas, CRDs and examples are read from the shared folder at test time
(``FLOWSPEC_SHARED``, default: ``shared`` beside the repository root).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.model import Spec

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
FIXTURE_SPECS = HERE / "specs"


def shared_dir() -> Path:
    return Path(os.environ.get("FLOWSPEC_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "argo" / "schema.json").is_file():
        pytest.fail(f"Argo's schemas are not in {path}/argo; set FLOWSPEC_SHARED")
    return path


def regen() -> bool:
    return os.environ.get("FLOWSPEC_REGEN") == "1"


def spec_from(text: str, name: str = "<test>") -> Spec:
    from engine.validate import load_spec

    return load_spec(textwrap.dedent(text).lstrip(), name=name)


def compiled_from(text: str, **kwargs: Any) -> Any:
    from engine.compile import build

    return build(spec_from(text), **kwargs)


def shipped_specs() -> list[Path]:
    """Every flowspec spec the repository ships (specs/, recursively) plus our fixtures."""
    from engine.validate import expand_paths

    found = [Path(p) for p in expand_paths([str(REPO / "specs"), str(FIXTURE_SPECS)])]
    return sorted(found)
