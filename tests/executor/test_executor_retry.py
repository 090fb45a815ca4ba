"""Retry verdicts: Argo's processNodeRetries for every policy, phase and count."""

from __future__ import annotations

import itertools

import pytest

from engine.executor.retry import AttemptEnd, next_retry
from engine.model import Backoff, Retry

POLICIES = ("failure", "error", "always", "transient")


def ends(*phases: str, transient: bool = False, start: float = 0.0) -> list[AttemptEnd]:
    return [AttemptEnd(p, start + i * 10, start + i * 10 + 1, transient)
            for i, p in enumerate(phases)]


@pytest.mark.parametrize(("on", "phase", "transient"),
                         list(itertools.product(POLICIES, ("Failed", "Error"), (False, True))))
def test_policy_covers(on: str, phase: str, transient: bool) -> None:
    verdict = next_retry(Retry(limit=3, on=on), ends(phase, transient=transient), now=2.0)
    expected = {"failure": phase == "Failed", "error": phase == "Error", "always": True,
                "transient": transient or phase == "Error"}[on]
    assert verdict.retry is expected


def test_success_never_retries() -> None:
    assert not next_retry(Retry(limit=3, on="always"), ends("Succeeded"), 2.0).retry


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_limit_counts_retries_after_the_first_attempt(limit: int) -> None:
    retry = Retry(limit=limit, on="always")
    history: list[str] = []
    for _ in range(10):
        history.append("Failed")
        if not next_retry(retry, ends(*history), 1000.0).retry:
            break
    assert len(history) == limit + 1
    last = next_retry(retry, ends(*history), 1000.0)
    assert last.reason == ("no more retries left" if limit else None)


def test_backoff_grows_by_factor_and_is_capped() -> None:
    retry = Retry(limit=10, on="failure", backoff=Backoff(delay=2.0, factor=3, cap=30.0))
    waits = []
    for n in range(1, 5):
        history = ends(*["Failed"] * n)
        last_end = history[-1].finished_at
        waits.append(next_retry(retry, history, now=last_end).delay)
    assert waits == [2.0, 6.0, 18.0, 30.0]


def test_backoff_counts_from_the_last_end() -> None:
    retry = Retry(limit=2, on="failure", backoff=Backoff(delay=5.0))
    history = ends("Failed")  # ended at t=1
    assert next_retry(retry, history, now=4.0).delay == pytest.approx(2.0)
    assert next_retry(retry, history, now=10.0).delay == 0.0


def test_max_duration_from_the_first_start() -> None:
    retry = Retry(limit=10, on="failure", backoff=Backoff(delay=1.0), max_duration=15.0)
    history = ends("Failed", "Failed")  # first start 0, last end 11
    assert next_retry(retry, history, now=11.0).retry
    late = next_retry(retry, history, now=16.0)
    assert not late.retry and late.reason == "max duration limit exceeded"
    slow = Retry(limit=10, on="failure", backoff=Backoff(delay=10.0), max_duration=15.0)
    verdict = next_retry(slow, history, now=11.0)
    assert not verdict.retry and verdict.reason == "backoff would exceed max duration limit"


def test_workflow_deadline_stops_retries() -> None:
    verdict = next_retry(Retry(limit=5, on="always"), ends("Failed"), now=50.0, deadline=40.0)
    assert not verdict.retry


#: (phase, transient) of a local attempt -> Argo's ``lastRetry`` of the same attempt in a pod:
#: the runner exits 75 for a transient failure and 1 for another, and an Error node (evicted,
#: deleted, lost) has no exit code ("-1").
_LAST_RETRY = {("Failed", True): {"status": "Failed", "exitCode": "75"},
               ("Failed", False): {"status": "Failed", "exitCode": "1"},
               ("Error", False): {"status": "Error", "exitCode": "-1"}}


def _argo_retries(expression: str, last: dict[str, str]) -> bool:
    """The compiled expression, a disjunction of ``lastRetry.FIELD == 'VALUE'``, evaluated."""
    terms = [term.strip().removeprefix("lastRetry.").split(" == ")
             for term in expression.split("||")]
    return any(last[field] == value.strip("'") for field, value in terms)


@pytest.mark.parametrize(("phase", "transient"), list(_LAST_RETRY))
def test_transient_retries_on_argo_exactly_what_it_retries_locally(phase: str,
                                                                   transient: bool) -> None:
    from engine.compile.argo import TRANSIENT_EXPRESSION

    local = next_retry(Retry(limit=3, on="transient"), ends(phase, transient=transient), 2.0)
    assert _argo_retries(TRANSIENT_EXPRESSION, _LAST_RETRY[phase, transient]) is local.retry
