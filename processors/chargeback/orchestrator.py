"""The seed's in-process face, kept for its callers: ``ChargebackWorkflowOrchestrator``.

``add_step`` collects steps; ``await execute(document)`` writes them as a flowspec spec and runs
it with ``engine.arun``, the executor behind ``flowspec run``. So the seed's callers get the
same validation, the same Argo decisions and the same durable store, not a second engine.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DB = "sqlite:///.flowspec/state.db"


def _processor_ref(processor: Any) -> tuple[str, dict[str, Any]]:
    """A registered name as given, a class as its ``module:QualName`` import path, or an
    instance as its class's path with the config it holds (its ``config`` attribute): the
    executor builds a fresh instance per attempt, as each pod does, so an instance is
    re-created from its class and config rather than shared between attempts."""
    if isinstance(processor, str):
        return processor, {}
    cls = processor if inspect.isclass(processor) else type(processor)
    if not callable(getattr(cls, "process", None)):
        raise TypeError(f"processor must be a registered name, a processor class or an "
                        f"instance of one (with a process method), got {cls.__name__}")
    config = {} if inspect.isclass(processor) else getattr(processor, "config", None)
    if not isinstance(config, Mapping):
        raise TypeError(f"a {cls.__name__} instance keeps no config mapping to be re-created "
                        f"from; pass the class and its config: add_step(name, {cls.__name__}, "
                        "config={...})")
    return f"{cls.__module__}:{cls.__qualname__}", dict(config)


class ChargebackWorkflowOrchestrator:
    """Builds and runs a chargeback workflow in this process.

    ``config``: ``name`` (workflow name, default ``chargeback``), ``db`` (store URL, default
    ``sqlite:///.flowspec/state.db``; the chargeback processors keep their reference data
    there), ``max_parallel``, ``workdir`` (where responses and reports are written), ``env``
    (literal env values; secrets as ``{secret: {name, key}}``), ``params`` (extra params).
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config or {})
        self.steps: list[dict[str, Any]] = []

    def add_step(self, name: str, processor: Any, *,
                 dependencies: Sequence[str] | None = None, depends: str | None = None,
                 when: str | None = None, config: Mapping[str, Any] | None = None,
                 outputs: Mapping[str, str] | None = None,
                 final: bool = False) -> ChargebackWorkflowOrchestrator:
        """Add a step; without ``dependencies``/``depends`` it follows the step added before it
        (the seed ran its steps in the order they were added)."""
        ref, held = _processor_ref(processor)
        step: dict[str, Any] = {"name": name, "processor": ref}
        previous = [s for s in self.steps if s.get("_final", False) == final]
        if depends is not None:
            step["depends"] = depends
        elif dependencies is not None:
            step["dependencies"] = list(dependencies)
        elif previous and not final:
            step["dependencies"] = [previous[-1]["name"]]
        if when is not None:
            step["when"] = when
        if config or held:
            step["config"] = {**held, **dict(config or {})}
        if outputs:
            step["outputs"] = dict(outputs)
        step["_final"] = final
        self.steps.append(step)
        return self

    def spec_text(self) -> str:
        """The spec these steps make, as YAML: what gets validated and run."""
        params: dict[str, Any] = {"document": {"type": "string", "required": True}}
        for key, value in dict(self.config.get("params") or {}).items():
            params[key] = {"type": "string", "default": str(value)}
        doc: dict[str, Any] = {
            "apiVersion": "flowspec/v1",
            "kind": "Workflow",
            "metadata": {"name": self.config.get("name", "chargeback")},
            "params": params,
            "steps": [{k: v for k, v in s.items() if k != "_final"}
                      for s in self.steps if not s["_final"]],
        }
        finals = [{k: v for k, v in s.items() if k != "_final"} for s in self.steps if s["_final"]]
        if finals:
            doc["finally"] = finals
        if self.config.get("env"):
            doc["env"] = dict(self.config["env"])
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)

    async def execute(self, document: str | Path) -> dict[str, Any]:
        """Run the steps on ``document``; per-step status and the metadata each propagated.

        Raises engine.diagnostics.SpecError when the steps do not make a valid workflow.
        """
        from engine.local import arun
        from engine.validation import load_spec_text

        if not self.steps:
            raise ValueError("no steps: call add_step(name, processor) first")
        spec = load_spec_text(self.spec_text(), name=f"<{self.config.get('name', 'chargeback')}>")
        params = {"document": str(document), **dict(self.config.get("params") or {})}
        db = self.config.get("db", DEFAULT_DB)
        if isinstance(db, str) and db.startswith("sqlite:///") and db != "sqlite:///:memory:":
            Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        result = await arun(spec, params, store=db,
                            max_parallel=self.config.get("max_parallel"),
                            workdir=self.config.get("workdir"))
        return {
            "run_id": result.run_id,
            "phase": result.phase,
            "steps": {name: {"phase": r.phase, "attempts": r.attempts,
                             "outputs": dict(r.outputs), "error": r.error}
                      for name, r in result.steps.items()},
            # per step, as each step published it: merged, one step's keys hid another's
            "metadata": {name: dict(r.data) for name, r in result.steps.items() if r.data},
        }
