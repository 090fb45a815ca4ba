"""Env values: secrets are referenced, never written; interpolations name real values.

A literal under a secret-looking name ends up in the compiled manifest, the run store and
`flowspec plan` output; the fix is always a ``{secret: {name, key}}`` reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.diagnostics import Diagnostic, code
from engine.loader import Path
from engine.rules.context import Context
from engine.secrets import has_url_password, looks_like_secret

LITERAL_SECRET = code("FS501", "literal secret in env", """
An env variable whose name looks like a secret (`API_KEY`, `ACCESS_KEY`, `PRIVATE_KEY` and
other `*_KEY` names of credentials, `*TOKEN*`, `*PASSWORD*`, `*SECRET*`, `*CREDENTIAL*`) holds a
literal value. A key that names data (`KEY`, `SORT_KEY`, `CACHE_KEY`) is not a secret. It would be written into compiled manifests, logs and
the run store. Reference it instead:

    API_KEY: {secret: {name: my-secret, key: api-key}}

On Argo this becomes a Kubernetes secretKeyRef; locally the value is read from the
environment variable MY_SECRET_API_KEY (the secret name and key, upper-cased).
""", silenceable=True)
URL_PASSWORD = code("FS502", "password inside a URL in env", """
An env value is a URL with a password in it (`scheme://user:password@host`). Move the whole
URL into a secret and reference it with `{secret: {name, key}}`.
""", silenceable=True)



def _env_maps(data: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    if isinstance(data.get("env"), dict):
        yield ("env",), data["env"]
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("env"), dict):
        yield ("defaults", "env"), defaults["env"]
    for key in ("steps", "finally"):
        steps = data.get(key)
        if isinstance(steps, list):
            for i, step in enumerate(steps):
                if isinstance(step, dict) and isinstance(step.get("env"), dict):
                    yield (key, i, "env"), step["env"]


def _is_reference_only(value: str) -> bool:
    """``${{ params.token }}`` passes a value along; it is not itself a literal."""
    return value.strip().startswith("${{") and value.strip().endswith("}}")


def check(ctx: Context) -> Iterator[Diagnostic]:
    for base, env in _env_maps(ctx.doc.data):
        for name, value in env.items():
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                continue
            text = str(value)
            path = (*base, name)
            if has_url_password(text):
                yield ctx.at(path, URL_PASSWORD, f"env '{name}' holds a URL with a password",
                             f"reference a secret: {name}: {{secret: {{name: ..., key: ...}}}}")
            elif looks_like_secret(name) and text and not _is_reference_only(text):
                yield ctx.at(path, LITERAL_SECRET,
                             f"env '{name}' looks like a secret but holds a literal value",
                             f"use {name}: {{secret: {{name: <k8s secret>, key: <key>}}}}")
