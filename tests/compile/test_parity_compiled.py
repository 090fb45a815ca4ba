"""The `when` tags of compiled manifests decide on Argo what the local evaluator decides.

Takes each condition from the manifest itself (after the compiler's whole pipeline) and
asks the argo-expr oracle to substitute and evaluate it the way the controller does, with
the values a run can produce: typed outputs as the runner writes them, NULL_MARKER for a
failed producer, absent for a Skipped/Omitted one; params as the compiler writes them.

For each Argo line (``--argo-version``), a Skipped producer's outputs are given as every
release of that line gives them (``engine.compile.versions``): nil (v3.7.16, v4.0.7 and
later), ``''`` (v3.7.13-v3.7.15, v4.0.4-v4.0.6), or missing from the task's scope under the
lenient substitution of older releases (the oracle's ``argo: v3``). On the lines before 4.1
an empty string output reads as null (FS821 refuses the conditions where that changes the
answer), so the empty string is not among the values tried there.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from engine.compile import build
from engine.compile.versions import TARGETS, ArgoTarget
from engine.expr import ast
from engine.expr.errors import ExprEvalError
from engine.expr.evaluate import StepValues, Values, evaluate_condition
from engine.expr.parser import parse_condition
from engine.expr.to_argo import NULL_MARKER, argo_value_text
from engine.rules.context import Context
from engine.rules.processors import step_output_types
from engine.validation import load_spec_file

from .conftest import shipped_specs

pytestmark = pytest.mark.oracle

SAMPLES: dict[str, list[Any]] = {
    "string": ["main", "release", "it's", "a && b", "true || x", "-", "", "{{x}}"],
    "integer": [0, 1, 3, 80, 500, -2, 50000, 50001],
    "number": [0.0, 79.9, 80, 87.5, 100.0],
    "boolean": [True, False],
    "list": [["eu", "us"], [], ["main"]],
}
PHASES = ("Succeeded", "Failed", "Skipped")
#: How a release gives a Skipped producer's output: (the var's value, the oracle's mode).
SKIPPED_AS = {"nil": (None, "v4"), "empty": ("", "v3"), "missing": (None, "v3")}


def _skipped_forms(argo: ArgoTarget) -> list[str]:
    return ["nil"] if argo.nil_skipped_outputs else list(SKIPPED_AS)


def _refs(expr: ast.Expr) -> list[ast.Expr]:
    if isinstance(expr, (ast.Compare, ast.Logical)):
        return _refs(expr.left) + _refs(expr.right)
    if isinstance(expr, ast.Not):
        return _refs(expr.operand)
    return [expr]


def _cases(step: Any, spec: Any, types: dict[str, dict[str, str]], rng: random.Random,
           argo: ArgoTarget, skipped_as: str) -> list[tuple[Values, dict[str, Any]]]:
    refs = _refs(parse_condition(step.when))
    params = sorted({r.name for r in refs if isinstance(r, ast.ParamRef)})
    producers = sorted({r.step for r in refs if isinstance(r, (ast.StepOutputRef,
                                                                ast.StepStatusRef))})
    outputs = sorted({(r.step, r.output) for r in refs if isinstance(r, ast.StepOutputRef)})
    axes: list[list[Any]] = [SAMPLES[spec.params[p].type] + [None] for p in params]
    axes += [list(PHASES) for _ in producers]
    axes += [[v for v in SAMPLES[types[s][o]] if argo.nil_skipped_outputs or v != ""] + [None]
             for s, o in outputs]
    axes += [["Succeeded", "Failed", "Error"]] if step.is_finally else []
    combos = list(itertools.product(*axes))
    rng.shuffle(combos)
    cases = []
    for combo in combos[:150]:
        it = iter(combo)
        param_values = {p: next(it) for p in params}
        phases = {s: next(it) for s in producers}
        produced = {so: next(it) for so in outputs}
        status = next(it) if step.is_finally else None
        local = Values(
            params=param_values, workflow_status=status,
            steps={s: StepValues(phases[s], {o: v for (p, o), v in produced.items() if p == s})
                   for s in producers})
        scope: dict[str, Any] = {f"workflow.parameters.{p}": argo_value_text(v)
                                for p, v in param_values.items()}
        if status is not None:
            scope["workflow.status"] = status
        for s in producers:
            scope[f"tasks.{s}.status"] = phases[s]
        for (s, o), v in produced.items():
            if phases[s] == "Skipped":  # no default: as the release gives it
                scope[f"tasks.{s}.outputs.parameters.{o}"] = SKIPPED_AS[skipped_as][0]
            elif phases[s] == "Failed" or v is None:
                scope[f"tasks.{s}.outputs.parameters.{o}"] = NULL_MARKER
            else:
                scope[f"tasks.{s}.outputs.parameters.{o}"] = argo_value_text(v)
        cases.append((local, scope))
    return cases


@pytest.mark.parametrize("argo", TARGETS.values(), ids=lambda t: t.version)
@pytest.mark.parametrize("path", shipped_specs(), ids=lambda p: p.name)
def test_compiled_conditions_match_local_decisions(path: Path, argo: ArgoTarget,
                                                   oracle: Any) -> None:
    spec = load_spec_file(path)
    types = step_output_types(Context(spec.document, spec))
    compiled = build(spec, argo=argo)
    tasks = {t["name"]: t for tmpl in compiled.manifest_spec()["templates"] if "dag" in tmpl
             for t in tmpl["dag"]["tasks"]}
    rng = random.Random(path.name)
    checked = 0
    for step in spec.all_steps:
        if step.when is None or step.for_each is not None:
            continue
        when = tasks[step.name]["when"]
        for skipped_as in _skipped_forms(argo):
            for local, argo_vars in _cases(step, spec, types, rng, argo, skipped_as):
                try:
                    expected = "execute" if evaluate_condition(parse_condition(step.when),
                                                               local) else "skip"
                except ExprEvalError:
                    expected = "error"
                answer = oracle.ask({"kind": "when_template", "expr": when, "vars": argo_vars,
                                     "argo": SKIPPED_AS[skipped_as][1]})
                assert answer["decision"] == expected, (step.name, skipped_as, argo_vars, answer)
                checked += 1
    if any(s.when and not s.for_each for s in spec.all_steps):
        assert checked > 0
