"""What several commands share: load a spec or print its diagnostics, read -p pairs."""

from __future__ import annotations

import sys
from typing import Any

from engine.model import Spec


def load_or_report(path: str) -> Spec | int:
    """The valid spec, or the exit code after printing every diagnostic (1) / IO error (2)."""
    import os

    from engine.cli.reporters import REPORTERS
    from engine.diagnostics import SpecError
    from engine.loader import LoadError, read_source
    from engine.validation import load_spec

    if not os.path.isfile(path):
        print(f"flowspec: no such spec file: {path}", file=sys.stderr)
        return 2
    try:
        return load_spec(path)
    except SpecError as exc:
        def source(p: str) -> Any:
            try:
                return read_source(p)
            except LoadError:
                return None
        REPORTERS["text"](exc.diagnostics, 1, sys.stderr, source)
        return 1


def add_param_argument(p: Any) -> None:
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a workflow param (repeatable); typed by the spec's declaration")
