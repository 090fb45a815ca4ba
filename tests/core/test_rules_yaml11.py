"""FS009 where a YAML 1.1 reading would change what a program receives, and nowhere else.

Each case puts one unquoted value in one place of an otherwise valid spec and states whether
FS009 must be reported there (yamllint's ``check(src, problem=(line, col))`` style).
"""

from __future__ import annotations

import pytest

from engine.loader import load_text
from engine.validation import check_document

BASE = """\
apiVersion: flowspec/v1
kind: Workflow
metadata:
  name: yaml11
  description: {description}
  labels: {{tier: {label}}}
params:
  text: {{type: string, default: {text_default}}}
  count: {{type: integer, default: {int_default}}}
  ratio: {{type: number, default: {number_default}}}
env:
  VALUE: {env}
steps:
  - name: run
    processor: python
    config: {{function: processors.examples:merge_counts, args: {{flag: {config}}}}}
"""
PLACES = {  # place -> (line, column) of its value in BASE once filled
    "description": (5, 16), "label": (6, 18), "text_default": (8, 33),
    "int_default": (9, 35), "number_default": (10, 34), "env": (12, 10), "config": (16, 71),
}
SAFE = {"description": "fine", "label": "gold", "text_default": "x", "int_default": "1",
        "number_default": "1.5", "env": "x", "config": "x"}


def fs009(place: str, value: str) -> list[tuple[int, int, str | None]]:
    doc, problems = load_text(BASE.format(**{**SAFE, place: value}), "t.yaml")
    assert doc is not None and not problems
    return [(d.line, d.column, d.hint) for d in check_document(doc)[1] if d.code == "FS009"]


@pytest.mark.parametrize(("place", "value"), [
    ("env", "on"), ("env", "yes"), ("env", "NO"), ("env", "off"), ("env", "y"),
    ("env", "010"), ("env", "1.10"), ("env", "2001-12-14"), ("env", "1_000"),
    ("label", "on"), ("config", "n"), ("config", "02134"), ("text_default", "yes"),
    ("int_default", "010"),
])
def test_reported(place: str, value: str) -> None:
    line, column = PLACES[place]
    assert [(r[0], r[1]) for r in fs009(place, value)] == [(line, column)]


@pytest.mark.parametrize(("place", "value"), [
    ("description", "on"),  # text for people, never read by a program
    ("env", "'on'"), ("env", '"010"'), ("env", "true"), ("env", "10"), ("env", "1.5"),
    ("number_default", "80.50"),  # a number param: 80.50 is 80.5 to every reader
    ("int_default", "007"),  # octal 7 is 7: no reader disagrees
    ("text_default", "1.10"),  # a number where text is declared: FS701's, not FS009's
])
def test_not_reported(place: str, value: str) -> None:
    assert fs009(place, value) == []


def test_hints() -> None:
    assert fs009("env", "on")[0][2] == 'quote it: "on"'
    assert fs009("config", "02134")[0][2] == 'quote it: "02134"'  # not the "}" after it
    assert fs009("int_default", "010")[0][2] == "write 10 without the leading zeros"
