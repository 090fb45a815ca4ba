"""Processors whose ``report_section`` misbehaves, for the report's tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from engine.processors import StepContext, StepResult


class _Base:
    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def process(self, context: StepContext) -> StepResult:
        return StepResult(data={"n": 1})


class Raising(_Base):
    @classmethod
    def report_section(cls, result: StepResult) -> Mapping[str, Any]:
        raise ValueError("no table today")


class Shapeless(_Base):
    @classmethod
    def report_section(cls, result: StepResult) -> Any:
        return ["not", "a", "table"]


class Hostile(_Base):
    @classmethod
    def report_section(cls, result: StepResult) -> Mapping[str, Any]:
        return {"title": "<i>t</i>", "columns": ["<b>c</b>"], "rows": [["<script>x</script>", 2]],
                "totals": [("sum", {"a": 1})]}
