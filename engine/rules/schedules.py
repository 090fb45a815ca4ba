"""CronWorkflow schedules and their time zone, read the way Argo's controller reads them.

The schema checks only their shape; ``99 99 * * *`` has the shape and would be refused only
when the CronWorkflow is applied, and ``0 0 30 2 *`` would be accepted and never run.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from engine.cron import CronError, check_schedule, check_timezone
from engine.diagnostics import Diagnostic, code
from engine.rules.context import Context

BAD_SCHEDULE = code("FS603", "cron schedule Argo refuses or that never fires", """
Argo's controller parses each of `argo.schedules` with robfig/cron's standard parser: five
fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-6 or
SUN-SAT) with `*`, `?`, lists, ranges and steps, or a descriptor (`@daily`, `@every 90m`). A
schedule outside that is refused when the CronWorkflow is applied; one whose day of month does
not exist in any of its months (`0 0 30 2 *`) is accepted and never runs.
""", silenceable=True)
UNKNOWN_TIMEZONE = code("FS604", "unknown time zone", """
`argo.timezone` must name a zone of the IANA time zone database (`UTC`, `Europe/Berlin`), as
Argo's controller loads it with Go's `time.LoadLocation`; names are case-sensitive.
""", silenceable=True)


@functools.cache
def _schema_pattern(key: str) -> re.Pattern[str]:
    """The shape the schema already demands of ``argo.KEY`` (it reports a wrong shape)."""
    from engine.schema import load_schema

    node = load_schema()["properties"]["argo"]["properties"][key]
    return re.compile(node.get("items", node)["pattern"])


def check(ctx: Context) -> Iterator[Diagnostic]:
    argo = ctx.spec.argo
    schedules = argo.get("schedules")
    for i, schedule in enumerate(schedules if isinstance(schedules, list) else ()):
        if not isinstance(schedule, str) or not _schema_pattern("schedules").search(schedule):
            continue
        try:
            check_schedule(schedule)
        except CronError as exc:
            yield ctx.at(("argo", "schedules", i), BAD_SCHEDULE,
                         f"cron schedule {schedule!r}: {exc}",
                         "five fields such as '0 2 * * *', or @daily, @hourly, @every 1h")
    zone = argo.get("timezone")
    if isinstance(zone, str) and _schema_pattern("timezone").search(zone):
        try:
            check_timezone(zone)
        except CronError as exc:
            yield ctx.at(("argo", "timezone"), UNKNOWN_TIMEZONE, str(exc),
                         "an IANA name such as UTC or Europe/Berlin")
