"""A step's command runs in a process group of its own, and nothing of it outlives its attempt.

On Argo an attempt is a container: when it ends, times out or is stopped, every process in it
dies. Locally a command is a child of flowspec, and its children are not: killing ``sh`` alone
would leave ``sleep 20; touch done`` running beside the next attempt. So each command starts
a new session (its own process group, out of reach of the terminal's Ctrl-C, which flowspec
handles), and the group is stopped, SIGTERM then SIGKILL ``KILL_GRACE`` seconds later,

- when the command exits: what it left running is stopped, as a container's end stops it;
- when its attempt is cancelled: the step's timeout, Ctrl-C or SIGTERM of flowspec, the
  workflow's deadline;
- after flowspec itself was killed, when the run is resumed: the group's ``GroupId`` is in the
  store, and ``stop_leftovers`` stops the group if it is still the one recorded.

A process that leaves its group (``setsid``, ``setpgid``) leaves our reach, as it would leave
a shell's job control.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: Seconds between SIGTERM and SIGKILL: time for a command to clean up, well inside the grace
#: a compiled template leaves past the step's timeout (``contract.TIMEOUT_GRACE``).
KILL_GRACE = 5.0
#: How long SIGKILL may take to empty a group before we stop waiting for it.
_KILL_WAIT = 5.0
#: How often a running command's attempt looks whether it was cancelled.
_POLL = 0.05
#: How long the output a stopped group left in its pipes is read for at most.
_DRAIN = 1.0
_PROC = Path("/proc")
_HAS_PROC = (_PROC / "self" / "stat").exists()


@dataclass(frozen=True, slots=True)
class GroupId:
    """What tells a process group from another that later got the same number.

    A pgid is the pid of the group's first process, its leader, and the number can be given to
    a new process only once every process of the group is gone. ``leader_start`` (clock ticks
    after boot, ``/proc/PID/stat``) and ``boot_id`` pin the group to one start on one boot.
    Without /proc (macOS) both are None: such a group cannot be told from a later one.
    """

    pgid: int
    boot_id: str | None
    leader_start: int | None


@dataclass(frozen=True, slots=True)
class Finished:
    """How a command ended: its exit code (None when it was stopped) and its outputs' tails."""

    returncode: int | None
    stdout: bytes
    stderr: bytes


def run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
        cancelled: Callable[[], bool], started: Callable[[GroupId], None],
        on_output: Callable[[str, bytes], None], keep_stdout: int = 0,
        keep_stderr: int = 0) -> Finished:
    """Run ``argv`` in a new process group until it exits or ``cancelled()`` turns true, and
    stop whatever is left of the group. Its output goes to ``on_output(stream, data)`` as it
    is read (``stream`` is ``stdout`` or ``stderr``); the last ``keep_*`` bytes of each are
    also kept for the result.

    OSError when the command cannot be started; ``started`` learns the group before anything
    else happens.
    """
    proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    output = _Output(proc, on_output, keep_stdout, keep_stderr)
    exited = False
    try:
        started(identify(proc.pid))
        while not cancelled():
            if proc.poll() is not None:
                exited = True
                break
            output.read(_POLL)
    finally:
        _stop(proc, exited)
        output.drain()
    return Finished(proc.returncode if exited else None, output.tail("stdout"),
                    output.tail("stderr"))


def identify(pgid: int) -> GroupId:
    stat = _stat(pgid)
    return GroupId(pgid, _boot_id(), stat[2] if stat is not None else None)


def terminate(pgids: Iterable[int], grace: float = KILL_GRACE) -> None:
    """SIGTERM to each group, SIGKILL to those still alive ``grace`` seconds later; returns
    once they are empty (or SIGKILL did not empty them within ``_KILL_WAIT`` seconds).

    A group with nothing left costs one failed ``killpg``: no waiting, no /proc scan.
    """
    pending = [pgid for pgid in pgids if _signal(pgid, signal.SIGTERM)]
    pending = _wait_empty(pending, grace)
    pending = [pgid for pgid in pending if _signal(pgid, signal.SIGKILL)]
    _wait_empty(pending, _KILL_WAIT)


def stop_leftovers(groups: Iterable[GroupId], grace: float = KILL_GRACE) -> set[int]:
    """Stop the recorded groups still running and still the ones recorded; their pgids.

    Still the one recorded: same boot, and its leader started at the recorded tick or, the
    leader gone, every process in it started no earlier (a group with the same number made
    later would need the pid counter to wrap around in between). A group that cannot be
    verified (no /proc) is left alone.
    """
    boot = _boot_id()
    groups = [g for g in groups if g.boot_id is not None and g.boot_id == boot
              and g.leader_start is not None]
    if not groups:
        return set()
    by_group = _live_members()
    ours = set()
    for group in groups:
        members = by_group.get(group.pgid)
        if not members:
            continue
        leader = members.get(group.pgid)
        start = group.leader_start or 0
        if leader == start or (leader is None and min(members.values()) >= start):
            ours.add(group.pgid)
    terminate(ours, grace)
    return ours


