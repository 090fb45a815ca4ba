from __future__ import annotations

import pytest

from engine.expr.check import Scope, StepScope, check_condition, check_reference
from engine.expr.parser import parse_condition

SCOPE = Scope(
    params={"max_lines": "integer", "name": "string", "strict": "boolean",
            "regions": "list", "ratio": "number", "broken": "str"},
    steps={
        "extract": StepScope({"customer_count": "integer", "label": "string"}),
        "duplicate-check": StepScope({"is_duplicate": "boolean", "ids": "list"}),
        "bare": StepScope({}),
    },
    all_steps=("extract", "duplicate-check", "bare", "later", "me"),
    current_step="me",
)
FINALLY = Scope(params=SCOPE.params, in_finally=True)
FAN_OUT = Scope(params=SCOPE.params, item_type="integer")
FAN_OUT_MAPS = Scope(params=SCOPE.params, item_type="object")


def problems(text: str, scope: Scope = SCOPE) -> list[tuple[str, str, str | None]]:
    """(code, the text the problem points at, hint) of each problem."""
    return [(p.code, text[p.start:p.end], p.hint) for p in check_condition(parse_condition(text),
                                                                            scope)]


@pytest.mark.parametrize(
    "text",
    [
        "steps.duplicate-check.outputs.is_duplicate == false && params.max_lines > 0",
        "params.strict",
        "!params.strict || true",
        "params.ratio >= params.max_lines",
        "params.max_lines == 2.5",
        "params.name < 'm' && params.name != ''",
        "steps.extract.outputs.label == null",
        "null != params.max_lines",
        "null == null",
        "'eu' in params.regions",
        "params.max_lines in [1, 2, 3.5]",
        "params.strict in [true]",
        "steps.extract.outputs.customer_count in steps.duplicate-check.outputs.ids",
        "steps.bare.status in ['Failed', 'Error'] || steps.bare.status == 'Omitted'",
        "(params.max_lines > 1) == params.strict",
        "!(params.name == 'x')",
    ],
)
def test_well_typed_conditions_have_no_problems(text: str) -> None:
    assert problems(text) == []


