"""The VS Code extension (editors/vscode): its manifest agrees with its code, and its settings
logic passes its own tests under Node (skipped where Node is not installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "editors" / "vscode"
MANIFEST = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def test_the_manifest_declares_what_the_code_uses() -> None:
    assert (EXTENSION / MANIFEST["main"]).is_file()
    settings = MANIFEST["contributes"]["configuration"]["properties"]
    code = (EXTENSION / "settings.js").read_text(encoding="utf-8")
    read = {f"flowspec.{name}" for name in re.findall(r'get\("([\w.]+)"', code)}
    assert read == set(settings)
    assert settings["flowspec.server.args"]["default"] == ["lsp"]
    commands = {c["command"] for c in MANIFEST["contributes"]["commands"]}
    assert commands == set(re.findall(r'registerCommand\("([\w.]+)"',
                                      (EXTENSION / "extension.js").read_text(encoding="utf-8")))
    locked = json.loads((EXTENSION / "package-lock.json").read_text(encoding="utf-8"))
    assert locked["packages"][""]["dependencies"] == MANIFEST["dependencies"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_extension_parses_and_its_settings_tests_pass() -> None:
    for script in ("extension.js", "settings.js"):
        subprocess.run(["node", "--check", str(EXTENSION / script)], check=True)
    result = subprocess.run(["node", "--test", "test/"], cwd=EXTENSION, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass [1-9]", result.stdout, re.MULTILINE), result.stdout
