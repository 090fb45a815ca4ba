from __future__ import annotations

import pytest

from engine.expr.depends import (
    DependsLogical,
    DependsNot,
    DependsRef,
    TaskState,
    dependencies_to_depends,
    depends_names,
    evaluate_depends,
    parse_depends,
    references,
    to_argo_depends,
)
from engine.expr.errors import ExprSyntaxError


def test_tree_offsets_and_names() -> None:
    text = "!(load || load-b.Succeeded) && load.Failed"
    expr = parse_depends(text)
    assert isinstance(expr, DependsLogical) and expr.op == "&&"
    assert isinstance(expr.left, DependsNot)
    refs = references(expr)
    assert refs == [
        DependsRef(2, 6, "load", None),
        DependsRef(10, 26, "load-b", "Succeeded"),
        DependsRef(31, 42, "load", "Failed"),
    ]
    assert text[slice(*refs[1].name_span)] == "load-b"
    assert depends_names(expr) == ["load", "load-b"]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a&&b", "a && b"),
        ("a || b && c", "a || b && c"),
        ("(a || b) && c", "(a || b) && c"),
        ("a && (b && c)", "a && (b && c)"),
        ("!!a.Failed", "!!a.Failed"),
        ("!(a.Failed)", "!a.Failed"),
        ("((a))", "a"),
        ("x1 || 2b.AnySucceeded", "x1 || 2b.AnySucceeded"),
    ],
)
def test_canonical_text_round_trips(text: str, canonical: str) -> None:
    assert to_argo_depends(parse_depends(text)) == canonical
    assert to_argo_depends(parse_depends(canonical)) == canonical


@pytest.mark.parametrize(
    ("text", "code", "start", "end", "hint_part"),
    [
        ("", "FS210", 0, 0, "name the steps"),
        ("a.Succeded", "FS211", 2, 10, "did you mean 'Succeeded'?"),
        ("a.succeeded", "FS211", 2, 11, "capitalised as Argo requires: Succeeded"),
        ("a.errored", "FS211", 2, 9, "Errored"),
        ("a.Banana", "FS211", 2, 8, "results are Succeeded"),
        ("a and b", "FS210", 2, 5, "'&&'"),
        ("a or b", "FS210", 2, 4, "'||'"),
        ("not a", "FS210", 0, 3, "'!'"),
        ("a && true", "FS210", 5, 9, "constants"),
        ("a & b", "FS210", 2, 3, "'&&'"),
        ("a_b", "FS210", 1, 2, "'-'"),
        ("a . Failed", "FS210", 2, 3, "a.RESULT"),
        ("a.", "FS210", 2, 2, "results are"),
        ("(a || b", "FS210", 7, 7, "offset 0"),
        ("a &&", "FS210", 4, 4, None),
        ("a b", "FS210", 2, 3, None),
        ("{{a}}", "FS210", 0, 1, None),
    ],
)
def test_errors(text: str, code: str, start: int, end: int, hint_part: str | None) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse_depends(text)
    error = caught.value
    assert (error.code, error.start, error.end) == (code, start, end), str(error)
    if hint_part is not None:
        assert error.hint is not None and hint_part in error.hint, error.hint


def states(**phases: str) -> dict[str, TaskState]:
    return {name.replace("_", "-"): TaskState(phase) for name, phase in phases.items()}


@pytest.mark.parametrize(
    ("text", "phases", "expected"),
    [
        ("a", {"a": "Succeeded"}, True),
        ("a", {"a": "Skipped"}, True),
        ("a", {"a": "Omitted"}, False),  # the Omitted cascade
        ("a", {"a": "Failed"}, False),
        ("a", {"a": "Error"}, False),
        ("a.Errored", {"a": "Error"}, True),
        ("a.Failed", {"a": "Error"}, False),
        ("a.Omitted", {"a": "Omitted"}, True),
        ("a.Daemoned", {"a": "Succeeded"}, False),
        ("a || b", {"a": "Succeeded", "b": "Running"}, None),  # waits for every name
        ("a && b", {"a": "Failed"}, None),  # b has not started
        ("a && !b.Succeeded", {"a": "Succeeded", "b": "Failed"}, True),
        ("load && !load-b", {"load": "Succeeded", "load-b": "Omitted"}, True),
        ("load-b.Failed || load.Failed", {"load": "Succeeded", "load-b": "Succeeded"}, False),
        ("a", {"a": "Pending"}, None),
    ],
)
def test_evaluate(text: str, phases: dict[str, str], expected: bool | None) -> None:
    expr = parse_depends(text)
    assert evaluate_depends(expr, {k: TaskState(v) for k, v in phases.items()}) is expected


def test_continue_on_widens_the_bare_name_only() -> None:
    bare, succeeded = parse_depends("a"), parse_depends("a.Succeeded")
    failed = {"a": TaskState("Failed", continue_on_failed=True)}
    errored = {"a": TaskState("Error", continue_on_error=True)}
    assert evaluate_depends(bare, failed) is True
    assert evaluate_depends(bare, errored) is True
    assert evaluate_depends(succeeded, failed) is False
    assert evaluate_depends(bare, {"a": TaskState("Error", continue_on_failed=True)}) is False


def test_items_results() -> None:
    any_ok, all_failed = parse_depends("a.AnySucceeded"), parse_depends("a.AllFailed")
    mixed = {"a": TaskState("Failed", fanout_children=["Succeeded", "Failed"])}
    failed = {"a": TaskState("Failed", fanout_children=["Failed", "Failed"])}
    with_error = {"a": TaskState("Error", fanout_children=["Failed", "Error"])}
    empty = {"a": TaskState("Skipped", fanout_children=[])}
    assert evaluate_depends(any_ok, mixed) and not evaluate_depends(all_failed, mixed)
    assert evaluate_depends(all_failed, failed) and not evaluate_depends(any_ok, failed)
    assert evaluate_depends(all_failed, with_error) is False
    assert evaluate_depends(any_ok, empty) is False and evaluate_depends(all_failed, empty) is False
    assert evaluate_depends(any_ok, {"a": TaskState("Succeeded")}) is False


def test_unknown_phase_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="unknown phase 'Errored'"):
        evaluate_depends(parse_depends("a"), {"a": TaskState("Errored")})


def test_dependencies_to_depends() -> None:
    assert dependencies_to_depends([], {}) == ""
    assert dependencies_to_depends(["a", "b", "a"], {}) == "a && b"
    assert dependencies_to_depends(["a", "b"], {"b": (True, False), "a": (False, False)}) == (
        "a && (b.Succeeded || b.Skipped || b.Daemoned || b.Failed)"
    )
    assert dependencies_to_depends(["x"], {"x": (True, True)}) == (
        "(x.Succeeded || x.Skipped || x.Daemoned || x.Errored || x.Failed)"
    )
    text = dependencies_to_depends(["a", "b"], {"b": (False, True)})
    parsed = parse_depends(text)
    assert depends_names(parsed) == ["a", "b"]
    assert evaluate_depends(parsed, {"a": TaskState("Skipped"), "b": TaskState("Error")}) is True


@pytest.mark.parametrize(
    "text", ["(" * 3000 + "a" + ")" * 3000, "!" * 3000 + "a", " || ".join(["a"] * 3000)]
)
def test_hostile_nesting_is_a_syntax_error(text: str) -> None:
    with pytest.raises(ExprSyntaxError, match="too complex") as caught:
        parse_depends(text)
    assert caught.value.code == "FS210"
