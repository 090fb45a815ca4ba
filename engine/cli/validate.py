"""``flowspec validate PATH...``: every problem of every file, in one run."""

from __future__ import annotations

import argparse
import os
import sys
from functools import cache
from pathlib import Path

from engine.cli.reporters import REPORTERS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders")
    p.add_argument("--format", choices=sorted(REPORTERS), default=None,
                   help="output format (default: github under GitHub Actions, else text)")
    p.add_argument("--skip-non-specs", action="store_true",
                   help="ignore given files that do not declare apiVersion: flowspec/v1 "
                        "(for pre-commit, which passes every changed YAML file)")
    p.add_argument("--import-processors", action="store_true",
                   help="import package.module:Class processors to check their config; "
                        "this runs their modules' code, so use it only on specs you trust "
                        "(by default their source is read, never executed)")


def main(args: argparse.Namespace) -> int:
    from engine.diagnostics import finish
    from engine.loader import LoadError, read_source
    from engine.source import Source
    from engine.validation import NothingToCheck, expand_paths, is_spec_file, validate_file

    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"flowspec validate: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        files = list(expand_paths(args.paths))
    except NothingToCheck as exc:
        print(f"flowspec validate: {exc}", file=sys.stderr)
        return 2
    if args.skip_non_specs:
        files = [f for f in files if is_spec_file(Path(f))]
    diagnostics = finish(d for path in files
                         for d in validate_file(path, import_processors=args.import_processors))

    @cache
    def source(path: str) -> Source | None:
        try:
            return read_source(path)
        except LoadError:
            return None

    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    REPORTERS[fmt](diagnostics, len(files), sys.stdout, source)
    return 1 if any(d.severity == "error" for d in diagnostics) else 0
