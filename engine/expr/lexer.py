"""Tokens of the condition language.

One master regular expression, compiled once at import, finds the next token; strings are
decoded by hand so that a bad escape gets its own position and hint. Names may contain `-`
(step names do) because the language has no arithmetic to confuse them with.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import CONDITION_SYNTAX, ExprSyntaxError

NAME = "name"
STRING = "string"
INT = "int"
FLOAT = "float"
EOF = "eof"

#: Words with a meaning of their own; after a `.` they are ordinary names again.
KEYWORDS = frozenset({"true", "false", "null", "in"})

#: The largest integer literal: Argo's expr engine parses integers as Go int64.
INT64_MAX = 2**63 - 1


class Token(NamedTuple):
    """``kind`` is NAME/STRING/INT/FLOAT/EOF, a keyword, or the operator text itself."""

    kind: str
    text: str
    value: object
    start: int
    end: int


# Leading whitespace is consumed by the same match as the token after it: half the calls.
_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\],.])
    | (?P<quote>['"])
    )""",
    re.VERBOSE,
)
_SPACE_RE = re.compile(r"\s*")
_NUMBER_TAIL_RE = re.compile(r"[A-Za-z0-9_.]")
_HEX4_RE = re.compile(r"[0-9a-fA-F]{4}")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "/": "/"}

# Characters that are not tokens, with the most likely intent behind them.
_BAD_CHAR_HINTS = {
    "=": "did you mean '=='?",
    "&": "use '&&' for 'and'",
    "|": "use '||' for 'or'",
    "~": "conditions have no regular expressions; compare with '==' or use 'in [...]'",
    "{": "write the condition without '{{ }}' or '${{ }}', e.g. params.x == 1",
    "}": "write the condition without '{{ }}' or '${{ }}', e.g. params.x == 1",
    "$": "write the condition without '${{ }}', e.g. params.x == 1",
    "`": "quote text with ' or \"",
}
_ARITHMETIC = frozenset("+-*/%^")


def tokenize(
    text: str, code: str = CONDITION_SYNTAX, start: int = 0, stop: int | None = None
) -> list[Token]:
    """Tokens of ``text[start:stop]`` and one EOF token; offsets are into the whole ``text``.

    Raises ExprSyntaxError carrying ``code``. The bounds let `${{ }}` interpolation tokenize a
    reference in place, so its errors point into the env value without re-basing.
    """
    tokens: list[Token] = []
    append = tokens.append
    pos = start
    length = len(text) if stop is None else stop
    match = _TOKEN_RE.match
    while pos < length:
        m = match(text, pos, length)
        if m is None:
            pos = _SPACE_RE.match(text, pos, length).end()  # type: ignore[union-attr]  # \s* always matches
            if pos < length:
                raise _bad_character(text, pos, code)
            break
        kind = m.lastgroup or ""
        begin, end = m.span(kind)
        if kind == "name":
            word = m.group(kind)
            append(Token(word if word in KEYWORDS else NAME, word, word, begin, end))
        elif kind == "op":
            op = m.group(kind)
            append(Token(op, op, op, begin, end))
        elif kind == "number":
            append(_number(text, m.group(kind), begin, end, length, code))
        else:
            token = _string(text, begin, length, code)
            append(token)
            end = token.end
        pos = end
    append(Token(EOF, "", None, length, length))
    return tokens


def _number(text: str, literal: str, start: int, end: int, stop: int, code: str) -> Token:
    if end < stop and _NUMBER_TAIL_RE.match(text, end, stop):
        raise ExprSyntaxError(
            f"invalid number {text[start:end + 1]!r}", start, end + 1,
            "numbers are written like 42, -3, 2.5 or 1e3; quote text with ' or \"", code,
        )
    if "." in literal or "e" in literal or "E" in literal:
        value = float(literal)
        if value in (float("inf"), float("-inf")):
            raise ExprSyntaxError(f"number {literal} is too large", start, end, None, code)
        return Token(FLOAT, literal, value, start, end)
    number = int(literal)
    if not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise ExprSyntaxError(
            f"integer {literal} is out of range", start, end,
            "integers must fit in 64 bits (as on Argo); write it as a number, e.g. 1e20", code,
        )
    return Token(INT, literal, number, start, end)


def _string(text: str, start: int, length: int, code: str) -> Token:
    """Decode the string literal opening at ``start``; the quote that opened it closes it."""
    quote = text[start]
    chars: list[str] = []
    pos = start + 1
    while pos < length:
        ch = text[pos]
        if ch == quote:
            return Token(STRING, text[start:pos + 1], "".join(chars), start, pos + 1)
        if ch != "\\":
            chars.append(ch)
            pos += 1
            continue
        escaped = text[pos + 1:min(pos + 2, length)]
        if not escaped:
            break
        if escaped in _SIMPLE_ESCAPES:
            chars.append(_SIMPLE_ESCAPES[escaped])
            pos += 2
        elif escaped == "u" and _HEX4_RE.match(text, pos + 2, length):
            point = int(text[pos + 2:pos + 6], 16)
            if 0xD800 <= point <= 0xDFFF:
                raise ExprSyntaxError(
                    "surrogate code points are not characters", pos, pos + 6,
                    "write the character itself", code,
                )
            chars.append(chr(point))
            pos += 6
        else:
            raise ExprSyntaxError(
                f"unknown escape '\\{escaped}' in a string", pos, pos + 1 + len(escaped),
                "escapes are \\\\ \\' \\\" \\n \\r \\t and \\uXXXX; write \\\\ for a backslash",
                code,
            )
    raise ExprSyntaxError(
        "unterminated string", start, length, f"close the string with {quote}", code
    )


def _bad_character(text: str, pos: int, code: str) -> ExprSyntaxError:
    ch = text[pos]
    if text.startswith("=~", pos):
        return ExprSyntaxError(
            "regular expressions are not supported", pos, pos + 2, _BAD_CHAR_HINTS["~"], code
        )
    if ch in _ARITHMETIC:
        return ExprSyntaxError(
            f"unexpected {ch!r}: conditions have no arithmetic", pos, pos + 1,
            "compare values directly, e.g. params.count > 3", code,
        )
    hint = _BAD_CHAR_HINTS.get(ch)
    return ExprSyntaxError(f"unexpected character {ch!r}", pos, pos + 1, hint, code)
