"""One JSON text per value: how the store writes step results, and what their digest covers.

Keys sorted, no spaces, text as it is (no ``\\u`` escapes): equal results are stored as equal
text whatever order a processor built its dicts in. So a step's result can be digested once,
from the text the executor already encoded to store it, and anyone holding the store can
recompute that digest from the stored text alone: an audit trail (the chargeback
``compliance-trail``) names each step's result by it instead of encoding every step's data,
megabytes for a large claim, a second time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def result_digest(outputs_json: str, data_json: str | None) -> str:
    """sha256 of ``{"data": DATA, "outputs": OUTPUTS}`` in canonical text, from the two texts
    as stored (no data is ``{}``): equal to :func:`digest_of` the values, without encoding."""
    text = f'{{"data":{data_json or "{}"},"outputs":{outputs_json}}}'
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest_of(outputs: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """:func:`result_digest` of values: for results read back from the store or never stored."""
    return result_digest(
        ENCODER.encode(dict(outputs)), ENCODER.encode(dict(data)) if data else None
    )
