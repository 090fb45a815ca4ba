"""Secrets: which env names hold them, their values looked up for a run, and masked out of
everything kept or shown. The one secrets module: the validator (FS501's names), the executor,
the pod runner and the chargeback processors (compliance trail, review queue, LLM client) all
use it, so a value one of them masks is masked by all.

A SecretRef stands for a Kubernetes secret on Argo; locally its value comes from the process
environment variable ``SecretRef.local_variable`` (or from an explicit mapping given to
``engine.run``). Values live only in the env handed to a processor: they are never part of
params, never stored, and every text the executor keeps (errors, outputs, data, logs) is
masked first, as GitHub Actions masks secrets in logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, overload

from engine.canonical import dumps
from engine.model import SecretRef, Spec

MASK = "***"
#: Shorter values are not masked: masking "1" or "on" would garble every message.
MIN_MASKED = 4

#: Credential words in an env name; ``KEY`` only after a word that makes it one (``SORT_KEY``
#: names data, ``API_KEY`` a credential).
_SECRET_NAME = re.compile(
    r"(?:(?:API|ACCESS|AUTH|CLIENT|ENCRYPTION|LICENSE|MASTER|SIGNING|SERVICE|SSH|APP)_?KEY"
    r"|TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|PRIVATE)", re.IGNORECASE)
#: ``scheme://user:PASSWORD@``: the password of a URL, wherever the URL appears
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")


def looks_like_secret(name: str) -> bool:
    """Whether an env variable of this name holds a credential (``API_KEY``, ``DB_PASSWORD``,
    ``GITHUB_TOKEN``): its value must come from a secret and is masked wherever it appears."""
    return bool(_SECRET_NAME.search(name))


def has_url_password(text: str) -> bool:
    """Whether ``text`` holds a URL with a password (``scheme://user:password@host``)."""
    return "://" in text and _URL_PASSWORD.search(text) is not None


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
    """Masks every known secret value, and every password inside a URL, with *** in the texts
    and the JSON values a run keeps.

    Values are masked where they are data, never by editing encoded JSON: a secret ``2024``
    replaced inside the text ``{"code":20240304}`` leaves ``{"code":***0304}``, which no JSON
    reader takes (and a run whose step keeps failing to store its result can never finish).
    """

    __slots__ = ("_needles", "_whole")

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        self._whole: set[str] = set()
        for value in values:
            self.add(value)

    @classmethod
    def for_env(cls, env: Mapping[str, str], extra: Iterable[str] = ()) -> Redactor:
        """Masks the values of ``env``'s secret-looking variables (``looks_like_secret``) and
        ``extra``: for code that holds an env, not the run's list of secrets."""
        return cls([*(v for k, v in env.items() if v and looks_like_secret(k)), *extra])

    def add(self, value: str) -> None:
        if len(value) < MIN_MASKED:
            return
        self._whole.add(value)
        # inside JSON text a secret may stand escaped: such text is masked in its escaped form
        for needle in (value, dumps(value)[1:-1]):
            if needle not in self._needles:
                self._needles.append(needle)
        self._needles.sort(key=len, reverse=True)

    def __bool__(self) -> bool:
        """Whether any value is masked (URL passwords are masked by every Redactor)."""
        return bool(self._needles)

    def mentions(self, text: str) -> bool:
        """Whether masking ``text`` could change it: the check that spares a value's walk."""
        return any(needle in text for needle in self._needles) or has_url_password(text)

    @overload
    def scrub(self, text: str) -> str: ...
    @overload
    def scrub(self, text: None) -> None: ...
    @overload
    def scrub(self, text: str | None) -> str | None: ...

    def scrub(self, text: str | None) -> str | None:
        """``text`` with every secret and URL password in it masked (the same object when
        none is there)."""
        if text is None:
            return text
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        if "://" in text:  # a URL password needs a scheme: most text is spared the pattern
            text = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
        return text

    def scrub_encoded(self, text: str) -> tuple[str, Any] | None:
        """Canonical JSON text (``engine.canonical``) made safe to keep: None when there is
        nothing to mask (no secret occurs in the text: the common case, found at the speed of
        a substring search), else the masked text and the value it encodes.

        The value is masked, not its text: every string and key with each secret in it
        masked, and a number whose JSON text is a secret (``2024`` for a secret ``2024``)
        replaced by the string ``***``, since a number cannot hold a mask and the secret must
        not be kept. A secret's digits inside a longer number (``20240304``) are left alone:
        a number is one value, and masking part of it would make it another.
        """
        if not self.mentions(text):
            return None
        value = json.loads(text)
        clean = self.scrub_value(value)
        if clean is value:
            return None
        return dumps(clean), clean

    def scrub_value(self, value: Any) -> Any:
        """A JSON-like value masked as ``scrub_encoded`` says (mappings, lists and tuples
        walked, keys masked as text); the same object when nothing changed."""
        if isinstance(value, str):
            return self.scrub(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return MASK if dumps(value) in self._whole else value
        if isinstance(value, Mapping):
            masked = {self.scrub(str(k)): self.scrub_value(v) for k, v in value.items()}
            same = isinstance(value, dict) and len(masked) == len(value) and all(
                a is b and masked[a] is value[b] for a, b in zip(masked, value, strict=True))
            return value if same else masked
        if isinstance(value, list | tuple):
            items = [self.scrub_value(v) for v in value]
            same = isinstance(value, list) and all(
                a is b for a, b in zip(items, value, strict=True))
            return value if same else items
        return value


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
