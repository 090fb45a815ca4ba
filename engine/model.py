"""The typed spec: what the executor and the compiler read, built once from a loaded document.

Building is lenient: a field with the wrong shape is left at its default (the schema pass has
already reported it), so the semantic passes can still check everything else in the same run.
Every step keeps its JSON path, so any rule can point back into the file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.loader import Document, Path

DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

RETRY_POLICIES = ("failure", "error", "always", "transient")


def parse_duration(text: Any) -> float | None:
    """Seconds in a Go-style duration (``1h30m``); None if it is not one."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


@dataclass(frozen=True)
class SecretRef:
    """A value that lives in a Kubernetes secret (or, locally, an environment variable)."""

    name: str
    key: str
    optional: bool = False

    @property
    def local_variable(self) -> str:
        """The local environment variable that stands in for the secret: ``NAME_KEY`` upper-cased."""
        return re.sub(r"[^A-Za-z0-9]+", "_", f"{self.name}_{self.key}").upper()

    def __str__(self) -> str:
        return f"secret {self.name}/{self.key}" + (" (optional)" if self.optional else "")


EnvValue = str | SecretRef


@dataclass(frozen=True)
class EnvVar:
    value: EnvValue
    origin: str  # "workflow", "defaults" or "step": where the effective value came from
    path: Path


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    description: str = ""
    enum: tuple[Any, ...] | None = None
    path: Path = ()


