"""Conditions, ``for_each`` sources and ``${{ }}`` references: parsed and typed, never run.

Each expression is checked in the scope its step will really have at run time: the declared
params, the outputs of its ancestors only (Argo would wait for ever on anything else), and
``workflow.status`` only in ``finally``. Problems point inside the expression text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.diagnostics import Code, Diagnostic, code
from engine.expr.ast import ParamRef, StepOutputRef
from engine.expr.check import Scope, StepScope, check_condition, check_reference
from engine.expr.errors import ExprProblem, ExprSyntaxError
from engine.graph import Parents, ancestors, is_ancestor
from engine.loader import Path
from engine.model import Step
from engine.rules.context import Context
from engine.rules.parsed import condition, interpolation
from engine.rules.processors import step_output_types

CODES: dict[str, Code] = {c.id: c for c in (
    code("FS300", "invalid condition", """
`when` must be a condition in flowspec's small language: references (`params.NAME`,
`steps.STEP.outputs.NAME`, `steps.STEP.status`, `workflow.status` in `finally`, `item` in
`for_each`), literals (`'text'`, numbers, `true`, `false`, `null`, `[lists]`), comparisons
(`== != < <= > >= in`) joined by `&&`, `||`, `!` and parentheses. There is no arithmetic.
A condition is written bare, not wrapped in `${{ }}` as GitHub Actions' `if:` is.
"""),
    code("FS301", "unknown param", """
The expression reads a param the spec does not declare under `params:`. Declare it (with a
type) or fix the name.
"""),
    code("FS302", "unknown step", """
The expression names a step that does not exist.
"""),
    code("FS303", "step is not an ancestor", """
A condition or env value reads a step that does not run before this one. On Argo the value
would never resolve and the workflow would wait for ever. Add the step to this step's
`dependencies` (or `depends`), directly or through another step.
"""),
    code("FS304", "undeclared output", """
The expression reads an output the step does not declare. Declare it under the step's
`outputs:` with its type (or use one its processor produces).
"""),
    code("FS305", "`workflow.status` outside `finally`", """
`workflow.status` is only known once the DAG has finished, so it can be read only by steps
under `finally`.
"""),
    code("FS306", "types do not match", """
A comparison mixes types that can never be equal (an integer and a text) or cannot be
ordered (a boolean with `<`), or `in` is used with something that is not a list. Compare
like with like: numbers without quotes, text in quotes, booleans as `true`/`false`.
"""),
    code("FS307", "condition is not a boolean", """
A condition must be true or false. A text or number alone is neither: compare it, e.g.
`params.mode == 'fast'` instead of `params.mode`.
"""),
    code("FS308", "`item` outside `for_each`", """
`item` is the current element of a `for_each` fan-out; a step without `for_each` has none.
"""),
    code("FS309", "invalid `${{ }}` reference in env", """
An env value interpolates `${{ ... }}`, which must hold exactly one reference:
`params.NAME`, `steps.STEP.outputs.NAME`, `workflow.name`, `workflow.status` (in
`finally`) or `item` (in `for_each`).
"""),
    code("FS312", "a file read by a condition", """
A `file` param or output is a path: on your machine the file itself, in an Argo pod the
artifact's copy. A condition (`when`, `for_each`) would compare paths that differ between
the two, so only env may read a file (`${{ params.document }}` hands the step its path).
Have a step read the file and output what the condition needs, and test that output.
"""),
    code("FS311", "invalid `for_each` source", """
`for_each` fans a step out over a list: it must be one reference to a `list` param
(`params.regions`) or to a `list` output of an ancestor step.
"""),
)}


class _Ancestors(Mapping[str, StepScope]):
    """The steps a condition of ``step`` may read, decided name by name on lookup: an
    expression names a few steps, so no full ancestor set is built per step (that grows with
    the square of a long chain)."""

    def __init__(self, parents: Parents, step: str, outputs: dict[str, dict[str, str]]) -> None:
        self.parents, self.step, self.outputs = parents, step, outputs

    def __getitem__(self, name: str) -> StepScope:
        if not is_ancestor(self.parents, name, self.step):
            raise KeyError(name)
        return StepScope(outputs=self.outputs.get(name, {}))

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(ancestors(self.parents, self.step)))

    def __len__(self) -> int:
        return len(ancestors(self.parents, self.step))


@dataclass(frozen=True)
class _Shared:
    """What every step's scope shares, built once per spec."""

    outputs: dict[str, dict[str, str]]
    params: dict[str, str]
    names: frozenset[str]
    finally_names: frozenset[str]


def _scope(ctx: Context, step: Step, shared: _Shared) -> Scope:
    return Scope(
        params=shared.params,
        steps=_Ancestors(ctx.meant_parents_of(step), step.name, shared.outputs),
        all_steps=shared.finally_names if step.is_finally else shared.names,
        in_finally=step.is_finally,
        item_type=item_type(ctx, step, shared.outputs) if step.for_each else None,
        current_step=step.name,
        waits_with="depends" if step.depends is not None else "dependencies",
    )


