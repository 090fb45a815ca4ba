"""Step names: unique across ``steps`` and ``finally``, and never an expression keyword.

The schema pattern already enforces the DNS-1123 shape; what it cannot see is a name that
collides with another step or that Argo's expression engines read as an operator.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.diagnostics import Diagnostic, code
from engine.model import Step
from engine.rules.context import Context

#: words expr and govaluate treat as operators or literals, plus builtins that broke Argo (#12037)
KEYWORDS = frozenset({
    "in", "and", "or", "not", "true", "false", "nil", "null", "matches", "contains",
    "startswith", "endswith", "let", "if", "else", "split", "filter", "map", "all", "any",
    "none", "one", "len", "item", "params", "steps", "workflow", "tasks",
})

DUPLICATE_STEP = code("FS202", "duplicate step name", """
Two steps have the same name. Names identify steps in `dependencies`, `depends`, conditions and
in the run history, so each must be unique across `steps` and `finally`.
""")
KEYWORD_NAME = code("FS208", "step name is a reserved word", """
The step name is a keyword of the condition or `depends` language (`in`, `and`, `true`, `nil`,
...) or a reference root (`params`, `steps`, `workflow`). Argo's expression engines would read
it as an operator, so `depends: in` or `steps.in.outputs` could never work. Rename the step.
""")


def check(ctx: Context) -> Iterator[Diagnostic]:
    seen: dict[str, Step] = {}
    for step in ctx.spec.all_steps:
        if not step.name:
            continue
        name_path = (*step.path, "name")
        if step.name in KEYWORDS:
            yield ctx.at(name_path, KEYWORD_NAME,
                         f"step name '{step.name}' is a reserved word of the condition language",
                         f"rename it, e.g. '{step.name}-step'")
        if step.name in seen:
            first = ctx.doc.span((*seen[step.name].path, "name"))
            yield ctx.at(name_path, DUPLICATE_STEP, f"step name '{step.name}' is used twice",
                         f"the first '{step.name}' is on line {first.line}; rename one of them")
        else:
            seen[step.name] = step