@dataclass(frozen=True)
class Backoff:
    delay: float
    factor: int = 1
    cap: float | None = None

    def wait(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): delay * factor^(n-1), capped."""
        seconds = float(self.delay * (self.factor ** (retry - 1)))
        return min(seconds, self.cap) if self.cap is not None else seconds


@dataclass(frozen=True)
class Retry:
    limit: int = 0
    on: str = "failure"
    backoff: Backoff | None = None
    max_duration: float | None = None
    path: Path = ()


@dataclass(frozen=True)
class ContinueOn:
    failed: bool = False
    error: bool = False


@dataclass(frozen=True)
class Step:
    name: str
    processor: str
    index: int
    path: Path
    is_finally: bool = False
    config: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, EnvVar] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    dependencies: tuple[str, ...] | None = None
    depends: str | None = None
    when: str | None = None
    retry: Retry = field(default_factory=Retry)
    timeout: float | None = None
    continue_on: ContinueOn = field(default_factory=ContinueOn)
    #: resume re-runs an attempt flowspec's own stop interrupted, unless this is "fail"
    on_interrupt: str = "retry"
    resources: Mapping[str, str] = field(default_factory=dict)
    for_each: str | None = None
    argo: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    name: str
    document: Document
    steps: tuple[Step, ...]
    finally_steps: tuple[Step, ...] = ()
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Param] = field(default_factory=dict)
    env: Mapping[str, EnvVar] = field(default_factory=dict)
    timeout: float | None = None
    parallelism: int | None = None
    argo: Mapping[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.document.file

    @property
    def source_hash(self) -> str:
        return hashlib.sha256(self.document.source.text.encode()).hexdigest()

    @property
    def all_steps(self) -> tuple[Step, ...]:
        return self.steps + self.finally_steps

    def step(self, name: str) -> Step:
        for s in self.all_steps:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def uses_depends(self) -> bool:
        """Argo cannot mix ``depends`` and ``dependencies`` in one DAG: the compiler must know."""
        return any(s.depends is not None for s in self.steps)

    @property
    def graph(self) -> Any:
        """The DAG of the main steps (networkx DiGraph), built on first use."""
        from engine.graph import build_graph

        cached = self.__dict__.get("_graph")
        if cached is None:
            cached = build_graph(self)
            object.__setattr__(self, "_graph", cached)
        return cached


# --- building -----------------------------------------------------------------------------

def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _env(raw: Any, origin: str, path: Path) -> dict[str, EnvVar]:
    result: dict[str, EnvVar] = {}
    for name, value in _dict(raw).items():
        if isinstance(value, dict):
            secret = _dict(value.get("secret"))
            if isinstance(secret.get("name"), str) and isinstance(secret.get("key"), str):
                ref = SecretRef(secret["name"], secret["key"], value.get("optional") is True)
                result[name] = EnvVar(ref, origin, (*path, name))
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            text = str(value)
        else:
            continue
        result[name] = EnvVar(text, origin, (*path, name))
    return result


def _retry(raw: Any, path: Path) -> Retry | None:
    if not isinstance(raw, dict):
        return None
    limit = raw.get("limit", 0)
    on = raw.get("on", "failure")
    backoff = None
    b = _dict(raw.get("backoff"))
    delay = parse_duration(b.get("delay"))
    if delay is not None:
        factor = b.get("factor", 1)
        backoff = Backoff(
            delay=delay,
            factor=factor if isinstance(factor, int) and not isinstance(factor, bool) else 1,
            cap=parse_duration(b.get("cap")),
        )
    return Retry(
        limit=limit if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0 else 0,
        on=on if on in RETRY_POLICIES else "failure",
        backoff=backoff,
        max_duration=parse_duration(raw.get("max_duration")),
        path=path,
    )


def _step(raw: dict[str, Any], index: int, path: Path, defaults: dict[str, Any],
          workflow_env: dict[str, EnvVar], is_finally: bool) -> Step:
    env = {**workflow_env, **_env(defaults.get("env"), "defaults", ("defaults", "env")),
           **_env(raw.get("env"), "step", (*path, "env"))}
    deps = raw.get("dependencies")
    outputs = {k: v for k, v in _dict(raw.get("outputs")).items() if isinstance(v, str)}
    continue_on = _dict(raw.get("continue_on"))
    resources = {**_dict(defaults.get("resources")), **_dict(raw.get("resources"))}
    retry = (_retry(raw.get("retry"), (*path, "retry"))
             or _retry(defaults.get("retry"), ("defaults", "retry")) or Retry())
    timeout_raw = raw.get("timeout", defaults.get("timeout"))
    return Step(
        name=_str(raw.get("name")),
        processor=_str(raw.get("processor")),
        index=index,
        path=path,
        is_finally=is_finally,
        config=_dict(raw.get("config")),
        env=env,
        outputs=outputs,
        dependencies=tuple(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else None,
        depends=raw.get("depends") if isinstance(raw.get("depends"), str) else None,
        when=raw.get("when") if isinstance(raw.get("when"), str) else None,
        retry=retry,
        timeout=parse_duration(timeout_raw),
        continue_on=ContinueOn(continue_on.get("failed") is True, continue_on.get("error") is True),
        on_interrupt="fail" if raw.get("on_interrupt") == "fail" else "retry",
        resources={k: str(v) for k, v in resources.items() if isinstance(v, (str, int, float))},
        for_each=raw.get("for_each") if isinstance(raw.get("for_each"), str) else None,
        argo=_dict(raw.get("argo")),
    )


def build_spec(doc: Document) -> Spec:
    """The typed view of a loaded document; tolerant of shapes the schema pass reported."""
    data = doc.data
    metadata = _dict(data.get("metadata"))
    defaults = _dict(data.get("defaults"))
    workflow_env = _env(data.get("env"), "workflow", ("env",))
    params = {}
    for name, raw in _dict(data.get("params")).items():
        p = _dict(raw)
        enum = p.get("enum")
        params[name] = Param(
            name=name,
            type=_str(p.get("type"), "string"),
            required=p.get("required") is True,
            default=p.get("default"),
            description=_str(p.get("description")),
            enum=tuple(enum) if isinstance(enum, list) else None,
            path=("params", name),
        )

    def steps(key: str, is_finally: bool) -> tuple[Step, ...]:
        raw_steps = data.get(key)
        if not isinstance(raw_steps, list):
            return ()
        return tuple(
            _step(raw, i, (key, i), defaults, workflow_env, is_finally)
            for i, raw in enumerate(raw_steps) if isinstance(raw, dict)
        )

    parallelism = data.get("parallelism")
    return Spec(
        name=_str(metadata.get("name")),
        document=doc,
        steps=steps("steps", False),
        finally_steps=steps("finally", True),
        description=_str(metadata.get("description")),
        labels={k: str(v) for k, v in _dict(metadata.get("labels")).items()},
        params=params,
        env=workflow_env,
        timeout=parse_duration(data.get("timeout")),
        parallelism=parallelism if isinstance(parallelism, int) and parallelism > 0 else None,
        argo=_dict(data.get("argo")),
    )