def _element_type(values: Any) -> str:
    """The element type of a default list, so `item` comparisons are typed; text otherwise."""
    if not isinstance(values, list) or not values:
        return "string"
    kinds = set()
    for v in values:
        if isinstance(v, bool):
            kinds.add("boolean")
        elif isinstance(v, int):
            kinds.add("integer")
        elif isinstance(v, float):
            kinds.add("number")
        elif isinstance(v, dict):
            kinds.add("object")
        else:
            kinds.add("string")
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 else "string"


def item_type(ctx: Context, step: Step, outputs: dict[str, dict[str, str]]) -> str:
    try:
        ref = condition(step.for_each or "")
    except ExprSyntaxError:
        return "string"
    if isinstance(ref, ParamRef) and ref.name in ctx.spec.params:
        return _element_type(ctx.spec.params[ref.name].default)
    return "string"


def _problem(ctx: Context, path: Path, p: ExprProblem, offset: int = 0) -> Diagnostic:
    span = ctx.doc.text_span(path, p.start + offset, p.end + offset)
    return ctx.at_span(span, CODES.get(p.code, CODES["FS306"]), p.message, p.hint)


def _syntax(ctx: Context, path: Path, exc: ExprSyntaxError, c: str,
            offset: int = 0) -> Diagnostic:
    span = ctx.doc.text_span(path, exc.start + offset, exc.end + offset)
    return ctx.at_span(span, CODES.get(exc.code, CODES[c]), exc.message, exc.hint)


def _check_when(ctx: Context, step: Step, scope: Scope) -> Iterator[Diagnostic]:
    """A condition wrapped whole in GitHub's ``${{ }}`` is said so once, on the ``${{``, and
    the condition inside is still checked, so the wrapper hides none of its problems."""
    from engine.expr.interpolate import OPEN, wrapped

    path = (*step.path, "when")
    text = step.when or ""
    offset = 0
    inside = wrapped(text)
    if inside is not None:
        offset, end = inside
        opening = text.index(OPEN)
        yield ctx.at_span(ctx.doc.text_span(path, opening, opening + len(OPEN)),
                          CODES["FS300"], "a condition is not wrapped in '${{ }}'",
                          f"write it without: when: {text[offset:end].strip()}")
        text = text[offset:end]
    try:
        expr = condition(text)
    except ExprSyntaxError as exc:
        yield _syntax(ctx, path, exc, "FS300", offset)
        return
    for p in check_condition(expr, scope):
        yield _problem(ctx, path, p, offset)


def _check_for_each(ctx: Context, step: Step, scope: Scope) -> Iterator[Diagnostic]:
    path = (*step.path, "for_each")
    bad = CODES["FS311"]
    try:
        ref = condition(step.for_each or "")
    except ExprSyntaxError as exc:
        yield ctx.at_span(ctx.doc.text_span(path, exc.start, exc.end), bad, exc.message, exc.hint)
        return
    if not isinstance(ref, (ParamRef, StepOutputRef)):
        yield ctx.at(path, bad, "for_each must be one reference to a list",
                     "e.g. for_each: params.regions")
        return
    outer = Scope(params=scope.params, steps=scope.steps, all_steps=scope.all_steps,
                  in_finally=scope.in_finally, item_type=None, current_step=scope.current_step)
    type_name, problems = check_reference(ref, outer)
    for p in problems:
        yield _problem(ctx, path, p)
    if not problems and type_name is not None and type_name != "list":
        yield ctx.at(path, bad, f"for_each needs a list, but this reference is a {type_name}",
                     "declare the param or output with type: list")


def _check_env(ctx: Context, step: Step, scope: Scope) -> Iterator[Diagnostic]:
    from engine.expr.interpolate import check_interpolation

    for var in step.env.values():
        if not isinstance(var.value, str) or "${{" not in var.value:
            continue
        if var.origin != "step" and not _env_checked_here(ctx, step, var.path):
            continue
        try:
            parts = interpolation(var.value)
        except ExprSyntaxError as exc:
            yield _syntax(ctx, var.path, exc, "FS309")
            continue
        for p in check_interpolation(parts, scope):
            yield _problem(ctx, var.path, p)


def _env_checked_here(ctx: Context, step: Step, path: Path) -> bool:
    """Workflow-level env is checked once, with the first step, so errors are not repeated."""
    first = (ctx.spec.steps or ctx.spec.finally_steps)
    return bool(first) and first[0] is step


def check(ctx: Context) -> Iterator[Diagnostic]:
    shared = _Shared(
        outputs=step_output_types(ctx),
        params={name: p.type for name, p in ctx.spec.params.items()},
        names=frozenset(s.name for s in ctx.spec.steps),
        finally_names=frozenset(s.name for s in ctx.spec.finally_steps),
    )
    for step in ctx.spec.all_steps:
        if not step.name or not (step.when or step.for_each or step.env):
            continue
        scope = _scope(ctx, step, shared)
        if step.when is not None:
            yield from _check_when(ctx, step, scope)
        if step.for_each is not None:
            yield from _check_for_each(ctx, step, scope)
        yield from _check_env(ctx, step, scope)
