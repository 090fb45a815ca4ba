"""`evaluate_condition` against Argo deciding the `to_argo_when` tag (`kind: when_template`).

Values reach the oracle as the in-pod runner and the compiler write them (to_argo.py):
typed values as text, NULL_MARKER for a failed producer's, an unproduced output's or an unset
param's value, and nil (no default) for a Skipped/Omitted producer's outputs; for the Argo
lines before 4.1 (``nil_skipped_outputs=False``) also ``''`` or no outputs at all, as their
older releases give them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import ast
from engine.expr import types as t
from engine.expr.check import Scope, StepScope, check_condition
from engine.expr.errors import ExprEvalError
from engine.expr.evaluate import StepValues, Values, evaluate_condition
from engine.expr.parser import parse_condition
from engine.expr.to_argo import NULL_MARKER, argo_value_text, to_argo_when
from engine.values import to_text

from .conftest import Oracle

PARITY = settings(max_examples=300, deadline=None)
SCALAR_TYPES = (t.STRING, t.INTEGER, t.NUMBER, t.BOOLEAN)
PARAM_NAMES = ("p", "max-lines", "flag_1", "name", "ratio", "ids")
STEP_NAMES = ("load", "load-b", "check-2")
OUTPUT_NAMES = ("o", "rows", "is-dup", "label")
ITEM_KEYS = ("k", "region")

NASTY_STRINGS = (
    "", "x", "eu", "true", "false", "true || x", "a && b", "' || 'a' == 'a", "it's",
    'say "hi"', "}}", "{{x}}", "{{=true}}", "007", "1e3", "-", "a-b", " spaced out ", "é✓",
    "null", "nil", "\n", "a\\b", "Failed", "${{ params.p }}", "<&>", "\u2028",
)
INTEGERS = (-3, -1, 0, 1, 2, 3, 7, 42, 1000, -1_000_000, 2**53 - 1)
NUMBERS = (0.0, -1.5, 2.5, 3.0, 7.0, 1e3, 1e-7, 0.1, 1e21, 3, 0)

strings = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=12)).filter(
    lambda s: s != NULL_MARKER
)
integers = st.one_of(st.sampled_from(INTEGERS), st.integers(-(2**53), 2**53))
numbers = st.one_of(st.sampled_from(NUMBERS),
                    st.floats(allow_nan=False, allow_infinity=False))
SCALARS = {t.STRING: strings, t.INTEGER: integers, t.NUMBER: numbers, t.BOOLEAN: st.booleans()}
list_items = st.one_of(st.sampled_from(NASTY_STRINGS), st.integers(-3, 3),
                       st.sampled_from(NUMBERS), st.booleans(), st.none())
VALUES = {**SCALARS, t.LIST: st.lists(list_items, max_size=4)}


@dataclass(frozen=True)
class World:
    """A step's view: declared params, ancestor outputs, finally / for_each."""

    params: dict[str, str]
    outputs: dict[str, dict[str, str]]
    in_finally: bool
    item_type: str | None

    def scope(self) -> Scope:
        return Scope(params=self.params,
                     steps={s: StepScope(o) for s, o in self.outputs.items()},
                     all_steps=tuple(self.outputs), in_finally=self.in_finally,
                     item_type=self.item_type)

    def references(self) -> dict[str, list[ast.Expr]]:
        """Typed references; 'status'/'workflow' stand for the two phase-valued ones."""
        refs: dict[str, list[ast.Expr]] = {}
        for name, type_name in self.params.items():
            refs.setdefault(type_name, []).append(ast.ParamRef(0, 0, name))
        for step, outputs in self.outputs.items():
            refs.setdefault("status", []).append(ast.StepStatusRef(0, 0, step))
            for name, type_name in outputs.items():
                refs.setdefault(type_name, []).append(ast.StepOutputRef(0, 0, step, name))
        if self.in_finally:
            refs["workflow"] = [ast.WorkflowStatusRef(0, 0)]
        if self.item_type == t.OBJECT:
            refs.setdefault(t.STRING, []).extend(ast.ItemRef(0, 0, k) for k in ITEM_KEYS)
        elif self.item_type is not None:
            refs.setdefault(self.item_type, []).append(ast.ItemRef(0, 0, None))
        return refs


