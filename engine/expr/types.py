"""The static types of condition values and which operators accept which pairs.

The rules are the contract's: integer and number compare with each other; ``==``/``!=`` need
the same type (null may be compared with anything); ordering needs two numbers or two
strings; ``in`` needs a list on the right. A pair the rules refuse could never be true at run
time (or would be an error), which is why the checker reports it before anything runs.
"""

from __future__ import annotations

from engine.values import TYPES

from .ast import LiteralValue

STRING = "string"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
LIST = "list"
FILE = "file"
#: Types a param or an output may declare (engine.values holds the one list).
VALUE_TYPES = frozenset(TYPES)
#: Types a condition may read: a file's path differs between a local run and a pod (FS312).
CONDITION_TYPES = VALUE_TYPES - {FILE}
#: The type of the literal ``null``.
NULL = "null"
#: A for_each item that is a mapping: only ``item.KEY`` (a string) can be used.
OBJECT = "object"
#: Every ``item_type`` a scope may give.
ITEM_TYPES = VALUE_TYPES | {OBJECT}

#: Phases ``steps.X.status`` can hold when a condition reads it (the step has finished).
STEP_PHASES = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
#: Phases ``workflow.status`` can hold inside ``finally``.
WORKFLOW_PHASES = ("Succeeded", "Failed", "Error")

_NUMERIC = frozenset({INTEGER, NUMBER})
_ARTICLES = {INTEGER: "an integer", OBJECT: "a mapping", LIST: "a list", NULL: "null"}


def literal_type(value: LiteralValue) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    return STRING


def is_numeric(type_name: str) -> bool:
    return type_name in _NUMERIC


def describe(type_name: str) -> str:
    """'an integer', 'a string', ... for messages."""
    return _ARTICLES.get(type_name, f"a {type_name}")


def same_kind(left: str, right: str) -> bool:
    """Two non-null scalar types whose values can be equal."""
    if left in (LIST, OBJECT, NULL) or right in (LIST, OBJECT, NULL):
        return False
    return left == right or (left in _NUMERIC and right in _NUMERIC)


def equality_problem(op: str, left: str, right: str) -> str | None:
    """Why ``left == right`` (or ``!=``) is pointless, or None when the pair is fine."""
    if NULL in (left, right):
        return None
    if OBJECT in (left, right):
        return "an item that is a mapping cannot be compared; compare one of its keys"
    if LIST in (left, right):
        return "lists cannot be compared with == or !=; test membership with 'in'"
    if same_kind(left, right):
        return None
    if op == "!=":
        return f"{describe(left)} always differs from {describe(right)}; '!=' is always true"
    return f"{describe(left)} is never equal to {describe(right)}; '==' is never true"


def ordering_problem(op: str, left: str, right: str) -> str | None:
    """Why ``left < right`` (any ordering ``op``) is refused, or None."""
    if NULL in (left, right):
        return f"'{op}' with null is always false"
    if left in _NUMERIC and right in _NUMERIC:
        return None
    if left == right == STRING:
        return None
    if BOOLEAN in (left, right):
        return f"booleans cannot be ordered; '{op}' needs two numbers or two strings"
    return f"'{op}' needs two numbers or two strings, not {describe(left)} and {describe(right)}"


def membership_problem(left: str, right: str) -> str | None:
    """Why ``left in right`` is refused (element types aside), or None."""
    if left == NULL:
        return "'null in ...' is always false; test it with == null"
    if right == NULL:
        return "'in null' is always false"
    if right != LIST:
        return f"'in' needs a list on the right, not {describe(right)}"
    if left in (LIST, OBJECT):
        return f"{describe(left)} cannot be a list item to look for"
    return None
