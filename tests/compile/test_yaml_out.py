"""The manifest writer: exactly CSafeDumper's text, unaffected by importing hera, safe for
YAML 1.1 readers."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, ClassVar

import yaml

from engine.compile.yaml_out import dump

from .conftest import REPO, compiled_from

TRICKY = {
    "strings": ["y", "Y", "n", "N", "yes", "on", "off", "true", "null", "~", "1", "0x1f",
                "1e3", "2024-01-01", "", " lead", "trail ", "a: b", "- x", "#c", "{{=a}}",
                "multi\nline", "quote'\"", "tab\tx", "ünïcode", "n1", "ny"],
    "numbers": [0, -3, 7200],
    "flags": [True, False],
    "nested": {"empty": {}, "list": [], "name": "x"},
}


class _Pristine(yaml.CSafeDumper):
    """CSafeDumper as PyYAML ships it, whatever hera did to the shared tables."""

    yaml_representers: ClassVar[dict[Any, Any]] = {**yaml.SafeDumper.yaml_representers,
                         str: yaml.representer.SafeRepresenter.represent_str}


def _pristine(data: Any) -> str:
    return yaml.dump(data, Dumper=_Pristine, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1_000_000)


def test_text_is_csafedumpers_except_yaml11_single_letter_booleans_are_quoted() -> None:
    text = dump(TRICKY)
    assert yaml.safe_load(text) == TRICKY
    for letter in ("y", "Y", "n", "N"):
        assert f"- '{letter}'\n" in text
    unquoted = _pristine(TRICKY)
    for letter in ("y", "Y", "n", "N"):
        unquoted = unquoted.replace(f"- {letter}\n", f"- '{letter}'\n")
    assert text == unquoted


def test_a_compiled_manifest_is_written_exactly_as_csafedumper_writes_it() -> None:
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: w, description: "two\\nlines"}
        params: {x: {type: string, default: "off"}}
        steps:
          - {name: a, processor: noop, when: "params.x == 'y'"}
    """)
    assert compiled.to_yaml() == _pristine(compiled.manifest)


def test_output_does_not_depend_on_hera_being_imported() -> None:
    # A fresh interpreter without hera, against this one (where hera is imported).
    code = ("import sys, json; from engine.compile.yaml_out import dump; "
            "assert 'hera' not in sys.modules; "
            "sys.stdout.write(dump(json.loads(sys.stdin.read())))")
    import json

    fresh = subprocess.run([sys.executable, "-c", code], input=json.dumps(TRICKY), text=True,
                           capture_output=True, check=True, cwd=REPO).stdout
    import hera.workflows  # noqa: F401  (installs hera's global str representer)

    assert dump(TRICKY) == fresh
    assert yaml.safe_dump({"m": "multi\nline"}) != _pristine({"m": "multi\nline"}), \
        "hera's representer is no longer global; this test no longer shows isolation"
