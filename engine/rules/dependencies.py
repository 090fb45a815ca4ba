"""Dependencies: every name known, no self-reference, one style per step, and every cycle.

Cycles are searched on the graph of the known edges, so an unknown dependency elsewhere never
hides one (actionlint stops at the first unknown), and every elementary cycle is reported as a
path that starts at its earliest step.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.diagnostics import Diagnostic, code, did_you_mean
from engine.expr.depends import references
from engine.expr.errors import ExprSyntaxError
from engine.graph import cycles, has_cycle, step_parents
from engine.model import Step
from engine.rules.context import Context
from engine.rules.parsed import depends
from engine.source import Span

UNKNOWN_DEPENDENCY = code("FS203", "unknown dependency", """
A step waits for a step that does not exist (in `dependencies` or `depends`). Steps in
`finally` may only wait for other `finally` steps: they run after the whole DAG anyway.
""")
SELF_DEPENDENCY = code("FS204", "step depends on itself", """
A step lists itself as a dependency; it could never start. Remove the name.
""")
BOTH_STYLES = code("FS205", "both `depends` and `dependencies`", """
A step uses `dependencies` and `depends` together. Use one: `dependencies: [a, b]` means
`depends: a && b`; `depends` adds results (`a.Failed`), `||` and `!`.
""")
CONTINUE_ON_WITH_DEPENDS = code("FS206", "`continue_on` in a workflow that uses `depends`", """
Argo rejects `continueOn` on every task of a DAG in which any task uses `depends`. Express it
in the dependants instead: `depends: a.Succeeded || a.Failed` continues after a failure.
""", silenceable=True)
CYCLE = code("FS207", "dependency cycle", """
Steps wait for each other in a circle, so none of them could ever start. The message shows
the circle as a path; break it by removing one of its dependencies.
""")
DEPENDS_SYNTAX = code("FS210", "invalid `depends` expression", """
`depends` is Argo's task-result logic: step names, optionally with a result
(`a.Succeeded`, `a.Failed`, `a.Errored`, `a.Skipped`, `a.Omitted`, `a.Daemoned`,
`a.AnySucceeded`, `a.AllFailed`), joined with `&&`, `||`, `!` and parentheses. Words such as
`and`/`or` are read as step names by Argo, so they are refused here.
""")
DEPENDS_RESULT = code("FS211", "unknown task result in `depends`", """
The word after the dot must be one of Succeeded, Failed, Errored, Skipped, Omitted, Daemoned,
AnySucceeded or AllFailed, spelled with a capital letter as Argo requires.
""")
ITEMS_RESULT = code("FS212", "items result on a step that does not fan out", """
`AnySucceeded` and `AllFailed` describe the instances of a `for_each` step. On a step without
`for_each` Argo rejects them; use `Succeeded` or `Failed`.
""")
_BY_CODE = {DEPENDS_SYNTAX.id: DEPENDS_SYNTAX, DEPENDS_RESULT.id: DEPENDS_RESULT}


def _check_step(ctx: Context, step: Step, uses_depends: bool, scope: dict[str, Step],
                other: dict[str, Step]) -> Iterator[Diagnostic]:
    """``scope``: the steps of this step's own list by name; ``other``: those of the other."""
    if step.depends is not None and step.dependencies is not None:
        yield ctx.at((*step.path, "depends"), BOTH_STYLES,
                     f"step '{step.name}' has both 'depends' and 'dependencies'",
                     "write it as one: depends: "
                     + " && ".join([*step.dependencies, f"({step.depends})"]),
                     key=True)
    if uses_depends and (step.continue_on.failed or step.continue_on.error) and not step.is_finally:
        yield ctx.at((*step.path, "continue_on"), CONTINUE_ON_WITH_DEPENDS,
                     f"step '{step.name}' has continue_on, but this workflow uses 'depends'",
                     f"drop continue_on and write 'depends: {step.name}.Succeeded || "
                     f"{step.name}.Failed' in the steps that follow it", key=True)

    def unknown(name: str) -> str:
        if name in other:
            where = "'finally'" if not step.is_finally else "the main 'steps'"
            return f"'{name}' is in {where}; a step can only wait for steps of its own list"
        return did_you_mean(name, scope) or f"known steps: {', '.join(sorted(scope)) or 'none'}"

    if step.dependencies is not None:
        for i, name in _first_uses(step.dependencies):
            path = (*step.path, "dependencies", i)
            if name == step.name:
                yield ctx.at(path, SELF_DEPENDENCY, f"step '{step.name}' depends on itself",
                             "remove it from its own dependencies")
            elif name not in scope:
                yield ctx.at(path, UNKNOWN_DEPENDENCY,
                             f"step '{step.name}' depends on unknown step '{name}'", unknown(name))
    if step.depends is not None:
        path = (*step.path, "depends")
        try:
            expr = depends(step.depends)
        except ExprSyntaxError as exc:
            c = _BY_CODE.get(exc.code, DEPENDS_SYNTAX)
            yield ctx.at_span(ctx.doc.text_span(path, exc.start, exc.end), c, exc.message, exc.hint)
            return
        reported: set[str] = set()  # `x.Succeeded || x.Failed` names one wrong step once
        for ref in references(expr):
            name_span = ctx.doc.text_span(path, *ref.name_span)
            if ref.name in reported:
                continue
            if ref.name == step.name:
                reported.add(ref.name)
                yield ctx.at_span(name_span, SELF_DEPENDENCY,
                                  f"step '{step.name}' depends on itself",
                                  "remove it from its own depends")
            elif ref.name not in scope:
                reported.add(ref.name)
                yield ctx.at_span(name_span, UNKNOWN_DEPENDENCY,
                                  f"step '{step.name}' depends on unknown step '{ref.name}'",
                                  unknown(ref.name))
            elif ref.result in ("AnySucceeded", "AllFailed") and scope[ref.name].for_each is None:
                yield ctx.at_span(ctx.doc.text_span(path, ref.start, ref.end), ITEMS_RESULT,
                                  f"'{ref.name}.{ref.result}' needs '{ref.name}' to fan out "
                                  "with for_each",
                                  f"use '{ref.name}.Succeeded' or '{ref.name}.Failed'")


