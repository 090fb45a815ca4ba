"""A step's command sees its declared env on a small base, never flowspec's whole environment."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from executor_helpers import spec_from

from engine.command_env import BASE, command_env
from engine.local import run

TOKEN = "tok-0123456789-secret"
#: what sh itself adds to the environment it hands on
SHELL_ADDS = {"PWD", "SHLVL", "_", "OLDPWD"}

SPEC = """
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: env}
steps:
  - name: deploy
    processor: shell
    env:
      DEPLOY_TOKEN: {secret: {name: deploy, key: token}}
      STAGE: prod
    config: {command: 'printf "length=%s\\n" "${#DEPLOY_TOKEN}" >> "$FLOWSPEC_OUTPUT"'}
    outputs: {length: integer}
  - name: snoop
    processor: shell
    config:
      command: |
        printf "copy=%s\\n" "$(printf %s "$DEPLOY_TOKEN" | base64)" >> "$FLOWSPEC_OUTPUT"
        printf "names=%s\\n" "$(env | cut -d= -f1 | sort | tr "\\n" " ")" >> "$FLOWSPEC_OUTPUT"
    outputs: {copy: string, names: string}
"""


def test_a_step_sees_its_own_secret_and_no_one_elses(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the user's own credential")
    monkeypatch.setenv("LC_ALL", "C")
    result = run(spec_from(SPEC), store=db_url, workdir=tmp_path)
    assert result.phase == "Succeeded"
    assert result.steps["deploy"].outputs["length"] == len(TOKEN)
    assert result.steps["snoop"].outputs["copy"] == ""
    names = set(result.steps["snoop"].outputs["names"].split()) - SHELL_ADDS
    assert "LC_ALL" in names and "PATH" in names
    assert names <= {*BASE, "LC_ALL", "FLOWSPEC_OUTPUT"}
    encoded = base64.b64encode(TOKEN.encode())
    for path in Path(db_url.removeprefix("sqlite:///")).parent.iterdir():
        assert encoded not in path.read_bytes(), path


def test_declared_env_overrides_the_base_and_the_processor_overrides_both() -> None:
    environ = {"PATH": "/bin", "HOME": "/home/u", "LC_TIME": "C", "LCX": "no", "USER": "u",
               "FLOWSPEC_OUTPUT": "/tmp/theirs"}
    env = command_env({"PATH": "/opt/bin", "FLOWSPEC_OUTPUT": "mine?"},
                      {"FLOWSPEC_OUTPUT": "/tmp/ours"}, environ)
    assert env == {"PATH": "/opt/bin", "HOME": "/home/u", "LC_TIME": "C",
                   "FLOWSPEC_OUTPUT": "/tmp/ours"}


def test_a_python_step_is_handed_only_its_declared_env(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", TOKEN)
    result = run(spec_from("""
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: env}
steps:
  - {name: reveal, processor: "executor_procs:Reveal", env: {STAGE: prod}}
"""), workdir=tmp_path)
    assert json.loads(result.steps["reveal"].outputs["env"]) == {"STAGE": "prod"}