@st.composite
def worlds(draw: st.DrawFn) -> World:
    all_types = sorted(t.CONDITION_TYPES)
    params = {n: draw(st.sampled_from(all_types))
              for n in draw(st.lists(st.sampled_from(PARAM_NAMES), min_size=1, max_size=3,
                                     unique=True))}
    steps = draw(st.lists(st.sampled_from(STEP_NAMES), min_size=1, max_size=2, unique=True))
    outputs = {s: {o: draw(st.sampled_from(all_types))
                   for o in draw(st.lists(st.sampled_from(OUTPUT_NAMES), min_size=1, max_size=3,
                                          unique=True))}
               for s in steps}
    item_type = draw(st.sampled_from([None, None, t.OBJECT, *SCALAR_TYPES]))
    return World(params, outputs, draw(st.booleans()), item_type)


# --- well-typed conditions ------------------------------------------------------------------
def literal(draw: st.DrawFn, type_name: str) -> ast.Literal:
    return ast.Literal(0, 0, draw(SCALARS[type_name]))


def operand(draw: st.DrawFn, refs: dict[str, list[ast.Expr]], type_name: str) -> ast.Expr:
    choices = refs.get(type_name, [])
    if choices and draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(choices))
    return literal(draw, type_name)


def comparison(draw: st.DrawFn, refs: dict[str, list[ast.Expr]]) -> ast.Expr:
    """A comparison with a reference on one side (the other a literal or a reference)."""
    numeric = refs.get(t.INTEGER, []) + refs.get(t.NUMBER, [])
    kinds = [k for k in ("status", "workflow", t.LIST, t.STRING, t.BOOLEAN) if refs.get(k)]
    kinds += ["numeric"] * bool(numeric) * 2 + ["null"]
    kind = draw(st.sampled_from(kinds))
    if kind in ("status", "workflow"):
        phases = t.STEP_PHASES if kind == "status" else t.WORKFLOW_PHASES
        ref = draw(st.sampled_from(refs[kind]))
        if draw(st.booleans()):
            items = draw(st.lists(st.sampled_from(phases), min_size=1, max_size=3))
            return ast.Compare(0, 0, "in", ref,
                               ast.ListLiteral(0, 0, tuple(ast.Literal(0, 0, p) for p in items)))
        op = draw(st.sampled_from(["==", "!="]))
        return ast.Compare(0, 0, op, ref, ast.Literal(0, 0, draw(st.sampled_from(phases))))
    if kind == "null":
        ref = draw(st.sampled_from([r for group in refs.values() for r in group]))
        sides = (ref, ast.Literal(0, 0, None))
        left, right = sides if draw(st.booleans()) else sides[::-1]
        return ast.Compare(0, 0, draw(st.sampled_from(["==", "!="])), left, right)
    if kind == t.LIST:
        needle = operand(draw, refs, draw(st.sampled_from(SCALAR_TYPES)))
        return ast.Compare(0, 0, "in", needle, draw(st.sampled_from(refs[t.LIST])))
    ops = ["==", "!=", "<", "<=", ">", ">=", "in"]
    if kind == "numeric":
        left: ast.Expr = draw(st.sampled_from(numeric))
        right_type = draw(st.sampled_from((t.INTEGER, t.NUMBER)))
    elif kind == t.STRING:
        left, right_type = draw(st.sampled_from(refs[t.STRING])), t.STRING
    else:
        left, right_type, ops = draw(st.sampled_from(refs[t.BOOLEAN])), t.BOOLEAN, ["==", "!=",
                                                                                    "in"]
    op = draw(st.sampled_from(ops))
    if op == "in":
        types = (t.INTEGER, t.NUMBER) if kind == "numeric" else (right_type,)
        items = draw(st.lists(st.sampled_from(types).flatmap(SCALARS.__getitem__),
                              min_size=1, max_size=3))
        return ast.Compare(0, 0, "in", left,
                           ast.ListLiteral(0, 0, tuple(ast.Literal(0, 0, i) for i in items)))
    right = boolean_operand(draw, refs) if kind == t.BOOLEAN else operand(draw, refs, right_type)
    return ast.Compare(0, 0, op, *((left, right) if draw(st.booleans()) else (right, left)))


def boolean_operand(draw: st.DrawFn, refs: dict[str, list[ast.Expr]]) -> ast.Expr:
    if draw(st.integers(0, 4)) == 0:
        return ast.Not(0, 0, operand(draw, refs, t.BOOLEAN))
    return operand(draw, refs, t.BOOLEAN)


def condition(draw: st.DrawFn, refs: dict[str, list[ast.Expr]], depth: int) -> ast.Expr:
    kind = draw(st.integers(0, 6 if depth > 0 else 3))
    if kind <= 2:
        return comparison(draw, refs)
    if kind == 3:
        return boolean_operand(draw, refs)
    if kind == 4:
        return ast.Not(0, 0, condition(draw, refs, depth - 1))
    op = draw(st.sampled_from(["&&", "||"]))
    return ast.Logical(0, 0, op, condition(draw, refs, depth - 1),
                       condition(draw, refs, depth - 1))


