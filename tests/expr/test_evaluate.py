from __future__ import annotations

import pytest

from engine.expr.errors import ERROR_UNKNOWN_ENV, ExprEvalError
from engine.expr.evaluate import StepValues, Values, evaluate_condition, resolve_reference
from engine.expr.parser import parse_condition

VALUES = Values(
    params={"n": 5, "name": "eu-west", "strict": True, "loose": False, "regions": ["eu", "us"],
            "ratio": 2.5, "nothing": None},
    steps={
        "ok": StepValues("Succeeded", {"count": 3, "label": "x", "flag": False, "ids": [1, 2.0]}),
        "failed": StepValues("Failed", {"count": 3}),
        "skipped": StepValues("Skipped"),
        "load-b": StepValues("Omitted"),
    },
    workflow_status="Failed",
    item={"region": "eu", "n": 7, "on": True},
)


def decide(text: str, values: Values = VALUES) -> bool:
    return evaluate_condition(parse_condition(text), values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.n > 3 && params.strict", True),
        ("params.n >= 5 && params.n <= 5 && params.n < 6 && params.n > 4", True),
        ("params.ratio < params.n", True),
        ("params.n == 5.0", True),
        ("params.name < 'f' && params.name > 'eu'", True),
        ("params.loose", False),
        ("!params.loose", True),
        ("params.loose || params.strict && params.n == 5", True),
        ("(params.loose || params.strict) && params.n == 4", False),
        ("'eu' in params.regions", True),
        ("'EU' in params.regions", False),
        ("params.n in [1, 5]", True),
        ("params.n in [1.5, '5', true]", False),
        ("params.strict in [1]", False),
        ("2 in steps.ok.outputs.ids", True),
        ("steps.ok.outputs.count == 3", True),
        ("steps.ok.outputs.flag == false", True),
        ("steps.ok.status == 'Succeeded'", True),
        ("steps.load-b.status == 'Omitted'", True),
        ("workflow.status != 'Succeeded'", True),
        ("params.nothing == null", True),
        ("params.undeclared == null", True),
        ("params.n == null", False),
        ("params.n != null", True),
    ],
)
def test_values(text: str, expected: bool) -> None:
    assert decide(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # outputs of a step that did not succeed, or that it did not produce, are null
        ("steps.failed.outputs.count == null", True),
        ("steps.failed.outputs.count == 3", False),
        ("steps.skipped.outputs.count == null", True),
        ("steps.ok.outputs.missing == null", True),
        ("steps.load-b.outputs.x == steps.skipped.outputs.y", True),
        ("steps.load-b.outputs.x == steps.ok.outputs.count", False),
        # null equals only null; every other comparison with it is false
        ("steps.skipped.outputs.count != 3", True),
        ("steps.skipped.outputs.count < 3", False),
        ("steps.skipped.outputs.count >= 3", False),
        ("steps.skipped.outputs.count in [3]", False),
        ("'eu' in steps.skipped.outputs.ids", False),
        ("null < 1", False),
        # null as a condition is false
        ("steps.skipped.outputs.flag", False),
        ("!steps.skipped.outputs.flag", True),
        ("steps.skipped.outputs.flag || params.strict", True),
    ],
)
def test_null_rules(text: str, expected: bool) -> None:
    assert decide(text) is expected


def test_item() -> None:
    assert decide("item.region == 'eu'")
    assert decide("item.n == '7'")  # item keys are text, as {{item.key}} is on Argo
    assert decide("item.on == 'true'")
    assert evaluate_condition(parse_condition("item > 2"), Values(item=3))


@pytest.mark.parametrize(
    ("text", "start", "end", "message"),
    [
        ("params.name < 3", 0, 15, "cannot order a string and a number"),
        ("params.strict < true", 0, 20, "cannot order a boolean"),
        ("params.name == 3", 0, 16, "cannot compare a string with a number"),
        ("params.regions == params.regions", 0, 32, "cannot compare a list"),
        ("params.n in params.name", 0, 23, "'in' needs a list"),
        ("params.regions in params.regions", 0, 32, "cannot look for a list"),
        ("params.name", 0, 11, "expected a boolean, got a string"),
        ("!params.n", 1, 9, "expected a boolean, got a number"),
        ("params.strict && params.n", 17, 25, "expected a boolean"),
        ("steps.ghost.status == 'x'", 0, 18, "step 'ghost' has not finished"),
        ("item.nope == 'x'", 0, 9, "no key 'nope'"),
    ],
)
def test_run_time_errors(text: str, start: int, end: int, message: str) -> None:
    with pytest.raises(ExprEvalError) as caught:
        decide(text)
    assert (caught.value.start, caught.value.end) == (start, end)
    assert message in caught.value.message


def test_workflow_status_outside_finally_is_an_error() -> None:
    with pytest.raises(ExprEvalError, match="only known in 'finally'"):
        evaluate_condition(parse_condition("workflow.status == 'Failed'"), Values())


def test_and_or_short_circuit_like_argo() -> None:
    assert decide("params.strict || params.name < 3")
    assert not decide("params.loose && params.name < 3")


def test_resolve_reference() -> None:
    ref = parse_condition("steps.ok.outputs.ids")
    assert resolve_reference(ref, VALUES) == [1, 2.0]  # type: ignore[arg-type]
    ref = parse_condition("steps.failed.outputs.count")
    assert resolve_reference(ref, VALUES) is None  # type: ignore[arg-type]


def test_unknown_node(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.expr.ast import Node

    with pytest.raises(NotImplementedError):
        evaluate_condition(Node(0, 3), VALUES)  # type: ignore[arg-type]
    monkeypatch.delenv(ERROR_UNKNOWN_ENV)
    with pytest.raises(ExprEvalError, match="cannot evaluate Node"):
        evaluate_condition(Node(0, 3), VALUES)  # type: ignore[arg-type]
