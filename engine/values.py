"""The value types of params and outputs, shared by validation, the executor and the CLI.

A ``file`` is a path: locally the file itself, on Argo an artifact the pod finds at a path
(``docs/files.md``); its text is the path, so it reads and types as a string.

One definition of what "an integer" is keeps `-p n=3`, a processor's output and a default in
the spec agreeing with each other (and with the compiled Argo condition).
"""

from __future__ import annotations

import json
import math
from typing import Any

TYPES = ("string", "integer", "number", "boolean", "list", "file")

#: Argo compares integers with asInt (int64): a wider integer would decide differently there.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def type_error(value: Any, type_name: str) -> str | None:
    """None when ``value`` is a valid ``type_name``; else 'must be X, got Y' for a message."""
    ok = {
        "string": isinstance(value, str),
        "file": isinstance(value, str) and value != "",
        "integer": isinstance(value, int) and not isinstance(value, bool)
        and INT64_MIN <= value <= INT64_MAX,
        "number": isinstance(value, (int, float)) and not isinstance(value, bool)
        and math.isfinite(value),
        "boolean": isinstance(value, bool),
        "list": isinstance(value, list),
    }.get(type_name, True)
    if ok:
        return None
    article = "an" if type_name[0] in "aeiou" else "a"
    if type_name == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return f"must be an integer that fits in 64 bits, got {value}"
    return f"must be {article} {type_name}, got {_describe(value)}"


def parse_text(text: str, type_name: str) -> Any:
    """A value given as text (``-p k=v``, an env var, an Argo parameter) read as ``type_name``.

    Raises ValueError with a message fit for the user.
    """
    if type_name in ("string", "file"):
        return text
    if type_name == "integer":
        try:
            whole = int(text.strip(), 10)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
        if not INT64_MIN <= whole <= INT64_MAX:
            raise ValueError(f"{text!r} does not fit in 64 bits")
        return whole
    if type_name == "number":
        try:
            number = float(text.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {text!r}")
        written_whole = number.is_integer() and "." not in text and "e" not in text.lower()
        # a whole number stays an integer only where every store and Argo's asInt can hold it
        return int(number) if written_whole and INT64_MIN <= number <= INT64_MAX else number
    if type_name == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError(f"expected true or false, got {text!r}")
    if type_name == "list":
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"expected a JSON list such as [\"a\", \"b\"], got {text!r}") from None
        if not isinstance(value, list):
            raise ValueError(f"expected a JSON list such as [\"a\", \"b\"], got {text!r}")
        return value
    raise ValueError(f"unknown type {type_name!r}")


def to_text(value: Any) -> str:
    """The text form used for Argo parameters and env vars: JSON for lists, lower-case booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if value is None:
        return ""
    return str(value)