# --- values as the runner produces them -----------------------------------------------------
@dataclass(frozen=True)
class Run:
    values: Values
    argo_vars: dict[str, str | None]


@st.composite
def runs(draw: st.DrawFn, world: World, skipped_value: str | None = None) -> Run:
    """``skipped_value``: what a Skipped/Omitted producer's outputs are in Argo's scope
    (None: nil, or missing when the oracle is asked in ``v3`` mode)."""
    params, argo_vars = {}, {}
    for name, type_name in world.params.items():
        value = None if draw(st.integers(0, 9)) == 0 else draw(VALUES[type_name])
        params[name] = value
        argo_vars[f"workflow.parameters.{name}"] = argo_value_text(value)
    steps = {}
    for step, outputs in world.outputs.items():
        status = draw(st.sampled_from(t.STEP_PHASES))
        argo_vars[f"tasks.{step}.status"] = status
        produced = {}
        for name, type_name in outputs.items():
            key = f"tasks.{step}.outputs.parameters.{name}"
            if status in ("Skipped", "Omitted"):
                argo_vars[key] = skipped_value  # no valueFrom.default
                continue
            value = draw(VALUES[type_name]) if draw(st.integers(0, 5)) else None
            if value is not None:
                produced[name] = value
            # The runner writes every declared output; a failed step's are all null.
            argo_vars[key] = argo_value_text(value if status == "Succeeded" else None)
        steps[step] = StepValues(status, produced)
    workflow_status = draw(st.sampled_from(t.WORKFLOW_PHASES)) if world.in_finally else None
    if workflow_status is not None:
        argo_vars["workflow.status"] = workflow_status
    item: Any = None
    if world.item_type == t.OBJECT:
        item = {k: draw(st.one_of(*SCALARS.values())) for k in ITEM_KEYS}
        argo_vars.update({f"item.{k}": to_text(v) for k, v in item.items()})
    elif world.item_type is not None:
        item = draw(SCALARS[world.item_type])
        argo_vars["item"] = to_text(item)
    return Run(Values(params=params, steps=steps, workflow_status=workflow_status, item=item),
               argo_vars)


def local_decision(expr: ast.Expr, values: Values) -> str:
    try:
        return "execute" if evaluate_condition(expr, values) else "skip"
    except ExprEvalError:
        return "error"


def assert_parity(oracle: Oracle, text: str, world: World, run: Run) -> None:
    expr = parse_condition(text)
    assert check_condition(expr, world.scope()) == [], text
    tag = to_argo_when(expr, world.params, world.outputs, item_type=world.item_type)
    answer = oracle.ask({"kind": "when_template", "expr": tag, "vars": run.argo_vars})
    ours = local_decision(expr, run.values)
    assert answer["decision"] == ours, (text, tag, run, answer)


@PARITY
@given(st.data())
def test_generated_conditions(oracle: Oracle, data: st.DataObject) -> None:
    world = data.draw(worlds())
    text = ast.to_text(condition(data.draw, world.references(), 3))
    assert_parity(oracle, text, world, data.draw(runs(world)))


#: How the releases of a line before 4.1 give a Skipped producer's outputs: (the value in
#: the scope, the oracle's mode). ``v3`` substitutes leniently and drops a None value.
SKIPPED_FORMS = {"nil": (None, "v4"), "empty": ("", "v3"), "missing": (None, "v3")}


@PARITY
@given(st.data())
def test_generated_conditions_for_argo_before_4_1(oracle: Oracle, data: st.DataObject) -> None:
    """The null tests of a line before 4.1 also hold for ``''`` and a missing outputs map, so
    the tag decides as the local evaluator does once an empty string output reads as null
    (the conditions where that changes the answer are refused by the compiler, FS821)."""
    world = data.draw(worlds())
    expr = parse_condition(ast.to_text(condition(data.draw, world.references(), 3)))
    # A fan-out's item pass in the oracle is strict for every key, as v4.1's is; the releases
    # that leave a skipped step's outputs out of the scope had no such check (v3.6
    # expressionReplace: a missing key reads as nil), so the oracle cannot referee that pair.
    forms = sorted(f for f in SKIPPED_FORMS if world.item_type is None or f != "missing")
    value, mode = SKIPPED_FORMS[data.draw(st.sampled_from(forms))]
    run = data.draw(runs(world, value))
    tag = to_argo_when(expr, world.params, world.outputs, item_type=world.item_type,
                       nil_skipped_outputs=False)
    answer = oracle.ask({"kind": "when_template", "expr": tag, "vars": run.argo_vars,
                         "argo": mode})
    steps = {name: StepValues(v.status, {k: x for k, x in v.outputs.items() if x != ""})
             for name, v in run.values.steps.items()}
    local = replace(run.values, steps=steps)
    assert answer["decision"] == local_decision(expr, local), (tag, run, answer)


