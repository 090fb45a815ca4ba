"""Store failures as one clear sentence each, whatever the database said.

Drivers raise a zoo of exceptions (sqlite3.OperationalError with a bare "database is locked",
psycopg's multi-line server messages, SQLAlchemy wrappers). The executor and the CLI only
ever see StoreError, whose message says what is wrong and what to do.
"""

from __future__ import annotations

import re
from typing import NoReturn


class StoreError(Exception):
    """The store cannot be read or written; the message is meant for the user as is."""


class UnknownRun(StoreError):
    """No run has this id (or the prefix matches none or several)."""


class NothingToRetry(StoreError):
    """``flowspec retry`` of a run with no failed step (and no ``--from``), or of a step its
    workflow does not have: nothing is changed."""


class RunBusy(StoreError):
    """Another live process holds this run's lease."""


class LeaseLost(StoreError):
    """Our lease was taken over (we were stopped longer than its expiry): stop writing."""


_SQLITE_HINTS: tuple[tuple[str, str], ...] = (
    ("database is locked",
     ("the database is locked by another process (it held a write lock for longer than the "
      "busy timeout); retry when that process is done")),
    ("readonly database",
     ("the database file is read-only; make the file and its folder writable, or choose "
      "another store with --db or FLOWSPEC_DB")),
    ("disk is full",
     "the disk holding the database is full; free some space, then resume the run"),
    ("database or disk is full",
     "the disk holding the database is full; free some space, then resume the run"),
    ("unable to open database file",
     "cannot open the database file; check that its folder exists and is writable"),
    ("file is not a database",
     "the file is not an SQLite database; point --db at a flowspec store"),
    ("disk i/o error",
     "the disk reported an I/O error while writing the database"),
    ("database disk image is malformed",
     "the database file is corrupt; restore it from a backup or start a new store"),
)


def describe(exc: BaseException) -> str:
    """One line for a driver or SQLAlchemy exception, never a traceback or a password."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    lowered = text.lower()
    for needle, message in _SQLITE_HINTS:
        if needle in lowered:
            return message
    if "connection" in lowered and ("refused" in lowered or "failed" in lowered):
        return f"cannot connect to the database server: {_strip_secrets(text)}"
    if "password authentication failed" in lowered:
        return "the database server refused the credentials in the store URL"
    return f"database error: {_strip_secrets(text)}"


def _strip_secrets(text: str) -> str:
    """Drivers sometimes echo the connection string; never show its password."""
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def fail(exc: BaseException, doing: str) -> NoReturn:
    raise StoreError(f"{doing}: {describe(exc)}") from None
