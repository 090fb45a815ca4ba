"""Cron schedules and time zones as Argo's controller reads them, checked before submitting.

Argo parses ``schedules`` with robfig/cron v3's ``ParseStandard`` and the zone with Go's
``time.LoadLocation``; a schedule it cannot parse is only reported once the CronWorkflow is
applied, and one it parses but that names no real day (``0 0 30 2 *``) never runs at all.
This module accepts what ``ParseStandard`` accepts, minus a ``CRON_TZ=`` prefix (the zone is
``timezone``): five fields, ``*``/``?``, lists, ranges, steps and English month and weekday
names, or a descriptor (``@daily``, ``@every 90m``). croniter reads a different dialect
(seconds fields, ``L``, ``#``, weekday 7), so the grammar is written out here, small and strict.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    _Field("day of week", 0, 6, {d: i for i, d in enumerate(_WEEKDAYS)}),
)
_DESCRIPTORS = frozenset(
    ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"))
#: Go's ``time.ParseDuration``: signed decimal numbers, each with a unit.
_GO_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h)")
#: The longest each month can be (February in a leap year): a day of month must fit one.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class CronError(ValueError):
    """A schedule Argo would refuse, or one that can never fire; the text says which part."""


def check_schedule(schedule: str) -> None:
    """Raise CronError when Argo's controller refuses ``schedule`` or it never fires."""
    text = schedule.strip()
    if text.startswith("@"):
        _check_descriptor(text)
        return
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise CronError(f"expected {len(_FIELDS)} fields (minute hour day-of-month month "
                        f"day-of-week), found {len(fields)}")
    values = [_parse_field(value, spec) for value, spec in zip(fields, _FIELDS, strict=True)]
    days, months = values[2], values[3]
    # robfig fires when either day field matches unless one is starred; a starred weekday
    # leaves the day of month alone to decide, and that day must exist in one of the months
    # (a restricted weekday occurs in every month, so it always fires)
    if _starred(fields[4]) and not any(d <= _MONTH_DAYS[m - 1] for m in months for d in days):
        named = ", ".join(_MONTHS[m - 1].capitalize() for m in sorted(months))
        raise CronError(f"never fires: day {min(days)} of the month does not occur in {named}")


def _starred(text: str) -> bool:
    """robfig's star bit: some part is ``*`` or ``?`` with no step beyond one."""
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span in ("*", "?") and (not step or int(step) == 1):
            return True
    return False


def _check_descriptor(text: str) -> None:
    if text in _DESCRIPTORS:
        return
    if text.startswith("@every "):
        duration = text.removeprefix("@every ").strip()
        if not re.fullmatch(f"(?:{_GO_DURATION.pattern})+", duration):
            raise CronError(f"@every needs a Go duration such as 90m or 1h30m, not {duration!r} "
                            "(there is no d unit)")
        return
    raise CronError(f"unknown descriptor {text.split()[0]!r}; one of "
                    f"{', '.join(sorted(_DESCRIPTORS))} or @every DURATION")


def _parse_field(text: str, spec: _Field) -> set[int]:
    found: set[int] = set()
    for part in text.split(","):
        found.update(_parse_range(part, spec))
    return found


def _parse_range(part: str, spec: _Field) -> range:
    where = f"{spec.name} {part!r}"
    span, _, step_text = part.partition("/")
    if "/" in step_text:
        raise CronError(f"{where}: too many slashes")
    if span in ("*", "?"):
        start, end = spec.low, spec.high
    else:
        bounds = span.split("-")
        if len(bounds) > 2:
            raise CronError(f"{where}: too many hyphens")
        start = _number(bounds[0], spec, where)
        end = _number(bounds[1], spec, where) if len(bounds) == 2 else start
        if len(bounds) == 1 and step_text:
            end = spec.high  # N/STEP means N-max/STEP
    step = _number(step_text, None, where) if step_text else 1
    if start < spec.low:
        raise CronError(f"{where}: below the lowest {spec.name}, {spec.low}")
    if end > spec.high:
        raise CronError(f"{where}: above the highest {spec.name}, {spec.high}")
    if start > end:
        raise CronError(f"{where}: the range starts after it ends")
    if step == 0:
        raise CronError(f"{where}: a step must be a positive number")
    return range(start, end + 1, step)


def _number(text: str, spec: _Field | None, where: str) -> int:
    if spec is not None and text.lower() in spec.names:
        return spec.names[text.lower()]
    if not text.isdigit() or not text.isascii():
        names = f" or a name ({', '.join(spec.names)})" if spec and spec.names else ""
        raise CronError(f"{where}: {text!r} is not a number{names}")
    return int(text)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> None:
    """Raise CronError when ``name`` is not in the IANA time zone database.

    Without a database on this machine (no system zoneinfo and no ``tzdata`` package) nothing
    can be told, and nothing is reported."""
    zones = _zones()
    if zones and name not in zones:
        close = [z for z in zones if z.lower() == name.lower()]
        hint = f"; did you mean {close[0]}?" if close else ""
        raise CronError(f"{name!r} is not an IANA time zone{hint}")
