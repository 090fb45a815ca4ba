"""The schema file itself: valid 2020-12, complete for editors, closed, and shipped intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine import schema as schema_module
from engine.schema import load_schema, schema_path

REPO = Path(__file__).resolve().parent.parent
SCHEMA = load_schema()
VALIDATOR = Draft202012Validator(SCHEMA)


def subschemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the schema, with a JSON-pointer-like location."""
    if not isinstance(node, dict):
        return
    yield where, node
    for keyword in ("properties", "$defs", "patternProperties"):
        for name, sub in node.get(keyword, {}).items():
            yield from subschemas(sub, f"{where}/{keyword}/{name}")
    for keyword in ("items", "additionalProperties", "propertyNames", "not", "if", "then",
                    "else"):
        yield from subschemas(node.get(keyword), f"{where}/{keyword}")
    for keyword in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for i, sub in enumerate(node.get(keyword, [])):
            yield from subschemas(sub, f"{where}/{keyword}/{i}")


def documented() -> Iterator[tuple[str, dict[str, Any]]]:
    """Schemas an editor shows on hover: every property, every shared definition."""
    for where, node in subschemas(SCHEMA):
        for keyword in ("properties", "$defs"):
            for name, sub in node.get(keyword, {}).items():
                yield f"{where}/{keyword}/{name}", sub


DOCUMENTED = list(documented())


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://flowspec.dev/schemas/flowspec.schema.json"
    assert SCHEMA["title"]


@pytest.mark.parametrize(("where", "node"), DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_every_property_has_description_and_examples(where: str, node: dict[str, Any]) -> None:
    assert isinstance(node.get("description"), str) and node["description"].strip(), where
    assert isinstance(node.get("examples"), list) and node["examples"], where


@pytest.mark.parametrize(("where", "node"), DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_every_example_is_valid_for_its_schema(where: str, node: dict[str, Any]) -> None:
    checker = VALIDATOR.evolve(schema=node)
    for example in node["examples"]:
        assert checker.is_valid(example), f"{where}: example {example!r} is invalid"


def types_of(node: dict[str, Any]) -> list[Any]:
    declared = node.get("type")
    return declared if isinstance(declared, list) else [declared]


def test_every_object_is_closed_or_a_declared_map() -> None:
    objects = [(w, n) for w, n in subschemas(SCHEMA)
               if "object" in types_of(n) or "properties" in n]
    assert len(objects) > 20
    for where, node in objects:
        assert "additionalProperties" in node, f"{where} does not say whether keys are open"
        if "properties" in node:
            assert node["additionalProperties"] is False, f"{where} has named keys but is open"
        else:  # a map: its values are described by a schema
            assert isinstance(node["additionalProperties"], dict), where


def test_every_pattern_explains_itself() -> None:
    patterns = [(w, n) for w, n in subschemas(SCHEMA) if "pattern" in n]
    assert len(patterns) > 10
    for where, node in patterns:
        assert node.get("patternErrorMessage", "").startswith("not a valid "), where


def test_step_keys_are_exactly_the_contracts() -> None:
    step = SCHEMA["$defs"]["step"]
    assert set(step["properties"]) == {
        "name", "processor", "config", "env", "outputs", "dependencies", "depends", "when",
        "retry", "timeout", "on_interrupt", "continue_on", "resources", "for_each", "argo",
    }
    assert step["required"] == ["name", "processor"]
    assert set(SCHEMA["properties"]) == {
        "apiVersion", "kind", "metadata", "params", "env", "defaults", "timeout",
        "parallelism", "steps", "finally", "argo",
    }


@pytest.mark.parametrize(("value", "ok"), [
    ("30s", True), ("5m", True), ("1h30m", True), ("7d", True), ("250ms", True),
    ("1.5h", True), ("30", False), ("5 m", False), ("m", False), ("", False), ("-5s", False),
])
def test_duration_pattern(value: str, ok: bool) -> None:
    assert VALIDATOR.evolve(schema={"$ref": "#/$defs/duration"}).is_valid(value) is ok


def test_package_copy_is_identical() -> None:
    """Non-editable installs read engine/flowspec.schema.json; it must be the canonical file.
    After editing schemas/flowspec.schema.json: cp schemas/flowspec.schema.json engine/"""
    canonical = (REPO / "schemas" / "flowspec.schema.json").read_bytes()
    assert (REPO / "engine" / "flowspec.schema.json").read_bytes() == canonical


def test_schema_path_prefers_the_checkout() -> None:
    assert schema_path() == REPO / "schemas" / "flowspec.schema.json"


def test_schema_path_falls_back_to_package_data(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "site-packages" / "engine"
    installed.mkdir(parents=True)
    (installed / "flowspec.schema.json").write_text(json.dumps({"title": "installed"}))
    monkeypatch.setattr(schema_module, "__file__", str(installed / "schema.py"))
    assert schema_path() == installed / "flowspec.schema.json"
    assert load_schema() == {"title": "installed"}


def test_load_schema_returns_a_fresh_copy() -> None:
    first = load_schema()
    first["properties"].clear()
    assert load_schema()["properties"]
