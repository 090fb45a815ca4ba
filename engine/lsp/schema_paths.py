"""The part of the spec's JSON Schema that governs a place in a spec.

Completion offers the keys allowed where the cursor is and hover shows a key's description;
both walk the schema along the YAML path, following local ``$ref``s and looking into every
``anyOf``/``oneOf``/``allOf`` branch, since a key may be declared in any of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

#: A path element for "an item of this list", whatever its index.
ITEM = "[]"

Schema = Mapping[str, Any]


@cache
def root() -> Schema:
    from engine.schema import load_schema

    return load_schema()


def resolve(schema: Any, top: Schema) -> Schema:
    """A schema with its ``$ref`` target's keywords under its own (description, examples)."""
    seen = 0
    merged: dict[str, Any] = {}
    while isinstance(schema, Mapping) and seen < 20:
        merged = {**schema, **merged}
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        target: Any = top
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        schema, seen = target, seen + 1
    merged.pop("$ref", None)
    return merged


def _branches(schema: Schema, top: Schema) -> Iterator[Schema]:
    yield schema
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, ()):
            yield from _branches(resolve(branch, top), top)


def properties(schema: Schema, top: Schema | None = None) -> dict[str, Schema]:
    """Every key a mapping with this schema may hold, with its (resolved) schema."""
    top = root() if top is None else top
    found: dict[str, Schema] = {}
    for branch in _branches(schema, top):
        for key, sub in (branch.get("properties") or {}).items():
            found.setdefault(key, resolve(sub, top))
    return found


def at(path: Sequence[str | int], top: Schema | None = None) -> Schema | None:
    """The schema of the value at ``path`` (list indexes may be ints or ITEM); None where
    the schema says nothing, as inside a processor's free-form config."""
    top = root() if top is None else top
    schema: Schema = resolve(top, top)
    for part in path:
        nxt: Any = None
        for branch in _branches(schema, top):
            if isinstance(part, int) or part == ITEM:
                nxt = branch.get("items")
            else:
                nxt = (branch.get("properties") or {}).get(part)
                if nxt is None and isinstance(branch.get("additionalProperties"), Mapping):
                    nxt = branch["additionalProperties"]
            if isinstance(nxt, Mapping):
                break
        if not isinstance(nxt, Mapping):
            return None
        schema = resolve(nxt, top)
    return schema


def summary(schema: Schema) -> str:
    """A short type line: ``string``, ``integer | string``, ``one of: a, b``."""
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if isinstance(kind, str):
        return kind
    top = root()
    kinds = [summary(resolve(b, top)) for keyword in ("anyOf", "oneOf")
             for b in schema.get(keyword, ())]
    return " | ".join(k for k in kinds if k)
