"""A processor for the corpus: a strict config schema and fixed outputs, importable by path.

Specs in the corpus name it as ``tests.core.corpus.processors:LoadTable`` so that FS402 and
FS403 are checked against a schema the tests own, not one a built-in may change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from engine.processors import StepContext, StepResult


class LoadTable:
    """Loads rows into a table; fixed outputs, so undeclared ones are errors (FS403)."""

    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["table"],
        "properties": {
            "table": {"type": "string", "pattern": "^[a-z_]+$",
                      "description": "Target table, lower-case with underscores."},
            "batch_size": {"type": "integer", "minimum": 1,
                           "description": "Rows per insert."},
            "mode": {"enum": ["append", "replace"], "description": "append or replace."},
        },
    }
    outputs: ClassVar[Mapping[str, str]] = {"rows": "integer", "table": "string"}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.table = str(config["table"])

    def process(self, context: StepContext) -> StepResult:
        return StepResult(outputs={"rows": 0, "table": self.table})
