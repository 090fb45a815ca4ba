"""Who may write a run: a lease with an expiry, renewed while the run is alive.

A bare "running" flag would stay set after a SIGKILL and block resume for ever, and would let
two processes run the same run if both read it before either wrote it. The lease is taken
with one conditional UPDATE (compare-and-swap), and every state write is guarded by it (see
``sql.py``), so a process that was frozen past its expiry cannot write after another one took
over. A lease whose holder is a dead process on this machine is taken over at once: resuming
after a crash need not wait for the expiry.
"""

from __future__ import annotations

import os
import secrets
import socket

#: Seconds a lease lasts without renewal; the executor renews it every third of that.
DEFAULT_LEASE_SECONDS = 30.0


def new_owner() -> str:
    """``host:pid:token``: the token tells two owners apart even if a pid is reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_is_dead(owner: str) -> bool:
    """True only when the holder is certainly gone: a process of this host that no longer exists."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3:
        return False
    host, pid_text, _token = parts
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent still answers kill(0); it is dead all the same."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def describe_owner(owner: str) -> str:
    parts = owner.rsplit(":", 2)
    return f"process {parts[1]} on {parts[0]}" if len(parts) == 3 else owner


def shown_phase(phase: str, owner: str | None, expires: float | None, now: float) -> str:
    """A Running run whose lease lapsed or whose holder died is really Interrupted."""
    if phase != "Running":
        return phase
    if owner is None or (expires is not None and expires < now) or holder_is_dead(owner):
        return "Interrupted"
    return phase