CONTRACT = World(
    params={"max_lines": t.INTEGER, "mode": t.STRING},
    outputs={"duplicate-check": {"is_duplicate": t.BOOLEAN, "note": t.STRING},
             "extract": {"customer_count": t.INTEGER, "ids": t.LIST}},
    in_finally=False, item_type=None,
)


def contract_run(status: str, note: str | None, is_duplicate: bool | None = False) -> Run:
    outputs = {k: v for k, v in (("is_duplicate", is_duplicate), ("note", note)) if v is not None}
    skipped = status in ("Skipped", "Omitted")
    return Run(
        Values(params={"max_lines": 500, "mode": "fast"},
               steps={"duplicate-check": StepValues(status, outputs),
                      "extract": StepValues("Succeeded", {"customer_count": 7, "ids": ["a"]})}),
        {
            "workflow.parameters.max_lines": "500", "workflow.parameters.mode": "fast",
            "tasks.duplicate-check.status": status, "tasks.extract.status": "Succeeded",
            "tasks.duplicate-check.outputs.parameters.is_duplicate":
                None if skipped else argo_value_text(is_duplicate if status == "Succeeded"
                                                     else None),
            "tasks.duplicate-check.outputs.parameters.note":
                None if skipped else argo_value_text(note if status == "Succeeded" else None),
            "tasks.extract.outputs.parameters.customer_count": "7",
            "tasks.extract.outputs.parameters.ids": '["a"]',
        },
    )


@pytest.mark.parametrize(
    ("text", "run", "expected"),
    [
        ("steps.duplicate-check.outputs.is_duplicate == false && params.max_lines > 0",
         contract_run("Succeeded", "x"), "execute"),
        ("steps.duplicate-check.outputs.is_duplicate == false",
         contract_run("Failed", "x"), "skip"),
        ("steps.duplicate-check.outputs.is_duplicate != false",
         contract_run("Skipped", None), "execute"),
        # outputs can never change the meaning of the condition
        ("steps.duplicate-check.outputs.note == 'x'", contract_run("Succeeded", "true || x"),
         "skip"),
        ("steps.duplicate-check.outputs.note == 'x'",
         contract_run("Succeeded", "x' || 'a' == 'a"), "skip"),
        ("steps.duplicate-check.outputs.note == '}}'", contract_run("Succeeded", "}}"),
         "execute"),
        ("steps.duplicate-check.outputs.note != '{{x}}'", contract_run("Succeeded", "{{x}}"),
         "skip"),
        # Argo un-escapes \u003c & co. in expression tags: literals keep <, > and & raw
        ("steps.duplicate-check.outputs.note == '<a&b>'", contract_run("Succeeded", "<a&b>"),
         "execute"),
        ("steps.duplicate-check.outputs.note == '\\\\u003c'",
         contract_run("Succeeded", "\\u003c"), "execute"),
        ("steps.duplicate-check.outputs.note in ['', 'x']",
         contract_run("Succeeded", None), "skip"),
        ("steps.duplicate-check.outputs.note in ['', 'x']",
         contract_run("Skipped", None), "skip"),
        ("steps.duplicate-check.outputs.note == null", contract_run("Omitted", None), "execute"),
        ("steps.duplicate-check.outputs.note == null", contract_run("Succeeded", None),
         "execute"),
        ("steps.duplicate-check.outputs.note < 'a'", contract_run("Failed", ""), "skip"),
        ("steps.extract.outputs.customer_count in [7, 8.5] && 'a' in steps.extract.outputs.ids",
         contract_run("Succeeded", ""), "execute"),
        ("steps.duplicate-check.status in ['Failed', 'Error'] || params.mode != 'fast'",
         contract_run("Error", None), "execute"),
    ],
)
def test_hand_written_cases(oracle: Oracle, text: str, run: Run, expected: str) -> None:
    assert local_decision(parse_condition(text), run.values) == expected
    assert_parity(oracle, text, CONTRACT, run)


def test_the_textual_argo_form_is_injectable(oracle: Oracle) -> None:
    """Why conditions are compiled to one typed expression: the textual form pastes the
    output into the expression, and an output of `true || x` makes it true."""
    answer = oracle.ask({"kind": "when_template",
                         "expr": "{{tasks.a.outputs.parameters.note}} == x",
                         "vars": {"tasks.a.outputs.parameters.note": "true || x"}})
    assert answer["decision"] == "execute"
