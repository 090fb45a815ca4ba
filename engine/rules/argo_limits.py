"""Limits Argo enforces only when the workflow is submitted, checked while you edit."""

from __future__ import annotations

from collections.abc import Iterator

from engine.diagnostics import Diagnostic, code
from engine.rules.context import Context

MAX_NAME = 63
MAX_CRON_NAME = 52
MAX_TASKS = 200

NAME_TOO_LONG = code("FS601", "workflow name too long for Argo", """
Argo uses `metadata.name` as a label value, so it may have at most 63 characters; a
CronWorkflow at most 52, leaving room for the timestamp suffix of each run.
""", silenceable=True)
TOO_MANY_STEPS = code("FS602", "too many steps for one Argo DAG", """
Argo's CRD allows at most 200 tasks in one DAG template. Split the workflow into several
specs chained by their outputs, or fan out with `for_each` over a list param instead of
writing one step per item.
""", silenceable=True)


def check(ctx: Context) -> Iterator[Diagnostic]:
    spec = ctx.spec
    cron = bool(spec.argo.get("schedules"))
    limit = MAX_CRON_NAME if cron else MAX_NAME
    # past 63 characters the schema's maxLength has already said so, unless a CronWorkflow's
    # lower limit needs saying too
    if len(spec.name) > limit and (cron or len(spec.name) <= MAX_NAME):
        kind = "a CronWorkflow" if cron else "Argo"
        yield ctx.at(("metadata", "name"), NAME_TOO_LONG,
                     f"workflow name has {len(spec.name)} characters; {kind} allows {limit}",
                     f"shorten it to at most {limit} characters")
    for key, steps in (("steps", spec.steps), ("finally", spec.finally_steps)):
        if len(steps) > MAX_TASKS:
            yield ctx.at((key,), TOO_MANY_STEPS,
                         f"'{key}' has {len(steps)} steps; one Argo DAG holds at most {MAX_TASKS}",
                         "split the workflow, or use for_each to fan out over a list", key=True)