def _first_uses(names: tuple[str, ...]) -> list[tuple[int, str]]:
    """Each name with the index of its first use (a repeat is the schema's FS104)."""
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        first.setdefault(name, i)
    return [(i, name) for name, i in first.items()]


def _edge_span(ctx: Context, step: Step, parent: str) -> Span:
    """Where ``step`` names ``parent``: the list item, or the name inside ``depends``."""
    if step.depends is None:  # the same precedence as step_parents
        return ctx.doc.span((*step.path, "dependencies", (step.dependencies or ()).index(parent)))
    ref = next(r for r in references(depends(step.depends)) if r.name == parent)
    return ctx.doc.text_span((*step.path, "depends"), *ref.name_span)


def check(ctx: Context) -> Iterator[Diagnostic]:
    uses_depends = ctx.spec.uses_depends
    main = {s.name: s for s in ctx.spec.steps}
    final = {s.name: s for s in ctx.spec.finally_steps}
    for step in ctx.spec.all_steps:
        if step.name:
            scopes = (final, main) if step.is_finally else (main, final)
            yield from _check_step(ctx, step, uses_depends, *scopes)
    for is_finally, steps in ((False, ctx.spec.steps), (True, ctx.spec.finally_steps)):
        if not has_cycle(ctx.finally_parents if is_finally else ctx.parents):
            continue  # the common case, without building a graph
        graph = ctx.finally_graph if is_finally else ctx.graph
        for cycle in cycles(graph, [s.name for s in steps]):
            # an edge a -> b means b waits for a: the cycle closes where its first step
            # waits for its last, and that dependency is the one to point at
            start = next(s for s in steps if s.name == cycle[0] and cycle[-1] in step_parents(s))
            yield ctx.at_span(_edge_span(ctx, start, cycle[-1]), CYCLE,
                              "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
                              f"each step waits for the one before it; remove one of these "
                              f"dependencies, e.g. '{cycle[-1]}' from '{cycle[0]}'")
