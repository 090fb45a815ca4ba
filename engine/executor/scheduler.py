"""A graphlib-style sorter over the step DAG: it runs nothing and decides nothing.

``get_ready()`` hands out the steps whose every parent is done, ``done(step)`` records one;
the caller owns the workers and the decisions. Order follows the spec, never hashing. Resume
replays ``done()`` for every step the store says finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class Scheduler:
    __slots__ = ("_children", "_done", "_order", "_ready", "_waiting")

    def __init__(self, order: Sequence[str], parents: Mapping[str, Sequence[str]]) -> None:
        self._order = tuple(order)
        known = set(self._order)
        self._children: dict[str, list[str]] = {name: [] for name in self._order}
        self._waiting: dict[str, int] = {}
        for name in self._order:
            mine = [p for p in dict.fromkeys(parents.get(name, ())) if p in known and p != name]
            self._waiting[name] = len(mine)
            for p in mine:
                self._children[p].append(name)
        self._ready = [name for name in self._order if self._waiting[name] == 0]
        self._done: set[str] = set()

    def get_ready(self) -> list[str]:
        """Steps that became ready since the last call, in spec order of release."""
        ready, self._ready = self._ready, []
        return ready

    def done(self, name: str) -> None:
        if name not in self._waiting:
            raise ValueError(f"step {name!r} is not in this graph")
        if name in self._done:
            raise ValueError(f"step {name!r} was already marked done")
        self._done.add(name)
        waiting = self._waiting
        for child in self._children[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                self._ready.append(child)

    def is_done(self, name: str) -> bool:
        return name in self._done

    def is_active(self) -> bool:
        return len(self._done) < len(self._order)

    def pending(self) -> list[str]:
        """Steps not done yet, in spec order."""
        return [name for name in self._order if name not in self._done]
