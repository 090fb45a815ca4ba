"""Error and problem records shared by every stage of the expression package.

Every record carries character offsets into the source text (``start`` inclusive, ``end``
exclusive) so that the validator can turn them into file/line/column spans and put a caret
under the exact token, whatever YAML scalar style the expression was written in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Set (to anything but "" or "0") in tests so that an AST node no stage knows about raises
#: instead of being skipped or turned into an evaluation error: the expression package's
#: counterpart of pyflakes' PYFLAKES_ERROR_UNKNOWN.
ERROR_UNKNOWN_ENV = "FLOWSPEC_EXPR_ERROR_UNKNOWN"

#: Code for a syntax error in a `when` condition.
CONDITION_SYNTAX = "FS300"
#: Code for a malformed `${{ ... }}` in an env value.
INTERPOLATION_SYNTAX = "FS309"


def error_unknown_nodes() -> bool:
    """Read at the moment an unknown node is met, so tests can flip it per test."""
    return os.environ.get(ERROR_UNKNOWN_ENV, "") not in ("", "0")


class ExprSyntaxError(ValueError):
    """Text that is not a valid expression; offsets point at the offending token."""

    def __init__(
        self,
        message: str,
        start: int,
        end: int,
        hint: str | None = None,
        code: str = CONDITION_SYNTAX,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = max(end, start)
        self.hint = hint
        self.code = code

    def __str__(self) -> str:
        where = f"{self.message} (at {self.start}..{self.end})"
        return f"{where}; {self.hint}" if self.hint else where


class ExprEvalError(ValueError):
    """A condition that cannot be decided at run time; the step then ends in Error, as on Argo."""

    def __init__(self, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


class ExprCompileError(ValueError):
    """The compiler was handed a condition the checker would have rejected (a caller bug)."""


@dataclass(frozen=True, slots=True)
class ExprProblem:
    """One static finding about an expression (stable ``code``, see check.py for the list)."""

    code: str
    message: str
    start: int
    end: int
    hint: str | None = None
