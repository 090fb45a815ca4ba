"""Secrets for a run: looked up locally, handed to processors, and scrubbed from everything kept.

A SecretRef stands for a Kubernetes secret on Argo; locally its value comes from the process
environment variable ``SecretRef.local_variable`` (or from an explicit mapping given to
``engine.run``). Values live only in the env handed to a processor: they are never part of
params, never stored, and every text the executor keeps (errors, outputs, data) is scrubbed
of them first, as GitHub Actions masks secrets in logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from engine.model import SecretRef, Spec

_J = TypeVar("_J", bound=Any)

MASK = "***"
#: Shorter values are not masked: masking "1" or "on" would garble every message.
MIN_MASKED = 4


class MissingSecret(Exception):
    """A required secret has no value locally; the step ends in Error."""


def lookup(ref: SecretRef, source: Mapping[str, str]) -> str | None:
    value = source.get(ref.local_variable)
    if value is None and not ref.optional:
        raise MissingSecret(
            f"{ref} is not set; locally it is read from the environment variable "
            f"{ref.local_variable} (export it before running)")
    return value


class Redactor:
    """Replaces every known secret value (and its JSON-escaped form) with ***."""

    __slots__ = ("_needles",)

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        if len(value) < MIN_MASKED:
            return
        for needle in (value, json.dumps(value, ensure_ascii=False)[1:-1]):
            if needle not in self._needles:
                self._needles.append(needle)
        self._needles.sort(key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._needles)

    def scrub(self, text: str | None) -> str | None:
        if text is None or not self._needles:
            return text
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text

    def scrub_value(self, value: _J) -> _J:
        """A JSON value with every secret masked inside its strings (the same object when
        none is there): what a step returns is kept and shown, so it is cleaned like text."""
        if not self._needles or not value:
            return value
        text = json.dumps(value, ensure_ascii=False)
        clean = self.scrub(text)
        if clean is None or clean == text:
            return value
        return json.loads(clean)  # type: ignore[no-any-return]


def spec_secrets(spec: Spec) -> dict[SecretRef, tuple[str, ...]]:
    """Every secret a run of ``spec`` may read, once each in spec order, with the steps whose
    env reads it. A secret is optional only if every one of those steps marks it optional.

    Which steps will run is known only at run time (``when``, ``depends``), so every step
    that could run counts: a run that may need a secret needs it before it starts.
    """
    readers: dict[tuple[str, str], list[str]] = {}
    required: set[tuple[str, str]] = set()
    for step in spec.all_steps:
        for var in step.env.values():
            ref = var.value
            if isinstance(ref, SecretRef):
                steps = readers.setdefault((ref.name, ref.key), [])
                if step.name not in steps:
                    steps.append(step.name)
                if not ref.optional:
                    required.add((ref.name, ref.key))
    return {SecretRef(name, key, (name, key) not in required): tuple(steps)
            for (name, key), steps in readers.items()}


def missing_secrets(refs: Iterable[SecretRef], source: Mapping[str, str]) -> list[SecretRef]:
    """The required secrets that ``source`` (the environment) has no value for."""
    return [ref for ref in refs if not ref.optional and ref.local_variable not in source]


def known_values(refs: Iterable[SecretRef], source: Mapping[str, str]) -> list[str]:
    """Every value a run's secrets have locally, so they can be scrubbed from the start."""
    found = []
    for ref in refs:
        value = source.get(ref.local_variable)
        if value:
            found.append(value)
    return found
