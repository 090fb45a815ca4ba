"""Functions the runner tests call through the built-in ``python`` processor, inside pods."""

from __future__ import annotations

import json
from typing import Any

from engine.processors import StepContext, StepResult, TransientError


def transient(context: StepContext) -> dict[str, Any]:
    raise TransientError("rate limited, try again")


def produce(context: StepContext) -> StepResult:
    return StepResult(outputs={"n": 3, "label": "three"}, data={"rows": [1, 2, 3]})


def report_upstream(context: StepContext) -> dict[str, Any]:
    seen = {name: {"phase": up.phase, **context.outputs_of(name)}
            for name, up in context.upstream.items()}
    return {"seen": json.dumps(seen, sort_keys=True), "item": json.dumps(context.item),
            "status": context.workflow_status or ""}


def leak(context: StepContext) -> dict[str, Any]:
    raise ValueError(f"the vendor rejected key {context.env['API_KEY']}")


def echo_key(context: StepContext) -> StepResult:
    key = context.env["API_KEY"]
    return StepResult(outputs={"said": f"key={key}"}, data={"headers": {"Authorization": key}})


def marker(context: StepContext) -> dict[str, Any]:
    return {"text": "__flowspec_null__"}


def numbers(context: StepContext) -> dict[str, Any]:
    return {"code": 20240304, "pin": int(context.env["PIN"])}
