"""Run ids: ``WORKFLOW-`` then 26 characters, time-ordered and random enough never to clash.

The chargeback pipeline runs once per claim, so one workflow gathers run ids by the tens of
thousands; five random characters clashed for one run in a hundred by the thousandth. The tail
is a ULID in lowercase Crockford base 32: 48 bits of milliseconds, so ids of one workflow sort
by when they started, then 80 random bits, so two runs in the same millisecond still differ
with a chance of clashing below one in 10^24.
"""

from __future__ import annotations

import secrets
import time

#: Crockford's base 32 in lowercase: no i, l, o or u, so an id read aloud or retyped survives.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
#: the store's run_id column holds 80 characters
MAX_LENGTH = 80
_TAIL = 26


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def new_run_id(workflow: str, now: float | None = None) -> str:
    """``workflow-<ulid>``; a long workflow name is shortened to keep the id in the store."""
    millis = int((time.time() if now is None else now) * 1000)
    tail = _base32(millis, 10) + _base32(secrets.randbits(80), 16)
    prefix = (workflow or "run")[: MAX_LENGTH - _TAIL - 1].rstrip("-") or "run"
    return f"{prefix}-{tail}"
