"""The compiled form's shape; what it decides is checked against Argo's libraries in
tests/parity/test_when_parity.py."""

from __future__ import annotations

import re

import pytest

from engine.expr.errors import ERROR_UNKNOWN_ENV, ExprCompileError
from engine.expr.parser import parse_condition
from engine.expr.to_argo import (
    NULL_MARKER,
    argo_value_text,
    string_literal,
    to_argo_when,
    value_from_argo_text,
)

PARAMS = {"n": "integer", "name": "string", "flag": "boolean", "ratio": "number",
          "regions": "list"}
OUTPUTS = {"load-b": {"rows": "integer", "label": "string", "ok": "boolean", "ids": "list"},
           "load": {"rows": "number"}}


def compile_(text: str, item_type: str | None = None) -> str:
    return to_argo_when(parse_condition(text), PARAMS, OUTPUTS, item_type=item_type)


def test_one_expression_tag_reading_values_by_bracket_access() -> None:
    tag = compile_("steps.load-b.outputs.rows > params.n && steps.load.outputs.rows < 2")
    assert tag.startswith("{{=") and tag.endswith("}}") and tag.count("{{") == 1
    assert "tasks['load-b'].outputs.parameters['rows']" in tag
    assert "asInt(tasks['load-b'].outputs.parameters['rows']) > asInt(workflow.parameters['n'])" \
        in tag
    assert "asFloat(tasks['load'].outputs.parameters['rows']) < 2.0" in tag


@pytest.mark.parametrize(
    "text",
    [
        "steps.load-b.outputs.label == '}}' || steps.load-b.outputs.label == '{{=x}}'",
        "steps.load-b.outputs.label in ['a', 'b'] && steps.load-b.outputs.rows in [1, 2.5]",
        "steps.load-b.outputs.rows == null || null != steps.load-b.outputs.label",
        "'x' in steps.load-b.outputs.ids || params.flag in steps.load-b.outputs.ids",
        "!(steps.load-b.outputs.ok == params.flag) || steps.load-b.status == 'Failed'",
    ],
)
def test_never_uses_constructs_that_differ_between_expr_versions(text: str) -> None:
    body = compile_(text)[3:-2]
    assert "}}" not in body and "{{" not in body
    assert "??" not in body and "?." not in body
    assert not re.search(r"\bin \[", body), "no `x in [...]` (appendix 12)"


def test_every_possibly_absent_output_is_guarded_before_conversion() -> None:
    tag = compile_("steps.load-b.outputs.rows > 1")
    ref = "tasks['load-b'].outputs.parameters['rows']"
    marker = string_literal(NULL_MARKER)
    assert tag == (f"{{{{=(({ref} == nil || {ref} == {marker}) ? false : "
                   f"(asInt({ref}) > 1))}}}}")


@pytest.mark.parametrize(
    ("text", "compiled"),
    [
        ("true", "{{=(true)}}"),
        ("null == null", "{{=true}}"),
        ("params.n < null", "{{=false}}"),
        ("null in [1]", "{{=false}}"),
        ("params.n in []", "{{=false}}"),
        ("workflow.status == 'Failed'", "{{=(workflow.status == 'Failed')}}"),
        ("item > 2", "{{=(asInt(item) > 2)}}"),
        ("item.region == 'eu'", "{{=(item['region'] == 'eu')}}"),
    ],
)
def test_small_forms(text: str, compiled: str) -> None:
    assert compile_(text, item_type="integer" if "item." not in text else "object") == compiled


def test_string_literals_escape_everything_that_could_break_the_tag() -> None:
    assert string_literal("plain text-1.0") == "'plain text-1.0'"
    assert string_literal("it's {x} \"q\" \\") == (
        "'it\\u0027s \\u007bx\\u007d \\u0022q\\u0022 \\u005c'"
    )
    # Argo un-escapes the text \u003c & co. after json.Marshal, so these stay raw
    assert string_literal("<a&b>") == "'<a&b>'"
    assert string_literal("é\n😀") == "'\\u00e9\\u000a\\U0001f600'"


@pytest.mark.parametrize(
    "text",
    [
        "params.n == 'x'",
        "params.name",
        "params.regions == [1]",
        "params.flag < true",
        "params.undeclared == 1",
        "steps.ghost.outputs.x == 1",
        "item == 1",
    ],
)
def test_conditions_the_checker_rejects_do_not_compile(text: str) -> None:
    with pytest.raises(ExprCompileError, match="check_condition rejects it"):
        compile_(text)


def test_unknown_node(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.expr.ast import Node

    with pytest.raises(NotImplementedError):
        to_argo_when(Node(0, 0), {}, {})  # type: ignore[arg-type]
    monkeypatch.delenv(ERROR_UNKNOWN_ENV)
    with pytest.raises(ExprCompileError):
        to_argo_when(Node(0, 0), {}, {})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "type_name", "text"),
    [(None, "integer", NULL_MARKER), (7, "integer", "7"), (2.5, "number", "2.5"),
     (True, "boolean", "true"), (False, "boolean", "false"), (["a", 1], "list", '["a",1]'),
     ("true || x", "string", "true || x"), ("", "string", "")],
)
def test_value_text_convention_round_trips(value: object, type_name: str, text: str) -> None:
    assert argo_value_text(value) == text
    assert value_from_argo_text(text, type_name) == value


def test_the_marker_is_reserved() -> None:
    with pytest.raises(ValueError, match="reserved for null"):
        argo_value_text(NULL_MARKER)
