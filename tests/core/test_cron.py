"""Cron schedules: what robfig/cron's ParseStandard (Argo's controller) accepts, and no more."""

from __future__ import annotations

import pytest

from engine.cron import CronError, check_schedule, check_timezone


@pytest.mark.parametrize("schedule", [
    "0 2 * * *", "*/15 9-17 * * MON-FRI", "0 0 1 jan-mar sun", "1/5 * * * ?", "0 0 29 2 *",
    "0 0 31 2 1", "0,30 8-18/2 1,15 * *", "@weekly", "@midnight", "@every 1h30m", "@every 1.5s",
])
def test_accepted(schedule: str) -> None:
    check_schedule(schedule)


@pytest.mark.parametrize(("schedule", "why"), [
    ("99 99 * * *", "above the highest minute, 59"),
    ("0 24 * * *", "above the highest hour, 23"),
    ("0 0 0 * *", "below the lowest day of month, 1"),
    ("0 2 * * 7", "above the highest day of week, 6"),
    ("0 2 * 13 *", "above the highest month, 12"),
    ("5-2 * * * *", "starts after it ends"),
    ("1-2-3 * * * *", "too many hyphens"),
    ("*/0 * * * *", "positive"),
    ("*/5/2 * * * *", "too many slashes"),
    ("0 2 * * MONDAY", "is not a number or a name"),
    ("L * * * *", "is not a number"),
    ("0 0 2 * * *", "found 6"),
    ("0 0 30 2 *", "never fires"),
    ("0 0 31 2,4,6 */1", "never fires"),
    ("@every 1d", "no d unit"),
    ("@often", "unknown descriptor"),
])
def test_refused(schedule: str, why: str) -> None:
    with pytest.raises(CronError, match=why):
        check_schedule(schedule)


def test_timezones_are_iana_names_with_their_case() -> None:
    check_timezone("UTC")
    check_timezone("America/Argentina/Buenos_Aires")
    with pytest.raises(CronError, match="did you mean Europe/Berlin"):
        check_timezone("europe/berlin")
    with pytest.raises(CronError, match="not an IANA time zone"):
        check_timezone("Local")