def test_finally_and_for_each_scopes() -> None:
    assert problems("workflow.status == 'Failed'", FINALLY) == []
    assert problems("workflow.status in ['Succeeded', 'Error']", FINALLY) == []
    assert problems("item > 3 && item != null", FAN_OUT) == []
    assert problems("item.region == 'eu'", FAN_OUT_MAPS) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.max_line > 0", [("FS301", "max_line", "did you mean 'max_lines'?")]),
        ("params.zzz == 1",
         [("FS301", "zzz", "known params: broken, max_lines, name, ratio, regions, strict")]),
        ("steps.extrac.outputs.label == ''", [("FS302", "extrac", "did you mean 'extract'?")]),
        ("steps.later.status == 'Failed'",
         [("FS303", "later", "add 'later' to this step's dependencies")]),
        ("steps.me.outputs.x == 1",
         [("FS303", "me", "a condition is decided before its step runs")]),
        ("steps.extract.outputs.customer_cnt > 1",
         [("FS304", "customer_cnt", "did you mean 'customer_count'?")]),
        ("steps.bare.outputs.x == 1",
         [("FS304", "x", "declare it in step 'bare': outputs: {x: string}")]),
        ("workflow.status == 'Failed'",
         [("FS305", "workflow.status", "move this step to 'finally', or test steps.STEP.status")]),
        ("item == 1", [("FS308", "item", "add for_each to this step, or use params.NAME")]),
        ("params.max_lines == 'text'", [("FS306", "params.max_lines == 'text'", None)]),
        ("params.max_lines == '5'", [("FS306", "params.max_lines == '5'",
                                      "write 5 without quotes")]),
        ("params.strict == 'true'", [("FS306", "params.strict == 'true'",
                                      "write true without quotes")]),
        ("params.name != 5", [("FS306", "params.name != 5", "quote it: '5'")]),
        ("params.strict < 1", [("FS306", "params.strict < 1", None)]),
        ("params.name < null", [("FS306", "params.name < null", None)]),
        ("params.max_lines in params.name", [("FS306", "params.max_lines in params.name", None)]),
        ("null in [1]", [("FS306", "null in [1]", None)]),
        ("params.regions == [1]", [("FS306", "params.regions == [1]", None)]),
        ("params.regions in params.regions", [("FS306", "params.regions in params.regions",
                                               None)]),
        ("params.max_lines in [1, '2']", [("FS306", "'2'", "write 2 without quotes")]),
        ("params.max_lines in []", [("FS306", "[]", None)]),
        ("steps.bare.status == 'Errored'", [("FS306", "'Errored'", "did you mean 'Error'?")]),
        ("steps.bare.status in ['Failed', 'Sucess']",
         [("FS306", "'Sucess'", "did you mean 'Succeeded'?")]),
        ("params.name", [("FS307", "params.name", "compare it, e.g. == 'text' or != ''")]),
        ("params.max_lines", [("FS307", "params.max_lines", "compare it, e.g. > 0")]),
        ("'text'", [("FS307", "'text'", "compare it, e.g. == 'text' or != ''")]),
        ("null", [("FS307", "null", None)]),
        ("[true]", [("FS307", "[true]", "test membership with 'in', e.g. 'x' in ...")]),
        ("params.strict && params.name", [("FS307", "params.name",
                                           "compare it, e.g. == 'text' or != ''")]),
        ("!params.name == 'x'",
         [("FS307", "params.name", "'!' binds tighter than comparisons: write !(a == b), or a != b")]),
    ],
)
def test_problems(text: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert problems(text) == expected


def test_item_type_rules() -> None:
    assert [p[0] for p in problems("item.k == 'x'", FAN_OUT)] == ["FS306"]
    assert [p[0] for p in problems("item == 1", FAN_OUT_MAPS)] == ["FS306"]
    assert [p[0] for p in problems("item == 'x'", FAN_OUT)] == ["FS306"]


def test_one_mistake_gives_one_problem_and_problems_are_in_source_order() -> None:
    found = problems("params.nope > 1 && (steps.ghost.status == 'x' || params.name)")
    assert [code for code, _, _ in found] == ["FS301", "FS302", "FS307"]


def test_a_name_is_reported_once_per_expression() -> None:
    found = problems("steps.later.outputs.a > 1 && steps.later.outputs.b > 2 "
                     "&& params.nope > 1 && params.nope < 9")
    assert [(code, text) for code, text, _ in found] == [("FS303", "later"), ("FS301", "nope")]


def test_a_misspelled_step_is_read_as_the_step_it_means() -> None:
    """The typo is said once, and the rest is checked as if fixed: the output's name and the
    comparison's types are not hidden behind it."""
    found = problems("steps.extrat.outputs.customer_count == 'x' "
                     "&& steps.extrat.outputs.labl == 'y'")
    assert found == [
        ("FS306", "steps.extrat.outputs.customer_count == 'x'", None),
        ("FS302", "extrat", "did you mean 'extract'?"),
        ("FS304", "labl", "did you mean 'label'?"),
    ]


def test_the_fix_for_a_non_ancestor_names_the_key_the_step_uses() -> None:
    depends = Scope(steps=SCOPE.steps, all_steps=SCOPE.all_steps, waits_with="depends")
    assert problems("steps.later.status == 'Failed'", depends) == [
        ("FS303", "later", "add 'later' to this step's depends")]


def test_a_badly_declared_type_is_left_to_the_spec_checks() -> None:
    assert problems("params.broken == 1") == []


def test_check_reference_types_one_reference() -> None:
    ref = parse_condition("steps.extract.outputs.customer_count")
    assert check_reference(ref, SCOPE) == ("integer", [])  # type: ignore[arg-type]
    ref = parse_condition("steps.later.outputs.x")
    type_name, found = check_reference(ref, SCOPE)  # type: ignore[arg-type]
    assert type_name is None and [p.code for p in found] == ["FS303"]


def test_unknown_node_raises_under_the_test_switch() -> None:
    from engine.expr.ast import Node

    with pytest.raises(NotImplementedError):
        check_condition(Node(0, 0), SCOPE)  # type: ignore[arg-type]


def test_unknown_node_is_quiet_without_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.expr.ast import Node
    from engine.expr.errors import ERROR_UNKNOWN_ENV

    monkeypatch.delenv(ERROR_UNKNOWN_ENV)
    assert check_condition(Node(0, 0), SCOPE) == []  # type: ignore[arg-type]
