"""Argo's schemas as ``--check`` uses them: one bundle per target line, made strict on load.

A bundle (``data/argo-schemas-RELEASE.json.gz``, the release an ``ArgoTarget`` names) is
derived from that Argo release's ``schema.json`` and the openAPIV3Schema of its full CRDs
(descriptions dropped, nothing else changed), so ``flowspec compile --check`` works without a
copy of Argo's sources; a test rebuilds each from the copy of Argo's files under
``tests/fixtures/argo`` and fails on any drift.

On load both schemas get ``additionalProperties: false`` on every object that lists its
properties and does not preserve unknown fields: the API server prunes (or, with strict
field validation, rejects) unknown fields, and a typo in a manifest should never pass.
The CRDs' CEL rules (``x-kubernetes-validations``, from v4.0) are checked by Python
predicates keyed by the exact rule text; a rule the table does not know fails loudly instead
of being skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from engine.compile.versions import LATEST, ArgoTarget, target

DATA = Path(__file__).with_name("data")
#: kind -> (CRD file under crds/ of an Argo release, schema.json definition)
KIND_SOURCES = {
    "Workflow": ("argoproj.io_workflows.yaml", "io.argoproj.workflow.v1alpha1.Workflow"),
    "WorkflowTemplate": ("argoproj.io_workflowtemplates.yaml",
                         "io.argoproj.workflow.v1alpha1.WorkflowTemplate"),
    "CronWorkflow": ("argoproj.io_cronworkflows.yaml",
                     "io.argoproj.workflow.v1alpha1.CronWorkflow"),
}

_LOCATIONS = ("s3", "git", "http", "artifactory", "hdfs", "raw", "oss", "gcs", "azure", "plugin")
_TEMPLATE_TYPES = ("container", "script", "dag", "steps", "resource", "suspend", "containerSet",
                   "data", "http", "plugin")


def _count(obj: Mapping[str, Any], keys: tuple[str, ...]) -> int:
    return sum(k in obj for k in keys)


def _one_location(a: Mapping[str, Any]) -> bool:
    return _count(a, _LOCATIONS) <= 1


#: CEL rule text -> ("self" | "all", predicate). "all" rules (``self.all(t, ...)``) are
#: checked per element, so a failure names the offending template.
CEL_RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "(has(self.s3) ? 1 : 0) + (has(self.git) ? 1 : 0) + (has(self.http) ? 1 : 0) + "
    "(has(self.artifactory) ? 1 : 0) + (has(self.hdfs) ? 1 : 0) + (has(self.raw) ? 1 : 0) + "
    "(has(self.oss) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azure) ? 1 : 0) + "
    "(has(self.plugin) ? 1 : 0) <= 1": ("self", _one_location),
    "!has(self.realtime) || !self.realtime || !self.value.contains('resourcesDuration.')": (
        "self", lambda g: not g.get("realtime") or "resourcesDuration." not in g.get("value", "")),
    "(has(self.manifest) && !has(self.manifestFrom)) || (!has(self.manifest) && "
    "has(self.manifestFrom)) || (!has(self.manifest) && !has(self.manifestFrom))": (
        "self", lambda r: not ("manifest" in r and "manifestFrom" in r)),
    "!(has(self.count) && has(self.end))": (
        "self", lambda s: not ("count" in s and "end" in s)),
    "!(has(self.depends) || has(self.dependencies)) || !self.name.matches('^[0-9]')": (
        "self", lambda t: not ("depends" in t or "dependencies" in t)
        or not str(t.get("name", ""))[:1].isdigit()),
    "!has(self.depends) || !has(self.continueOn)": (
        "self", lambda t: not ("depends" in t and "continueOn" in t)),
    "!has(self.depends) || !has(self.dependencies)": (
        "self", lambda t: not ("depends" in t and "dependencies" in t)),
    "self.all(t, !(has(t.activeDeadlineSeconds) && (has(t.steps) || has(t.dag))))": (
        "all", lambda t: not ("activeDeadlineSeconds" in t and ("steps" in t or "dag" in t))),
    'self.all(t, !(has(t.timeout) && t.timeout != "" && (has(t.steps) || has(t.dag))))': (
        "all", lambda t: not (t.get("timeout") and ("steps" in t or "dag" in t))),
    "self.all(t, (has(t.container) ? 1 : 0) + (has(t.script) ? 1 : 0) + (has(t.dag) ? 1 : 0) + "
    "(has(t.steps) ? 1 : 0) + (has(t.resource) ? 1 : 0) + (has(t.suspend) ? 1 : 0) + "
    "(has(t.containerSet) ? 1 : 0) + (has(t.data) ? 1 : 0) + (has(t.http) ? 1 : 0) + "
    "(has(t.plugin) ? 1 : 0) <= 1)": ("all", lambda t: _count(t, _TEMPLATE_TYPES) <= 1),
}


class UnknownRule(RuntimeError):
    """The CRDs carry a CEL rule without a Python predicate: update CEL_RULES."""


# --- building the bundle (from Argo's sources) ---------------------------------------------

def _strip_descriptions(node: Any, names: bool = False) -> Any:
    """Drop ``description`` annotations; ``names`` marks a mapping of property names, where
    ``description`` is a field (Parameter.description), not an annotation."""
    if isinstance(node, dict):
        return {k: _strip_descriptions(v, k in ("properties", "definitions") and not names)
                for k, v in node.items()
                if names or not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_descriptions(v) for v in node]
    return node


def _source(argo_dir: Path, name: str) -> bytes:
    """A source file as Argo ships it, or gzipped beside that name (the repository keeps its
    test copy of Argo's files compressed); the bundle records the uncompressed checksum, so
    both forms build the same bytes."""
    plain = argo_dir / name
    if plain.is_file():
        return plain.read_bytes()
    return gzip.decompress((argo_dir / f"{name}.gz").read_bytes())


def build_bundle(argo_dir: Path) -> bytes:
    """The bundle bytes from a folder holding ``schema.json`` and ``crds/`` (deterministic)."""
    import yaml

    sources: dict[str, str] = {}
    schema_bytes = _source(argo_dir, "schema.json")
    sources["schema.json"] = hashlib.sha256(schema_bytes).hexdigest()
    crds = {}
    for kind, (crd_file, _) in KIND_SOURCES.items():
        raw = _source(argo_dir, f"crds/{crd_file}")
        sources[f"crds/{crd_file}"] = hashlib.sha256(raw).hexdigest()
        doc = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        version = doc["spec"]["versions"][0]
        crds[kind] = _strip_descriptions(version["schema"]["openAPIV3Schema"])
    bundle = {
        "sources": sources,
        "schema": _strip_descriptions(json.loads(schema_bytes)),
        "crds": crds,
    }
    text = json.dumps(bundle, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def bundle_path(argo: ArgoTarget) -> Path:
    return DATA / argo.bundle_name


@cache
def load_bundle(argo: ArgoTarget = LATEST) -> dict[str, Any]:
    raw = gzip.decompress(bundle_path(argo).read_bytes())
    return json.loads(raw)  # type: ignore[no-any-return]


# --- strict validators ---------------------------------------------------------------------

def _strict(node: Any) -> Any:
    """A copy with ``additionalProperties: false`` wherever properties are listed."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if ("properties" in out and "additionalProperties" not in out
                and not out.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@cache
def json_schema_validator(kind: str, argo: ArgoTarget = LATEST) -> Any:
    """schema.json with the kind's definition selected (SEMANTICS 1.1), made strict."""
    from jsonschema import Draft202012Validator

    schema = _strict(load_bundle(argo)["schema"])
    schema.pop("oneOf", None)
    schema["$ref"] = f"#/definitions/{KIND_SOURCES[kind][1]}"
    return Draft202012Validator(schema)


@cache
def crd_validator(kind: str, argo: ArgoTarget = LATEST) -> Any:
    """The CRD's openAPIV3Schema, made strict; CEL rules are checked by ``cel_problems``."""
    from jsonschema import Draft4Validator

    schema = crd_schema(kind, argo)
    _check_rules_known(schema)
    return Draft4Validator(_strict(schema))


def crd_schema(kind: str, argo: ArgoTarget = LATEST) -> dict[str, Any]:
    return load_bundle(argo)["crds"][kind]  # type: ignore[no-any-return]


def _check_rules_known(node: Any) -> None:
    if isinstance(node, dict):
        for rule in node.get("x-kubernetes-validations", ()):
            if rule["rule"] not in CEL_RULES:
                raise UnknownRule(f"no Python predicate for the CEL rule {rule['rule']!r}")
        for value in node.values():
            _check_rules_known(value)
    elif isinstance(node, list):
        for value in node:
            _check_rules_known(value)


def cel_problems(schema: Mapping[str, Any], value: Any,
                 path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, message) for every CEL rule the value breaks, walking schema and value together."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for rule in schema.get("x-kubernetes-validations", ()):
        mode, predicate = CEL_RULES[rule["rule"]]
        message = rule.get("message") or rule["rule"]
        if mode == "all":
            found.extend(((*path, i), message) for i, item in enumerate(value or ())
                         if isinstance(item, dict) and not predicate(item))
        elif isinstance(value, dict) and not predicate(value):
            found.append((path, message))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                found.extend(cel_problems(sub, item, (*path, key)))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found.extend(cel_problems(schema["items"], item, (*path, i)))
    return found


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.compile.schemas ARGO_DIR [VERSION]``: rebuild the shipped bundle of
    a target line (default the newest) from that line's release files."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m engine.compile.schemas ARGO_DIR [VERSION] (ARGO_DIR holds "
              "schema.json and crds/ of the release the target line names)", file=sys.stderr)
        return 2
    try:
        argo = target(args[1]) if len(args) == 2 else LATEST
    except ValueError as exc:
        print(f"engine.compile.schemas: {exc}", file=sys.stderr)
        return 2
    out = bundle_path(argo)
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(build_bundle(Path(args[0])))
    print(f"wrote {out} ({out.stat().st_size} bytes) for Argo {argo.version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
