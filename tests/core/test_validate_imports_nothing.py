"""Validation never runs code a spec names (issue 10, item 3).

Each module below announces its import by creating a file; ``flowspec validate`` (a real
process, as CI runs it on an untrusted pull request) must find the class or report its
absence without that file ever appearing. Only ``--import-processors`` imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MODULE = '''
import pathlib, os
pathlib.Path(os.environ["IMPORT_MARKER"]).write_text("imported")

SCHEMA = {"type": "object", "additionalProperties": False,
          "properties": {"size": {"type": "integer"}}}


class Literal:
    config_schema = SCHEMA
    outputs = {"rows": "integer"}

    def __init__(self, config):
        pass

    def process(self, context):
        return {}


def _schema():
    return dict(SCHEMA)


class Computed:
    config_schema = _schema()

    def process(self, context):
        return {}
'''


def _validate(tmp_path: Path, processor: str, config: str = "{}", *extra: str,
              ) -> tuple[int, list[dict[str, object]], Path]:
    package = tmp_path / "lib" / "sidefx"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        'import pathlib, os\npathlib.Path(os.environ["IMPORT_MARKER"]).write_text("pkg")\n')
    (package / "steps.py").write_text(MODULE)
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent(f"""\
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {{name: t}}
        steps:
          - name: a
            processor: "{processor}"
            config: {config}
        """))
    marker = tmp_path / "imported"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "lib"), "IMPORT_MARKER": str(marker)}
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "validate", "--format", "json", *extra,
         str(spec)], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    return proc.returncode, json.loads(proc.stdout), marker


@pytest.mark.parametrize("processor", ["this:X", "venv.__main__:X", "antigravity:X"])
def test_stdlib_modules_with_side_effects_are_not_imported(tmp_path: Path,
                                                            processor: str) -> None:
    code, records, _ = _validate(tmp_path, processor)
    assert code == 1
    assert [r["code"] for r in records] == ["FS404"]
    assert "defines no class 'X'" in str(records[0]["message"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib", "spec.yaml"]


def test_a_literal_interface_is_read_and_checked_without_importing(tmp_path: Path) -> None:
    code, records, marker = _validate(tmp_path, "sidefx.steps:Literal", "{sise: 3}")
    assert not marker.exists()
    assert code == 1
    assert [(r["code"], r["hint"]) for r in records] == [("FS402", "did you mean 'size'?")]


def test_a_missing_class_is_reported_without_importing(tmp_path: Path) -> None:
    code, records, marker = _validate(tmp_path, "sidefx.steps:Literl")
    assert code == 1
    assert not marker.exists()
    assert [r["code"] for r in records] == ["FS404"]


def test_a_computed_interface_is_a_warning_not_an_import(tmp_path: Path) -> None:
    code, records, marker = _validate(tmp_path, "sidefx.steps:Computed", "{sise: 3}")
    assert not marker.exists()
    assert code == 0
    assert [(r["code"], r["severity"]) for r in records] == [("FS405", "warning")]


def test_import_processors_imports_and_checks_everything(tmp_path: Path) -> None:
    code, records, marker = _validate(tmp_path, "sidefx.steps:Computed", "{sise: 3}",
                                      "--import-processors")
    assert marker.exists()
    assert code == 1
    assert [r["code"] for r in records] == ["FS402"]
