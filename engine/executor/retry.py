"""Whether a finished attempt is retried, and after how long: Argo's ``processNodeRetries``.

Checks in Argo's order: success ends the node; the workflow deadline stops retries; then
``max_duration`` (measured from the first attempt's start) and the backoff
(``delay * factor^(attempts-1)``, capped by ``cap``, counted from the last attempt's end);
then the policy (failure: Failed only; error: Error only; always: both; transient: a Failed
attempt whose error is transient, and any Error: on a cluster Error is what happens to a pod
rather than in it, eviction or node loss, the commonest passing fault); then ``limit``
(retries after the first attempt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.executor.phases import ERROR, FAILED, SUCCEEDED
from engine.model import Retry


@dataclass(frozen=True, slots=True)
class AttemptEnd:
    """What the retry rules read about one finished attempt."""

    phase: str
    started_at: float
    finished_at: float
    transient: bool = False


@dataclass(frozen=True, slots=True)
class RetryVerdict:
    retry: bool
    #: seconds to wait before the next attempt, from ``now``
    delay: float = 0.0
    #: why the node ends here when that is not the attempt's own error
    reason: str | None = None


_FINAL = RetryVerdict(False)


def backoff_wait(retry: Retry, attempts_so_far: int) -> float:
    return retry.backoff.wait(attempts_so_far) if retry.backoff is not None else 0.0


def next_retry(retry: Retry, attempts: Sequence[AttemptEnd], now: float,
               deadline: float | None = None) -> RetryVerdict:
    last = attempts[-1]
    if last.phase == SUCCEEDED:
        return _FINAL
    if deadline is not None and now >= deadline:
        return RetryVerdict(False, reason="retry exceeded the workflow timeout")
    wait = backoff_wait(retry, len(attempts))
    if retry.max_duration is not None:
        limit = attempts[0].started_at + retry.max_duration
        if now > limit:
            return RetryVerdict(False, reason="max duration limit exceeded")
        if last.finished_at + wait > limit:
            return RetryVerdict(False, reason="backoff would exceed max duration limit")
    on = retry.on
    failed_ok = on in ("failure", "always") or (on == "transient" and last.transient)
    error_ok = on in ("error", "always", "transient")
    if (last.phase == FAILED and not failed_ok) or (last.phase == ERROR and not error_ok):
        return _FINAL
    if len(attempts) > retry.limit:
        return RetryVerdict(False, reason="no more retries left" if retry.limit else None)
    return RetryVerdict(True, max(0.0, last.finished_at + wait - now))
