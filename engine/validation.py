"""Validation in passes: load -> JSON Schema -> typed spec -> semantic passes.

Each stage reports everything it finds and the next still runs on what is well-formed, so a
user sees every problem of every file in one run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.diagnostics import Diagnostic, SpecError, finish
from engine.loader import Document, load_file, load_text
from engine.model import Spec, build_spec

SPEC_SUFFIXES = (".yaml", ".yml")
API_VERSION = "flowspec/v1"


def check_document(doc: Document, *, import_processors: bool = False,
                   ) -> tuple[Spec, list[Diagnostic]]:
    from engine.rules import run_passes
    from engine.rules.context import Context
    from engine.schema import check_schema

    diagnostics = list(check_schema(doc))
    spec = build_spec(doc)
    diagnostics.extend(run_passes(Context(doc, spec, import_processors)))
    return spec, diagnostics


def check_loaded(doc: Document | None, loaded: list[Diagnostic], *,
                 import_processors: bool = False) -> tuple[Spec | None, list[Diagnostic]]:
    """Every diagnostic of one loaded file, the loader's (``loaded``) included, after its
    ``# flowspec: ignore[...]`` comments, sorted; and the spec, if the file had a document."""
    from engine.ignores import apply_ignores

    if doc is None:
        return None, finish(loaded)
    spec, found = check_document(doc, import_processors=import_processors)
    return spec, finish(apply_ignores(doc, loaded + found))


def validate_file(path: str, *, import_processors: bool = False) -> list[Diagnostic]:
    return check_loaded(*load_file(path), import_processors=import_processors)[1]


def is_spec_file(path: Path) -> bool:
    """In folders only flowspec files are picked up; other YAML (CI configs, ...) is left alone."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return False
    return API_VERSION in head


class NothingToCheck(Exception):
    """A folder that cannot be read or holds no spec: validating it would check nothing, and
    "0 files valid" would pass a CI job that checked nothing."""


def expand_paths(paths: Iterable[str]) -> Iterator[str]:
    """Files as given; folders walked for ``*.yaml``/``*.yml`` files that are flowspec specs.

    Raises NothingToCheck for a folder that cannot be read, in part or whole, or has no spec.
    """
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            yield raw
            continue
        found = 0

        def unreadable(exc: OSError) -> None:
            raise NothingToCheck(f"cannot read the folder {exc.filename}: "
                                 f"{exc.strerror or exc}")

        for root, dirs, files in os.walk(path, onerror=unreadable):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                candidate = Path(root, name)
                if candidate.suffix in SPEC_SUFFIXES and is_spec_file(candidate):
                    found += 1
                    yield str(candidate)
        if not found:
            raise NothingToCheck(f"no flowspec spec in the folder {raw} (a spec is a .yaml or "
                                 f".yml file declaring apiVersion: {API_VERSION})")


def load_spec_file(path: str | os.PathLike[str]) -> Spec:
    """A valid spec from a file; raises SpecError with every error found (a missing or
    unreadable file is one of them, FS010)."""
    return _valid(*load_file(os.fspath(path)))


def load_spec_text(text: str, *, name: str = "<string>") -> Spec:
    """A valid spec from YAML text; ``name`` is the file name its diagnostics give."""
    return _valid(*load_text(text, name))


def _valid(doc: Document | None, loaded: list[Diagnostic]) -> Spec:
    spec, diagnostics = check_loaded(doc, loaded)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors or spec is None:
        raise SpecError(errors or diagnostics)
    return spec
