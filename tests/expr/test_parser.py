from __future__ import annotations

import pytest

from engine.expr.ast import (
    Compare,
    ItemRef,
    ListLiteral,
    Literal,
    Logical,
    Not,
    ParamRef,
    StepOutputRef,
    StepStatusRef,
    WorkflowStatusRef,
    to_text,
)
from engine.expr.errors import ExprSyntaxError
from engine.expr.parser import parse_condition


def test_contract_example_tree_and_offsets() -> None:
    text = "steps.duplicate-check.outputs.is_duplicate == false && params.max_lines > 0"
    expr = parse_condition(text)
    assert isinstance(expr, Logical) and expr.op == "&&"
    left, right = expr.left, expr.right
    assert isinstance(left, Compare) and isinstance(right, Compare)
    ref = left.left
    assert ref == StepOutputRef(0, 42, "duplicate-check", "is_duplicate")
    assert text[slice(*ref.step_span)] == "duplicate-check"
    assert text[slice(*ref.output_span)] == "is_duplicate"
    assert left.right == Literal(46, 51, False)
    assert right.left == ParamRef(55, 71, "max_lines")
    assert text[slice(*right.left.name_span)] == "max_lines"
    assert (expr.start, expr.end) == (0, len(text))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a_or_b", None),
        ("params.a || params.b && params.c", "params.a || params.b && params.c"),
        ("(params.a || params.b) && params.c", "(params.a || params.b) && params.c"),
        ("!params.a == true", "!params.a == true"),
        ("!(params.a == true)", "!(params.a == true)"),
        ("!!params.a", "!!params.a"),
        ("params.a && (params.b && params.c)", "params.a && (params.b && params.c)"),
        ('item.k in ["x", 1, 2.5, true]', "item.k in ['x', 1, 2.5, true]"),
        ("steps.s.status in []", "steps.s.status in []"),
        ("workflow.status != 'Failed'", "workflow.status != 'Failed'"),
        ("item == null", "item == null"),
        ("(((true)))", "true"),
    ],
)
def test_precedence_and_round_trip(text: str, canonical: str | None) -> None:
    if canonical is None:
        with pytest.raises(ExprSyntaxError):
            parse_condition(text)
        return
    expr = parse_condition(text)
    assert to_text(expr) == canonical
    assert _strip(parse_condition(canonical)) == _strip(expr)


def test_not_binds_tighter_than_comparison_and_and_tighter_than_or() -> None:
    expr = parse_condition("!params.a == params.b || params.c && params.d")
    assert isinstance(expr, Logical) and expr.op == "||"
    assert isinstance(expr.left, Compare) and isinstance(expr.left.left, Not)
    assert isinstance(expr.right, Logical) and expr.right.op == "&&"


def test_reference_kinds() -> None:
    assert parse_condition("steps.a-b.status") == StepStatusRef(0, 16, "a-b")
    assert parse_condition("workflow.status") == WorkflowStatusRef(0, 15)
    assert parse_condition("item") == ItemRef(0, 4, None)
    assert parse_condition("item.region") == ItemRef(0, 11, "region")
    assert parse_condition("params.null") == ParamRef(0, 11, "null")
    expr = parse_condition("params.x in [1, 'a']")
    assert isinstance(expr, Compare) and isinstance(expr.right, ListLiteral)
    assert [i.value for i in expr.right.items] == [1, "a"]


@pytest.mark.parametrize(
    ("text", "start", "end", "hint_part"),
    [
        ("", 0, 0, "remove 'when'"),
        ("   ", 0, 3, "remove 'when'"),
        ("params.x and params.y", 9, 12, "'&&'"),
        ("params.x or params.y", 9, 11, "'||'"),
        ("not params.x", 0, 3, "'!'"),
        ("params.x not in [1]", 9, 12, "'!'"),
        ("params.x == True", 12, 16, "true"),
        ("params.x == None", 12, 16, "null"),
        ("params.x == nil", 12, 15, "null"),
        ("steps.a.output.x", 8, 14, "'outputs'"),
        ("steps.a.stats", 8, 13, "'status'"),
        ("steps.a.result == 1", 8, 14, "steps.a.outputs.NAME"),
        ("steps.a.outputs.parameters.x", 16, 26, "steps.a.outputs.x"),
        ("steps.a.outputs.x.y", 17, 18, "whole value"),
        ("tasks.a.outputs.result", 0, 5, "steps.STEP"),
        ("inputs.parameters.x", 0, 6, "params.NAME"),
        ("workflow.parameters.x", 9, 19, "params.NAME"),
        ("workflow.stauts", 9, 15, "'status'"),
        ("workflow.name == 'x'", 0, 13, "env values"),
        ("params", 0, 6, None),
        ("params. x", 8, 9, "without spaces"),
        ("params .x", 7, 8, "without spaces"),
        ("params.x ==", 11, 11, "after '=='"),
        ("params.x == 1 params.y", 14, 20, "'&&'"),
        ("1 < 2 < 3", 6, 7, "'&&'"),
        ("foo == 'bar'", 0, 3, "'foo'"),
        ("(params.x", 9, 9, "offset 0"),
        ("params.x in [1, null]", 16, 20, "== null"),
        ("params.x in [1, [2]]", 16, 17, "nested"),
        ("params.x in [params.y]", 13, 19, "literals"),
        ("params.x in [1 2]", 15, 16, "offset 12"),
        ("params.x in [1,]", 15, 16, None),
        ("item.a.b", 6, 7, "one level"),
        ("== 1", 0, 2, None),
        (")", 0, 1, None),
    ],
)
def test_syntax_errors(text: str, start: int, end: int, hint_part: str | None) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse_condition(text)
    error = caught.value
    assert (error.start, error.end) == (start, end), str(error)
    assert error.code == "FS300"
    if hint_part is not None:
        assert error.hint is not None and hint_part in error.hint, error.hint


def _strip(expr: object) -> object:
    """The tree without offsets, to compare trees parsed from different texts."""
    if isinstance(expr, tuple):
        return tuple(_strip(item) for item in expr)
    fields = getattr(expr, "__dataclass_fields__", None)
    if fields is None:
        return expr
    return (type(expr).__name__,) + tuple(
        _strip(getattr(expr, name)) for name in fields if name not in ("start", "end")
    )


@pytest.mark.parametrize(
    "text",
    ["(" * 5000 + "true" + ")" * 5000, "!" * 5000 + "true", " || ".join(["true"] * 5000)],
)
def test_hostile_nesting_is_a_syntax_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ExprSyntaxError, match="too complex"):
        parse_condition(text)


def test_the_complexity_budget_allows_long_real_conditions() -> None:
    text = " && ".join(f"!(params.p{i} == {i})" for i in range(21))
    assert to_text(parse_condition(text)) == text
