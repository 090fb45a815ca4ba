"""The graphlib-style scheduler: release order, misuse, replay."""

from __future__ import annotations

import pytest

from engine.executor.scheduler import Scheduler


def test_releases_a_step_when_its_last_parent_is_done() -> None:
    s = Scheduler(["a", "b", "c", "d"], {"c": ["a", "b"], "d": ["c"]})
    assert s.get_ready() == ["a", "b"]
    s.done("a")
    assert s.get_ready() == []
    s.done("b")
    assert s.get_ready() == ["c"]
    s.done("c")
    assert s.get_ready() == ["d"]
    assert s.is_active()
    s.done("d")
    assert not s.is_active()


def test_duplicate_parents_and_unknown_names_are_ignored() -> None:
    s = Scheduler(["a", "b"], {"b": ["a", "a", "ghost", "b"]})
    assert s.get_ready() == ["a"]
    s.done("a")
    assert s.get_ready() == ["b"]


def test_misuse_names_the_step() -> None:
    s = Scheduler(["a"], {})
    with pytest.raises(ValueError, match="'x'"):
        s.done("x")
    s.done("a")
    with pytest.raises(ValueError, match="'a' was already"):
        s.done("a")


def test_replaying_done_in_any_order_gives_the_same_pending_set() -> None:
    parents = {"b": ["a"], "c": ["a"], "d": ["b", "c"]}
    one, two = Scheduler("abcd", parents), Scheduler("abcd", parents)
    for name in ("a", "c"):
        one.done(name)
    for name in ("c", "a"):
        two.done(name)
    assert one.pending() == two.pending() == ["b", "d"]
