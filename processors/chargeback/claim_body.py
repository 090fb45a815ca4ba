"""The stored claim's body: the claim as compact JSON that encodes and decodes quickly.

Intake stores the claim once (``claim_store``) and every step that runs in another process (an
Argo pod, a resumed run) decodes it again. As ``Claim.to_json()`` a large claim was
megabytes of JSON, every line an object naming every field and carrying its customer (name,
identifiers, address) written out again, and rebuilding it cost each step more than the rest
of loading. The body is instead::

    {"claim_body": 2,
     "claim": {the claim's own fields as to_json writes them, without its lines},
     "parties": [Party.to_json() of each distinct line customer, first seen first],
     "lines": {"line": [1, 2, ...], "customer": [0, 0, 1, ...], "quantity": ["2", ...], ...}}

Lines are columns, one per ClaimLine field by name, each value as ``to_json`` writes it (text
decimals, ISO dates; ``claim.encode_column``): rather than a row per line, so that a field's
values are checked and converted in one pass, and a column names its field, so the body does
not depend on the order of ClaimLine's fields. A line's
customer is its index in ``parties``: lines whose customers were one Party object (or equal
ones) get one decoded object again, as intake made them, and steps that compare customers by
identity first (``Memo.match_of``) stay fast.

A body without ``claim_body`` is ``Claim.to_json()``, as intake stored claims before this
format: it is still read, so a run resumed across an upgrade loads the claim it stored.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from typing import Any, get_type_hints

import orjson

from processors.chargeback.claim import Claim, ClaimLine, Party, decode_column, encode_column

#: the key marking a body of this format, and the version of it this module writes and reads
MARKER = "claim_body"
VERSION = 2

_KEYS = frozenset((MARKER, "claim", "parties", "lines"))
_FIELDS = tuple(f.name for f in dataclasses.fields(ClaimLine))
_TYPES = get_type_hints(ClaimLine)
#: line fields holding a party, written as its index in the body's "parties"
_PARTY_FIELDS = frozenset(name for name in _FIELDS if _TYPES[name] in (Party, Party | None))
#: each field's reader: a column read field by field is read faster than lines transposed
_READERS = tuple((name, operator.attrgetter(name)) for name in _FIELDS)


def encode_claim(claim: Claim) -> bytes:
    """The body of ``claim``; the same claim always gives the same bytes (its digest names
    it, and a retried intake finds its row by that digest)."""
    head = dataclasses.replace(claim, lines=()).to_json()
    del head["lines"]
    parties: list[dict[str, Any]] = []
    lines: dict[str, Sequence[Any]] = {}
    for name, read in _READERS:
        column = list(map(read, claim.lines))
        if name in _PARTY_FIELDS:
            lines[name] = _party_indexes(column, parties)
        else:
            lines[name] = encode_column(_TYPES[name], column)
    return orjson.dumps({MARKER: VERSION, "claim": head, "parties": parties, "lines": lines})


def decode_claim(text: bytes) -> Claim:
    """The claim in a stored body, of this format or the one before it; ValueError saying
    what is wrong with a body that is neither."""
    data = orjson.loads(text)
    if type(data) is not dict:
        raise ValueError(f"expected an object, got {type(data).__name__}")
    if MARKER not in data:
        return Claim.from_json(data)
    if data[MARKER] != VERSION:
        raise ValueError(
            f"{MARKER} {data[MARKER]!r} is not a format this version reads (it reads {VERSION})"
        )
    if data.keys() != _KEYS:
        raise ValueError(f"expected the keys {', '.join(sorted(_KEYS))}, got {', '.join(sorted(data))}")
    head, rows, columns = data["claim"], data["parties"], data["lines"]
    if type(head) is not dict or "lines" in head:
        raise ValueError("claim: expected an object of the claim's fields but its lines")
    if type(rows) is not list:
        raise ValueError(f"parties: expected a list, got {type(rows).__name__}")
    if type(columns) is not dict or columns.keys() != set(_FIELDS):
        raise ValueError(f"lines: expected one column for each of {', '.join(_FIELDS)}")
    parties = [_party(i, row) for i, row in enumerate(rows)]
    decoded = [
        _parties_at(name, columns[name], parties)
        if name in _PARTY_FIELDS
        else decode_column(_TYPES[name], columns[name], f"lines.{name}")
        for name in _FIELDS
    ]
    if len(set(map(len, decoded))) > 1:
        raise ValueError("lines: the columns are not all of one length")
    claim = Claim.from_json({**head, "lines": []})
    return dataclasses.replace(claim, lines=tuple(map(ClaimLine, *decoded)))


def _party_indexes(column: Sequence[Party | None], parties: list[dict[str, Any]]) -> list[int | None]:
    """Each party's index in ``parties``, which gets each distinct one once. Found by object
    first: intake shares one Party among a customer's lines, so its value is hashed once."""
    by_object: dict[int, int] = {}
    by_value: dict[Party, int] = {}
    indexes: list[int | None] = []
    append = indexes.append
    for party in column:
        if party is None:
            append(None)
            continue
        index = by_object.get(id(party))
        if index is None:
            index = by_object[id(party)] = by_value.setdefault(party, len(parties))
            if index == len(parties):
                parties.append(party.to_json())
        append(index)
    return indexes


def _party(index: int, row: Any) -> Party:
    try:
        return Party.from_json(row)
    except ValueError as exc:
        raise ValueError(f"parties[{index}]: {exc}") from None


def _parties_at(name: str, column: Any, parties: list[Party]) -> list[Party | None]:
    root = f"lines.{name}"
    indexes: list[int | None] = decode_column(int | None, column, root)
    numbers = [i for i in indexes if i is not None]
    if numbers and (min(numbers) < 0 or max(numbers) >= len(parties)):
        raise ValueError(f"{root}: a party index outside 0..{len(parties) - 1}")
    return [None if i is None else parties[i] for i in indexes]
