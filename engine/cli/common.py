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
    from engine.validation import load_spec_file

    if not os.path.isfile(path):
        print(f"flowspec: no such spec file: {path}", file=sys.stderr)
        return 2
    try:
        return load_spec_file(path)
    except SpecError as exc:
        def source(p: str) -> Any:
            try:
                return read_source(p)
            except LoadError:
                return None
        REPORTERS["text"](exc.diagnostics, 1, sys.stderr, source)
        return 1


def moment(text: str) -> float:
    """An argparse type for a point in time: an age (``90m``, ``12h``, ``7d``: that long ago)
    or an ISO 8601 date or time (``2026-12-01``, ``2026-12-01T08:00:00Z``; UTC unless the
    text names an offset), as seconds since the epoch."""
    import argparse
    import time
    from datetime import UTC, datetime

    from engine.model import parse_duration

    age = parse_duration(text)
    if age is not None:
        return time.time() - age
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an age such as 12h or 7d, or a date such as 2026-12-01, got {text!r}"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def add_param_argument(p: Any) -> None:
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a workflow param (repeatable); typed by the spec's declaration")
    p.add_argument("-f", "--params-file", metavar="FILE",
                   help="params from a YAML or JSON mapping; -p wins over the file")


def given_params(args: Any) -> dict[str, Any]:
    """The params a command line gives: ``--params-file`` values, then ``-p`` over them."""
    from engine.params import parse_pairs, read_params_file

    found: dict[str, Any] = read_params_file(args.params_file) if args.params_file else {}
    found.update(parse_pairs(args.param))
    return found
