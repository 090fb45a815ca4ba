from __future__ import annotations

import pytest

from engine.expr.ast import ItemRef, ParamRef, StepOutputRef, WorkflowNameRef, WorkflowStatusRef
from engine.expr.check import Scope, StepScope
from engine.expr.errors import ExprEvalError, ExprSyntaxError
from engine.expr.evaluate import StepValues, Values
from engine.expr.interpolate import check_interpolation, parse_interpolation, render


def test_parts_keep_text_and_reference_offsets() -> None:
    text = "db=${{ params.db }};rows=${{steps.load-b.outputs.rows}}"
    parts = parse_interpolation(text)
    assert parts == [
        "db=",
        ParamRef(7, 16, "db"),
        ";rows=",
        StepOutputRef(28, 53, "load-b", "rows"),
    ]
    ref = parts[3]
    assert isinstance(ref, StepOutputRef)
    assert text[slice(*ref.step_span)] == "load-b"


def test_all_reference_kinds_and_plain_text() -> None:
    assert parse_interpolation("plain {{ not ours }}") == ["plain {{ not ours }}"]
    assert parse_interpolation("") == [""]
    parts = parse_interpolation("${{workflow.name}}/${{ workflow.status }}/${{ item }}/${{item.k}}")
    kinds = [type(p) for p in parts if not isinstance(p, str)]
    assert kinds == [WorkflowNameRef, WorkflowStatusRef, ItemRef, ItemRef]


@pytest.mark.parametrize(
    ("text", "start", "end", "hint_part"),
    [
        ("a ${{ params.x", 2, 14, "end the reference with '}}'"),
        ("${{ }}", 3, 4, "params.NAME"),
        ("${{ steps.a.status }}", 4, 18, "conditions only"),
        ("${{ params.x == 1 }}", 13, 15, None),
        ("${{ foo }}", 4, 7, "workflow.name"),
        ("${{ params.a }} ${{ steps.b.output.c }}", 28, 34, "'outputs'"),
    ],
)
def test_errors_point_into_the_env_value(
    text: str, start: int, end: int, hint_part: str | None
) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse_interpolation(text)
    error = caught.value
    assert (error.start, error.end, error.code) == (start, end, "FS309")
    if hint_part is not None:
        assert error.hint is not None and hint_part in error.hint


def test_check_uses_the_condition_rules() -> None:
    scope = Scope(params={"db": "string"}, steps={"a": StepScope({"rows": "integer"})},
                  all_steps=("a", "b"))
    text = "${{ params.dv }} ${{ steps.a.outputs.rows }} ${{ steps.b.outputs.x }} ${{ item }}"
    found = check_interpolation(parse_interpolation(text), scope)
    assert [(p.code, text[p.start:p.end]) for p in found] == [
        ("FS301", "dv"), ("FS303", "b"), ("FS308", "item"),
    ]


def test_render_substitutes_values_as_text() -> None:
    values = Values(
        params={"flag": True, "n": 3, "ratio": 0.5, "regions": ["eu", "us"], "none": None},
        steps={"a": StepValues("Succeeded", {"out": "true || x ${{ params.n }}"}),
               "f": StepValues("Failed", {"out": "secret-ish"})},
        workflow_name="wf-1", workflow_status="Succeeded", item={"k": 2},
    )
    text = ("${{params.flag}} ${{params.n}} ${{params.ratio}} ${{params.regions}} [${{params.none}}]"
            " ${{steps.a.outputs.out}} [${{steps.f.outputs.out}}] ${{workflow.name}}"
            " ${{workflow.status}} ${{item.k}}")
    assert render(parse_interpolation(text), values) == (
        'true 3 0.5 ["eu","us"] [] true || x ${{ params.n }} [] wf-1 Succeeded 2'
    )


def test_render_of_an_unknown_value_is_an_error() -> None:
    with pytest.raises(ExprEvalError, match="workflow.name is not known"):
        render(parse_interpolation("${{ workflow.name }}"), Values())
