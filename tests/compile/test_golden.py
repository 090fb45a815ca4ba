"""Golden manifests for every shipped spec, each also accepted by the offline Argo v4 checks.

Regenerate with ``FLOWSPEC_REGEN=1 python -m pytest tests/compile/test_golden.py``; review
the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.compile import build
from engine.compile.checks import check_manifest
from engine.validation import load_spec_file

from .conftest import FIXTURE_SPECS, GOLDEN, REPO, regen, shipped_specs

CASES = [(path, "Workflow") for path in shipped_specs()] + [
    (FIXTURE_SPECS / "nightly.yaml", "WorkflowTemplate"),
    (FIXTURE_SPECS / "nightly.yaml", "CronWorkflow"),
]


def _golden_path(spec: Path, kind: str) -> Path:
    relative = spec.relative_to(REPO).with_suffix("")
    return GOLDEN / f"{'__'.join(relative.parts)}.{kind}.yaml"


@pytest.mark.parametrize(("spec_path", "kind"), CASES,
                         ids=[f"{p.relative_to(REPO)}:{k}" for p, k in CASES])
def test_manifest_matches_golden_and_passes_argo_checks(spec_path: Path, kind: str) -> None:
    spec = load_spec_file(spec_path)
    compiled = build(spec, kind=kind)
    text = compiled.to_yaml()
    golden = _golden_path(spec_path, kind)
    if regen():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden}; run with FLOWSPEC_REGEN=1"
    assert text == golden.read_text(encoding="utf-8")
    # what we print is what we checked: the YAML reads back as the manifest
    assert yaml.safe_load(text) == compiled.manifest
    assert [str(p) for p in check_manifest(compiled.manifest, kind)] == []


def test_every_golden_file_belongs_to_a_case() -> None:
    expected = {_golden_path(p, k).name for p, k in CASES}
    stale = sorted(p.name for p in GOLDEN.glob("*.yaml") if p.name not in expected)
    assert stale == [], "golden files of specs that no longer exist; delete them"