# --- one command ---------------------------------------------------------------------------

def _stop(proc: subprocess.Popen[bytes], exited: bool) -> None:
    """Reap the leader and stop the rest of its group, whether the leader exited or not."""
    pgid = proc.pid  # a new session's group is numbered after its leader
    if exited:
        terminate([pgid])
        return
    deadline = time.monotonic() + KILL_GRACE
    _signal(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE)
    terminate([pgid], max(0.0, deadline - time.monotonic()))
    proc.wait()


class _Output:
    """A command's stdout and stderr, read as they come: handed on, and their last bytes kept."""

    def __init__(self, proc: subprocess.Popen[bytes], on_output: Callable[[str, bytes], None],
                 keep_stdout: int, keep_stderr: int) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self.on_output = on_output
        self.pipes = (proc.stdout, proc.stderr)
        self.open = len(self.pipes)
        self.kept = {"stdout": bytearray(), "stderr": bytearray()}
        self.limit = {"stdout": keep_stdout, "stderr": keep_stderr}
        self.selector = selectors.DefaultSelector()
        self.selector.register(proc.stdout, selectors.EVENT_READ, "stdout")
        self.selector.register(proc.stderr, selectors.EVENT_READ, "stderr")
        # The leader's exit wakes us the moment it happens, where the kernel can say so.
        self.pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.pidfd = os.pidfd_open(proc.pid)
            self.selector.register(self.pidfd, selectors.EVENT_READ, "exit")

    def read(self, timeout: float) -> bool:
        """Read what comes within ``timeout``; True if anything did."""
        if not self.selector.get_map():
            time.sleep(min(timeout, 0.005))  # only the exit is left to notice, by polling
            return False
        events = self.selector.select(timeout)
        for key, _ in events:
            if key.data == "exit":
                self.selector.unregister(key.fileobj)
                continue
            chunk = os.read(key.fd, 65536)
            if not chunk:
                self.selector.unregister(key.fileobj)
                self.open -= 1
                continue
            self.on_output(key.data, chunk)
            limit = self.limit[key.data]
            if limit:
                kept = self.kept[key.data]
                kept += chunk
                if len(kept) > 2 * limit:
                    del kept[:-limit]
        return bool(events)

    def drain(self) -> None:
        """Read what the stopped group left in the pipes; a process that escaped the group
        and holds a pipe open is not waited for."""
        until = time.monotonic() + _DRAIN
        while self.open and time.monotonic() < until and self.read(0.1):
            pass
        self.selector.close()
        for pipe in self.pipes:
            pipe.close()
        if self.pidfd is not None:
            os.close(self.pidfd)

    def tail(self, name: str) -> bytes:
        return bytes(self.kept[name][-self.limit[name]:])


# --- process groups, as the system shows them ----------------------------------------------

def _signal(pgid: int, signum: int) -> bool:
    """Send ``signum`` to the group; False when the group no longer exists."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a member we may not signal (setuid): it exists all the same
    return True


def _wait_empty(pgids: list[int], seconds: float) -> list[int]:
    """The groups of ``pgids`` still alive after up to ``seconds`` of waiting for them."""
    deadline = time.monotonic() + seconds
    while pgids:
        alive = _alive_groups(pgids)
        pgids = [pgid for pgid in pgids if pgid in alive]
        if not pgids or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    return pgids


def _alive_groups(pgids: list[int]) -> set[int]:
    """Those of ``pgids`` with a live process: zombies, which no signal can end and which
    wait only for their parent to reap them, are not counted where /proc tells them apart."""
    if _HAS_PROC:
        members = _live_members()
        return {pgid for pgid in pgids if pgid in members}
    alive = set()
    for pgid in pgids:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            pass  # a member we may not signal: alive all the same
        alive.add(pgid)
    return alive


def _live_members() -> dict[int, dict[int, int]]:
    """pgid -> {pid: start tick} of every process on the system that is not a zombie."""
    groups: dict[int, dict[int, int]] = {}
    with contextlib.suppress(OSError):
        for name in os.listdir(_PROC):
            if name.isdigit():
                stat = _stat(int(name))
                if stat is not None and stat[0] not in ("Z", "X"):
                    groups.setdefault(stat[1], {})[int(name)] = stat[2]
    return groups


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, pgid, start tick) from ``/proc/PID/stat``; None when it cannot be read."""
    try:
        raw = (_PROC / str(pid) / "stat").read_bytes()
        # the command name, in parentheses, may hold spaces and parentheses itself
        fields = raw[raw.rindex(b")") + 2:].split()
        return fields[0].decode(), int(fields[2]), int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


@cache
def _boot_id() -> str | None:
    try:
        return (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip() or None
    except OSError:
        return None
